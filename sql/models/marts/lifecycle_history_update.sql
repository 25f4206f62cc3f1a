-- Upkeep of marts.lifecycle_history from the stages just derived in mart_contacts.
-- Parameters: $tenant_id, $as_of (DATE). Statements run in order; only for an as-of date on or
-- after the latest one the tenant's history has seen (crm_pipeline/marts.py checks).
-- Spells are [entered_on, left_on). Running again for the same as-of date gives the same history
-- as running once with the final data: steps 1 and 2 undo what an earlier run of that date did.
--
-- The spells a run can touch (open, or entered or left on this as-of date) are matched with the
-- stages once (step 0, temp table mart_lifecycle_spells); steps 1-4 apply the few changes, and
-- marts.lifecycle is then read from the same table (lifecycle.sql): a contact's stage_since is the
-- entered_on of the spell its stage continues, or this as-of date for a new spell. Since history
-- only moves forward, no spell starts or ends after this as-of date, so a contact matching any
-- such spell of its stage has one open after step 2. "member": the contact has that stage now.

-- 0. Every contact's stage (with its reason, for marts.lifecycle) beside the spell of that stage
--    it continues, if any, plus the spells of stages contacts no longer have.
CREATE OR REPLACE TEMP TABLE mart_lifecycle_spells AS
SELECT coalesce(h.contact_id, s.contact_id) AS contact_id,
       coalesce(h.stage, s.stage) AS stage,
       s.reason,
       h.entered_on,
       h.left_on,
       h.contact_id IS NOT NULL AS in_history,
       s.contact_id IS NOT NULL AS member
FROM (
    SELECT contact_id, stage, entered_on, left_on
    FROM marts.lifecycle_history
    WHERE tenant_id = $tenant_id
      AND (left_on IS NULL OR left_on = CAST($as_of AS DATE) OR entered_on = CAST($as_of AS DATE))
) AS h
FULL OUTER JOIN (
    SELECT contact_id, stage, reason FROM mart_contacts
) AS s ON s.contact_id = h.contact_id AND s.stage = h.stage;

-- 1. A spell opened on this as-of date whose contact no longer has that stage never happened.
DELETE FROM marts.lifecycle_history AS h
WHERE h.tenant_id = $tenant_id
  AND h.entered_on = CAST($as_of AS DATE)
  AND EXISTS (
      SELECT 1 FROM mart_lifecycle_spells AS c
      WHERE c.in_history AND NOT c.member AND c.entered_on = CAST($as_of AS DATE)
        AND c.contact_id = h.contact_id AND c.stage = h.stage AND c.entered_on = h.entered_on
  );

-- 2. A spell closed on this as-of date whose contact has that stage again is reopened.
UPDATE marts.lifecycle_history AS h
SET left_on = NULL
WHERE h.tenant_id = $tenant_id
  AND h.left_on = CAST($as_of AS DATE)
  AND EXISTS (
      SELECT 1 FROM mart_lifecycle_spells AS c
      WHERE c.in_history AND c.member AND c.left_on = CAST($as_of AS DATE)
        AND c.contact_id = h.contact_id AND c.stage = h.stage AND c.entered_on = h.entered_on
  );

-- 3. Open spells of stages contacts no longer have are closed on this as-of date.
UPDATE marts.lifecycle_history AS h
SET left_on = CAST($as_of AS DATE)
WHERE h.tenant_id = $tenant_id
  AND h.left_on IS NULL
  AND EXISTS (
      SELECT 1 FROM mart_lifecycle_spells AS c
      WHERE c.in_history AND NOT c.member AND c.left_on IS NULL
        AND c.entered_on <> CAST($as_of AS DATE)
        AND c.contact_id = h.contact_id AND c.stage = h.stage AND c.entered_on = h.entered_on
  );

-- 4. Contacts without a spell of their stage to continue enter it on this as-of date.
INSERT INTO marts.lifecycle_history (tenant_id, contact_id, stage, entered_on, left_on)
SELECT $tenant_id, contact_id, stage, CAST($as_of AS DATE), NULL
FROM mart_lifecycle_spells
WHERE member AND NOT in_history;
