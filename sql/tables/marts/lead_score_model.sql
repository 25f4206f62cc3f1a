CREATE TABLE IF NOT EXISTS marts.lead_score_model (
    tenant_id VARCHAR NOT NULL,
    run_id VARCHAR,
    as_of DATE NOT NULL,
    score_method VARCHAR NOT NULL,
    method_reason VARCHAR NOT NULL,
    trained_as_of DATE NOT NULL,
    retrained BOOLEAN NOT NULL,
    horizon_days INTEGER NOT NULL,
    train_from DATE,
    train_to DATE,
    holdout_from DATE,
    holdout_to DATE,
    train_leads BIGINT,
    train_conversions BIGINT,
    holdout_leads BIGINT,
    holdout_conversions BIGINT,
    auc_learned DOUBLE,
    auc_rule DOUBLE,
    auc_activity_count DOUBLE,
    holdout_log_loss DOUBLE,
    calibration_max_gap DOUBLE,
    calibration STRUCT(decile INTEGER, leads BIGINT, "rows" BIGINT, predicted DOUBLE, observed DOUBLE)[]
);
COMMENT ON TABLE marts.lead_score_model IS 'One row per tenant and run: which lead score marts.lead_scores uses (learned or rule) and why, the learned model''s training window, and how each score ranked the leads who converted within 90 days on the held-out period (AUC), with the learned probabilities'' calibration by decile.';
COMMENT ON COLUMN marts.lead_score_model.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.lead_score_model.run_id IS 'Run.';
COMMENT ON COLUMN marts.lead_score_model.as_of IS 'As-of date of the run.';
COMMENT ON COLUMN marts.lead_score_model.score_method IS 'learned (the tenant''s model gives conversion_probability and ranks the open leads) or rule (lead_score alone).';
COMMENT ON COLUMN marts.lead_score_model.method_reason IS 'Why, in one sentence: the held-out AUCs compared, or the history that was missing (fewer than 50 conversions to learn from, by default).';
COMMENT ON COLUMN marts.lead_score_model.trained_as_of IS 'Training date (the Monday on or before as_of by default): labels up to this day were used; the model is re-trained when a run has a new training date or the data it learned from changed.';
COMMENT ON COLUMN marts.lead_score_model.retrained IS 'True when this run trained the model; false when it used the stored one (core.score_models).';
COMMENT ON COLUMN marts.lead_score_model.horizon_days IS 'The question: becomes a customer (first purchase or subscription) within this many days of the cut-off.';
COMMENT ON COLUMN marts.lead_score_model.train_from IS 'Earliest cut-off the model in use learned from (cut-offs every 30 days).';
COMMENT ON COLUMN marts.lead_score_model.train_to IS 'Latest cut-off the model in use learned from (horizon_days before trained_as_of).';
COMMENT ON COLUMN marts.lead_score_model.holdout_from IS 'First cut-off of the held-out period. The model that was validated learned only from cut-offs whose 90 days ended by then.';
COMMENT ON COLUMN marts.lead_score_model.holdout_to IS 'Last cut-off of the held-out period.';
COMMENT ON COLUMN marts.lead_score_model.train_leads IS 'Open leads over the training cut-offs (a lead counts once per cut-off).';
COMMENT ON COLUMN marts.lead_score_model.train_conversions IS 'Distinct leads among them who converted within the horizon.';
COMMENT ON COLUMN marts.lead_score_model.holdout_leads IS 'Open leads over the held-out cut-offs.';
COMMENT ON COLUMN marts.lead_score_model.holdout_conversions IS 'Distinct leads among them who converted within the horizon.';
COMMENT ON COLUMN marts.lead_score_model.auc_learned IS 'Held-out AUC of the learned probability: the chance that a lead who converted was ranked above one who did not (0.5 is chance, 1 perfect); NULL when no model was validated.';
COMMENT ON COLUMN marts.lead_score_model.auc_rule IS 'Held-out AUC of the rule''s lead_score as it was at each cut-off.';
COMMENT ON COLUMN marts.lead_score_model.auc_activity_count IS 'Held-out AUC of counting activities in the last 90 days (the naive baseline).';
COMMENT ON COLUMN marts.lead_score_model.holdout_log_loss IS 'Held-out log loss of the learned probability (lower is better).';
COMMENT ON COLUMN marts.lead_score_model.calibration_max_gap IS 'Largest |observed - predicted| over the deciles of calibration holding 100 or more leads.';
COMMENT ON COLUMN marts.lead_score_model.calibration IS 'Held-out leads in ten equal groups by learned probability (decile 1 lowest): leads, rows sampled, mean predicted probability, observed share that converted. Calibrated: observed close to predicted in every decile.';
