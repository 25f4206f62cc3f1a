CREATE TABLE IF NOT EXISTS quarantine.rows (
    tenant_id VARCHAR NOT NULL,
    import_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    row_number BIGINT NOT NULL,
    reason_code VARCHAR NOT NULL,
    reason_detail VARCHAR,
    raw VARCHAR,
    run_id VARCHAR,
    quarantined_at TIMESTAMP NOT NULL
);
COMMENT ON TABLE quarantine.rows IS 'Rows that were not imported, each with a reason code; the same rows are written to the import''s error file.';
COMMENT ON COLUMN quarantine.rows.tenant_id IS 'Tenant of the import.';
COMMENT ON COLUMN quarantine.rows.import_id IS 'The import (see raw.imports).';
COMMENT ON COLUMN quarantine.rows.kind IS 'contact, activity, change (a line of a changes file), company (a row of a company file) or signal (a line of a signals file).';
COMMENT ON COLUMN quarantine.rows.row_number IS 'Row number (contacts) or line number (activities) in the file.';
COMMENT ON COLUMN quarantine.rows.reason_code IS 'Why: unparseable_row, missing_tenant, missing_identity, erased_subject, tenant_mismatch, bad_timestamp, future_timestamp, unknown_activity_type, unknown_contact, conflicting_duplicate, unknown_currency, actor_not_permitted, bad_amount; for changes lines also missing_actor, unknown_op, unknown_field, invalid_value.';
COMMENT ON COLUMN quarantine.rows.reason_detail IS 'One sentence with the specifics.';
COMMENT ON COLUMN quarantine.rows.raw IS 'The row or line as read; NULL for a row of a person erased under GDPR (erased_subject: only its row number, reason and keyed digest, in reason_detail, are kept).';
COMMENT ON COLUMN quarantine.rows.run_id IS 'Run that quarantined it (NULL when refused while reading).';
COMMENT ON COLUMN quarantine.rows.quarantined_at IS 'When (UTC).';
