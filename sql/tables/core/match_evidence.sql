CREATE TABLE IF NOT EXISTS core.match_evidence (
    tenant_id VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    left_key VARCHAR NOT NULL,
    right_key VARCHAR NOT NULL,
    match_rule VARCHAR NOT NULL,
    match_score DOUBLE NOT NULL,
    similarities JSON,
    run_id VARCHAR,
    "at" TIMESTAMP NOT NULL
);
COMMENT ON TABLE core.match_evidence IS 'For every accepted link between two source rows: the rule, the score and the per-field similarities that justified it.';
COMMENT ON COLUMN core.match_evidence.tenant_id IS 'Tenant.';
COMMENT ON COLUMN core.match_evidence.contact_id IS 'Golden contact the pair belongs to.';
COMMENT ON COLUMN core.match_evidence.left_key IS 'Source key of the row already in the contact (import_id:row_number).';
COMMENT ON COLUMN core.match_evidence.right_key IS 'Source key of the row that joined.';
COMMENT ON COLUMN core.match_evidence.match_rule IS 'Rule that linked them.';
COMMENT ON COLUMN core.match_evidence.match_score IS 'Score in [0,1].';
COMMENT ON COLUMN core.match_evidence.similarities IS 'Per-field similarities (JSON object): names, email parts, phone, company, job title, city, street name, house number (1 same, 0 other), postcode (1 same, 0 other; postcode_near when one character off), state, and birthdate as a word (same, day_month_swapped, one_digit_off, same_year, different); null where a side has no value.';
COMMENT ON COLUMN core.match_evidence.run_id IS 'Run that linked them.';
COMMENT ON COLUMN core.match_evidence."at" IS 'When (UTC).';
