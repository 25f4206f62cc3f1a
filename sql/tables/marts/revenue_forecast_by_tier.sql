CREATE TABLE IF NOT EXISTS marts.revenue_forecast_by_tier (
    tenant_id VARCHAR NOT NULL,
    tier VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    expected_revenue DOUBLE NOT NULL,
    revenue_low DOUBLE NOT NULL,
    revenue_high DOUBLE NOT NULL,
    customers BIGINT NOT NULL,
    accounts BIGINT NOT NULL,
    as_of DATE NOT NULL,
    PRIMARY KEY (tenant_id, tier, period_start)
);
COMMENT ON TABLE marts.revenue_forecast_by_tier IS 'Expected revenue of existing customers per account tier and month for the 12 months after the as-of date (the customer model of marts.revenue_forecast, BG/NBD x Gamma-Gamma, grouped by the tier of each customer''s account in marts.account_value); the tiers and no_account add up to from_customers of segment all.';
COMMENT ON COLUMN marts.revenue_forecast_by_tier.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.revenue_forecast_by_tier.tier IS 'strategic, key or standard (the account''s tier on the as-of date), or no_account: customers not linked to an account.';
COMMENT ON COLUMN marts.revenue_forecast_by_tier.period_start IS 'First day of the month (the first period starts the day after the as-of date), as in marts.revenue_forecast.';
COMMENT ON COLUMN marts.revenue_forecast_by_tier.expected_revenue IS 'Expected revenue of the tier''s customers in the period, base currency (leads not included).';
COMMENT ON COLUMN marts.revenue_forecast_by_tier.revenue_low IS 'Lower bound of the 80% interval: chance only (each customer''s purchases and order values), not the fitted parameters'' uncertainty, so narrower than marts.revenue_forecast''s.';
COMMENT ON COLUMN marts.revenue_forecast_by_tier.revenue_high IS 'Upper bound of the 80% interval (as revenue_low).';
COMMENT ON COLUMN marts.revenue_forecast_by_tier.customers IS 'Customers (rows of marts.customer_ltv) in the tier.';
COMMENT ON COLUMN marts.revenue_forecast_by_tier.accounts IS 'Accounts of the tier with at least one customer (0 for no_account).';
COMMENT ON COLUMN marts.revenue_forecast_by_tier.as_of IS 'As-of date of the forecast.';
