CREATE TABLE IF NOT EXISTS core.score_models (
    tenant_id VARCHAR NOT NULL,
    target VARCHAR NOT NULL,
    trained_as_of DATE NOT NULL,
    fingerprint VARCHAR NOT NULL,
    run_id VARCHAR,
    model JSON NOT NULL
);
COMMENT ON TABLE core.score_models IS 'The learned lead-score and churn models of each tenant, one per target and training date (the Monday on or before a run''s as-of date by default), kept so a run scores without re-training while what the model learned from is unchanged.';
COMMENT ON COLUMN core.score_models.tenant_id IS 'Tenant.';
COMMENT ON COLUMN core.score_models.target IS 'conversion (marts.lead_scores) or churn (marts.retention_risk).';
COMMENT ON COLUMN core.score_models.trained_as_of IS 'Training date: every label the model learned from was observed by then.';
COMMENT ON COLUMN core.score_models.fingerprint IS 'Digest of the data the model learned from (activities, contacts, profile history and settings up to the training date); a run re-trains when it differs.';
COMMENT ON COLUMN core.score_models.run_id IS 'Run that trained it.';
COMMENT ON COLUMN core.score_models.model IS 'JSON: method (learned or rule) and why, the held-out measurements, and for a learned model its columns, one-hot levels, standardisation and coefficients (no personal data).';
