-- A tenant's histories rewound to what they were before $from (DATE), so that runs for $from and
-- later dates, in order, write them again (crm backfill). Parameters: $tenant_id, $from.
-- Spells are [entered_on, left_on): a spell entered on or after $from is dropped; one that ended
-- on or after $from is open again (the contact was in it at the last date before $from).
-- The tenant's current marts that say which as-of date the history has reached (lifecycle,
-- contact_segments, work_queue, workflow_performance) are emptied: the backfill's last date
-- writes them again.

DELETE FROM marts.segment_history
WHERE tenant_id = $tenant_id AND entered_on >= CAST($from AS DATE);

UPDATE marts.segment_history SET left_on = NULL
WHERE tenant_id = $tenant_id AND left_on >= CAST($from AS DATE);

DELETE FROM marts.lifecycle_history
WHERE tenant_id = $tenant_id AND entered_on >= CAST($from AS DATE);

UPDATE marts.lifecycle_history SET left_on = NULL
WHERE tenant_id = $tenant_id AND left_on >= CAST($from AS DATE);

DELETE FROM marts.work_queue_steps
WHERE tenant_id = $tenant_id AND enrolled_at >= CAST($from AS DATE);

DELETE FROM marts.work_queue_history
WHERE tenant_id = $tenant_id AND enrolled_at >= CAST($from AS DATE);

UPDATE marts.work_queue_history SET exited_at = NULL, exit_reason = NULL
WHERE tenant_id = $tenant_id AND exited_at >= CAST($from AS DATE);

DELETE FROM marts.workflow_eligibility
WHERE tenant_id = $tenant_id AND entered_on >= CAST($from AS DATE);

UPDATE marts.workflow_eligibility SET left_on = NULL
WHERE tenant_id = $tenant_id AND left_on >= CAST($from AS DATE);

DELETE FROM marts.lifecycle WHERE tenant_id = $tenant_id;

DELETE FROM marts.contact_segments WHERE tenant_id = $tenant_id;

DELETE FROM marts.work_queue WHERE tenant_id = $tenant_id;

DELETE FROM marts.workflow_performance WHERE tenant_id = $tenant_id;
