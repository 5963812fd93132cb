-- segc sql krakow_automotive_opened --dialect duckdb --as-of 2026-11-28T00:00:00
WITH contacts AS (
  SELECT
    contact_id AS segc_cid,
    email,
    first_name,
    last_name,
    gender,
    birth_date,
    city,
    region,
    country,
    job_title,
    industry,
    company_size,
    customer_type,
    lead_source,
    newsletter_opt_in,
    created_at,
    tags
  FROM raw.contacts
  WHERE
    NOT contact_id IS NULL
), events_rows AS (
  SELECT
    contact_id AS segc_cid,
    occurred_at AS segc_ts,
    COALESCE((
      event_type IN ('email_click')
    ), FALSE)
    AND COALESCE((
      campaign = 'automotive_expo_2026'
    ), FALSE) AS segc_p1,
    COALESCE((
      event_type IN ('email_open')
    ), FALSE)
    AND COALESCE((
      campaign = 'automotive_expo_2026'
    ), FALSE) AS segc_p2
  FROM raw.events
  WHERE
    (
      occurred_at <= CAST('2026-11-28 00:00:00' AS TIMESTAMP)
      AND NOT contact_id IS NULL
    )
    AND (
      (
        COALESCE((
          event_type IN ('email_click')
        ), FALSE)
        AND COALESCE((
          campaign = 'automotive_expo_2026'
        ), FALSE)
      )
      OR (
        COALESCE((
          event_type IN ('email_open')
        ), FALSE)
        AND COALESCE((
          campaign = 'automotive_expo_2026'
        ), FALSE)
      )
    )
), events_facts AS (
  SELECT
    segc_cid,
    COUNT(CASE WHEN segc_p1 THEN 1 END) AS segc_events_1,
    COUNT(CASE WHEN segc_p2 THEN 1 END) AS segc_events_2
  FROM events_rows
  GROUP BY
    segc_cid
), base AS (
  SELECT
    *
  FROM contacts
  LEFT JOIN events_facts
    USING (segc_cid)
), layer_1 AS (
  SELECT
    *,
    COALESCE((
      city = 'Kraków'
    ), FALSE)
    AND COALESCE((
      industry = 'automotive'
    ), FALSE)
    AND COALESCE((
      COALESCE(segc_events_1, 0) >= 1
    ), FALSE) AS segc_segment_1
  FROM base
), layer_2 AS (
  SELECT
    *,
    COALESCE((
      city = 'Kraków'
    ), FALSE)
    AND COALESCE((
      industry = 'automotive'
    ), FALSE)
    AND COALESCE((
      COALESCE(segc_events_2, 0) >= 1
    ), FALSE)
    AND NOT (
      segc_segment_1
    ) AS segc_segment_2
  FROM layer_1
)
SELECT
  segc_cid AS contact_id
FROM layer_2
WHERE
  segc_segment_2
