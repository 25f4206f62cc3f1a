CREATE TABLE IF NOT EXISTS marts.account_engagement (
    tenant_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    as_of DATE NOT NULL,
    contacts INTEGER NOT NULL,
    engaged_contacts_90d INTEGER NOT NULL,
    customers INTEGER NOT NULL,
    open_leads INTEGER NOT NULL,
    activities_30d INTEGER NOT NULL,
    activities_90d INTEGER NOT NULL,
    inbound_90d INTEGER NOT NULL,
    last_activity_at TIMESTAMP,
    days_since_last_activity INTEGER,
    trend VARCHAR NOT NULL
);
COMMENT ON TABLE marts.account_engagement IS 'Per account: its linked contacts (core.contact_accounts) and their activity rolled up, on the windows of marts.engagement.';
COMMENT ON COLUMN marts.account_engagement.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.account_engagement.account_id IS 'Account (core.accounts).';
COMMENT ON COLUMN marts.account_engagement.as_of IS 'As-of date of the run; windows end at the end of this day.';
COMMENT ON COLUMN marts.account_engagement.contacts IS 'Contacts linked to the account.';
COMMENT ON COLUMN marts.account_engagement.engaged_contacts_90d IS 'Linked contacts with at least one activity in the last 90 days.';
COMMENT ON COLUMN marts.account_engagement.customers IS 'Linked contacts whose lifecycle stage is customer or advocate.';
COMMENT ON COLUMN marts.account_engagement.open_leads IS 'Linked contacts whose lifecycle stage is lead or prospect.';
COMMENT ON COLUMN marts.account_engagement.activities_30d IS 'Activities of its contacts in the last 30 days (bounces excluded, as in marts.engagement).';
COMMENT ON COLUMN marts.account_engagement.activities_90d IS 'Activities of its contacts in the last 90 days.';
COMMENT ON COLUMN marts.account_engagement.inbound_90d IS 'Activities its contacts started in the last 90 days.';
COMMENT ON COLUMN marts.account_engagement.last_activity_at IS 'Latest activity of any of its contacts up to the as-of date (UTC); NULL if none.';
COMMENT ON COLUMN marts.account_engagement.days_since_last_activity IS 'Whole days from that activity to the as-of date; NULL if none.';
COMMENT ON COLUMN marts.account_engagement.trend IS 'rising, steady, falling or none: the account''s last 30 days against the average 30 days of the 90 before.';
