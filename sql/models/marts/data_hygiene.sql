-- marts.data_hygiene: data problems to review, all stamped with the as-of date.
-- Parameters: $tenant_id, $as_of (DATE), $stale_days. Reads mart_contacts.
--   * fields cleared on import (staging.field_issues), linked to the contact their source row
--     became through core.contact_sources (contact_id NULL when the row was never linked), and
--     confusable_email: an address kept but never matched on (it can pass for another), and
--     held_update: a source whose contact details were not taken (field record);
--   * bounced_email: contacts whose email_status is bounced (field email, the address as value);
--   * stale_record: contacts with no activity in the last $stale_days days (field record).
SELECT f.tenant_id,
       cs.contact_id,
       f.import_id,
       f.row_number,
       f.field,
       f.original_value,
       f.issue,
       CASE f.issue
           WHEN 'confusable_email' THEN 'the address can pass for another (look-alike characters '
                || 'or mixed scripts): kept, but never used to match contacts'
           WHEN 'held_update' THEN 'this source joined the contact but would have replaced '
                || 'several of its established contact details at once (email, phone, address): '
                || 'its details were not taken'
           ELSE 'value cleared on import'
       END AS detail,
       CAST($as_of AS DATE) AS as_of
FROM staging.field_issues AS f
LEFT JOIN core.contact_sources AS cs
    ON cs.tenant_id = f.tenant_id AND cs.import_id = f.import_id AND cs.row_number = f.row_number
WHERE f.tenant_id = $tenant_id

UNION ALL

SELECT tenant_id,
       contact_id,
       NULL,
       NULL,
       'email',
       email,
       'bounced_email',
       'an email to this address bounced',
       CAST($as_of AS DATE)
FROM core.contacts
WHERE tenant_id = $tenant_id AND email_status = 'bounced'

UNION ALL

SELECT $tenant_id,
       contact_id,
       NULL,
       NULL,
       'record',
       NULL,
       'stale_record',
       CASE
           WHEN last_activity_at IS NULL THEN 'no activity recorded'
           ELSE 'no activity for ' || days_since_last_activity || ' days (last on '
                || CAST(CAST(last_activity_at AS DATE) AS VARCHAR) || ')'
       END,
       CAST($as_of AS DATE)
FROM mart_contacts
WHERE days_since_last_activity IS NULL OR days_since_last_activity > $stale_days
