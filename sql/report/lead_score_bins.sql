-- Contacts by lead score (0-100) in bins of ten points (100 counted with 90-99).
SELECT CAST(least(floor(lead_score / 10), 9) * 10 AS INTEGER) AS bin_start, count(*) AS contacts
FROM marts.lead_scores
WHERE tenant_id = $t
GROUP BY ALL
ORDER BY bin_start
