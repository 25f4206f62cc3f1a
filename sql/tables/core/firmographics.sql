CREATE TABLE IF NOT EXISTS core.firmographics (
    tenant_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    field VARCHAR NOT NULL,
    value VARCHAR NOT NULL,
    value_min DOUBLE,
    value_max DOUBLE,
    unit VARCHAR,
    problem VARCHAR,
    source VARCHAR NOT NULL,
    import_id VARCHAR,
    row_number BIGINT,
    observed_at TIMESTAMP NOT NULL
);
COMMENT ON TABLE core.firmographics IS 'Every company value ever observed for an account, one row per account, field and observation (enrichment files, company exports, values set by hand): the account''s own columns are chosen from these by the tenant''s source priority (docs/warehouse.md, "Firmographics").';
COMMENT ON COLUMN core.firmographics.tenant_id IS 'Tenant.';
COMMENT ON COLUMN core.firmographics.account_id IS 'The account the value was matched to (by domain, then by name).';
COMMENT ON COLUMN core.firmographics.field IS 'name, domain, website, industry, employees, annual_revenue, country, city, naics, sic or linkedin_url.';
COMMENT ON COLUMN core.firmographics.value IS 'The value as written in the source (a range stays text: 251-500, $10M-$50M); country as ISO alpha-2 when recognised.';
COMMENT ON COLUMN core.firmographics.value_min IS 'employees and annual_revenue: the lower bound read from the value (the value itself when exact; 0 for "under N"); annual_revenue in the tenant''s base currency.';
COMMENT ON COLUMN core.firmographics.value_max IS 'employees and annual_revenue: the upper bound (NULL for an open range such as 10,001+).';
COMMENT ON COLUMN core.firmographics.unit IS 'annual_revenue: the currency the value was written in (ISO 4217).';
COMMENT ON COLUMN core.firmographics.problem IS 'Why the value is not used, or NULL: bad_employee_count, bad_revenue, unknown_currency, bad_domain, unknown_country, invalid_value.';
COMMENT ON COLUMN core.firmographics.source IS 'Where the value came from: the --source NAME of its import, or manual (set by a person or agent; always wins).';
COMMENT ON COLUMN core.firmographics.import_id IS 'The import (raw.imports) that brought it; NULL when set by hand.';
COMMENT ON COLUMN core.firmographics.row_number IS 'Its row in that file.';
COMMENT ON COLUMN core.firmographics.observed_at IS 'When it was imported or set (UTC).';
