-- A second run for the same as-of date first undoes what the first one did on that date, so
-- the run gives the history one run with the final data would have given (idempotent).
-- Parameters: $tenant_id, $as_of (DATE). Only for the latest as-of date (history moves forward).

-- 1. Enrollments opened on this date never happened (their steps with them).
DELETE FROM marts.work_queue_steps
WHERE tenant_id = $tenant_id AND enrolled_at = CAST($as_of AS DATE);

DELETE FROM marts.work_queue_history
WHERE tenant_id = $tenant_id AND enrolled_at = CAST($as_of AS DATE);

-- 2. Enrollments closed on this date are open again (their steps are recomputed).
UPDATE marts.work_queue_history
SET exited_at = NULL, exit_reason = NULL
WHERE tenant_id = $tenant_id AND exited_at = CAST($as_of AS DATE);

-- 3. Eligibility spells: opened on this date, gone; closed on this date, open again.
DELETE FROM marts.workflow_eligibility
WHERE tenant_id = $tenant_id AND entered_on = CAST($as_of AS DATE);

UPDATE marts.workflow_eligibility
SET left_on = NULL
WHERE tenant_id = $tenant_id AND left_on = CAST($as_of AS DATE);
