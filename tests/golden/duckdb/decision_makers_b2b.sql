-- segc sql decision_makers_b2b --dialect duckdb --as-of 2026-11-28T00:00:00
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
), base AS (
  SELECT
    *
  FROM contacts
), layer_1 AS (
  SELECT
    *,
    COALESCE((
      customer_type = 'b2b'
    ), FALSE)
    AND COALESCE((
      REGEXP_MATCHES(job_title, '^(CEO|Owner|Prezes|Właściciel)')
    ), FALSE)
    AND COALESCE((
      company_size >= 50
    ), FALSE) AS segc_segment_1
  FROM base
)
SELECT
  segc_cid AS contact_id
FROM layer_1
WHERE
  segc_segment_1
