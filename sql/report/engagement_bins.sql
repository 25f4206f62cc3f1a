-- Contacts by activities in the 90 days before the as-of date, in widening bins.
SELECT CASE WHEN activities_90d = 0 THEN 0 WHEN activities_90d = 1 THEN 1
            WHEN activities_90d <= 3 THEN 2 WHEN activities_90d <= 7 THEN 3
            WHEN activities_90d <= 15 THEN 4 ELSE 5 END AS bin,
       count(*) AS contacts
FROM marts.engagement
WHERE tenant_id = $t
GROUP BY ALL
ORDER BY bin
