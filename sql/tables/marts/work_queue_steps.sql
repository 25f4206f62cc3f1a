CREATE TABLE IF NOT EXISTS marts.work_queue_steps (
    tenant_id VARCHAR NOT NULL,
    workflow VARCHAR NOT NULL,
    contact_id VARCHAR NOT NULL,
    enrolled_at DATE NOT NULL,
    step_no INTEGER NOT NULL,
    step VARCHAR NOT NULL,
    step_owner VARCHAR NOT NULL,
    reached_on DATE NOT NULL,
    due_on DATE,
    completed_at TIMESTAMP,
    completed_by_activity VARCHAR
);
COMMENT ON TABLE marts.work_queue_steps IS 'Each reached step of each enrollment (marts.work_queue_history): when it was reached, due and completed, and by which activity.';
COMMENT ON COLUMN marts.work_queue_steps.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.work_queue_steps.workflow IS 'lead_nurture, customer_onboarding or retention.';
COMMENT ON COLUMN marts.work_queue_steps.contact_id IS 'Enrolled contact.';
COMMENT ON COLUMN marts.work_queue_steps.enrolled_at IS 'Enrollment date (with workflow and contact_id, the enrollment in marts.work_queue_history).';
COMMENT ON COLUMN marts.work_queue_steps.step_no IS 'Position of the step in the workflow (1 first).';
COMMENT ON COLUMN marts.work_queue_steps.step IS 'Step name (data/reference/workflows.yaml).';
COMMENT ON COLUMN marts.work_queue_steps.step_owner IS 'Agent (or role) who owns the step.';
COMMENT ON COLUMN marts.work_queue_steps.reached_on IS 'Date the step became due to work on: for the first step the enrollment''s trigger date (e.g. the first purchase) or the enrollment date, whichever is earlier; otherwise the previous step''s completion date (its own completion date when done before the previous one).';
COMMENT ON COLUMN marts.work_queue_steps.due_on IS 'reached_on plus the step''s due_days.';
COMMENT ON COLUMN marts.work_queue_steps.completed_at IS 'When the activity that completed it occurred; NULL while open.';
COMMENT ON COLUMN marts.work_queue_steps.completed_by_activity IS 'activity_id (core.activities) of the evidence that completed the step.';
