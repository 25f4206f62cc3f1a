CREATE TABLE IF NOT EXISTS marts.revenue_forecast (
    tenant_id VARCHAR NOT NULL,
    segment VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    expected_revenue DOUBLE NOT NULL,
    revenue_low DOUBLE NOT NULL,
    revenue_high DOUBLE NOT NULL,
    from_customers DOUBLE,
    from_leads DOUBLE,
    as_of DATE NOT NULL,
    PRIMARY KEY (tenant_id, segment, period_start)
);
COMMENT ON TABLE marts.revenue_forecast IS 'Expected revenue per tenant, segment and month for the 12 months after the as-of date, with an 80% interval (segment all = the whole tenant).';
COMMENT ON COLUMN marts.revenue_forecast.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.revenue_forecast.segment IS 'Segment name, or all.';
COMMENT ON COLUMN marts.revenue_forecast.period_start IS 'First day of the month (the first period starts the day after the as-of date).';
COMMENT ON COLUMN marts.revenue_forecast.expected_revenue IS 'Expected revenue in the base currency.';
COMMENT ON COLUMN marts.revenue_forecast.revenue_low IS 'Lower bound of the 80% interval: chance and the uncertainty of the fitted parameters (see docs/warehouse.md).';
COMMENT ON COLUMN marts.revenue_forecast.revenue_high IS 'Upper bound of the 80% interval: chance and the uncertainty of the fitted parameters.';
COMMENT ON COLUMN marts.revenue_forecast.from_customers IS 'Part expected from existing customers (BG/NBD x Gamma-Gamma).';
COMMENT ON COLUMN marts.revenue_forecast.from_leads IS 'Part expected from leads'' first purchases (historical conversion rate).';
COMMENT ON COLUMN marts.revenue_forecast.as_of IS 'As-of date of the forecast.';
