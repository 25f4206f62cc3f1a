-- Each imported file's accounting: rows read, accepted, merged and quarantined (pending files
-- show what was read so far).
SELECT file_name, kind, imported_at, rows_in AS read,
       coalesce(rows_accepted, 0) AS accepted, coalesce(rows_merged, 0) AS merged,
       coalesce(rows_quarantined, 0) AS quarantined,
       processed_run_id IS NOT NULL AS processed
FROM raw.imports
WHERE tenant_id = $t AND kind IN ('contact', 'activity')
ORDER BY imported_at, file_name
