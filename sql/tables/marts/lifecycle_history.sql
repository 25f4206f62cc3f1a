CREATE TABLE IF NOT EXISTS marts.lifecycle_history (
    tenant_id VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    stage VARCHAR NOT NULL,
    entered_on DATE NOT NULL,
    left_on DATE
);
COMMENT ON TABLE marts.lifecycle_history IS 'Every lifecycle stage a contact has had, with the as-of dates it entered and left it.';
COMMENT ON COLUMN marts.lifecycle_history.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.lifecycle_history.contact_id IS 'Contact.';
COMMENT ON COLUMN marts.lifecycle_history.stage IS 'Stage.';
COMMENT ON COLUMN marts.lifecycle_history.entered_on IS 'As-of date of the first run that saw the contact in this stage.';
COMMENT ON COLUMN marts.lifecycle_history.left_on IS 'As-of date of the first run that no longer did; NULL while current.';
