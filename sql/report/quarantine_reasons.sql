-- Quarantined rows by file and reason code.
SELECT i.file_name, q.kind, q.reason_code, count(*) AS rows
FROM quarantine.rows q JOIN raw.imports i USING (tenant_id, import_id)
WHERE q.tenant_id = $t
GROUP BY ALL
ORDER BY rows DESC, q.reason_code, i.file_name
