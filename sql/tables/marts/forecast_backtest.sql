CREATE TABLE IF NOT EXISTS marts.forecast_backtest (
    tenant_id VARCHAR NOT NULL,
    origin DATE NOT NULL,
    segment VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    expected_revenue DOUBLE NOT NULL,
    revenue_low DOUBLE NOT NULL,
    revenue_high DOUBLE NOT NULL,
    actual_revenue DOUBLE NOT NULL,
    error DOUBLE NOT NULL,
    abs_pct_error DOUBLE,
    within_interval BOOLEAN NOT NULL,
    as_of DATE NOT NULL,
    inputs_key VARCHAR,
    PRIMARY KEY (tenant_id, origin, segment, period_start)
);
COMMENT ON TABLE marts.forecast_backtest IS 'Forecasts re-made at earlier as-of dates (origins) with only the data known then, beside the revenue that then happened: how far to trust marts.revenue_forecast.';
COMMENT ON COLUMN marts.forecast_backtest.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.forecast_backtest.origin IS 'The earlier as-of date the forecast was made at (3, 6 and 12 months before the run''s as-of date).';
COMMENT ON COLUMN marts.forecast_backtest.segment IS 'Segment at the origin (from marts.segment_history), or all.';
COMMENT ON COLUMN marts.forecast_backtest.period_start IS 'First day of the forecast period.';
COMMENT ON COLUMN marts.forecast_backtest.period_end IS 'Day after the last day of the period.';
COMMENT ON COLUMN marts.forecast_backtest.expected_revenue IS 'What the forecast made at the origin expected (base currency).';
COMMENT ON COLUMN marts.forecast_backtest.revenue_low IS 'Lower bound of its 80% interval.';
COMMENT ON COLUMN marts.forecast_backtest.revenue_high IS 'Upper bound of its 80% interval.';
COMMENT ON COLUMN marts.forecast_backtest.actual_revenue IS 'Net revenue (purchases minus refunds) the segment''s members at the origin then brought in the period.';
COMMENT ON COLUMN marts.forecast_backtest.error IS 'actual_revenue - expected_revenue.';
COMMENT ON COLUMN marts.forecast_backtest.abs_pct_error IS '|error| / actual_revenue; NULL when nothing was earned.';
COMMENT ON COLUMN marts.forecast_backtest.within_interval IS 'Whether the actual revenue fell inside the 80% interval (about 8 in 10 should).';
COMMENT ON COLUMN marts.forecast_backtest.as_of IS 'As-of date of the run that made the back-test.';
COMMENT ON COLUMN marts.forecast_backtest.inputs_key IS 'Fingerprint of everything the origin''s rows depend on (activities up to the end of its horizon, contacts, segments at the origin, the code): a later run with the same fingerprint keeps the rows instead of recomputing them.';
