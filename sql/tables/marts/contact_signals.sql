CREATE TABLE IF NOT EXISTS marts.contact_signals (
    tenant_id VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    signal_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    title VARCHAR NOT NULL,
    url VARCHAR,
    occurred_at TIMESTAMP NOT NULL,
    age_days INTEGER NOT NULL,
    account_tier VARCHAR,
    as_of DATE NOT NULL
);
COMMENT ON TABLE marts.contact_signals IS 'Contacts whose company is in the news: one row per contact and recent signal of its account (the last accounts.signal_days days, 30 by default, up to the as-of day), so agents can ask whose company is in the news this week.';
COMMENT ON COLUMN marts.contact_signals.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.contact_signals.contact_id IS 'Contact linked to the account (core.contact_accounts).';
COMMENT ON COLUMN marts.contact_signals.account_id IS 'The account.';
COMMENT ON COLUMN marts.contact_signals.signal_id IS 'The signal (core.account_signals).';
COMMENT ON COLUMN marts.contact_signals.kind IS 'Its kind (news, funding, hiring, intent...).';
COMMENT ON COLUMN marts.contact_signals.title IS 'Its headline.';
COMMENT ON COLUMN marts.contact_signals.url IS 'Its link.';
COMMENT ON COLUMN marts.contact_signals.occurred_at IS 'When it happened (UTC).';
COMMENT ON COLUMN marts.contact_signals.age_days IS 'Whole days from the signal to the as-of day (0: that day).';
COMMENT ON COLUMN marts.contact_signals.account_tier IS 'The account''s tier (strategic, key, standard), for escalation.';
COMMENT ON COLUMN marts.contact_signals.as_of IS 'As-of date of the run.';
