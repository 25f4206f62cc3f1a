CREATE TABLE IF NOT EXISTS core.activities (
    tenant_id VARCHAR NOT NULL,
    activity_id VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    type VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    actor VARCHAR,
    actor_kind VARCHAR,
    direction VARCHAR,
    subject VARCHAR,
    notes VARCHAR,
    amount DOUBLE,
    currency VARCHAR,
    amount_base DOUBLE,
    ticket_id VARCHAR,
    status VARCHAR,
    content_hash VARCHAR NOT NULL,
    import_id VARCHAR NOT NULL,
    line_number BIGINT NOT NULL
    -- No PRIMARY KEY: (tenant_id, activity_id) is unique by construction (an id already stored
    -- or seen earlier in the batch is merged or quarantined, never inserted again; tested), and
    -- an ART index made inserting and committing large logs slow.
);
COMMENT ON TABLE core.activities IS 'Every accepted activity (email, call, meeting, support, purchase, ...), linked to a golden contact.';
COMMENT ON COLUMN core.activities.tenant_id IS 'Tenant.';
COMMENT ON COLUMN core.activities.activity_id IS 'The sender''s activity id (unique per tenant: a later delivery is merged or quarantined).';
COMMENT ON COLUMN core.activities.contact_id IS 'Golden contact (aliases already resolved).';
COMMENT ON COLUMN core.activities.type IS 'email, call, meeting, support, purchase, webinar, download, form_submission, subscription_start, subscription_end, email_bounce or refund.';
COMMENT ON COLUMN core.activities.occurred_at IS 'When it happened, in UTC.';
COMMENT ON COLUMN core.activities.actor IS 'Who logged it (a user, an agent such as mercer, or the system).';
COMMENT ON COLUMN core.activities.actor_kind IS 'user, agent or system, from the roles registry (never what the line declares).';
COMMENT ON COLUMN core.activities.direction IS 'inbound or outbound.';
COMMENT ON COLUMN core.activities.subject IS 'Subject line or title.';
COMMENT ON COLUMN core.activities.notes IS 'What was discussed.';
COMMENT ON COLUMN core.activities.amount IS 'Amount in the activity''s currency (purchases and refunds; refunds positive).';
COMMENT ON COLUMN core.activities.currency IS 'ISO 4217 currency of amount.';
COMMENT ON COLUMN core.activities.amount_base IS 'Amount converted to the tenant''s base currency (data/reference/currency_rates.csv).';
COMMENT ON COLUMN core.activities.ticket_id IS 'Support ticket id (support activities).';
COMMENT ON COLUMN core.activities.status IS 'Ticket status (open, closed) or meeting status (scheduled, held, ...).';
COMMENT ON COLUMN core.activities.content_hash IS 'Hash of the activity''s content: a re-delivery with the same hash is harmless, a different one is a conflict.';
COMMENT ON COLUMN core.activities.import_id IS 'The import it came from.';
COMMENT ON COLUMN core.activities.line_number IS 'Its line in that file.';
