CREATE TABLE IF NOT EXISTS core.account_signals (
    tenant_id VARCHAR NOT NULL,
    signal_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    title VARCHAR NOT NULL,
    url VARCHAR,
    occurred_at TIMESTAMP NOT NULL,
    source VARCHAR NOT NULL,
    import_id VARCHAR NOT NULL,
    line_number BIGINT NOT NULL,
    imported_at TIMESTAMP NOT NULL
);
COMMENT ON TABLE core.account_signals IS 'Company signals (news, funding, hiring, intent...) from crm import signals, each linked to one account of the tenant like a company file''s row (by domain, then by name).';
COMMENT ON COLUMN core.account_signals.tenant_id IS 'Tenant.';
COMMENT ON COLUMN core.account_signals.signal_id IS 'The line''s signal_id, else a digest of the source, company, kind, title and time: the same signal delivered again is recognised.';
COMMENT ON COLUMN core.account_signals.account_id IS 'The account it is about.';
COMMENT ON COLUMN core.account_signals.kind IS 'news, funding, hiring, intent, leadership_change, acquisition, partnership, product_launch, layoffs, award or expansion.';
COMMENT ON COLUMN core.account_signals.title IS 'Headline or summary, as given.';
COMMENT ON COLUMN core.account_signals.url IS 'Link to the source article or record (http or https only).';
COMMENT ON COLUMN core.account_signals.occurred_at IS 'When it happened (UTC; a date alone is midnight UTC).';
COMMENT ON COLUMN core.account_signals.source IS 'The --source NAME of its import (e.g. archy, daily_intel, bombora).';
COMMENT ON COLUMN core.account_signals.import_id IS 'The import (raw.imports) that brought it.';
COMMENT ON COLUMN core.account_signals.line_number IS 'Its line in that file.';
COMMENT ON COLUMN core.account_signals.imported_at IS 'When it was imported (UTC).';
