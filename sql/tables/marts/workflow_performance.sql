CREATE TABLE IF NOT EXISTS marts.workflow_performance (
    tenant_id VARCHAR NOT NULL,
    workflow VARCHAR NOT NULL,
    month DATE NOT NULL,
    enrolled BIGINT NOT NULL,
    still_open BIGINT NOT NULL,
    exited_goal_met BIGINT NOT NULL,
    exited_disqualified BIGINT NOT NULL,
    exited_criteria_lost BIGINT NOT NULL,
    exited_suppressed BIGINT NOT NULL,
    exited_timed_out BIGINT NOT NULL,
    exited_manual BIGINT NOT NULL,
    median_days_enrolled DOUBLE,
    conversion_rate DOUBLE NOT NULL,
    median_step_days MAP(VARCHAR, DOUBLE),
    as_of DATE NOT NULL
);
COMMENT ON TABLE marts.workflow_performance IS 'How the workflows perform, per workflow and month of enrollment (a cohort): enrolled, still open, exits by reason, conversion rate and median days per step.';
COMMENT ON COLUMN marts.workflow_performance.tenant_id IS 'Tenant.';
COMMENT ON COLUMN marts.workflow_performance.workflow IS 'lead_nurture, customer_onboarding or retention.';
COMMENT ON COLUMN marts.workflow_performance.month IS 'First day of the month of enrollment.';
COMMENT ON COLUMN marts.workflow_performance.enrolled IS 'Enrollments of the month.';
COMMENT ON COLUMN marts.workflow_performance.still_open IS 'Of them, still open at the as-of date.';
COMMENT ON COLUMN marts.workflow_performance.exited_goal_met IS 'Of them, exited as goal_met (converted, onboarded, re-engaged).';
COMMENT ON COLUMN marts.workflow_performance.exited_disqualified IS 'Of them, exited as disqualified.';
COMMENT ON COLUMN marts.workflow_performance.exited_criteria_lost IS 'Of them, exited as criteria_lost.';
COMMENT ON COLUMN marts.workflow_performance.exited_suppressed IS 'Of them, exited as suppressed.';
COMMENT ON COLUMN marts.workflow_performance.exited_timed_out IS 'Of them, exited as timed_out.';
COMMENT ON COLUMN marts.workflow_performance.exited_manual IS 'Of them, exited as manual.';
COMMENT ON COLUMN marts.workflow_performance.median_days_enrolled IS 'Median days from enrollment to exit of those exited; NULL when none has.';
COMMENT ON COLUMN marts.workflow_performance.conversion_rate IS 'exited_goal_met / enrolled.';
COMMENT ON COLUMN marts.workflow_performance.median_step_days IS 'Per step, the median whole days from reached to completed of the completed steps.';
COMMENT ON COLUMN marts.workflow_performance.as_of IS 'As-of date of the run.';
