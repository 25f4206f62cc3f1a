CREATE TABLE IF NOT EXISTS marts.forecast_accuracy (
    tenant_id VARCHAR NOT NULL,
    origin DATE NOT NULL,
    horizon INTEGER NOT NULL,
    period_start DATE NOT NULL,
    method VARCHAR NOT NULL,
    expected_revenue DOUBLE NOT NULL,
    actual_revenue DOUBLE NOT NULL,
    error DOUBLE NOT NULL,
    revenue_low DOUBLE,
    revenue_high DOUBLE,
    revenue_low_50 DOUBLE,
    revenue_high_50 DOUBLE,
    within_interval BOOLEAN,
    within_interval_50 BOOLEAN,
    as_of DATE NOT NULL
);
COMMENT ON TABLE marts.forecast_accuracy IS 'Back-test of the tenant''s total monthly revenue: every method re-made at the end of every whole month of its history with the months before only, beside what each later whole month then brought.';
COMMENT ON COLUMN marts.forecast_accuracy.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.forecast_accuracy.origin IS 'Last day of the history the forecast was made with (a month''s last day).';
COMMENT ON COLUMN marts.forecast_accuracy.horizon IS 'Months ahead: 1 is the month after the origin.';
COMMENT ON COLUMN marts.forecast_accuracy.period_start IS 'First day of the month forecast (always a whole month, complete before the as-of date).';
COMMENT ON COLUMN marts.forecast_accuracy.method IS 'components (the component model), combined (its mean with trailing_mean_3, the default), a naive baseline (last_month, trailing_mean_3, seasonal_naive: same month last year scaled by the trend), drift (a candidate), or forecast: what would have been published at the origin (the method selected then, with its calibrated intervals).';
COMMENT ON COLUMN marts.forecast_accuracy.expected_revenue IS 'What the method forecast at the origin (base currency).';
COMMENT ON COLUMN marts.forecast_accuracy.actual_revenue IS 'Net revenue of the month (purchases minus refunds).';
COMMENT ON COLUMN marts.forecast_accuracy.error IS 'actual_revenue - expected_revenue.';
COMMENT ON COLUMN marts.forecast_accuracy.revenue_low IS 'Method forecast only: lower bound of the 80% interval, calibrated with the errors known at the origin (out of sample).';
COMMENT ON COLUMN marts.forecast_accuracy.revenue_high IS 'Method forecast only: upper bound of the 80% interval.';
COMMENT ON COLUMN marts.forecast_accuracy.revenue_low_50 IS 'Method forecast only: lower bound of the 50% interval.';
COMMENT ON COLUMN marts.forecast_accuracy.revenue_high_50 IS 'Method forecast only: upper bound of the 50% interval.';
COMMENT ON COLUMN marts.forecast_accuracy.within_interval IS 'Method forecast only: whether the month fell inside the 80% interval (about 8 in 10 should).';
COMMENT ON COLUMN marts.forecast_accuracy.within_interval_50 IS 'Method forecast only: whether the month fell inside the 50% interval (about half should).';
COMMENT ON COLUMN marts.forecast_accuracy.as_of IS 'As-of date of the run that made the back-test.';
