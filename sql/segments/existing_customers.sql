-- outreach: false
-- Existing customers: an active subscription or a purchase in the last $customer_purchase_days
-- (365) days, i.e. lifecycle stage customer or advocate (rules in sql/models/marts/contact_lifecycle_stage.sql).
SELECT contact_id
FROM marts.lifecycle
WHERE tenant_id = $tenant_id
  AND stage IN ('customer', 'advocate')
