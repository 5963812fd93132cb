-- segc sql orders_rfm --dialect snowflake --as-of 2026-11-28T00:00:00
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
      ordered_at <= CAST('2026-11-28 00:00:00' AS TIMESTAMP) AND NOT contact_id IS NULL
    )
    AND (
      COALESCE((
        status <> 'cancelled'
      ), TRUE)
      AND (
        ordered_at > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '730 DAY'
      )
    )
), orders_facts AS (
  SELECT
    segc_cid,
    MAX(
      CASE
        WHEN segc_p1
        AND segc_ts > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '730 DAY'
        THEN segc_ts
      END
    ) AS segc_orders_1,
    COUNT(
      CASE
        WHEN segc_p1
        AND segc_ts > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '730 DAY'
        THEN 1
      END
    ) AS segc_orders_2,
    SUM(
      CASE
        WHEN segc_p1
        AND segc_ts > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '730 DAY'
        THEN COALESCE(CAST(segc_v_amount AS DECIMAL(38, 9)), 0)
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
          CAST(DATE_PART(EPOCH_MICROSECOND, CAST('2026-11-28 00:00:00' AS TIMESTAMP)) AS DOUBLE) / 1000000
        ) - (
          CAST(DATE_PART(EPOCH_MICROSECOND, segc_orders_1) AS DOUBLE) / 1000000
        )
      ) / 86400.0
    ) AS INT) AS recency_days,
    CAST(segc_orders_2 AS INT) AS frequency,
    CAST(segc_orders_3 AS DOUBLE) AS monetary,
    CAST(CAST(TRUNC(
      (
        5 * COUNT(*) OVER (ORDER BY segc_orders_1 NULLS FIRST) + COUNT(*) OVER () - 1
      ) / COUNT(*) OVER ()
    ) AS BIGINT) AS INT) AS r,
    CAST(CAST(TRUNC(
      (
        5 * COUNT(*) OVER (ORDER BY segc_orders_2 NULLS FIRST) + COUNT(*) OVER () - 1
      ) / COUNT(*) OVER ()
    ) AS BIGINT) AS INT) AS f,
    CAST(CAST(TRUNC(
      (
        5 * COUNT(*) OVER (ORDER BY segc_orders_3 NULLS FIRST) + COUNT(*) OVER () - 1
      ) / COUNT(*) OVER ()
    ) AS BIGINT) AS INT) AS m
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
      ELSE CAST(NULL AS VARCHAR)
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
