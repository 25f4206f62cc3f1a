CREATE TABLE IF NOT EXISTS marts.account_value (
    tenant_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    as_of DATE NOT NULL,
    contacts INTEGER NOT NULL,
    customers INTEGER NOT NULL,
    historical_revenue DECIMAL(18, 2) NOT NULL,
    revenue_365d DECIMAL(18, 2) NOT NULL,
    expected_purchases_365d DOUBLE NOT NULL,
    expected_clv_365d DECIMAL(18, 2) NOT NULL,
    forecast_share DOUBLE NOT NULL,
    tier VARCHAR NOT NULL,
    tier_reason VARCHAR NOT NULL
);
COMMENT ON TABLE marts.account_value IS 'Per account: what its contacts have bought and are expected to buy (marts.customer_ltv rolled up), its share of the tenant''s expected value, and its tier (strategic, key, standard) by the tenant''s thresholds.';
COMMENT ON COLUMN marts.account_value.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.account_value.account_id IS 'Account (core.accounts).';
COMMENT ON COLUMN marts.account_value.as_of IS 'As-of date of the run.';
COMMENT ON COLUMN marts.account_value.contacts IS 'Contacts linked to the account.';
COMMENT ON COLUMN marts.account_value.customers IS 'Of them, contacts with a purchase (rows of marts.customer_ltv).';
COMMENT ON COLUMN marts.account_value.historical_revenue IS 'Revenue of its customers up to the as-of date, in the tenant''s base currency (marts.customer_ltv.historical_revenue summed).';
COMMENT ON COLUMN marts.account_value.revenue_365d IS 'Purchases less refunds of its contacts in the 365 days up to the as-of date, base currency.';
COMMENT ON COLUMN marts.account_value.expected_purchases_365d IS 'Purchases its customers are expected to make in the next 365 days (summed).';
COMMENT ON COLUMN marts.account_value.expected_clv_365d IS 'Expected value of its customers over the next 365 days (summed), base currency.';
COMMENT ON COLUMN marts.account_value.forecast_share IS 'Its expected_clv_365d as a share of the tenant''s (0-1; 0 when the tenant expects nothing).';
COMMENT ON COLUMN marts.account_value.tier IS 'strategic, key or standard: the highest whose value threshold (the larger of revenue_365d and expected_clv_365d) or size threshold (employees) the account reaches (tenant settings accounts.tiers). Also written to core.accounts.tier.';
COMMENT ON COLUMN marts.account_value.tier_reason IS 'Why, in words (e.g. "365-day value 120000 >= 100000", "5000+ employees >= 5000", "below the key thresholds").';
