-- segc sql abandoned_cart_24h --dialect duckdb --as-of 2026-11-28T00:00:00
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
      event_type IN ('add_to_cart')
    ), FALSE) AS segc_p1,
    COALESCE((
      event_type IN ('purchase')
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
          event_type IN ('add_to_cart')
        ), FALSE)
        AND (
          occurred_at > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '24' HOUR
        )
      )
      OR (
        COALESCE((
          event_type IN ('purchase')
        ), FALSE)
        AND (
          occurred_at > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '24' HOUR
        )
      )
    )
), events_facts AS (
  SELECT
    segc_cid,
    MAX(
      CASE
        WHEN segc_p1
        AND segc_ts > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '24' HOUR
        THEN segc_ts
      END
    ) AS segc_events_1
  FROM events_rows
  GROUP BY
    segc_cid
), follow_events_events AS (
  SELECT
    f.segc_cid,
    MAX(CASE WHEN r.segc_p2 AND r.segc_ts > f.segc_events_1 THEN 1 END) AS segc_follow_1
  FROM events_facts AS f
  INNER JOIN events_rows AS r
    ON r.segc_cid = f.segc_cid
  WHERE
    r.segc_p2
  GROUP BY
    f.segc_cid
), base AS (
  SELECT
    *
  FROM contacts
  LEFT JOIN events_facts
    USING (segc_cid)
  LEFT JOIN follow_events_events
    USING (segc_cid)
), layer_1 AS (
  SELECT
    *,
    NOT segc_events_1 IS NULL AND segc_follow_1 IS NULL AS segc_segment_1
  FROM base
)
SELECT
  segc_cid AS contact_id
FROM layer_1
WHERE
  segc_segment_1
