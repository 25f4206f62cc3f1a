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
    method VARCHAR,
    method_note VARCHAR,
    booked_revenue DOUBLE,
    revenue_low_50 DOUBLE,
    revenue_high_50 DOUBLE,
    model_revenue DOUBLE,
    from_new_customers DOUBLE,
    expected_new_customers DOUBLE,
    interval_basis VARCHAR,
    from_large_customers DOUBLE,
    from_subscriptions DOUBLE,
    expected_subscribers DOUBLE,
    subscription_churn DOUBLE,
    PRIMARY KEY (tenant_id, segment, period_start)
);
COMMENT ON TABLE marts.revenue_forecast IS 'Expected revenue per tenant, segment and month for the 12 months after the as-of date, with an 80% interval (segment all = the whole tenant: the method its own back-test proves best, see method and marts.forecast_accuracy_summary).';
COMMENT ON COLUMN marts.revenue_forecast.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.revenue_forecast.segment IS 'Segment name, or all.';
COMMENT ON COLUMN marts.revenue_forecast.period_start IS 'First day of the month (the first period starts the day after the as-of date).';
COMMENT ON COLUMN marts.revenue_forecast.expected_revenue IS 'Expected revenue in the base currency (segment all, first period: booked_revenue plus the forecast of the days that remain).';
COMMENT ON COLUMN marts.revenue_forecast.revenue_low IS 'Lower bound of the 80% interval. Segment all: calibrated on the tenant''s own back-test errors at that horizon (see interval_basis); segments: chance and the uncertainty of the fitted parameters (see docs/warehouse.md).';
COMMENT ON COLUMN marts.revenue_forecast.revenue_high IS 'Upper bound of the 80% interval (calibrated as revenue_low).';
COMMENT ON COLUMN marts.revenue_forecast.from_customers IS 'Part expected from existing customers (BG/NBD x Gamma-Gamma).';
COMMENT ON COLUMN marts.revenue_forecast.from_leads IS 'Part expected from leads'' first purchases (historical conversion rate).';
COMMENT ON COLUMN marts.revenue_forecast.as_of IS 'As-of date of the forecast.';
COMMENT ON COLUMN marts.revenue_forecast.method IS 'Where expected_revenue and the interval come from: customer_model (segments: BG/NBD, Gamma-Gamma and leads), combined (segment all, the default: the mean of the component model and the trailing 3-month mean), components (the component model alone, when it beat combined on the tenant''s recent back-test) or the naive forecast that beat combined by 20% (last_month, trailing_mean_3, seasonal_naive, drift).';
COMMENT ON COLUMN marts.revenue_forecast.method_note IS 'Segment all: why this method, in one sentence (a baseline used because it beat the model says so, with both WAPEs).';
COMMENT ON COLUMN marts.revenue_forecast.booked_revenue IS 'Segment all: net revenue already booked in the period''s month up to the as-of date (the partial current month; 0 for later periods).';
COMMENT ON COLUMN marts.revenue_forecast.revenue_low_50 IS 'Segment all: lower bound of the 50% interval (calibrated as the 80% one).';
COMMENT ON COLUMN marts.revenue_forecast.revenue_high_50 IS 'Segment all: upper bound of the 50% interval.';
COMMENT ON COLUMN marts.revenue_forecast.model_revenue IS 'Segment all: the component model''s forecast of the period (existing customers plus from_new_customers, from_large_customers and from_subscriptions), whether or not it is the method used; booked revenue excluded.';
COMMENT ON COLUMN marts.revenue_forecast.from_new_customers IS 'Segment all: part of model_revenue from customers not acquired yet (their first purchases and repeats; leads converting included), from the trend and season of the tenant''s first purchases.';
COMMENT ON COLUMN marts.revenue_forecast.expected_new_customers IS 'Segment all: new customers the component model expects in the period.';
COMMENT ON COLUMN marts.revenue_forecast.interval_basis IS 'Segment all: how the intervals were calibrated at this horizon: conformal (the tenant''s back-test errors at this horizon), pooled (all horizons'' errors, scaled) or volatility (young tenant: month-to-month volatility of its revenue).';
COMMENT ON COLUMN marts.revenue_forecast.from_large_customers IS 'Segment all: part of model_revenue from the tenant''s large customers (at most 10, each with 2% of its revenue or more, in a tenant of 200 customers or more): their mean month over the last 12, as they do not churn like the many; 0 when it has none.';
COMMENT ON COLUMN marts.revenue_forecast.from_subscriptions IS 'Segment all: part of model_revenue from subscriptions (purchases while subscribed): subscribers ahead x revenue per subscriber-month, the subscribers decaying by the churn learned from the tenant''s subscription_end activities; 0 without subscriptions.';
COMMENT ON COLUMN marts.revenue_forecast.expected_subscribers IS 'Segment all: subscriber-months expected in the period (subscribers at the month''s start plus half its new ones).';
COMMENT ON COLUMN marts.revenue_forecast.subscription_churn IS 'Segment all: monthly churn of subscriptions (ends over subscriber-months of the last 12 months) the forecast uses.';
