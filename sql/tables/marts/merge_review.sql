CREATE TABLE IF NOT EXISTS marts.merge_review (
    tenant_id VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    import_id VARCHAR NOT NULL,
    row_number BIGINT NOT NULL,
    source_key VARCHAR NOT NULL,
    match_rule VARCHAR,
    score DOUBLE,
    reasons VARCHAR[] NOT NULL,
    fields VARCHAR[],
    flagged_at TIMESTAMP NOT NULL,
    run_id VARCHAR,
    status VARCHAR NOT NULL,
    decided_by VARCHAR,
    decided_by_kind VARCHAR,
    decided_at TIMESTAMP
);
COMMENT ON TABLE marts.merge_review IS 'Source rows that joined a contact on weak evidence and would have replaced its established values (the shape of an account takeover): held (they give no contact detail and only fill empty fields) until a person or agent accepts them (crm merge accept) or splits them off (crm unmerge). One row per source row, never flagged again once decided.';
COMMENT ON COLUMN marts.merge_review.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.merge_review.contact_id IS 'The contact the row joined (the one it was split from, once split).';
COMMENT ON COLUMN marts.merge_review.import_id IS 'Import of the held source row.';
COMMENT ON COLUMN marts.merge_review.row_number IS 'Row of the source file.';
COMMENT ON COLUMN marts.merge_review.source_key IS 'The row as crm unmerge and crm merge accept name it (import_id:row_number).';
COMMENT ON COLUMN marts.merge_review.match_rule IS 'The rule that linked the row (core.contact_sources.match_rule).';
COMMENT ON COLUMN marts.merge_review.score IS 'Its match score (probability, 1.0 for an exact rule).';
COMMENT ON COLUMN marts.merge_review.reasons IS 'Why it is held: borderline_score (a probabilistic link under survivorship.review_below_score that would change an established detail), replaces_several_details (it would replace two or more of email, phone, street, city, postcode at once).';
COMMENT ON COLUMN marts.merge_review.fields IS 'The established details it disagrees with.';
COMMENT ON COLUMN marts.merge_review.flagged_at IS 'When the run flagged it (the run''s time, UTC).';
COMMENT ON COLUMN marts.merge_review.run_id IS 'The run that flagged it.';
COMMENT ON COLUMN marts.merge_review.status IS 'open (held), accepted (its values take part in survivorship) or split (crm unmerge made it a contact of its own).';
COMMENT ON COLUMN marts.merge_review.decided_by IS 'Who accepted or split it.';
COMMENT ON COLUMN marts.merge_review.decided_by_kind IS 'user or agent, from the roles registry.';
COMMENT ON COLUMN marts.merge_review.decided_at IS 'When it was decided (UTC).';
