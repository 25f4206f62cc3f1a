CREATE TABLE IF NOT EXISTS core.match_blocks (
    tenant_id VARCHAR NOT NULL,
    source_key VARCHAR NOT NULL,
    blocked_contact_id VARCHAR NOT NULL,
    actor VARCHAR NOT NULL,
    "at" TIMESTAMP NOT NULL
);
COMMENT ON TABLE core.match_blocks IS 'Pairs split apart by crm unmerge: the source row is never merged into that contact again automatically.';
COMMENT ON COLUMN core.match_blocks.tenant_id IS 'Tenant.';
COMMENT ON COLUMN core.match_blocks.source_key IS 'The source row that was split out.';
COMMENT ON COLUMN core.match_blocks.blocked_contact_id IS 'The contact it must not join again.';
COMMENT ON COLUMN core.match_blocks.actor IS 'Who unmerged.';
COMMENT ON COLUMN core.match_blocks."at" IS 'When (UTC).';
