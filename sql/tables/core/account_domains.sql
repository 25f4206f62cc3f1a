CREATE TABLE IF NOT EXISTS core.account_domains (
    tenant_id VARCHAR NOT NULL,
    domain VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    linked_by VARCHAR NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, domain)
);
COMMENT ON TABLE core.account_domains IS 'Registrable domains of each account: a domain belongs to one account of the tenant.';
COMMENT ON COLUMN core.account_domains.tenant_id IS 'Tenant.';
COMMENT ON COLUMN core.account_domains.domain IS 'Registrable domain (lower case, public-suffix aware).';
COMMENT ON COLUMN core.account_domains.account_id IS 'The account it belongs to.';
COMMENT ON COLUMN core.account_domains.linked_by IS 'email_domain (a contact''s e-mail), website, import or manual.';
COMMENT ON COLUMN core.account_domains.first_seen_at IS 'When the domain was first linked (UTC).';
