CREATE TABLE IF NOT EXISTS marts.forecast_accuracy_summary (
    tenant_id VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    horizon INTEGER NOT NULL,
    periods BIGINT NOT NULL,
    wape DOUBLE,
    bias DOUBLE,
    coverage_80 DOUBLE,
    coverage_50 DOUBLE,
    used BOOLEAN NOT NULL,
    as_of DATE NOT NULL
);
COMMENT ON TABLE marts.forecast_accuracy_summary IS 'marts.forecast_accuracy added up per tenant, method and horizon: how accurate each method has been on the tenant''s own history, and how often the published intervals held.';
COMMENT ON COLUMN marts.forecast_accuracy_summary.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.forecast_accuracy_summary.method IS 'As in marts.forecast_accuracy (forecast: what was published at each origin).';
COMMENT ON COLUMN marts.forecast_accuracy_summary.horizon IS 'Months ahead; 0: months 1 to 6 together (the six-month accuracy).';
COMMENT ON COLUMN marts.forecast_accuracy_summary.periods IS 'Months compared.';
COMMENT ON COLUMN marts.forecast_accuracy_summary.wape IS 'Weighted absolute percentage error: sum of |error| / sum of |actual| (0.1 = off by 10% of revenue).';
COMMENT ON COLUMN marts.forecast_accuracy_summary.bias IS 'sum(expected - actual) / sum(|actual|): positive when the method forecast too much.';
COMMENT ON COLUMN marts.forecast_accuracy_summary.coverage_80 IS 'Method forecast only: share of months inside the 80% interval.';
COMMENT ON COLUMN marts.forecast_accuracy_summary.coverage_50 IS 'Method forecast only: share of months inside the 50% interval.';
COMMENT ON COLUMN marts.forecast_accuracy_summary.used IS 'Whether the tenant''s marts.revenue_forecast (segment all) uses this method now (and forecast, always).';
COMMENT ON COLUMN marts.forecast_accuracy_summary.as_of IS 'As-of date of the run.';
