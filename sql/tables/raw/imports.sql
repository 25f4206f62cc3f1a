CREATE TABLE IF NOT EXISTS raw.imports (
    tenant_id VARCHAR NOT NULL,
    import_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    file_name VARCHAR NOT NULL,
    file_sha256 VARCHAR NOT NULL,
    encoding VARCHAR,
    delimiter VARCHAR,
    vendor VARCHAR,
    mapping JSON,
    rows_in BIGINT NOT NULL,
    rows_accepted BIGINT,
    rows_merged BIGINT,
    rows_quarantined BIGINT,
    imported_at TIMESTAMP NOT NULL,
    processed_run_id VARCHAR,
    error_file VARCHAR,
    raw_purged_on DATE,
    error_file_purged_on DATE,
    quarantine_purged_on DATE,
    PRIMARY KEY (tenant_id, import_id)
);
COMMENT ON TABLE raw.imports IS 'One row per imported file and tenant, with its row accounting (rows_in = accepted + merged + quarantined once processed).';
COMMENT ON COLUMN raw.imports.tenant_id IS 'Tenant the file was imported for.';
COMMENT ON COLUMN raw.imports.import_id IS 'Import id, derived from the tenant and the file''s SHA-256: the same file imported again has the same id and changes nothing.';
COMMENT ON COLUMN raw.imports.kind IS 'contact, activity, change (a changes file of crm import changes), company (a company or enrichment file of crm import companies) or signal (crm import signals); the last three are applied at once.';
COMMENT ON COLUMN raw.imports.file_name IS 'The file''s name as given (no directories).';
COMMENT ON COLUMN raw.imports.file_sha256 IS 'SHA-256 of the file''s bytes (of a workbook, its bytes and the sheet read: another sheet is another import).';
COMMENT ON COLUMN raw.imports.encoding IS 'Detected text encoding (xlsx, xlsm or xls for an Excel workbook).';
COMMENT ON COLUMN raw.imports.delimiter IS 'Detected field delimiter (contact CSV files; NULL for a workbook).';
COMMENT ON COLUMN raw.imports.vendor IS 'Best guess of the exporting system from its headers (hubspot, salesforce, ...).';
COMMENT ON COLUMN raw.imports.mapping IS 'Header to canonical field mapping used, with the import''s options (region; drop_extra: unmapped columns not kept) (JSON).';
COMMENT ON COLUMN raw.imports.rows_in IS 'Records read from the file (blank lines excluded).';
COMMENT ON COLUMN raw.imports.rows_accepted IS 'Records that created or updated a contact or activity.';
COMMENT ON COLUMN raw.imports.rows_merged IS 'Records merged into an existing record (duplicates, harmless re-deliveries).';
COMMENT ON COLUMN raw.imports.rows_quarantined IS 'Records quarantined with a reason code (see quarantine.rows).';
COMMENT ON COLUMN raw.imports.imported_at IS 'When the file was read (UTC).';
COMMENT ON COLUMN raw.imports.processed_run_id IS 'The run that processed the import; NULL while pending.';
COMMENT ON COLUMN raw.imports.error_file IS 'Path of the CSV listing the quarantined rows of this import; NULL when there is none, or once removed under the tenant''s retention (error_file_purged_on).';
COMMENT ON COLUMN raw.imports.raw_purged_on IS 'As-of date of the run that removed the values of the import''s raw rows under the tenant''s retention (retention.raw_rows_days); the rows, their numbers and source ids stay. NULL while kept.';
COMMENT ON COLUMN raw.imports.error_file_purged_on IS 'As-of date of the run that removed the import''s error file under the tenant''s retention (retention.error_files_days); NULL while kept.';
COMMENT ON COLUMN raw.imports.quarantine_purged_on IS 'As-of date of the run that removed the values kept with the import''s quarantined rows under the tenant''s retention (retention.quarantine_values_days); row numbers, reason codes and digests stay. NULL while kept.';
