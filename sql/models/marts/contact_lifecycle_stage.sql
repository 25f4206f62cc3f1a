-- Step 3 of the helper mart_contacts: the contacts of step 2 (contact_lead_score) with their
-- derived lifecycle stage and the rule that gave it, in words (`reason`).
-- Parameters: $customer_purchase_days, $advocate_min_engagements, $lead_min_score.
--
-- Rules, first match wins (activity up to the end of the as-of day; "last N days" is d <= N):
--   customer   an active subscription (the latest subscription_start is not followed by a
--              subscription_end) or a purchase in the last $customer_purchase_days (365) days;
--   advocate   a customer with at least $advocate_min_engagements (3) engagement signals
--              (form_submission, download, webinar, inbound email or call) in the last 90 days;
--              advocate is checked before customer;
--   churned    not a customer, but has had a purchase or a subscription_start;
--   lead       none of the above, and any engagement signal ever, or lead_score >= $lead_min_score (50);
--   prospect   everyone else.
WITH customer_reason AS (
    SELECT *,
           subscription_active OR recent_purchase AS is_customer,
           CASE
               WHEN subscription_active AND recent_purchase
                   THEN 'active subscription and a purchase in the last '
                        || $customer_purchase_days || ' days'
               WHEN subscription_active THEN 'active subscription'
               ELSE 'purchase in the last ' || $customer_purchase_days || ' days'
           END AS why_customer
    FROM (
        SELECT *,
               coalesce(days_since_last_purchase <= $customer_purchase_days, false)
                   AS recent_purchase,
               last_purchase_at IS NOT NULL OR ever_subscribed AS ever_customer
        FROM contact_lead_score
    )
)
-- The profile fields and the facts only the scores and rules read are left out of mart_contacts
-- (depth_90d stays: crm_pipeline/scoring puts the rule's depth points into words with it).
SELECT * EXCLUDE (company_size, job_title, industry, signals_ever, signals_90d,
                  last_purchase_at, days_since_last_purchase, subscription_active, ever_subscribed,
                  recent_purchase, ever_customer, is_customer, why_customer),
       CASE
           WHEN is_customer AND signals_90d >= $advocate_min_engagements THEN 'advocate'
           WHEN is_customer THEN 'customer'
           WHEN ever_customer THEN 'churned'
           WHEN signals_ever > 0 OR coalesce(lead_score, 0) >= $lead_min_score THEN 'lead'
           ELSE 'prospect'
       END AS stage,
       CASE
           WHEN is_customer AND signals_90d >= $advocate_min_engagements
               THEN 'customer (' || why_customer || ') with ' || signals_90d
                    || ' engagement signals in the last 90 days (at least '
                    || $advocate_min_engagements || ')'
           WHEN is_customer THEN 'customer: ' || why_customer
           WHEN ever_customer
               THEN 'former customer: no purchase in the last ' || $customer_purchase_days
                    || ' days and no active subscription'
           WHEN signals_ever > 0
               THEN 'engagement signals so far: ' || signals_ever
                    || ' (forms, downloads, webinars, inbound emails and calls)'
           WHEN coalesce(lead_score, 0) >= $lead_min_score
               THEN 'lead score ' || lead_score || ' (at least ' || $lead_min_score || ')'
           ELSE 'no purchase, subscription or engagement signal, lead score below '
                || $lead_min_score
       END AS reason
FROM customer_reason
