-- The as-of date of the tenant's latest finished successful run: the date its marts are of.
SELECT as_of FROM audit.runs
WHERE tenant_id = $t AND status = 'success'
ORDER BY finished_at DESC NULLS LAST, started_at DESC
LIMIT 1
