-- segc sql interested_in_training --dialect snowflake --as-of 2026-11-28T00:00:00
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
      event_type IN ('form_submit')
    ), FALSE)
    AND COALESCE((
      form_id = 'training_signup'
    ), FALSE) AS segc_p1,
    COALESCE((
      event_type IN ('page_view')
    ), FALSE)
    AND COALESCE((
      CHARINDEX('/szkolenia', url) > 0
    ), FALSE) AS segc_p2
  FROM raw.events
  WHERE
    (
      occurred_at <= CAST('2026-11-28 00:00:00' AS TIMESTAMP)
      AND NOT contact_id IS NULL
    )
    AND (
      (
        (
          COALESCE((
            event_type IN ('form_submit')
          ), FALSE)
          AND COALESCE((
            form_id = 'training_signup'
          ), FALSE)
        )
        AND (
          occurred_at > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '365 DAY'
        )
      )
      OR (
        (
          COALESCE((
            event_type IN ('page_view')
          ), FALSE)
          AND COALESCE((
            CHARINDEX('/szkolenia', url) > 0
          ), FALSE)
        )
        AND (
          occurred_at > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
        )
      )
    )
), events_facts AS (
  SELECT
    segc_cid,
    COUNT(
      CASE
        WHEN segc_p1
        AND segc_ts > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '365 DAY'
        THEN 1
      END
    ) AS segc_events_1,
    COUNT(
      CASE
        WHEN segc_p2
        AND segc_ts > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '90 DAY'
        THEN 1
      END
    ) AS segc_events_2
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
      COALESCE(segc_events_1, 0) >= 1
    ), FALSE)
    OR COALESCE((
      COALESCE(segc_events_2, 0) >= 2
    ), FALSE) AS segc_segment_1
  FROM base
)
SELECT
  segc_cid AS contact_id
FROM layer_1
WHERE
  segc_segment_1
