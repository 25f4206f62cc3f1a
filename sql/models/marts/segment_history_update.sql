-- Upkeep of marts.segment_history from the memberships just written to marts.contact_segments
-- (read from their staging temp table, mart_segment_members).
-- Parameters: $tenant_id, $as_of (DATE). Statements run in order; only for an as-of date on or
-- after the latest one the tenant's history has seen (crm_pipeline/marts.py checks), and not on
-- the tenant's first run (segment_history_start.sql).
-- Spells are [entered_on, left_on). Running again for the same as-of date gives the same history
-- as running once with the final data: steps 1 and 2 undo what an earlier run of that date did.
--
-- The spells a run can touch (open, or entered or left on this as-of date) are matched with the
-- members once (step 0, temp table mart_segment_history_changes, which keeps only what changes);
-- steps 1-4 apply those few changes. Since history only moves forward, no spell starts or ends
-- after this as-of date, so a member matching any such spell has one open after step 2.

-- 0. Every spell the run can touch beside membership, without the open spells of members (the
--    bulk, which stay as they are), plus the members without any such spell.
CREATE OR REPLACE TEMP TABLE mart_segment_history_changes AS
SELECT coalesce(h.contact_id, s.contact_id) AS contact_id,
       coalesce(h.segment, s.segment) AS segment,
       h.entered_on,
       h.left_on,
       h.contact_id IS NOT NULL AS in_history,
       s.contact_id IS NOT NULL AS member
FROM (
    SELECT contact_id, segment, entered_on, left_on
    FROM marts.segment_history
    WHERE tenant_id = $tenant_id
      AND (left_on IS NULL OR left_on = CAST($as_of AS DATE) OR entered_on = CAST($as_of AS DATE))
) AS h
FULL OUTER JOIN (
    SELECT contact_id, segment FROM mart_segment_members
) AS s ON s.contact_id = h.contact_id AND s.segment = h.segment
WHERE NOT (h.contact_id IS NOT NULL AND s.contact_id IS NOT NULL AND h.left_on IS NULL);

-- 1. A spell opened on this as-of date whose contact is no longer a member never happened.
DELETE FROM marts.segment_history AS h
WHERE h.tenant_id = $tenant_id
  AND h.entered_on = CAST($as_of AS DATE)
  AND EXISTS (
      SELECT 1 FROM mart_segment_history_changes AS c
      WHERE c.in_history AND NOT c.member AND c.entered_on = CAST($as_of AS DATE)
        AND c.contact_id = h.contact_id AND c.segment = h.segment AND c.entered_on = h.entered_on
  );

-- 2. A spell closed on this as-of date whose contact is a member again is reopened.
UPDATE marts.segment_history AS h
SET left_on = NULL
WHERE h.tenant_id = $tenant_id
  AND h.left_on = CAST($as_of AS DATE)
  AND EXISTS (
      SELECT 1 FROM mart_segment_history_changes AS c
      WHERE c.in_history AND c.member AND c.left_on = CAST($as_of AS DATE)
        AND c.contact_id = h.contact_id AND c.segment = h.segment AND c.entered_on = h.entered_on
  );

-- 3. Open spells of contacts that left are closed on this as-of date.
UPDATE marts.segment_history AS h
SET left_on = CAST($as_of AS DATE)
WHERE h.tenant_id = $tenant_id
  AND h.left_on IS NULL
  AND EXISTS (
      SELECT 1 FROM mart_segment_history_changes AS c
      WHERE c.in_history AND NOT c.member AND c.left_on IS NULL
        AND c.entered_on <> CAST($as_of AS DATE)
        AND c.contact_id = h.contact_id AND c.segment = h.segment AND c.entered_on = h.entered_on
  );

-- 4. Members without an open spell enter on this as-of date.
INSERT INTO marts.segment_history (tenant_id, contact_id, segment, entered_on, left_on)
SELECT $tenant_id, contact_id, segment, CAST($as_of AS DATE), NULL
FROM mart_segment_history_changes
WHERE member AND NOT in_history;
