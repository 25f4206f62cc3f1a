CREATE TABLE IF NOT EXISTS core.contact_aliases (
    tenant_id VARCHAR NOT NULL,
    alias_id VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    merged_at TIMESTAMP NOT NULL,
    run_id VARCHAR,
    PRIMARY KEY (tenant_id, alias_id)
);
COMMENT ON TABLE core.contact_aliases IS 'Ids of contacts merged into another: every look-up resolves an alias to its surviving contact.';
COMMENT ON COLUMN core.contact_aliases.tenant_id IS 'Tenant.';
COMMENT ON COLUMN core.contact_aliases.alias_id IS 'The retired contact id.';
COMMENT ON COLUMN core.contact_aliases.contact_id IS 'The surviving contact id.';
COMMENT ON COLUMN core.contact_aliases.merged_at IS 'When the merge happened (UTC).';
COMMENT ON COLUMN core.contact_aliases.run_id IS 'Run that merged them.';
