CREATE TABLE IF NOT EXISTS core.contacts (
    tenant_id VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    source_id VARCHAR,
    first_name VARCHAR,
    last_name VARCHAR,
    email VARCHAR,
    phone VARCHAR,
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
    tags VARCHAR[],
    notes VARCHAR,
    lifecycle_stage VARCHAR,
    consent_status VARCHAR,
    created_at TIMESTAMP,
    email_status VARCHAR,
    phone_status VARCHAR,
    phone_type VARCHAR,
    extra JSON,
    first_seen_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, contact_id)
);
COMMENT ON TABLE core.contacts IS 'Golden contact records: one per person per tenant, after normalization and duplicate merging. Written only through the audited write path.';
COMMENT ON COLUMN core.contacts.tenant_id IS 'Tenant that owns the contact.';
COMMENT ON COLUMN core.contacts.contact_id IS 'Stable contact id; when two contacts merge the older id survives and the other becomes an alias (core.contact_aliases).';
COMMENT ON COLUMN core.contacts.source_id IS 'Record id in the exporting system of the contact''s first source.';
COMMENT ON COLUMN core.contacts.first_name IS 'First name (display form).';
COMMENT ON COLUMN core.contacts.last_name IS 'Last name (display form).';
COMMENT ON COLUMN core.contacts.email IS 'Email, lower-case; NULL when none valid.';
COMMENT ON COLUMN core.contacts.phone IS 'Phone in E.164; NULL when none valid.';
COMMENT ON COLUMN core.contacts.company IS 'Company (display form).';
COMMENT ON COLUMN core.contacts.company_key IS 'Company match key (no legal suffix or punctuation).';
COMMENT ON COLUMN core.contacts.job_title IS 'Job title.';
COMMENT ON COLUMN core.contacts.industry IS 'Industry.';
COMMENT ON COLUMN core.contacts.company_size IS 'Employees (lower bound when the source gave a range).';
COMMENT ON COLUMN core.contacts.street IS 'Street address.';
COMMENT ON COLUMN core.contacts.city IS 'City.';
COMMENT ON COLUMN core.contacts.postcode IS 'Postal code (text).';
COMMENT ON COLUMN core.contacts.state IS 'State or region.';
COMMENT ON COLUMN core.contacts.country IS 'ISO 3166 alpha-2 country.';
COMMENT ON COLUMN core.contacts.birthdate IS 'Birth date.';
COMMENT ON COLUMN core.contacts.tags IS 'Tags, unioned over all sources.';
COMMENT ON COLUMN core.contacts.notes IS 'Notes, kept from every source (newest first, separated by blank lines).';
COMMENT ON COLUMN core.contacts.lifecycle_stage IS 'Lifecycle stage as the sources wrote it (see marts.lifecycle for the derived stage).';
COMMENT ON COLUMN core.contacts.consent_status IS 'Marketing consent: granted, denied or unknown (history in core.consent_history).';
COMMENT ON COLUMN core.contacts.created_at IS 'Earliest creation time any source gave (UTC).';
COMMENT ON COLUMN core.contacts.email_status IS 'valid, invalid (cleared on import, see marts.data_hygiene), bounced (an email_bounce activity), or missing.';
COMMENT ON COLUMN core.contacts.phone_status IS 'valid, invalid, or missing.';
COMMENT ON COLUMN core.contacts.phone_type IS 'Line type of the phone (mobile, fixed_line, ...).';
COMMENT ON COLUMN core.contacts.extra IS 'Unmapped source columns (JSON object, newest source wins per key).';
COMMENT ON COLUMN core.contacts.first_seen_at IS 'When the contact was created in this warehouse (UTC).';
COMMENT ON COLUMN core.contacts.updated_at IS 'Last change through the audited write path (UTC).';
