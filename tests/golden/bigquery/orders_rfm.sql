-- segc sql orders_rfm --dialect bigquery --as-of 2026-11-28T00:00:00
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
    amount AS segc_v_amount,
    COALESCE((
      status <> 'cancelled'
    ), TRUE) AS segc_p1
  FROM raw.orders
  WHERE
    (
      ordered_at <= CAST('2026-11-28 00:00:00' AS DATETIME) AND NOT contact_id IS NULL
    )
    AND (
      COALESCE((
        status <> 'cancelled'
      ), TRUE)
      AND (
        ordered_at > CAST('2026-11-28 00:00:00' AS DATETIME) - INTERVAL '730' DAY
      )
    )
), orders_facts AS (
  SELECT
    segc_cid,
    MAX(
      CASE
        WHEN segc_p1
        AND segc_ts > CAST('2026-11-28 00:00:00' AS DATETIME) - INTERVAL '730' DAY
        THEN segc_ts
      END
    ) AS segc_orders_1,
    COUNT(
      CASE
        WHEN segc_p1
        AND segc_ts > CAST('2026-11-28 00:00:00' AS DATETIME) - INTERVAL '730' DAY
        THEN 1
      END
    ) AS segc_orders_2,
    SUM(
      CASE
        WHEN segc_p1
        AND segc_ts > CAST('2026-11-28 00:00:00' AS DATETIME) - INTERVAL '730' DAY
        THEN COALESCE(CAST(segc_v_amount AS NUMERIC), 0)
      END
    ) AS segc_orders_3
  FROM orders_rows
  GROUP BY
    segc_cid
), segc_rfm_1_values AS (
  SELECT
    c.segc_cid,
    CAST(FLOOR(
      (
        (
          CAST(UNIX_MICROS(CAST(CAST('2026-11-28 00:00:00' AS DATETIME) AS TIMESTAMP)) AS FLOAT64) / 1000000
        ) - (
          CAST(UNIX_MICROS(CAST(segc_orders_1 AS TIMESTAMP)) AS FLOAT64) / 1000000
        )
      ) / 86400.0
    ) AS INT64) AS recency_days,
    CAST(segc_orders_2 AS INT64) AS frequency,
    CAST(segc_orders_3 AS FLOAT64) AS monetary,
    CAST(DIV(
      (
        5 * COUNT(*) OVER (ORDER BY segc_orders_1) + COUNT(*) OVER () - 1
      ),
      COUNT(*) OVER ()
    ) AS INT64) AS r,
    CAST(DIV(
      (
        5 * COUNT(*) OVER (ORDER BY segc_orders_2) + COUNT(*) OVER () - 1
      ),
      COUNT(*) OVER ()
    ) AS INT64) AS f,
    CAST(DIV(
      (
        5 * COUNT(*) OVER (ORDER BY segc_orders_3) + COUNT(*) OVER () - 1
      ),
      COUNT(*) OVER ()
    ) AS INT64) AS m
  FROM contacts AS c
  INNER JOIN orders_facts AS x
    ON c.segc_cid = x.segc_cid
  WHERE
    segc_orders_2 > 0
), segc_rfm_1 AS (
  SELECT
    segc_cid,
    recency_days AS segc_rfm_1_recency_days,
    frequency AS segc_rfm_1_frequency,
    monetary AS segc_rfm_1_monetary,
    r AS segc_rfm_1_r,
    f AS segc_rfm_1_f,
    m AS segc_rfm_1_m,
    CASE
      WHEN r BETWEEN 5 AND 5 AND f BETWEEN 4 AND 5
      THEN 'champions'
      WHEN r BETWEEN 3 AND 4 AND f BETWEEN 4 AND 5
      THEN 'loyal'
      WHEN r BETWEEN 4 AND 5 AND f BETWEEN 2 AND 3
      THEN 'potential_loyalists'
      WHEN r BETWEEN 5 AND 5 AND f BETWEEN 1 AND 1
      THEN 'new'
      WHEN r BETWEEN 4 AND 4 AND f BETWEEN 1 AND 1
      THEN 'promising'
      WHEN r BETWEEN 3 AND 3 AND f BETWEEN 3 AND 3
      THEN 'need_attention'
      WHEN r BETWEEN 3 AND 3 AND f BETWEEN 1 AND 2
      THEN 'about_to_sleep'
      WHEN r BETWEEN 1 AND 2 AND f BETWEEN 5 AND 5
      THEN 'cant_lose'
      WHEN r BETWEEN 1 AND 2 AND f BETWEEN 3 AND 4
      THEN 'at_risk'
      WHEN r BETWEEN 2 AND 2 AND f BETWEEN 1 AND 2
      THEN 'hibernating'
      WHEN TRUE
      THEN 'lost'
      ELSE CAST(NULL AS STRING)
    END AS segc_rfm_1_segment
  FROM segc_rfm_1_values
), base AS (
  SELECT
    *
  FROM contacts
  LEFT JOIN orders_facts
    USING (segc_cid)
  LEFT JOIN segc_rfm_1
    USING (segc_cid)
)
SELECT
  segc_cid AS contact_id,
  segc_rfm_1_recency_days AS recency_days,
  segc_rfm_1_frequency AS frequency,
  segc_rfm_1_monetary AS monetary,
  segc_rfm_1_r AS r,
  segc_rfm_1_f AS f,
  segc_rfm_1_m AS m,
  segc_rfm_1_segment AS segment
FROM base
WHERE
  NOT segc_rfm_1_r IS NULL
