CREATE TABLE IF NOT EXISTS audit.runs (
    run_id VARCHAR NOT NULL,
    tenant_id VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    status VARCHAR NOT NULL,
    as_of DATE NOT NULL,
    rows_in BIGINT NOT NULL DEFAULT 0,
    rows_accepted BIGINT NOT NULL DEFAULT 0,
    rows_merged BIGINT NOT NULL DEFAULT 0,
    rows_quarantined BIGINT NOT NULL DEFAULT 0,
    activities_in BIGINT NOT NULL DEFAULT 0,
    activities_accepted BIGINT NOT NULL DEFAULT 0,
    activities_merged BIGINT NOT NULL DEFAULT 0,
    activities_quarantined BIGINT NOT NULL DEFAULT 0,
    chain_head VARCHAR,
    message VARCHAR,
    PRIMARY KEY (run_id, tenant_id)
);
COMMENT ON TABLE audit.runs IS 'One row per pipeline run and tenant, with the row accounting of the imports it processed.';
COMMENT ON COLUMN audit.runs.run_id IS 'Run id.';
COMMENT ON COLUMN audit.runs.tenant_id IS 'Tenant.';
COMMENT ON COLUMN audit.runs.started_at IS 'Start (UTC).';
COMMENT ON COLUMN audit.runs.finished_at IS 'End (UTC); NULL while running or if the run died.';
COMMENT ON COLUMN audit.runs.status IS 'running, success (every step done and the snapshot published) or failed.';
COMMENT ON COLUMN audit.runs.as_of IS 'The as-of date every time-based rule of the run used.';
COMMENT ON COLUMN audit.runs.rows_in IS 'Contact rows read by the imports processed in this run.';
COMMENT ON COLUMN audit.runs.rows_accepted IS 'Contact rows that created or updated a contact.';
COMMENT ON COLUMN audit.runs.rows_merged IS 'Contact rows merged into an existing contact.';
COMMENT ON COLUMN audit.runs.rows_quarantined IS 'Contact rows quarantined (rows_in = accepted + merged + quarantined).';
COMMENT ON COLUMN audit.runs.activities_in IS 'Activity lines read.';
COMMENT ON COLUMN audit.runs.activities_accepted IS 'Activity lines accepted.';
COMMENT ON COLUMN audit.runs.activities_merged IS 'Harmless re-deliveries.';
COMMENT ON COLUMN audit.runs.activities_quarantined IS 'Activity lines quarantined.';
COMMENT ON COLUMN audit.runs.chain_head IS 'Hash of the tenant''s last audit.changes row after the run (the chain head, kept outside the chain); crm audit verify requires it, and the head in audit_head.json, to still be in the chain.';
COMMENT ON COLUMN audit.runs.message IS 'Why the run failed, in one line: the step (a stage, a check, publish) and the cause; NULL when it succeeded. Any step failing, publishing included, fails the run for every tenant it covered.';
