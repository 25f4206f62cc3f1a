CREATE TABLE IF NOT EXISTS gdpr.suppressions (
    tenant_id VARCHAR NOT NULL,
    subject_digest VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    erased_at TIMESTAMP NOT NULL,
    actor VARCHAR NOT NULL
);
COMMENT ON TABLE gdpr.suppressions IS 'Erased people: keyed digests of their normalized email and phone (never the values), so a later import of them is quarantined as erased_subject.';
COMMENT ON COLUMN gdpr.suppressions.tenant_id IS 'Tenant.';
COMMENT ON COLUMN gdpr.suppressions.subject_digest IS 'Keyed digest of the normalized email or phone.';
COMMENT ON COLUMN gdpr.suppressions.kind IS 'email or phone (a later import of it is suppressed), contact (an erased contact id or alias), or change (an audit row of another contact whose values the erasure redacted because they mentioned the person; crm audit verify requires it).';
COMMENT ON COLUMN gdpr.suppressions.contact_id IS 'The erased contact''s id (pseudonymous).';
COMMENT ON COLUMN gdpr.suppressions.erased_at IS 'When (UTC).';
COMMENT ON COLUMN gdpr.suppressions.actor IS 'Who erased.';
