CREATE TABLE IF NOT EXISTS core.consent_history (
    tenant_id VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    consent_status VARCHAR NOT NULL,
    previous_status VARCHAR,
    source VARCHAR NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    run_id VARCHAR
);
COMMENT ON TABLE core.consent_history IS 'Every change of a contact''s marketing consent, with its source and time.';
COMMENT ON COLUMN core.consent_history.tenant_id IS 'Tenant.';
COMMENT ON COLUMN core.consent_history.contact_id IS 'Contact.';
COMMENT ON COLUMN core.consent_history.consent_status IS 'New status: granted, denied or unknown.';
COMMENT ON COLUMN core.consent_history.previous_status IS 'Status before the change (NULL for the first).';
COMMENT ON COLUMN core.consent_history.source IS 'Where the change came from (import:<import_id>:<row>, or an activity).';
COMMENT ON COLUMN core.consent_history.changed_at IS 'When (UTC).';
COMMENT ON COLUMN core.consent_history.run_id IS 'Run that recorded it.';
