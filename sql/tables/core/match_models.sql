CREATE TABLE IF NOT EXISTS core.match_models (
    tenant_id VARCHAR NOT NULL,
    run_id VARCHAR,
    trained_at TIMESTAMP NOT NULL,
    rows_seen BIGINT NOT NULL,
    candidate_pairs BIGINT NOT NULL,
    model JSON NOT NULL
);
COMMENT ON TABLE core.match_models IS 'The matching weights of each tenant as estimated from its data (Fellegi-Sunter m and u per comparison level, prior share of matches); the newest row is used until the tenant has grown by half.';
COMMENT ON COLUMN core.match_models.tenant_id IS 'Tenant.';
COMMENT ON COLUMN core.match_models.run_id IS 'Run that estimated the weights.';
COMMENT ON COLUMN core.match_models.trained_at IS 'When (UTC).';
COMMENT ON COLUMN core.match_models.rows_seen IS 'Staged rows of the tenant at the time.';
COMMENT ON COLUMN core.match_models.candidate_pairs IS 'Candidate pairs the estimate used.';
COMMENT ON COLUMN core.match_models.model IS 'JSON: version, matches_per_row (turned into the prior for the tenant''s size), m and u per field and level (level 1 = strongest agreement).';
