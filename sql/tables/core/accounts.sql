CREATE TABLE IF NOT EXISTS core.accounts (
    tenant_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    name_key VARCHAR,
    domain VARCHAR,
    website VARCHAR,
    industry VARCHAR,
    employee_count BIGINT,
    employee_range VARCHAR,
    annual_revenue DECIMAL(18, 2),
    country VARCHAR,
    city VARCHAR,
    tier VARCHAR,
    created_by VARCHAR NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    employees_min BIGINT,
    employees_max BIGINT,
    revenue_range VARCHAR,
    annual_revenue_min DECIMAL(18, 2),
    annual_revenue_max DECIMAL(18, 2),
    naics VARCHAR,
    sic VARCHAR,
    linkedin_url VARCHAR,
    PRIMARY KEY (tenant_id, account_id)
);
COMMENT ON TABLE core.accounts IS 'Companies (accounts) of a tenant, resolved from its contacts'' business e-mail domains: one per registrable domain unless merged. Ids are stable across runs.';
COMMENT ON COLUMN core.accounts.tenant_id IS 'Tenant.';
COMMENT ON COLUMN core.accounts.account_id IS 'Stable id: a_ and a digest of the tenant and the first domain it was found by.';
COMMENT ON COLUMN core.accounts.name IS 'Display name: the company name most of its contacts give (the domain when none gives one).';
COMMENT ON COLUMN core.accounts.name_key IS 'The name folded as contacts'' company_key is (legal form, punctuation and case dropped): what a free-mail contact''s company is matched on. NULL when the name is only the domain.';
COMMENT ON COLUMN core.accounts.domain IS 'Primary registrable domain (public-suffix aware: sub.acme.co.uk is acme.co.uk); all of them in core.account_domains.';
COMMENT ON COLUMN core.accounts.website IS 'Website, from enrichment or by hand.';
COMMENT ON COLUMN core.accounts.industry IS 'Industry, from enrichment or by hand.';
COMMENT ON COLUMN core.accounts.employee_count IS 'Employees, when a source gives an exact count (from core.firmographics by the tenant''s source priority).';
COMMENT ON COLUMN core.accounts.employee_range IS 'Employees as a range when the chosen source gives one (e.g. 251-500, 10,001+).';
COMMENT ON COLUMN core.accounts.annual_revenue IS 'Annual revenue in the tenant''s base currency, when the chosen source gives an exact figure.';
COMMENT ON COLUMN core.accounts.country IS 'Country (ISO 3166 alpha-2).';
COMMENT ON COLUMN core.accounts.city IS 'City.';
COMMENT ON COLUMN core.accounts.tier IS 'Customer tier (strategic, key, standard); NULL until tiers are computed.';
COMMENT ON COLUMN core.accounts.created_by IS 'How the account came to be: email_domain (found by the pipeline), import or manual.';
COMMENT ON COLUMN core.accounts.first_seen_at IS 'When the account was created (UTC).';
COMMENT ON COLUMN core.accounts.updated_at IS 'Last change (UTC).';
COMMENT ON COLUMN core.accounts.employees_min IS 'Lower bound of the employees (the count itself when exact): what segments compare with.';
COMMENT ON COLUMN core.accounts.employees_max IS 'Upper bound of the employees (NULL for an open range such as 10,001+).';
COMMENT ON COLUMN core.accounts.revenue_range IS 'Annual revenue as written when the chosen source gives a range (e.g. $10M-$50M).';
COMMENT ON COLUMN core.accounts.annual_revenue_min IS 'Lower bound of the annual revenue, in the tenant''s base currency.';
COMMENT ON COLUMN core.accounts.annual_revenue_max IS 'Upper bound of the annual revenue, in the tenant''s base currency (NULL when open).';
COMMENT ON COLUMN core.accounts.naics IS 'NAICS industry code (2 to 6 digits).';
COMMENT ON COLUMN core.accounts.sic IS 'SIC industry code (4 digits).';
COMMENT ON COLUMN core.accounts.linkedin_url IS 'The company''s LinkedIn page.';
