CREATE TABLE IF NOT EXISTS marts.work_queue_history (
    tenant_id VARCHAR NOT NULL,
    workflow VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    account_id VARCHAR,
    enrolled_at DATE NOT NULL,
    triggered_at TIMESTAMP NOT NULL,
    enroll_reason VARCHAR NOT NULL,
    exited_at DATE,
    exit_reason VARCHAR
);
COMMENT ON TABLE marts.work_queue_history IS 'Every workflow enrollment ever, open or closed, by as-of date of the runs: history moves forward only (a run for an earlier date leaves it alone; a re-run of the same date first undoes that date).';
COMMENT ON COLUMN marts.work_queue_history.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.work_queue_history.workflow IS 'lead_nurture, customer_onboarding or retention.';
COMMENT ON COLUMN marts.work_queue_history.contact_id IS 'Enrolled contact.';
COMMENT ON COLUMN marts.work_queue_history.account_id IS 'The contact''s account when enrolled, if linked.';
COMMENT ON COLUMN marts.work_queue_history.enrolled_at IS 'As-of date of the run that enrolled the contact (it became eligible then: marts.workflow_eligibility).';
COMMENT ON COLUMN marts.work_queue_history.triggered_at IS 'What started the enrollment: the first purchase or subscription start (onboarding), else the enrollment date; step evidence counts from then.';
COMMENT ON COLUMN marts.work_queue_history.enroll_reason IS 'Why the contact was enrolled, in words.';
COMMENT ON COLUMN marts.work_queue_history.exited_at IS 'As-of date of the run that closed the enrollment; NULL while open.';
COMMENT ON COLUMN marts.work_queue_history.exit_reason IS 'goal_met (converted, onboarded, re-engaged), disqualified, criteria_lost, suppressed (erased, bounced, consent denied), timed_out or manual (contact deleted); NULL while open.';
