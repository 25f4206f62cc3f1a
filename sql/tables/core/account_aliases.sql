CREATE TABLE IF NOT EXISTS core.account_aliases (
    tenant_id VARCHAR NOT NULL,
    alias_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    merged_at TIMESTAMP NOT NULL,
    run_id VARCHAR,
    PRIMARY KEY (tenant_id, alias_id)
);
COMMENT ON TABLE core.account_aliases IS 'Ids of accounts merged into another: a look-up resolves an alias to the surviving account.';
COMMENT ON COLUMN core.account_aliases.tenant_id IS 'Tenant.';
COMMENT ON COLUMN core.account_aliases.alias_id IS 'The retired account id.';
COMMENT ON COLUMN core.account_aliases.account_id IS 'The surviving account id.';
COMMENT ON COLUMN core.account_aliases.merged_at IS 'When the merge happened (UTC).';
COMMENT ON COLUMN core.account_aliases.run_id IS 'Run (or command) that merged them.';
