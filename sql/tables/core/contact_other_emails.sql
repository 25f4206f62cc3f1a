CREATE TABLE IF NOT EXISTS core.contact_other_emails (
    tenant_id VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    email VARCHAR NOT NULL,
    source_rows BIGINT NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
COMMENT ON TABLE core.contact_other_emails IS 'A contact''s secondary emails: every valid email its source rows give (their email and other_emails) besides the primary, core.contacts.email, which survivorship chose as the most trusted. Held rows (marts.merge_review) and look-alike addresses give none. Rebuilt with the golden record.';
COMMENT ON COLUMN core.contact_other_emails.tenant_id IS 'Tenant.';
COMMENT ON COLUMN core.contact_other_emails.contact_id IS 'The golden contact.';
COMMENT ON COLUMN core.contact_other_emails.email IS 'A secondary email, normalized.';
COMMENT ON COLUMN core.contact_other_emails.source_rows IS 'Source rows giving it.';
COMMENT ON COLUMN core.contact_other_emails.last_seen_at IS 'When the newest import giving it was read (UTC).';
