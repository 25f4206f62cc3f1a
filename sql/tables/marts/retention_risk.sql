CREATE TABLE IF NOT EXISTS marts.retention_risk (
    tenant_id VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    as_of DATE NOT NULL,
    activities_last_30d INTEGER NOT NULL,
    baseline_monthly_rate DOUBLE NOT NULL,
    ratio DOUBLE,
    declining BOOLEAN NOT NULL,
    churn_probability DOUBLE,
    churn_method VARCHAR,
    top_factors VARCHAR[]
);
COMMENT ON TABLE marts.retention_risk IS 'Customers'' recent activity against their own baseline: declining when the last 30 days fell below half the average monthly rate of the 180 days before; and, where the tenant''s history allows, the learned probability of churning within 90 days (churn_method, marts.retention_model).';
COMMENT ON COLUMN marts.retention_risk.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.retention_risk.contact_id IS 'Customer.';
COMMENT ON COLUMN marts.retention_risk.as_of IS 'As-of date of the run.';
COMMENT ON COLUMN marts.retention_risk.activities_last_30d IS 'Activities in the last 30 days up to the as-of date (the tenant setting decline_recent_days, default 30).';
COMMENT ON COLUMN marts.retention_risk.baseline_monthly_rate IS 'Activities per 30 days over the 180 days before those 30.';
COMMENT ON COLUMN marts.retention_risk.ratio IS 'activities_last_30d / baseline_monthly_rate; NULL when the baseline is 0.';
COMMENT ON COLUMN marts.retention_risk.declining IS 'True when ratio < the threshold (0.5 by default).';
COMMENT ON COLUMN marts.retention_risk.churn_probability IS 'Probability that the customer churns within 90 days of as_of (a subscriber''s subscription ends; a repeat buyer makes no purchase), learned from the tenant''s history; NULL when churn_method is rule.';
COMMENT ON COLUMN marts.retention_risk.churn_method IS 'learned (churn_probability from the tenant''s model) or rule (the declining flag alone: one-off buyers, and tenants whose history is too short or whose model did not beat the flag on the held-out period).';
COMMENT ON COLUMN marts.retention_risk.top_factors IS 'What raised (+) or lowered (-) the churn risk most, strongest first, in words; for the rule, the recent activity against its usual rate.';
