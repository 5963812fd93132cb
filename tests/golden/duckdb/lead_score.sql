-- segc sql lead_score --dialect duckdb --as-of 2026-11-28T00:00:00
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
      event_type IN ('email_open')
    ), FALSE) AS segc_p1,
    COALESCE((
      event_type IN ('email_click')
    ), FALSE) AS segc_p2,
    COALESCE((
      event_type IN ('form_submit')
    ), FALSE) AS segc_p3,
    COALESCE((
      event_type IN ('survey_submit')
    ), FALSE) AS segc_p4,
    COALESCE((
      event_type IN ('page_view')
    ), FALSE)
    AND COALESCE((
      url = '/cennik'
    ), FALSE) AS segc_p5,
    COALESCE((
      event_type IN ('unsubscribe')
    ), FALSE) AS segc_p6,
    COALESCE((
      event_type IN ('email_bounce')
    ), FALSE) AS segc_p7
  FROM raw.events
  WHERE
    (
      occurred_at <= CAST('2026-11-28 00:00:00' AS TIMESTAMP)
      AND NOT contact_id IS NULL
    )
    AND (
      (
        COALESCE((
          event_type IN ('email_open')
        ), FALSE)
        AND (
          occurred_at > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
        )
      )
      OR (
        COALESCE((
          event_type IN ('email_click')
        ), FALSE)
        AND (
          occurred_at > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
        )
      )
      OR (
        COALESCE((
          event_type IN ('form_submit')
        ), FALSE)
        AND (
          occurred_at > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '180' DAY
        )
      )
      OR (
        COALESCE((
          event_type IN ('survey_submit')
        ), FALSE)
        AND (
          occurred_at > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '180' DAY
        )
      )
      OR (
        (
          COALESCE((
            event_type IN ('page_view')
          ), FALSE)
          AND COALESCE((
            url = '/cennik'
          ), FALSE)
        )
        AND (
          occurred_at > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
        )
      )
      OR COALESCE((
        event_type IN ('unsubscribe')
      ), FALSE)
      OR (
        COALESCE((
          event_type IN ('email_bounce')
        ), FALSE)
        AND (
          occurred_at > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '180' DAY
        )
      )
    )
), events_facts AS (
  SELECT
    segc_cid,
    SUM(
      CASE
        WHEN segc_p1
        AND segc_ts > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
        THEN POWER(
          0.5,
          (
            EPOCH(CAST('2026-11-28 00:00:00' AS TIMESTAMP)) - EPOCH(segc_ts)
          ) / 2592000.0
        )
      END
    ) AS segc_events_1,
    SUM(
      CASE
        WHEN segc_p2
        AND segc_ts > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '90' DAY
        THEN POWER(
          0.5,
          (
            EPOCH(CAST('2026-11-28 00:00:00' AS TIMESTAMP)) - EPOCH(segc_ts)
          ) / 2592000.0
        )
      END
    ) AS segc_events_2,
    SUM(
      CASE
        WHEN segc_p3
        AND segc_ts > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '180' DAY
        THEN POWER(
          0.5,
          (
            EPOCH(CAST('2026-11-28 00:00:00' AS TIMESTAMP)) - EPOCH(segc_ts)
          ) / 2592000.0
        )
      END
    ) AS segc_events_3,
    SUM(
      CASE
        WHEN segc_p4
        AND segc_ts > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '180' DAY
        THEN POWER(
          0.5,
          (
            EPOCH(CAST('2026-11-28 00:00:00' AS TIMESTAMP)) - EPOCH(segc_ts)
          ) / 2592000.0
        )
      END
    ) AS segc_events_4,
    SUM(
      CASE
        WHEN segc_p5
        AND segc_ts > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '30' DAY
        THEN POWER(
          0.5,
          (
            EPOCH(CAST('2026-11-28 00:00:00' AS TIMESTAMP)) - EPOCH(segc_ts)
          ) / 2592000.0
        )
      END
    ) AS segc_events_5,
    COUNT(CASE WHEN segc_p6 THEN 1 END) AS segc_events_6,
    COUNT(
      CASE
        WHEN segc_p7
        AND segc_ts > CAST('2026-11-28 00:00:00' AS TIMESTAMP) - INTERVAL '180' DAY
        THEN 1
      END
    ) AS segc_events_7
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
    CAST(GREATEST(
      LEAST(
        (
          LEAST(5.0 * COALESCE(segc_events_1, 0), 25.0)
        ) + (
          LEAST(10.0 * COALESCE(segc_events_2, 0), 30.0)
        ) + (
          LEAST(20.0 * COALESCE(segc_events_3, 0), 40.0)
        ) + (
          LEAST(15.0 * COALESCE(segc_events_4, 0), 15.0)
        ) + (
          LEAST(10.0 * COALESCE(segc_events_5, 0), 30.0)
        ) + (
          CASE
            WHEN COALESCE(
              (
                job_title IN ('CEO', 'Owner', 'Prezes Zarządu', 'Właściciel', 'CTO', 'CFO')
              ),
              FALSE
            )
            THEN 20.0
            ELSE 0.0
          END
        ) + (
          CASE
            WHEN COALESCE((
              industry IN ('automotive', 'manufacturing', 'it')
            ), FALSE)
            THEN 10.0
            ELSE 0.0
          END
        ) + (
          CASE
            WHEN COALESCE((
              COALESCE(segc_events_6, 0) >= 1
            ), FALSE)
            THEN -30.0
            ELSE 0.0
          END
        ) + (
          CASE
            WHEN COALESCE((
              COALESCE(segc_events_7, 0) >= 1
            ), FALSE)
            THEN -15.0
            ELSE 0.0
          END
        ),
        100.0
      ),
      0.0
    ) AS DOUBLE) AS segc_score_1
  FROM base
), layer_1_grades AS (
  SELECT
    *,
    CASE
      WHEN segc_score_1 >= 40.0
      THEN 'hot'
      WHEN segc_score_1 >= 15.0
      THEN 'warm'
      WHEN TRUE
      THEN 'cold'
      ELSE CAST(NULL AS TEXT)
    END AS segc_score_1_grade
  FROM layer_1
)
SELECT
  segc_cid AS contact_id,
  segc_score_1 AS value,
  segc_score_1_grade AS grade
FROM layer_1_grades
