-- The whole tenant's revenue by month: the forecast after the as-of date (80% interval), and
-- before it the back-test's forecasts (the latest origin for each month) beside the actuals.
SELECT 'forecast' AS series, period_start, expected_revenue, revenue_low, revenue_high,
       CAST(NULL AS DOUBLE) AS actual_revenue
FROM marts.revenue_forecast
WHERE tenant_id = $t AND segment = 'all'
UNION ALL
SELECT 'back-test' AS series, period_start, expected_revenue, revenue_low, revenue_high,
       actual_revenue
FROM marts.forecast_backtest
WHERE tenant_id = $t AND segment = 'all'
QUALIFY row_number() OVER (PARTITION BY period_start ORDER BY origin DESC) = 1
ORDER BY period_start, series
