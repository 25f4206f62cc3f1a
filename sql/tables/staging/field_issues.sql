CREATE TABLE IF NOT EXISTS staging.field_issues (
    tenant_id VARCHAR NOT NULL,
    import_id VARCHAR NOT NULL,
    row_number BIGINT NOT NULL,
    field VARCHAR NOT NULL,
    original_value VARCHAR,
    issue VARCHAR NOT NULL
);
COMMENT ON TABLE staging.field_issues IS 'Fields cleared on import because their value was invalid, with the original value, and rows flagged for review (a look-alike email, contact details held back); feeds marts.data_hygiene.';
COMMENT ON COLUMN staging.field_issues.tenant_id IS 'Tenant.';
COMMENT ON COLUMN staging.field_issues.import_id IS 'The import.';
COMMENT ON COLUMN staging.field_issues.row_number IS 'Row in the file.';
COMMENT ON COLUMN staging.field_issues.field IS 'Field (email, phone, country, birthdate, created_at, company_size; record for the whole row).';
COMMENT ON COLUMN staging.field_issues.original_value IS 'The value as imported.';
COMMENT ON COLUMN staging.field_issues.issue IS 'invalid_email, confusable_email (an address that can pass for another: kept, never matched on), invalid_phone, unknown_country, bad_date, bad_company_size; held_update (field record: a source that would have replaced several established contact details at once; its details were not taken).';
