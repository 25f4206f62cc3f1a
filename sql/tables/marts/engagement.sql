CREATE TABLE IF NOT EXISTS marts.engagement (
    tenant_id VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    as_of DATE NOT NULL,
    last_activity_at TIMESTAMP,
    days_since_last_activity INTEGER,
    activities_7d INTEGER NOT NULL,
    activities_30d INTEGER NOT NULL,
    activities_90d INTEGER NOT NULL,
    activities_365d INTEGER NOT NULL,
    inbound_90d INTEGER NOT NULL,
    trend VARCHAR NOT NULL
);
COMMENT ON TABLE marts.engagement IS 'Per contact: activity counts over 7, 30, 90 and 365 days before the as-of date, last activity and trend (counts by type: marts.engagement_by_type).';
COMMENT ON COLUMN marts.engagement.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.engagement.contact_id IS 'Contact.';
COMMENT ON COLUMN marts.engagement.as_of IS 'As-of date of the run; windows end at the end of this day.';
COMMENT ON COLUMN marts.engagement.last_activity_at IS 'Latest activity up to the as-of date (UTC); NULL if none.';
COMMENT ON COLUMN marts.engagement.days_since_last_activity IS 'Whole days from the last activity to the as-of date; NULL if none.';
COMMENT ON COLUMN marts.engagement.activities_7d IS 'Activities in the 7 days up to the as-of date (bounces excluded).';
COMMENT ON COLUMN marts.engagement.activities_30d IS 'Activities in the last 30 days.';
COMMENT ON COLUMN marts.engagement.activities_90d IS 'Activities in the last 90 days.';
COMMENT ON COLUMN marts.engagement.activities_365d IS 'Activities in the last 365 days.';
COMMENT ON COLUMN marts.engagement.inbound_90d IS 'Activities the contact started in the last 90 days: anything with direction inbound, plus webinars, downloads, forms and purchases.';
COMMENT ON COLUMN marts.engagement.trend IS 'rising, steady, falling or none: last 30 days against the average 30 days of the 90 before.';
