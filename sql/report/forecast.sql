-- The whole tenant's revenue by month: the forecast after the as-of date (80% interval), and
-- before it the back-test: the forecast as it was published one month ahead at each earlier
-- month's end (marts.forecast_accuracy, method forecast, horizon 1: the method selected then, its
-- interval calibrated on the errors known then) beside the revenue that happened.
SELECT 'forecast' AS series, period_start, expected_revenue, revenue_low, revenue_high,
       CAST(NULL AS DOUBLE) AS actual_revenue
FROM marts.revenue_forecast
WHERE tenant_id = $t AND segment = 'all'
UNION ALL
SELECT 'back-test' AS series, period_start, expected_revenue, revenue_low, revenue_high,
       actual_revenue
FROM marts.forecast_accuracy
WHERE tenant_id = $t AND method = 'forecast' AND horizon = 1
ORDER BY period_start, series
