CREATE TABLE IF NOT EXISTS core.contact_other_phones (
    tenant_id VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    phone VARCHAR NOT NULL,
    source_rows BIGINT NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
COMMENT ON TABLE core.contact_other_phones IS 'A contact''s secondary phones: every valid phone its source rows give (their phone and other_phones) besides the primary, core.contacts.phone, which survivorship chose as the most trusted. Held rows (marts.merge_review) give none. Rebuilt with the golden record.';
COMMENT ON COLUMN core.contact_other_phones.tenant_id IS 'Tenant.';
COMMENT ON COLUMN core.contact_other_phones.contact_id IS 'The golden contact.';
COMMENT ON COLUMN core.contact_other_phones.phone IS 'A secondary phone, E.164.';
COMMENT ON COLUMN core.contact_other_phones.source_rows IS 'Source rows giving it.';
COMMENT ON COLUMN core.contact_other_phones.last_seen_at IS 'When the newest import giving it was read (UTC).';
