CREATE TABLE IF NOT EXISTS core.contact_notes (
    tenant_id VARCHAR NOT NULL,
    note_id VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    author VARCHAR NOT NULL,
    author_kind VARCHAR NOT NULL,
    noted_at TIMESTAMP NOT NULL,
    body VARCHAR NOT NULL,
    run_id VARCHAR
);
COMMENT ON TABLE core.contact_notes IS 'Notes on a contact, appended by people and agents (crm import changes, op note): what was discussed, by whom and when. Written only through the audited write path.';
COMMENT ON COLUMN core.contact_notes.tenant_id IS 'Tenant.';
COMMENT ON COLUMN core.contact_notes.note_id IS 'Note id (n_ and a hash of tenant, contact, author, time and text).';
COMMENT ON COLUMN core.contact_notes.contact_id IS 'Contact the note is about.';
COMMENT ON COLUMN core.contact_notes.author IS 'Who wrote it (a person or an agent).';
COMMENT ON COLUMN core.contact_notes.author_kind IS 'user or agent, from the roles registry (never from the input).';
COMMENT ON COLUMN core.contact_notes.noted_at IS 'When the conversation happened (the line''s at, else the time it was recorded), UTC.';
COMMENT ON COLUMN core.contact_notes.body IS 'The note''s text (personal data).';
COMMENT ON COLUMN core.contact_notes.run_id IS 'Command or import that recorded it.';
