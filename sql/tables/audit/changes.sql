CREATE TABLE IF NOT EXISTS audit.changes (
    change_id BIGINT NOT NULL,
    run_id VARCHAR,
    tenant_id VARCHAR NOT NULL,
    actor VARCHAR NOT NULL,
    actor_kind VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    entity_id VARCHAR NOT NULL,
    "at" TIMESTAMP NOT NULL,
    previous JSON,
    new JSON,
    previous_digest VARCHAR,
    new_digest VARCHAR,
    redacted BOOLEAN NOT NULL DEFAULT false,
    prev_hash VARCHAR NOT NULL,
    hash VARCHAR NOT NULL
    -- No PRIMARY KEY: (tenant_id, change_id) is unique by construction (each append numbers its rows
    -- after the chain's head, one writer per home), and a duplicate or missing position breaks the
    -- chain, which `crm audit verify` and the run's check recompute. The index cost a fifth of
    -- resolving a million rows.
);
COMMENT ON TABLE audit.changes IS 'Append-only, hash-chained trail of every change to contact data (one chain per tenant); verify with crm audit verify.';
COMMENT ON COLUMN audit.changes.change_id IS 'Position in the tenant''s chain (1, 2, ...).';
COMMENT ON COLUMN audit.changes.run_id IS 'Run (or command) that made the change.';
COMMENT ON COLUMN audit.changes.tenant_id IS 'Tenant.';
COMMENT ON COLUMN audit.changes.actor IS 'Who: pipeline, a user name, or an agent.';
COMMENT ON COLUMN audit.changes.actor_kind IS 'user, agent or system.';
COMMENT ON COLUMN audit.changes.action IS 'create, update, delete, merge, unmerge, erase, or export (a segment written to a file for another tool: entity segment_export, the segment''s name as entity_id, counts and the file''s digest as new).';
COMMENT ON COLUMN audit.changes.entity IS 'What kind of record: contact, activity, ...';
COMMENT ON COLUMN audit.changes.entity_id IS 'Its id.';
COMMENT ON COLUMN audit.changes."at" IS 'When (UTC).';
COMMENT ON COLUMN audit.changes.previous IS 'Previous values of the changed fields (JSON); replaced by NULL when erased.';
COMMENT ON COLUMN audit.changes.new IS 'New values of the changed fields (JSON); replaced by NULL when erased.';
COMMENT ON COLUMN audit.changes.previous_digest IS 'Keyed digest of previous: the chain hashes this, so erasing the values keeps it verifiable.';
COMMENT ON COLUMN audit.changes.new_digest IS 'Keyed digest of new.';
COMMENT ON COLUMN audit.changes.redacted IS 'True once the values were erased under GDPR: previous and new are then NULL and the digests stay; crm audit verify requires an erase row of the entity (or of the contact it was erased with) at or after this row.';
COMMENT ON COLUMN audit.changes.prev_hash IS 'hash of the previous row of the tenant''s chain (64 zeros for the first).';
COMMENT ON COLUMN audit.changes.hash IS 'SHA-256 over prev_hash and this row''s canonical content.';
