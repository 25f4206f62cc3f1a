-- marts.segment_history on the tenant's first run (no history, no marts rows yet): every member
-- enters its segment on this as-of date. The same rows segment_history_update.sql would write
-- (with nothing to match, each of its members is new), without matching them against a history.
-- Parameters: $tenant_id, $as_of (DATE). Reads mart_segment_members.
INSERT INTO marts.segment_history (tenant_id, contact_id, segment, entered_on, left_on)
SELECT $tenant_id, contact_id, segment, CAST($as_of AS DATE), NULL
FROM mart_segment_members;
