-- segc sql women_35_45_big_cities_quarterly --dialect duckdb --as-of 2026-11-28T00:00:00
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
), orders_rows AS (
  SELECT
    contact_id AS segc_cid,
    ordered_at AS segc_ts,
    COALESCE((
      status = 'paid'
    ), FALSE) AS segc_p1
  FROM raw.orders
  WHERE
    (
      ordered_at <= CAST('2026-11-28 00:00:00' AS TIMESTAMP) AND NOT contact_id IS NULL
    )
    AND (
      COALESCE((
        status = 'paid'
      ), FALSE)
      AND (
        ordered_at > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '12' MONTH
      )
    )
), orders_facts AS (
  SELECT
    segc_cid,
    COUNT(
      CASE
        WHEN segc_p1
        AND segc_ts > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '12' MONTH
        THEN 1
      END
    ) AS segc_orders_1
  FROM orders_rows
  GROUP BY
    segc_cid
), base AS (
  SELECT
    *
  FROM contacts
  LEFT JOIN orders_facts
    USING (segc_cid)
), layer_1 AS (
  SELECT
    *,
    COALESCE((
      gender = 'female'
    ), FALSE)
    AND COALESCE(
      (
        (
          EXTRACT(YEAR FROM CAST('2026-11-28 00:00:00' AS TIMESTAMP)) - EXTRACT(YEAR FROM birth_date) - CASE
            WHEN EXTRACT(MONTH FROM CAST('2026-11-28 00:00:00' AS TIMESTAMP)) * 100 + EXTRACT(DAY FROM CAST('2026-11-28 00:00:00' AS TIMESTAMP)) < EXTRACT(MONTH FROM birth_date) * 100 + EXTRACT(DAY FROM birth_date)
            THEN 1
            ELSE 0
          END
        ) BETWEEN 35 AND 45
      ),
      FALSE
    )
    AND COALESCE((
      city IN ('Warszawa', 'Kraków', 'Łódź', 'Wrocław', 'Poznań')
    ), FALSE)
    AND COALESCE((
      COALESCE(segc_orders_1, 0) BETWEEN 3 AND 5
    ), FALSE) AS segc_segment_1
  FROM base
)
SELECT
  segc_cid AS contact_id
FROM layer_1
WHERE
  segc_segment_1
