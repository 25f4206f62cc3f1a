CREATE TABLE IF NOT EXISTS marts.work_queue (
    tenant_id VARCHAR NOT NULL,
    workflow VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    account_id VARCHAR,
    enrolled_at DATE NOT NULL,
    enroll_reason VARCHAR NOT NULL,
    step VARCHAR NOT NULL,
    step_owner VARCHAR NOT NULL,
    step_due_at DATE,
    overdue BOOLEAN NOT NULL,
    priority INTEGER NOT NULL,
    next_action VARCHAR NOT NULL,
    as_of DATE NOT NULL
);
COMMENT ON TABLE marts.work_queue IS 'One row per open workflow enrollment (lead_nurture, customer_onboarding, retention) at its current step: who owns it, what to do and by when (rules in docs/warehouse.md, "Workflows").';
COMMENT ON COLUMN marts.work_queue.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.work_queue.workflow IS 'lead_nurture, customer_onboarding or retention.';
COMMENT ON COLUMN marts.work_queue.contact_id IS 'Enrolled contact.';
COMMENT ON COLUMN marts.work_queue.account_id IS 'The contact''s account (core.contact_accounts), if linked.';
COMMENT ON COLUMN marts.work_queue.enrolled_at IS 'As-of date of the run that enrolled the contact.';
COMMENT ON COLUMN marts.work_queue.enroll_reason IS 'Why the contact was enrolled, in words.';
COMMENT ON COLUMN marts.work_queue.step IS 'Current step: the first one not completed, or the workflow''s final (waiting) step once all are.';
COMMENT ON COLUMN marts.work_queue.step_owner IS 'Agent (or role) who owns the step (data/reference/workflows.yaml, overridable per tenant).';
COMMENT ON COLUMN marts.work_queue.step_due_at IS 'Date the step is due: due_days after the previous step was completed (the first step: after the enrollment''s trigger, e.g. the first purchase, or the enrollment date); NULL for the final step.';
COMMENT ON COLUMN marts.work_queue.overdue IS 'True when the as-of date is past step_due_at.';
COMMENT ON COLUMN marts.work_queue.priority IS '1 (first) to 3: 1 overdue, or a high-scoring lead or high learned churn risk; 2 other open steps; 3 waiting in the final step.';
COMMENT ON COLUMN marts.work_queue.next_action IS 'What the owner has to do, in words (e.g. send a personalised outreach email).';
COMMENT ON COLUMN marts.work_queue.as_of IS 'As-of date of the run.';
