CREATE TABLE IF NOT EXISTS core.tenants (
    tenant_id VARCHAR PRIMARY KEY,
    name VARCHAR,
    home_country VARCHAR NOT NULL,
    base_currency VARCHAR NOT NULL,
    settings JSON,
    created_at TIMESTAMP NOT NULL
);
COMMENT ON TABLE core.tenants IS 'One row per tenant: its home country (default phone region) and base currency (LTV and forecasts).';
COMMENT ON COLUMN core.tenants.tenant_id IS 'The tenant''s id, as given to --tenant.';
COMMENT ON COLUMN core.tenants.name IS 'Display name.';
COMMENT ON COLUMN core.tenants.home_country IS 'ISO 3166 alpha-2 country used for phone numbers written without a country code.';
COMMENT ON COLUMN core.tenants.base_currency IS 'ISO 4217 currency that amounts are converted to.';
COMMENT ON COLUMN core.tenants.settings IS 'Per-tenant overrides of segment thresholds and score weights (JSON).';
COMMENT ON COLUMN core.tenants.created_at IS 'When the tenant was first seen (UTC).';
