CREATE TABLE IF NOT EXISTS marts.data_hygiene (
    tenant_id VARCHAR NOT NULL,
    contact_id VARCHAR,
    import_id VARCHAR,
    row_number BIGINT,
    field VARCHAR NOT NULL,
    original_value VARCHAR,
    issue VARCHAR NOT NULL,
    detail VARCHAR,
    as_of DATE NOT NULL
);
COMMENT ON TABLE marts.data_hygiene IS 'Data problems to review: fields cleared on import (with the original value), bounced emails, invalid numbers, and records with no activity for 90 days.';
COMMENT ON COLUMN marts.data_hygiene.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.data_hygiene.contact_id IS 'Contact concerned.';
COMMENT ON COLUMN marts.data_hygiene.import_id IS 'Import of the source row (for import-time problems).';
COMMENT ON COLUMN marts.data_hygiene.row_number IS 'Row of the source file.';
COMMENT ON COLUMN marts.data_hygiene.field IS 'Field concerned (email, phone, country, ...; record for whole-record issues).';
COMMENT ON COLUMN marts.data_hygiene.original_value IS 'The value as imported, before it was cleared.';
COMMENT ON COLUMN marts.data_hygiene.issue IS 'invalid_email, confusable_email (kept, never matched on), invalid_phone, unknown_country, bad_date, bad_company_size, bounced_email, stale_record, held_update (a source that would have replaced several established contact details: its details were not taken).';
COMMENT ON COLUMN marts.data_hygiene.detail IS 'Specifics in words.';
COMMENT ON COLUMN marts.data_hygiene.as_of IS 'As-of date of the run.';
