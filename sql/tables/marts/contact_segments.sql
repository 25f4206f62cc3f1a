CREATE TABLE IF NOT EXISTS marts.contact_segments (
    tenant_id VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    segment VARCHAR NOT NULL,
    as_of DATE NOT NULL
);
COMMENT ON TABLE marts.contact_segments IS 'Segment memberships at the as-of date of the latest run: one row per contact and segment it belongs to (definitions in sql/segments/).';
COMMENT ON COLUMN marts.contact_segments.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.contact_segments.contact_id IS 'Contact.';
COMMENT ON COLUMN marts.contact_segments.segment IS 'hot_leads, existing_customers, enterprise_prospects, support_active, cold_leads, stale_records, declining_engagement (or a segment added as a file).';
COMMENT ON COLUMN marts.contact_segments.as_of IS 'As-of date the membership was computed for.';
