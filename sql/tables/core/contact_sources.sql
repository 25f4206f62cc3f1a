CREATE TABLE IF NOT EXISTS core.contact_sources (
    tenant_id VARCHAR NOT NULL,
    import_id VARCHAR NOT NULL,
    row_number BIGINT NOT NULL,
    source_id VARCHAR,
    source_key VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    match_score DOUBLE,
    match_rule VARCHAR NOT NULL,
    linked_at TIMESTAMP NOT NULL,
    run_id VARCHAR,
    PRIMARY KEY (tenant_id, import_id, row_number)
);
COMMENT ON TABLE core.contact_sources IS 'Which golden contact each accepted source row became, and by which rule.';
COMMENT ON COLUMN core.contact_sources.tenant_id IS 'Tenant.';
COMMENT ON COLUMN core.contact_sources.import_id IS 'The import of the row.';
COMMENT ON COLUMN core.contact_sources.row_number IS 'Row number in the file.';
COMMENT ON COLUMN core.contact_sources.source_id IS 'The exporting system''s record id.';
COMMENT ON COLUMN core.contact_sources.source_key IS 'Key naming this source row (import_id:row_number), used by crm unmerge.';
COMMENT ON COLUMN core.contact_sources.contact_id IS 'The golden contact it belongs to.';
COMMENT ON COLUMN core.contact_sources.match_score IS 'Match score in [0,1] (1 for exact rules and new contacts).';
COMMENT ON COLUMN core.contact_sources.match_rule IS 'new (created the contact), same_source_id, same_email, same_phone_name, or a probabilistic rule; unmerged for split-out rows.';
COMMENT ON COLUMN core.contact_sources.linked_at IS 'When (UTC).';
COMMENT ON COLUMN core.contact_sources.run_id IS 'Run that linked it.';
