-- marts.contact_signals: each contact linked to an account, with every signal of the account
-- that occurred in the $signal_days days up to the end of the as-of day (signals dated after it
-- are not yet known on that day). Parameters: $tenant_id, $as_of (DATE), $signal_days.
SELECT $tenant_id AS tenant_id,
       l.contact_id,
       s.account_id,
       s.signal_id,
       s.kind,
       s.title,
       s.url,
       s.occurred_at,
       CAST(date_diff('day', CAST(s.occurred_at AS DATE), CAST($as_of AS DATE)) AS INTEGER)
           AS age_days,
       a.tier AS account_tier,
       CAST($as_of AS DATE) AS as_of
FROM core.account_signals AS s
JOIN core.contact_accounts AS l ON l.tenant_id = $tenant_id AND l.account_id = s.account_id
JOIN core.accounts AS a ON a.tenant_id = $tenant_id AND a.account_id = s.account_id
WHERE s.tenant_id = $tenant_id
  AND s.occurred_at < CAST($as_of AS DATE) + INTERVAL 1 DAY
  AND CAST(s.occurred_at AS DATE) >= CAST($as_of AS DATE) - CAST($signal_days AS INTEGER)
