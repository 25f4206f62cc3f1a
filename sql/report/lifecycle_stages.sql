-- Contacts in each lifecycle stage on the as-of date, from marts.lifecycle_history.
SELECT stage, count(*) AS contacts
FROM marts.lifecycle_history
WHERE tenant_id = $t AND entered_on <= $d AND (left_on IS NULL OR left_on > $d)
GROUP BY ALL
ORDER BY contacts DESC, stage
