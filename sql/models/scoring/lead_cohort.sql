-- The open leads at each cut-off of $cutoffs and whether each became a customer within
-- $horizon_days days after it: what the lead model learns from (crm_pipeline/scoring/model.py).
-- Parameters: $cutoffs (DATE[]), $horizon_days, $rate (the share of contacts kept, by a hash of
-- the contact id: 1 but for large tenants). Reads score_contact_facts (contact_facts.sql).
-- A cut-off is a day; "at the cut-off" means up to the end of that day (UTC), as for a run's
-- as-of date.
--   open lead  known by the end of the cut-off day and never a customer by then (no purchase or
--              subscription_start): lifecycle stage lead or prospect
--   converted  the first purchase or subscription_start falls within the $horizon_days days
--              after the cut-off day
WITH cutoffs AS (
    SELECT unnest(CAST($cutoffs AS DATE[])) AS cutoff
)
SELECT k.cutoff,
       f.contact_id,
       coalesce(f.first_conversion_at < k.cutoff + to_days(CAST($horizon_days AS INTEGER) + 1),
                false) AS converted
FROM cutoffs AS k
JOIN (
    SELECT * FROM score_contact_facts
    WHERE $rate >= 1 OR (hash(contact_id) % 1000003) / 1000003.0 < $rate
) AS f
  ON f.known_since < k.cutoff + INTERVAL 1 DAY
 AND (f.first_conversion_at IS NULL OR f.first_conversion_at >= k.cutoff + INTERVAL 1 DAY)
