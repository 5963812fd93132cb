-- segc sql abandoned_cart_24h --dialect duckdb --as-of 2026-11-28T00:00:00
WITH contacts AS (
  SELECT
    contact_id AS contact_id,
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
    contact_id AS contact_id,
    occurred_at AS segc_ts,
    COALESCE((
      event_type IN ('add_to_cart')
    ), FALSE) AS segc_p1,
    COALESCE((
      event_type IN ('purchase')
    ), FALSE) AS segc_p2
  FROM raw.events
  WHERE
    occurred_at <= CAST('2026-11-28 00:00:00' AS TIMESTAMP)
    AND NOT contact_id IS NULL
), events_facts AS (
  SELECT
    contact_id,
    MAX(
      CASE
        WHEN segc_p1
        AND segc_ts > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '24' HOUR
        THEN segc_ts
      END
    ) AS segc_events_1
  FROM events_rows
  GROUP BY
    contact_id
), follow_1 AS (
  SELECT DISTINCT
    f.contact_id,
    TRUE AS follow_1
  FROM events_facts AS f
  INNER JOIN events_rows AS r
    ON r.contact_id = f.contact_id AND r.segc_ts > f.segc_events_1
  WHERE
    r.segc_p2
), base AS (
  SELECT
    *
  FROM contacts
  LEFT JOIN events_facts
    USING (contact_id)
  LEFT JOIN follow_1
    USING (contact_id)
), layer_1 AS (
  SELECT
    *,
    NOT segc_events_1 IS NULL AND follow_1 IS NULL AS segc_segment_1
  FROM base
)
SELECT
  contact_id
FROM layer_1
WHERE
  segc_segment_1
