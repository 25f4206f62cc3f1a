CREATE TABLE IF NOT EXISTS core.manual_fields (
    tenant_id VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    field VARCHAR NOT NULL,
    actor VARCHAR NOT NULL,
    actor_kind VARCHAR NOT NULL,
    set_at TIMESTAMP NOT NULL,
    run_id VARCHAR
);
COMMENT ON TABLE core.manual_fields IS 'Contact fields set by hand (crm contact create/set/tag, crm import changes): a run keeps these values whatever later imports say. One row per contact and field, the latest setter.';
COMMENT ON COLUMN core.manual_fields.tenant_id IS 'Tenant.';
COMMENT ON COLUMN core.manual_fields.contact_id IS 'Contact whose field was set.';
COMMENT ON COLUMN core.manual_fields.field IS 'Field of core.contacts set by hand.';
COMMENT ON COLUMN core.manual_fields.actor IS 'Who set it last.';
COMMENT ON COLUMN core.manual_fields.actor_kind IS 'user or agent, from the roles registry.';
COMMENT ON COLUMN core.manual_fields.set_at IS 'When it was set (UTC).';
COMMENT ON COLUMN core.manual_fields.run_id IS 'Command or import that set it.';
