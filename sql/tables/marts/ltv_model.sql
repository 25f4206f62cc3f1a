CREATE TABLE IF NOT EXISTS marts.ltv_model (
    tenant_id VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    r DOUBLE,
    alpha DOUBLE,
    a DOUBLE,
    b DOUBLE,
    p DOUBLE,
    q DOUBLE,
    v DOUBLE,
    log_likelihood DOUBLE,
    customers BIGINT NOT NULL,
    converged BOOLEAN,
    iterations INTEGER,
    diagnostics JSON,
    as_of DATE NOT NULL,
    PRIMARY KEY (tenant_id, run_id)
);
COMMENT ON TABLE marts.ltv_model IS 'Per tenant and run: the fitted BG/NBD (r, alpha, a, b) and Gamma-Gamma (p, q, v) parameters, time in days, or the historical-average fallback.';
COMMENT ON COLUMN marts.ltv_model.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.ltv_model.run_id IS 'Run that fitted it.';
COMMENT ON COLUMN marts.ltv_model.model IS 'bgnbd+gamma_gamma when fitted; historical_average when too few customers or a fit failed (see diagnostics).';
COMMENT ON COLUMN marts.ltv_model.r IS 'BG/NBD: shape of the Gamma distribution of purchase rates.';
COMMENT ON COLUMN marts.ltv_model.alpha IS 'BG/NBD: scale (in days) of the Gamma distribution of purchase rates.';
COMMENT ON COLUMN marts.ltv_model.a IS 'BG/NBD: Beta parameter a of the drop-out probability.';
COMMENT ON COLUMN marts.ltv_model.b IS 'BG/NBD: Beta parameter b of the drop-out probability.';
COMMENT ON COLUMN marts.ltv_model.p IS 'Gamma-Gamma: shape of the spend per transaction.';
COMMENT ON COLUMN marts.ltv_model.q IS 'Gamma-Gamma: shape of the Gamma prior of the scale.';
COMMENT ON COLUMN marts.ltv_model.v IS 'Gamma-Gamma: scale of the Gamma prior of the scale.';
COMMENT ON COLUMN marts.ltv_model.log_likelihood IS 'Log-likelihood of the BG/NBD fit at the optimum.';
COMMENT ON COLUMN marts.ltv_model.customers IS 'Customers (contacts with at least one purchase) in the fit.';
COMMENT ON COLUMN marts.ltv_model.converged IS 'Whether the optimizer reported convergence.';
COMMENT ON COLUMN marts.ltv_model.iterations IS 'Optimizer iterations.';
COMMENT ON COLUMN marts.ltv_model.diagnostics IS 'Fit diagnostics and warnings (JSON), with each fit''s standard_errors and log_parameter_covariance (inverse Hessian of the log-likelihood in log-parameters), which the forecast''s interval draws from.';
COMMENT ON COLUMN marts.ltv_model.as_of IS 'As-of date: purchases after it are ignored.';
