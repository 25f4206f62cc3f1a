-- Data problems to review, by issue and field (marts.data_hygiene of the latest run).
SELECT issue, field, count(*) AS records
FROM marts.data_hygiene
WHERE tenant_id = $t
GROUP BY ALL
ORDER BY records DESC, issue, field
