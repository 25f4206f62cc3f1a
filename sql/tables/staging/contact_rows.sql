CREATE TABLE IF NOT EXISTS staging.contact_rows (
    tenant_id VARCHAR NOT NULL,
    import_id VARCHAR NOT NULL,
    row_number BIGINT NOT NULL,
    source_id VARCHAR,
    source_system VARCHAR,
    first_name VARCHAR,
    last_name VARCHAR,
    first_name_key VARCHAR,
    last_name_key VARCHAR,
    email VARCHAR,
    email_local_base VARCHAR,
    email_domain VARCHAR,
    phone VARCHAR,
    phone_type VARCHAR,
    company VARCHAR,
    company_key VARCHAR,
    job_title VARCHAR,
    industry VARCHAR,
    company_size BIGINT,
    street VARCHAR,
    city VARCHAR,
    postcode VARCHAR,
    state VARCHAR,
    country VARCHAR,
    birthdate DATE,
    birth_year INTEGER,
    tags VARCHAR[],
    notes VARCHAR,
    lifecycle_stage VARCHAR,
    consent_status VARCHAR,
    created_at TIMESTAMP,
    email_status VARCHAR,
    phone_status VARCHAR,
    extra JSON,
    other_emails VARCHAR[],
    other_phones VARCHAR[],
    status VARCHAR NOT NULL
    -- No PRIMARY KEY: (tenant_id, import_id, row_number) is unique by construction (an import is
    -- normalized once; tested), and the ART index slowed staging a million rows.
);
COMMENT ON TABLE staging.contact_rows IS 'Every accepted contact row, normalized and validated, as input to entity resolution; kept so new rows can be matched against earlier sources.';
COMMENT ON COLUMN staging.contact_rows.tenant_id IS 'Tenant of the import.';
COMMENT ON COLUMN staging.contact_rows.import_id IS 'The import (see raw.imports).';
COMMENT ON COLUMN staging.contact_rows.row_number IS 'Row number in the file.';
COMMENT ON COLUMN staging.contact_rows.source_id IS 'The exporting system''s record id.';
COMMENT ON COLUMN staging.contact_rows.source_system IS 'The exporting system (vendor guess).';
COMMENT ON COLUMN staging.contact_rows.first_name IS 'First name, display form (Unicode NFC, whitespace folded, case fixed only when all upper or all lower).';
COMMENT ON COLUMN staging.contact_rows.last_name IS 'Last name, display form.';
COMMENT ON COLUMN staging.contact_rows.first_name_key IS 'First name match key: lower case, accents folded, punctuation removed.';
COMMENT ON COLUMN staging.contact_rows.last_name_key IS 'Last name match key.';
COMMENT ON COLUMN staging.contact_rows.email IS 'Email, trimmed and lower-cased; NULL when missing or invalid.';
COMMENT ON COLUMN staging.contact_rows.email_local_base IS 'Email local part without +tag (and without dots for Gmail), for matching.';
COMMENT ON COLUMN staging.contact_rows.email_domain IS 'Email domain.';
COMMENT ON COLUMN staging.contact_rows.phone IS 'Phone in E.164; NULL when missing or invalid.';
COMMENT ON COLUMN staging.contact_rows.phone_type IS 'Line type from phonenumbers (mobile, fixed_line, ...).';
COMMENT ON COLUMN staging.contact_rows.company IS 'Company, display form.';
COMMENT ON COLUMN staging.contact_rows.company_key IS 'Company match key without legal suffixes or punctuation.';
COMMENT ON COLUMN staging.contact_rows.job_title IS 'Job title.';
COMMENT ON COLUMN staging.contact_rows.industry IS 'Industry.';
COMMENT ON COLUMN staging.contact_rows.company_size IS 'Employees (lower bound of a range).';
COMMENT ON COLUMN staging.contact_rows.street IS 'Street address.';
COMMENT ON COLUMN staging.contact_rows.city IS 'City.';
COMMENT ON COLUMN staging.contact_rows.postcode IS 'Postal code, as text (leading zeros kept).';
COMMENT ON COLUMN staging.contact_rows.state IS 'State or region.';
COMMENT ON COLUMN staging.contact_rows.country IS 'ISO 3166 alpha-2 country.';
COMMENT ON COLUMN staging.contact_rows.birthdate IS 'Birth date.';
COMMENT ON COLUMN staging.contact_rows.birth_year IS 'Year of birth: the birth date''s, or the year alone when only a year was given (matching compares it).';
COMMENT ON COLUMN staging.contact_rows.tags IS 'Tags, split from the source list.';
COMMENT ON COLUMN staging.contact_rows.notes IS 'Notes, verbatim.';
COMMENT ON COLUMN staging.contact_rows.lifecycle_stage IS 'Lifecycle stage as the source wrote it.';
COMMENT ON COLUMN staging.contact_rows.consent_status IS 'granted, denied or unknown.';
COMMENT ON COLUMN staging.contact_rows.created_at IS 'When the source created the record (UTC).';
COMMENT ON COLUMN staging.contact_rows.email_status IS 'valid, invalid or missing.';
COMMENT ON COLUMN staging.contact_rows.phone_status IS 'valid, invalid or missing.';
COMMENT ON COLUMN staging.contact_rows.extra IS 'Unmapped columns (JSON object).';
COMMENT ON COLUMN staging.contact_rows.other_emails IS 'Further valid emails of the row (home, work, a second address), normalized; used for linking and matching.';
COMMENT ON COLUMN staging.contact_rows.other_phones IS 'Further valid phones of the row (mobile, home, ...) in E.164; used for linking and matching.';
COMMENT ON COLUMN staging.contact_rows.status IS 'pending until entity resolution has placed the row, then resolved.';
