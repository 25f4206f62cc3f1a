-- Helper (temp table mart_segment_audience): the tenant's contacts a segment may list, and whether
-- outreach may use them, worked out once per run rather than once per segment.
-- Parameters: $tenant_id, $as_of (DATE).
-- outreach_allowed: consent not denied now (core.contacts.consent_status) and not denied at the
-- as-of date (the last change recorded in core.consent_history up to the end of that day): a
-- back-dated run shows the segment as it was, and never offers someone who has since said no.
SELECT c.contact_id,
       coalesce(lower(c.consent_status), '') <> 'denied'
       AND coalesce(lower(h.consent_status), '') <> 'denied' AS outreach_allowed
FROM core.contacts AS c
LEFT JOIN (
    SELECT contact_id, arg_max(consent_status, changed_at) AS consent_status
    FROM core.consent_history
    WHERE tenant_id = $tenant_id AND changed_at < CAST($as_of AS DATE) + INTERVAL 1 DAY
    GROUP BY contact_id
) AS h USING (contact_id)
WHERE c.tenant_id = $tenant_id
