CREATE TABLE IF NOT EXISTS marts.segment_history (
    tenant_id VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    segment VARCHAR NOT NULL,
    entered_on DATE NOT NULL,
    left_on DATE
);
COMMENT ON TABLE marts.segment_history IS 'When each contact entered and left each segment, by as-of date of the runs: answers "why is this segment not updating".';
COMMENT ON COLUMN marts.segment_history.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.segment_history.contact_id IS 'Contact.';
COMMENT ON COLUMN marts.segment_history.segment IS 'Segment name.';
COMMENT ON COLUMN marts.segment_history.entered_on IS 'As-of date of the first run that put the contact in the segment.';
COMMENT ON COLUMN marts.segment_history.left_on IS 'As-of date of the first run that no longer did; NULL while a member.';
