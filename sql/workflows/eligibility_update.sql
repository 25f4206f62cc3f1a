-- Upkeep of marts.workflow_eligibility: the spells in which a contact was eligible for a
-- workflow (criteria met, goal not met, not suppressed), by as-of date of the runs, like
-- marts.segment_history. An enrollment is opened only when a spell opens (a transition from
-- not eligible to eligible), never on every run while a contact stays eligible.
-- Parameters: $tenant_id, $as_of (DATE). After undo_same_date.sql; history moves forward.

CREATE OR REPLACE TEMP TABLE wf_eligible AS
SELECT workflow, contact_id FROM wf_match WHERE criteria AND NOT goal AND NOT suppressed;

-- Open spells of contacts no longer eligible are closed on this as-of date.
UPDATE marts.workflow_eligibility AS e
SET left_on = CAST($as_of AS DATE)
WHERE e.tenant_id = $tenant_id AND e.left_on IS NULL
  AND NOT EXISTS (SELECT 1 FROM wf_eligible AS n
                  WHERE n.workflow = e.workflow AND n.contact_id = e.contact_id);

-- Eligible contacts without an open spell enter one on this as-of date.
INSERT INTO marts.workflow_eligibility (tenant_id, workflow, contact_id, entered_on, left_on)
SELECT $tenant_id, n.workflow, n.contact_id, CAST($as_of AS DATE), NULL
FROM wf_eligible AS n
WHERE NOT EXISTS (SELECT 1 FROM marts.workflow_eligibility AS e
                  WHERE e.tenant_id = $tenant_id AND e.left_on IS NULL
                    AND e.workflow = n.workflow AND e.contact_id = n.contact_id);
