-- Upkeep of marts.segment_history from the memberships just written to marts.contact_segments.
-- Parameters: $tenant_id, $as_of (DATE). Statements run in order; only for an as-of date on or
-- after the latest one the tenant's history has seen (crm_pipeline/marts.py checks).
-- Spells are [entered_on, left_on). Running again for the same as-of date gives the same history
-- as running once with the final data: steps 1 and 2 undo what an earlier run of that date did.

-- 1. A spell opened on this as-of date whose contact is no longer a member never happened.
DELETE FROM marts.segment_history AS h
WHERE h.tenant_id = $tenant_id
  AND h.entered_on = CAST($as_of AS DATE)
  AND NOT EXISTS (
      SELECT 1 FROM marts.contact_segments AS s
      WHERE s.tenant_id = h.tenant_id AND s.contact_id = h.contact_id AND s.segment = h.segment
  );

-- 2. A spell closed on this as-of date whose contact is a member again is reopened.
UPDATE marts.segment_history AS h
SET left_on = NULL
WHERE h.tenant_id = $tenant_id
  AND h.left_on = CAST($as_of AS DATE)
  AND EXISTS (
      SELECT 1 FROM marts.contact_segments AS s
      WHERE s.tenant_id = h.tenant_id AND s.contact_id = h.contact_id AND s.segment = h.segment
  );

-- 3. Open spells of contacts that left are closed on this as-of date.
UPDATE marts.segment_history AS h
SET left_on = CAST($as_of AS DATE)
WHERE h.tenant_id = $tenant_id
  AND h.left_on IS NULL
  AND NOT EXISTS (
      SELECT 1 FROM marts.contact_segments AS s
      WHERE s.tenant_id = h.tenant_id AND s.contact_id = h.contact_id AND s.segment = h.segment
  );

-- 4. Members without an open spell enter on this as-of date.
INSERT INTO marts.segment_history (tenant_id, contact_id, segment, entered_on, left_on)
SELECT s.tenant_id, s.contact_id, s.segment, CAST($as_of AS DATE), NULL
FROM marts.contact_segments AS s
WHERE s.tenant_id = $tenant_id
  AND NOT EXISTS (
      SELECT 1 FROM marts.segment_history AS h
      WHERE h.tenant_id = s.tenant_id AND h.contact_id = s.contact_id AND h.segment = s.segment
        AND h.left_on IS NULL
  );
