CREATE TABLE IF NOT EXISTS raw.activity_events (
    tenant_id VARCHAR NOT NULL,
    import_id VARCHAR NOT NULL,
    line_number BIGINT NOT NULL,
    line VARCHAR NOT NULL
    -- No PRIMARY KEY: (tenant_id, import_id, line_number) is unique by construction (an import
    -- is staged once, its line numbers counted up), and an ART index made staging slow.
);
COMMENT ON TABLE raw.activity_events IS 'Every non-blank line of every imported activity log, verbatim.';
COMMENT ON COLUMN raw.activity_events.tenant_id IS 'Tenant of the import (the line may name another: then it is quarantined).';
COMMENT ON COLUMN raw.activity_events.import_id IS 'The import (see raw.imports).';
COMMENT ON COLUMN raw.activity_events.line_number IS '1-based line number in the file; with tenant_id and import_id it names the line (unique).';
COMMENT ON COLUMN raw.activity_events.line IS 'The line as read (a JSON object, or not).';
