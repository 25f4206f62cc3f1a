CREATE TABLE IF NOT EXISTS marts.customer_ltv (
    tenant_id VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    frequency INTEGER NOT NULL,
    recency_days DOUBLE NOT NULL,
    tenure_days DOUBLE NOT NULL,
    avg_order_value DOUBLE,
    historical_revenue DOUBLE NOT NULL,
    p_alive DOUBLE,
    expected_purchases_90d DOUBLE,
    expected_purchases_365d DOUBLE,
    expected_clv_365d DOUBLE,
    as_of DATE NOT NULL
    -- No PRIMARY KEY: (tenant_id, contact_id) is unique by construction (one row per customer of
    -- the summary's GROUP BY), and an index made refreshing a million rows slow.
);
COMMENT ON TABLE marts.customer_ltv IS 'Per customer: purchase summary and predicted value from the tenant''s model in marts.ltv_model (amounts in the tenant''s base currency).';
COMMENT ON COLUMN marts.customer_ltv.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.customer_ltv.contact_id IS 'Customer.';
COMMENT ON COLUMN marts.customer_ltv.frequency IS 'Repeat purchases: days with a purchase, minus one (all purchases of one day count as one).';
COMMENT ON COLUMN marts.customer_ltv.recency_days IS 'Age of the customer at their last purchase: days from first to last purchase.';
COMMENT ON COLUMN marts.customer_ltv.tenure_days IS 'Age of the customer at the as-of date: days from first purchase to the as-of date.';
COMMENT ON COLUMN marts.customer_ltv.avg_order_value IS 'Average net value of the repeat purchase days (refunds deducted); NULL without a repeat purchase.';
COMMENT ON COLUMN marts.customer_ltv.historical_revenue IS 'Net revenue to date (purchases minus refunds).';
COMMENT ON COLUMN marts.customer_ltv.p_alive IS 'Probability the customer is still active (BG/NBD; under the historical_average fallback, its recency-aware estimate).';
COMMENT ON COLUMN marts.customer_ltv.expected_purchases_90d IS 'Expected purchase days in the next 90 days.';
COMMENT ON COLUMN marts.customer_ltv.expected_purchases_365d IS 'Expected purchase days in the next 365 days.';
COMMENT ON COLUMN marts.customer_ltv.expected_clv_365d IS 'Expected revenue in the next 365 days: expected purchases x expected order value (Gamma-Gamma), undiscounted.';
COMMENT ON COLUMN marts.customer_ltv.as_of IS 'As-of date.';
