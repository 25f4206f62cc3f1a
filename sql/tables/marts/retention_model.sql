CREATE TABLE IF NOT EXISTS marts.retention_model (
    tenant_id VARCHAR NOT NULL,
    run_id VARCHAR,
    as_of DATE NOT NULL,
    churn_method VARCHAR NOT NULL,
    method_reason VARCHAR NOT NULL,
    trained_as_of DATE NOT NULL,
    retrained BOOLEAN NOT NULL,
    horizon_days INTEGER NOT NULL,
    train_from DATE,
    train_to DATE,
    holdout_from DATE,
    holdout_to DATE,
    train_customers BIGINT,
    train_churned BIGINT,
    holdout_customers BIGINT,
    holdout_churned BIGINT,
    auc_learned DOUBLE,
    auc_declining DOUBLE,
    auc_p_alive DOUBLE,
    holdout_log_loss DOUBLE,
    calibration_max_gap DOUBLE,
    calibration STRUCT(decile INTEGER, customers BIGINT, "rows" BIGINT, predicted DOUBLE, observed DOUBLE)[]
);
COMMENT ON TABLE marts.retention_model IS 'One row per tenant and run: whether marts.retention_risk has a learned churn probability or the declining flag alone, why, and how each ranked the customers who churned within 90 days on the held-out period.';
COMMENT ON COLUMN marts.retention_model.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.retention_model.run_id IS 'Run.';
COMMENT ON COLUMN marts.retention_model.as_of IS 'As-of date of the run.';
COMMENT ON COLUMN marts.retention_model.churn_method IS 'learned (churn_probability filled for subscribers and repeat buyers) or rule (the declining flag alone).';
COMMENT ON COLUMN marts.retention_model.method_reason IS 'Why, in one sentence: the held-out AUCs compared, or the history that was missing (fewer than 50 churned customers to learn from, by default).';
COMMENT ON COLUMN marts.retention_model.trained_as_of IS 'Training date (the Monday on or before as_of by default): labels up to this day were used.';
COMMENT ON COLUMN marts.retention_model.retrained IS 'True when this run trained the model; false when it used the stored one (core.score_models).';
COMMENT ON COLUMN marts.retention_model.horizon_days IS 'The question: churns within this many days of the cut-off (a subscription_end, or for a repeat buyer no purchase).';
COMMENT ON COLUMN marts.retention_model.train_from IS 'Earliest cut-off the model in use learned from (cut-offs every 30 days).';
COMMENT ON COLUMN marts.retention_model.train_to IS 'Latest cut-off the model in use learned from.';
COMMENT ON COLUMN marts.retention_model.holdout_from IS 'First cut-off of the held-out period; the validated model learned only from cut-offs whose 90 days ended by then.';
COMMENT ON COLUMN marts.retention_model.holdout_to IS 'Last cut-off of the held-out period.';
COMMENT ON COLUMN marts.retention_model.train_customers IS 'Observable customers (subscribers and repeat buyers) over the training cut-offs (once per cut-off).';
COMMENT ON COLUMN marts.retention_model.train_churned IS 'Distinct customers among them who churned within the horizon.';
COMMENT ON COLUMN marts.retention_model.holdout_customers IS 'Observable customers over the held-out cut-offs.';
COMMENT ON COLUMN marts.retention_model.holdout_churned IS 'Distinct customers among them who churned within the horizon.';
COMMENT ON COLUMN marts.retention_model.auc_learned IS 'Held-out AUC of the learned churn probability (0.5 is chance, 1 perfect); NULL when no model was validated.';
COMMENT ON COLUMN marts.retention_model.auc_declining IS 'Held-out AUC of the declining flag as it was at each cut-off (the rule).';
COMMENT ON COLUMN marts.retention_model.auc_p_alive IS 'Held-out AUC of 1 - p_alive from BG/NBD fitted on the purchases up to each cut-off (customers without purchases rank in the middle).';
COMMENT ON COLUMN marts.retention_model.holdout_log_loss IS 'Held-out log loss of the learned probability.';
COMMENT ON COLUMN marts.retention_model.calibration_max_gap IS 'Largest |observed - predicted| over the deciles of calibration holding 100 or more customers.';
COMMENT ON COLUMN marts.retention_model.calibration IS 'Held-out customers in ten equal groups by churn probability (decile 1 lowest): customers, rows sampled, mean predicted probability, observed share that churned.';
