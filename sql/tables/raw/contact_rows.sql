CREATE TABLE IF NOT EXISTS raw.contact_rows (
    tenant_id VARCHAR NOT NULL,
    import_id VARCHAR NOT NULL,
    row_number BIGINT NOT NULL,
    source_id VARCHAR,
    source_system VARCHAR,
    record JSON,
    mapped STRUCT(source_id VARCHAR, first_name VARCHAR, last_name VARCHAR, full_name VARCHAR, email VARCHAR, phone VARCHAR, company VARCHAR, job_title VARCHAR, industry VARCHAR, company_size VARCHAR, street VARCHAR, city VARCHAR, postcode VARCHAR, state VARCHAR, country VARCHAR, birthdate VARCHAR, tags VARCHAR, notes VARCHAR, lifecycle_stage VARCHAR, consent_status VARCHAR, created_at VARCHAR, tenant_id VARCHAR, other_emails VARCHAR, other_phones VARCHAR),
    extra JSON
    -- No PRIMARY KEY: (tenant_id, import_id, row_number) is unique by construction (an import is
    -- staged once, its rows counted up; tested), and the ART index cost a third of staging.
);
COMMENT ON TABLE raw.contact_rows IS 'Every contact row imported, exactly as read (all values text), including rows later quarantined.';
COMMENT ON COLUMN raw.contact_rows.tenant_id IS 'Tenant of the import.';
COMMENT ON COLUMN raw.contact_rows.import_id IS 'The import (see raw.imports).';
COMMENT ON COLUMN raw.contact_rows.row_number IS '1-based index of the record among the file''s data records (header excluded).';
COMMENT ON COLUMN raw.contact_rows.source_id IS 'The exporting system''s record id, as written.';
COMMENT ON COLUMN raw.contact_rows.source_system IS 'The exporting system (vendor guess), so ids of different systems never collide.';
COMMENT ON COLUMN raw.contact_rows.record IS 'The row as read: header -> value, verbatim (JSON object; NULL for an unparseable row, see quarantine.rows.raw, and for a row of a person erased under GDPR, whose values are never kept).';
COMMENT ON COLUMN raw.contact_rows.mapped IS 'The row''s values under canonical field names, as written, before normalization (a STRUCT: query mapped.email); of a multi-valued Google cell (a ::: b) the first value, the rest kept in extra.';
COMMENT ON COLUMN raw.contact_rows.extra IS 'Unmapped columns, and the further values of multi-valued cells, kept as extra attributes (JSON object); query with ->> ''Header''.';
