CREATE TABLE IF NOT EXISTS core.contact_accounts (
    tenant_id VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    linked_by VARCHAR NOT NULL,
    confidence DOUBLE NOT NULL,
    since TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, contact_id)
);
COMMENT ON TABLE core.contact_accounts IS 'The account (company) of each linked contact: at most one per contact. Contacts with a free-mail address and an ambiguous or missing company name stay unlinked rather than guessed.';
COMMENT ON COLUMN core.contact_accounts.tenant_id IS 'Tenant.';
COMMENT ON COLUMN core.contact_accounts.contact_id IS 'Golden contact.';
COMMENT ON COLUMN core.contact_accounts.account_id IS 'Its account.';
COMMENT ON COLUMN core.contact_accounts.linked_by IS 'email_domain (the e-mail''s registrable domain), website, company_name (the company name identifies one account of the tenant), manual (by a person or agent: never undone by a run) or import.';
COMMENT ON COLUMN core.contact_accounts.confidence IS 'How sure the link is, 0-1: manual 1.0, email_domain 0.95, company_name 0.8.';
COMMENT ON COLUMN core.contact_accounts.since IS 'When the contact was linked to this account (UTC).';
