CREATE TABLE IF NOT EXISTS marts.workflow_eligibility (
    tenant_id VARCHAR NOT NULL,
    workflow VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    entered_on DATE NOT NULL,
    left_on DATE
);
COMMENT ON TABLE marts.workflow_eligibility IS 'Spells in which a contact was eligible for a workflow (entry criteria met, goal not met, not suppressed), by as-of date of the runs: an enrollment opens only when a spell opens.';
COMMENT ON COLUMN marts.workflow_eligibility.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.workflow_eligibility.workflow IS 'lead_nurture, customer_onboarding or retention.';
COMMENT ON COLUMN marts.workflow_eligibility.contact_id IS 'Contact.';
COMMENT ON COLUMN marts.workflow_eligibility.entered_on IS 'As-of date of the first run that found the contact eligible.';
COMMENT ON COLUMN marts.workflow_eligibility.left_on IS 'As-of date of the first run that no longer did; NULL while eligible.';
