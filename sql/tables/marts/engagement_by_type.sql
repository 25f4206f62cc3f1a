CREATE TABLE IF NOT EXISTS marts.engagement_by_type (
    tenant_id VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    type VARCHAR NOT NULL,
    as_of DATE NOT NULL,
    count_7d INTEGER NOT NULL,
    count_30d INTEGER NOT NULL,
    count_90d INTEGER NOT NULL,
    count_365d INTEGER NOT NULL,
    last_at TIMESTAMP NOT NULL
);
COMMENT ON TABLE marts.engagement_by_type IS 'Per contact and activity type: counts over 7, 30, 90 and 365 days before the as-of date.';
COMMENT ON COLUMN marts.engagement_by_type.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.engagement_by_type.contact_id IS 'Contact.';
COMMENT ON COLUMN marts.engagement_by_type.type IS 'Activity type.';
COMMENT ON COLUMN marts.engagement_by_type.as_of IS 'As-of date of the run.';
COMMENT ON COLUMN marts.engagement_by_type.count_7d IS 'Count in the last 7 days.';
COMMENT ON COLUMN marts.engagement_by_type.count_30d IS 'Count in the last 30 days.';
COMMENT ON COLUMN marts.engagement_by_type.count_90d IS 'Count in the last 90 days.';
COMMENT ON COLUMN marts.engagement_by_type.count_365d IS 'Count in the last 365 days.';
COMMENT ON COLUMN marts.engagement_by_type.last_at IS 'Latest activity of this type up to the as-of date (UTC).';
