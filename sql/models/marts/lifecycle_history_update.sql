-- Upkeep of marts.lifecycle_history from the stages just derived in mart_lifecycle_stage.
-- Parameters: $tenant_id, $as_of (DATE). Statements run in order; only for an as-of date on or
-- after the latest one the tenant's history has seen (crm_pipeline/marts.py checks).
-- Spells are [entered_on, left_on). Running again for the same as-of date gives the same history
-- as running once with the final data: steps 1 and 2 undo what an earlier run of that date did.

-- 1. A spell opened on this as-of date whose contact no longer has that stage never happened.
DELETE FROM marts.lifecycle_history AS h
WHERE h.tenant_id = $tenant_id
  AND h.entered_on = CAST($as_of AS DATE)
  AND NOT EXISTS (
      SELECT 1 FROM mart_lifecycle_stage AS s
      WHERE s.contact_id = h.contact_id AND s.stage = h.stage
  );

-- 2. A spell closed on this as-of date whose contact has that stage again is reopened.
UPDATE marts.lifecycle_history AS h
SET left_on = NULL
WHERE h.tenant_id = $tenant_id
  AND h.left_on = CAST($as_of AS DATE)
  AND EXISTS (
      SELECT 1 FROM mart_lifecycle_stage AS s
      WHERE s.contact_id = h.contact_id AND s.stage = h.stage
  );

-- 3. Open spells of stages contacts no longer have are closed on this as-of date.
UPDATE marts.lifecycle_history AS h
SET left_on = CAST($as_of AS DATE)
WHERE h.tenant_id = $tenant_id
  AND h.left_on IS NULL
  AND NOT EXISTS (
      SELECT 1 FROM mart_lifecycle_stage AS s
      WHERE s.contact_id = h.contact_id AND s.stage = h.stage
  );

-- 4. Contacts without an open spell of their stage enter it on this as-of date.
INSERT INTO marts.lifecycle_history (tenant_id, contact_id, stage, entered_on, left_on)
SELECT $tenant_id, s.contact_id, s.stage, CAST($as_of AS DATE), NULL
FROM mart_lifecycle_stage AS s
WHERE NOT EXISTS (
    SELECT 1 FROM marts.lifecycle_history AS h
    WHERE h.tenant_id = $tenant_id AND h.contact_id = s.contact_id AND h.stage = s.stage
      AND h.left_on IS NULL
);
