CREATE TABLE IF NOT EXISTS marts.lifecycle (
    tenant_id VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    as_of DATE NOT NULL,
    stage VARCHAR NOT NULL,
    stage_since DATE,
    reason VARCHAR NOT NULL
);
COMMENT ON TABLE marts.lifecycle IS 'Derived lifecycle stage per contact at the as-of date: prospect, lead, customer, advocate or churned (rules in docs/warehouse.md).';
COMMENT ON COLUMN marts.lifecycle.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.lifecycle.contact_id IS 'Contact.';
COMMENT ON COLUMN marts.lifecycle.as_of IS 'As-of date of the run.';
COMMENT ON COLUMN marts.lifecycle.stage IS 'prospect, lead, customer, advocate or churned.';
COMMENT ON COLUMN marts.lifecycle.stage_since IS 'As-of date the contact entered its current stage (start of its current spell in marts.lifecycle_history).';
COMMENT ON COLUMN marts.lifecycle.reason IS 'The rule that gave the stage, in words.';
