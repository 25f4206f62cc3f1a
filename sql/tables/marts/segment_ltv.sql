CREATE TABLE IF NOT EXISTS marts.segment_ltv (
    tenant_id VARCHAR NOT NULL,
    segment VARCHAR NOT NULL,
    customers BIGINT NOT NULL,
    expected_active_customers DOUBLE,
    mean_p_alive DOUBLE,
    historical_revenue DOUBLE NOT NULL,
    expected_purchases_90d DOUBLE NOT NULL,
    expected_purchases_365d DOUBLE NOT NULL,
    expected_clv_365d DOUBLE NOT NULL,
    mean_clv_365d DOUBLE,
    model VARCHAR,
    run_id VARCHAR,
    as_of DATE NOT NULL,
    PRIMARY KEY (tenant_id, segment)
);
COMMENT ON TABLE marts.segment_ltv IS 'Per tenant and segment (and all = every customer): the customers'' value from marts.customer_ltv summed, at the as-of date of the latest run (amounts in the tenant''s base currency).';
COMMENT ON COLUMN marts.segment_ltv.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.segment_ltv.segment IS 'Segment name (marts.contact_segments at the as-of date), or all; a segment with members but no customers has a row with 0 customers.';
COMMENT ON COLUMN marts.segment_ltv.customers IS 'Customers (contacts with a purchase) in the segment.';
COMMENT ON COLUMN marts.segment_ltv.expected_active_customers IS 'Sum of p_alive: how many of them are expected to be still active (under the historical_average fallback, from its recency-aware p_alive).';
COMMENT ON COLUMN marts.segment_ltv.mean_p_alive IS 'Mean probability that a customer of the segment is still active; NULL without customers.';
COMMENT ON COLUMN marts.segment_ltv.historical_revenue IS 'Net revenue to date of the segment''s customers (purchases minus refunds).';
COMMENT ON COLUMN marts.segment_ltv.expected_purchases_90d IS 'Expected purchase days of the segment''s customers in the next 90 days (sum).';
COMMENT ON COLUMN marts.segment_ltv.expected_purchases_365d IS 'Expected purchase days of the segment''s customers in the next 365 days (sum).';
COMMENT ON COLUMN marts.segment_ltv.expected_clv_365d IS 'Expected revenue from the segment''s customers in the next 365 days (sum of expected_clv_365d), undiscounted; leads'' first purchases are in marts.revenue_forecast.from_leads, not here.';
COMMENT ON COLUMN marts.segment_ltv.mean_clv_365d IS 'Expected 365-day revenue per customer of the segment; NULL without customers.';
COMMENT ON COLUMN marts.segment_ltv.model IS 'Model of marts.ltv_model the values come from: bgnbd+gamma_gamma, or historical_average (the fallback).';
COMMENT ON COLUMN marts.segment_ltv.run_id IS 'Run that computed the values (marts.ltv_model.run_id).';
COMMENT ON COLUMN marts.segment_ltv.as_of IS 'As-of date.';
