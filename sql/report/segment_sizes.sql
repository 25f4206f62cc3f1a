-- Members of each segment on every date a membership changed, up to and on the as-of date,
-- from marts.segment_history: +1 on the day a contact entered, -1 on the day it left, summed in
-- date order.
WITH h AS (
    SELECT segment, entered_on, left_on FROM marts.segment_history
    WHERE tenant_id = $t AND entered_on <= $d
),
moves AS (
    SELECT segment, day, sum(delta) AS delta FROM (
        SELECT segment, entered_on AS day, 1 AS delta FROM h
        UNION ALL
        SELECT segment, left_on AS day, -1 AS delta FROM h WHERE left_on <= $d
    ) GROUP BY ALL
),
days AS (SELECT day FROM moves UNION SELECT CAST($d AS DATE)),
segments AS (SELECT DISTINCT segment FROM h)
SELECT s.segment, d.day,
       CAST(sum(coalesce(m.delta, 0)) OVER (PARTITION BY s.segment ORDER BY d.day) AS BIGINT)
           AS members
FROM segments s CROSS JOIN days d
LEFT JOIN moves m ON m.segment = s.segment AND m.day = d.day
ORDER BY s.segment, d.day
