-- Moves between lifecycle stages up to the as-of date: each contact's stage and the next one.
WITH h AS (
    SELECT contact_id, stage, entered_on,
           lead(stage) OVER (PARTITION BY contact_id ORDER BY entered_on) AS next_stage,
           lead(entered_on) OVER (PARTITION BY contact_id ORDER BY entered_on) AS moved_on
    FROM marts.lifecycle_history
    WHERE tenant_id = $t AND entered_on <= $d
)
SELECT stage AS from_stage, next_stage AS to_stage, count(*) AS contacts
FROM h
WHERE next_stage IS NOT NULL
GROUP BY ALL
ORDER BY contacts DESC, from_stage, to_stage
