"""Workflows as work queues: one scenario per workflow on fixed as-of dates (every enrollment,
step, deadline, overdue and exit), re-enrollment only on a transition, suppression, goal exits,
idempotent re-runs and runs for earlier dates."""

from __future__ import annotations

import datetime
import itertools

import pytest

from crm_pipeline.errors import BadArgument
from crm_pipeline.pipeline import marts_stage
from crm_pipeline.warehouse import run
from crm_pipeline.workflows.definitions import workflow_definitions
from crm_pipeline.workflows.refresh import refresh_work_queues

D = datetime.date
T0 = datetime.datetime(2024, 1, 1)
AGENTS = {"mercer": "acquisition", "cheryl": "support", "claire": "scheduling",
          "binky": "cro", "fran": "retention", "email_worker": "email",
          "social_publisher": "social_publisher"}
_ids = itertools.count()


def contact(con, cid: str, tenant: str = "t1", **fields) -> None:
    row = {"consent_status": "unknown", "email_status": "valid", **fields}
    cols = ", ".join(row)
    run(con, "INSERT INTO core.contacts (tenant_id, contact_id, first_seen_at, updated_at, "
             f"{cols}) VALUES ($t, $c, $at, $at, {', '.join('$' + k for k in row)})",
        {"t": tenant, "c": cid, "at": T0, **row})


def activity(con, cid: str, type_: str, day: D, actor: str = "someone", direction=None,
             subject=None, status=None, tenant: str = "t1", hour: int = 9,
             activity_id: str | None = None) -> str:
    aid = activity_id or f"a{next(_ids)}"
    run(con, "INSERT INTO core.activities (tenant_id, activity_id, contact_id, type, occurred_at, "
             "actor, direction, subject, status, amount, amount_base, content_hash, import_id, "
             "line_number) VALUES ($t, $a, $c, $type, $at, $actor, $dir, $subj, $status, "
             "$amount, $amount, 'h', 'i', 1)",
        {"t": tenant, "a": aid, "c": cid, "type": type_,
         "at": datetime.datetime.combine(day, datetime.time(hour)), "actor": actor,
         "dir": direction, "subj": subject, "status": status,
         "amount": 100.0 if type_ == "purchase" else None})
    return aid


def refresh(con, day: D, tenant: str = "t1") -> dict:
    marts_stage(con, tenant, day)
    return refresh_work_queues(con, tenant, day, AGENTS)


def queue(con, workflow: str, tenant: str = "t1") -> dict[str, tuple]:
    rows = run(con, "SELECT contact_id, step, step_owner, step_due_at, overdue FROM "
                    "marts.work_queue WHERE tenant_id = $t AND workflow = $w",
               {"t": tenant, "w": workflow})
    return {r[0]: r[1:] for r in rows}


def history(con, workflow: str, tenant: str = "t1") -> set[tuple]:
    return set(run(con, "SELECT contact_id, enrolled_at, exited_at, exit_reason FROM "
                        "marts.work_queue_history WHERE tenant_id = $t AND workflow = $w",
                   {"t": tenant, "w": workflow}))


def steps(con, workflow: str, cid: str) -> list[tuple]:
    return run(con, "SELECT step, reached_on, due_on, completed_at IS NOT NULL, "
                    "completed_by_activity FROM marts.work_queue_steps WHERE workflow = $w "
                    "AND contact_id = $c ORDER BY enrolled_at, step_no", {"w": workflow, "c": cid})


def everything(con) -> dict:
    return {t: run(con, f"SELECT * FROM marts.{t} ORDER BY ALL") for t in (
        "work_queue", "work_queue_history", "work_queue_steps", "workflow_eligibility",
        "workflow_performance")}


# --- customer onboarding ---------------------------------------------------------------

def test_onboarding_scenario_steps_deadlines_overdue_and_goal(con):
    """A purchase on Nov 2 enrolls; each logged milestone moves the step; a late step is
    overdue the day after its due date; the last milestone exits as goal_met."""
    contact(con, "buyer")
    activity(con, "buyer", "purchase", D(2026, 11, 2), actor="shop")
    refresh(con, D(2026, 11, 2))
    assert history(con, "customer_onboarding") == {("buyer", D(2026, 11, 2), None, None)}
    # welcome email due one day after the purchase
    assert queue(con, "customer_onboarding")["buyer"] == (
        "welcome_email", "cheryl", D(2026, 11, 3), False)
    refresh(con, D(2026, 11, 4))
    assert queue(con, "customer_onboarding")["buyer"] == (
        "welcome_email", "cheryl", D(2026, 11, 3), True)

    # an email by another agent's role (mercer: acquisition) is not the welcome email
    activity(con, "buyer", "email", D(2026, 11, 5), actor="mercer", direction="outbound")
    welcome = activity(con, "buyer", "email", D(2026, 11, 5), actor="cheryl",
                       direction="outbound", hour=10)
    refresh(con, D(2026, 11, 5))
    # the call is due 5 days after the welcome email
    assert queue(con, "customer_onboarding")["buyer"] == (
        "onboarding_call", "claire", D(2026, 11, 10), False)
    refresh(con, D(2026, 11, 11))
    assert queue(con, "customer_onboarding")["buyer"][3] is True

    activity(con, "buyer", "meeting", D(2026, 11, 12), actor="claire")
    activity(con, "buyer", "call", D(2026, 11, 13), actor="dana", subject="Project kick-off")
    refresh(con, D(2026, 11, 13))
    assert queue(con, "customer_onboarding")["buyer"] == (
        "follow_up", "cheryl", D(2026, 11, 27), False)
    assert steps(con, "customer_onboarding", "buyer")[0] == (
        "welcome_email", D(2026, 11, 2), D(2026, 11, 3), True, welcome)

    activity(con, "buyer", "support", D(2026, 11, 20), actor="cheryl")
    refresh(con, D(2026, 11, 20))
    assert "buyer" not in queue(con, "customer_onboarding")
    assert history(con, "customer_onboarding") == {
        ("buyer", D(2026, 11, 2), D(2026, 11, 20), "goal_met")}
    assert [s[0] for s in steps(con, "customer_onboarding", "buyer")] == [
        "welcome_email", "onboarding_call", "onboarding_project", "follow_up"]
    perf = run(con, "SELECT enrolled, exited_goal_met, conversion_rate, "
                    "median_step_days['welcome_email'] FROM marts.workflow_performance "
                    "WHERE workflow = 'customer_onboarding'")
    assert perf == [(1, 1, 1.0, 3.0)]
    # still a customer, and still within the window: never enrolled again
    refresh(con, D(2026, 11, 21))
    assert len(history(con, "customer_onboarding")) == 1


def test_onboarding_times_out_and_old_customers_are_not_enrolled(con):
    contact(con, "slow")
    contact(con, "old")
    activity(con, "old", "purchase", D(2026, 1, 10), actor="shop")
    activity(con, "slow", "purchase", D(2026, 10, 1), actor="shop")
    refresh(con, D(2026, 10, 1))
    assert set(queue(con, "customer_onboarding")) == {"slow"}  # old: bought 9 months ago
    refresh(con, D(2026, 11, 14))  # 44 days after the purchase: still open
    assert set(queue(con, "customer_onboarding")) == {"slow"}
    refresh(con, D(2026, 11, 15))  # 45 days: timed out
    assert history(con, "customer_onboarding") == {
        ("slow", D(2026, 10, 1), D(2026, 11, 15), "timed_out")}


def test_onboarding_customer_already_meeting_the_goal_is_never_enrolled(con):
    contact(con, "done")
    activity(con, "done", "purchase", D(2026, 11, 1), actor="shop")
    activity(con, "done", "email", D(2026, 11, 1), actor="cheryl", direction="outbound", hour=10)
    activity(con, "done", "meeting", D(2026, 11, 2), actor="claire")
    activity(con, "done", "meeting", D(2026, 11, 2), actor="petra", subject="onboarding project")
    activity(con, "done", "call", D(2026, 11, 3), actor="cheryl")
    refresh(con, D(2026, 11, 5))
    assert history(con, "customer_onboarding") == set()


# --- lead nurture -----------------------------------------------------------------------

def leads(con) -> None:
    """hot: a high-scoring lead (big software company, CEO, recent forms); warm: a lead with a
    low score; five prospects below them. Only the top lead counts as high-scoring here (the
    tenant's hot_percentile is 0.95)."""
    run(con, "INSERT INTO core.tenants VALUES ('t1', 'T', 'US', 'USD', $s, $at)",
        {"s": '{"thresholds": {"hot_percentile": 0.95}}', "at": T0})
    contact(con, "hot", company_size=500, job_title="CEO", industry="software")
    contact(con, "warm", company_size=3, job_title="Intern", industry="retail")
    for i in range(5):
        contact(con, f"p{i}", company_size=1, industry="retail")
    for day in (D(2026, 10, 28), D(2026, 10, 30), D(2026, 11, 1)):
        activity(con, "hot", "form_submission", day)
        activity(con, "hot", "download", day)
    activity(con, "warm", "download", D(2026, 10, 20))


def test_lead_nurture_scenario_outreach_follow_up_and_conversion(con):
    leads(con)
    refresh(con, D(2026, 11, 1))
    q = queue(con, "lead_nurture")
    assert q["hot"] == ("outreach", "mercer", D(2026, 11, 3), False)  # high score: outreach
    assert q["warm"] == ("nurture", "mercer", None, False)  # low score: waits in nurture
    assert set(q) == {"hot", "warm"}

    refresh(con, D(2026, 11, 4))
    assert queue(con, "lead_nurture")["hot"][3] is True  # outreach overdue
    activity(con, "hot", "email", D(2026, 11, 4), actor="mercer", direction="outbound")
    refresh(con, D(2026, 11, 5))
    assert queue(con, "lead_nurture")["hot"] == ("follow_up", "mercer", D(2026, 11, 11), False)
    activity(con, "hot", "meeting", D(2026, 11, 6), actor="claire")
    refresh(con, D(2026, 11, 6))
    assert queue(con, "lead_nurture")["hot"] == ("nurture", "mercer", None, False)

    activity(con, "hot", "purchase", D(2026, 11, 7), actor="shop")  # converted
    refresh(con, D(2026, 11, 7))
    assert ("hot", D(2026, 11, 1), D(2026, 11, 7), "goal_met") in history(con, "lead_nurture")
    assert "hot" in queue(con, "customer_onboarding")  # and onboarding begins


def test_lead_nurture_disqualified_when_cold_or_marked(con):
    leads(con)
    refresh(con, D(2026, 11, 1))
    activity(con, "hot", "call", D(2026, 11, 2), actor="mercer", direction="outbound",
             status="disqualified")
    refresh(con, D(2026, 11, 2))
    # warm's last activity was Oct 20: cold (60 days) on Dec 19
    refresh(con, D(2026, 12, 18))
    assert ("warm", D(2026, 11, 1), None, None) in history(con, "lead_nurture")
    refresh(con, D(2026, 12, 19))
    assert history(con, "lead_nurture") == {
        ("hot", D(2026, 11, 1), D(2026, 11, 2), "disqualified"),
        ("warm", D(2026, 11, 1), D(2026, 12, 19), "disqualified")}


def test_re_enrollment_only_on_a_transition(con):
    """warm is disqualified (cold), stays a lead without activity: not enrolled again on later
    runs; a new download makes it eligible again: enrolled once more."""
    leads(con)
    refresh(con, D(2026, 11, 1))
    for day in (D(2026, 12, 19), D(2026, 12, 20), D(2026, 12, 27)):
        refresh(con, day)
    assert {h for h in history(con, "lead_nurture") if h[0] == "warm"} == {
        ("warm", D(2026, 11, 1), D(2026, 12, 19), "disqualified")}
    activity(con, "warm", "download", D(2026, 12, 28))
    refresh(con, D(2026, 12, 28))
    refresh(con, D(2026, 12, 29))  # still eligible: no third enrollment
    assert {h for h in history(con, "lead_nurture") if h[0] == "warm"} == {
        ("warm", D(2026, 11, 1), D(2026, 12, 19), "disqualified"),
        ("warm", D(2026, 12, 28), None, None)}


# --- retention --------------------------------------------------------------------------

def declining_customer(con, cid: str = "fading", **fields) -> None:
    """A subscriber active every week for six months, then silent from Oct 20."""
    contact(con, cid, **fields)
    activity(con, cid, "subscription_start", D(2026, 3, 1), actor="shop")
    day = D(2026, 4, 1)
    while day < D(2026, 10, 1):
        activity(con, cid, "email", day, direction="inbound")
        day += datetime.timedelta(days=3)


def test_retention_scenario_steps_and_re_engagement(con):
    declining_customer(con)
    refresh(con, D(2026, 11, 10))
    assert queue(con, "retention")["fading"] == ("analyse", "binky", D(2026, 11, 13), False)
    refresh(con, D(2026, 11, 14))
    assert queue(con, "retention")["fading"][3] is True
    activity(con, "fading", "meeting", D(2026, 11, 14), actor="binky")
    activity(con, "fading", "email", D(2026, 11, 15), actor="social_publisher",
             direction="outbound")
    refresh(con, D(2026, 11, 15))
    assert queue(con, "retention")["fading"] == (
        "campaign_email", "email_worker", D(2026, 11, 18), False)
    activity(con, "fading", "email", D(2026, 11, 16), actor="email_worker", direction="outbound")
    refresh(con, D(2026, 11, 16))
    assert queue(con, "retention")["fading"] == ("track_results", "binky", None, False)
    for day in range(17, 30):  # re-engaged: inbound activity well above half its usual rate
        activity(con, "fading", "email", D(2026, 11, day), direction="inbound")
    refresh(con, D(2026, 11, 30))
    assert history(con, "retention") == {
        ("fading", D(2026, 11, 10), D(2026, 11, 30), "goal_met")}


def test_retention_exit_when_the_customer_churns(con):
    declining_customer(con)
    refresh(con, D(2026, 11, 10))
    activity(con, "fading", "subscription_end", D(2026, 11, 11), actor="shop")
    refresh(con, D(2026, 11, 12))
    assert history(con, "retention") == {
        ("fading", D(2026, 11, 10), D(2026, 11, 12), "criteria_lost")}


# --- suppression ------------------------------------------------------------------------

def test_suppressed_contacts_are_never_enrolled_and_exit_when_it_changes(con):
    declining_customer(con, "denied", consent_status="denied")
    declining_customer(con, "bounced", email_status="bounced")
    declining_customer(con, "later")
    refresh(con, D(2026, 11, 10))
    assert set(queue(con, "retention")) == {"later"}
    run(con, "UPDATE core.contacts SET consent_status = 'denied' WHERE contact_id = 'later'")
    refresh(con, D(2026, 11, 11))
    assert history(con, "retention") == {
        ("later", D(2026, 11, 10), D(2026, 11, 11), "suppressed")}
    # consent given again while still declining: a transition, so enrolled again
    run(con, "UPDATE core.contacts SET consent_status = 'granted' WHERE contact_id = 'later'")
    refresh(con, D(2026, 11, 12))
    assert ("later", D(2026, 11, 12), None, None) in history(con, "retention")


def test_onboarding_is_not_outreach_but_bounced_and_erased_are_suppressed(con):
    contact(con, "denied", consent_status="denied")
    contact(con, "bounced", email_status="bounced")
    contact(con, "erased")
    for cid in ("denied", "bounced", "erased"):
        activity(con, cid, "purchase", D(2026, 11, 1), actor="shop")
    run(con, "INSERT INTO gdpr.suppressions VALUES ('t1', 'x', 'email', 'erased', $at, 'dpo')",
        {"at": T0})
    refresh(con, D(2026, 11, 1))
    assert set(queue(con, "customer_onboarding")) == {"denied"}


def test_deleted_contact_exits_as_manual(con):
    contact(con, "gone")
    activity(con, "gone", "purchase", D(2026, 11, 1), actor="shop")
    refresh(con, D(2026, 11, 1))
    run(con, "DELETE FROM core.activities WHERE contact_id = 'gone'")
    run(con, "DELETE FROM core.contacts WHERE contact_id = 'gone'")
    refresh(con, D(2026, 11, 2))
    assert history(con, "customer_onboarding") == {
        ("gone", D(2026, 11, 1), D(2026, 11, 2), "manual")}


# --- runs: same date, earlier date, tenants ---------------------------------------------

def test_same_date_re_run_changes_nothing(con):
    leads(con)
    declining_customer(con)
    refresh(con, D(2026, 11, 1))
    activity(con, "hot", "email", D(2026, 11, 3), actor="mercer", direction="outbound")
    refresh(con, D(2026, 11, 3))
    first = everything(con)
    counts = refresh_work_queues(con, "t1", D(2026, 11, 3), AGENTS)
    assert everything(con) == first
    assert counts["history_updated"] == 1


def test_same_date_re_run_with_new_data_gives_the_final_answer(con):
    """A second run of a date undoes the first one's enrollments and exits of that date."""
    leads(con)
    refresh(con, D(2026, 11, 1))
    activity(con, "hot", "purchase", D(2026, 11, 2), actor="shop")
    refresh(con, D(2026, 11, 2))
    assert ("hot", D(2026, 11, 1), D(2026, 11, 2), "goal_met") in history(con, "lead_nurture")
    run(con, "DELETE FROM core.activities WHERE type = 'purchase'")  # the purchase was wrong
    refresh(con, D(2026, 11, 2))
    assert ("hot", D(2026, 11, 1), None, None) in history(con, "lead_nurture")
    assert history(con, "customer_onboarding") == set()


def test_run_for_an_earlier_date_leaves_later_history_alone(con):
    leads(con)
    refresh(con, D(2026, 11, 1))
    refresh(con, D(2026, 11, 10))
    later = everything(con)
    marts_stage(con, "t1", D(2026, 10, 25))
    assert refresh_work_queues(con, "t1", D(2026, 10, 25), AGENTS) == {"history_updated": 0}
    assert everything(con) == later


def test_marts_of_another_date_are_refused(con):
    leads(con)
    marts_stage(con, "t1", D(2026, 11, 1))
    with pytest.raises(BadArgument, match="marts are as of 2026-11-01"):
        refresh_work_queues(con, "t1", D(2026, 11, 2), AGENTS)


def test_tenants_never_mix(con):
    contact(con, "x", tenant="t1")
    contact(con, "x", tenant="t2")
    activity(con, "x", "purchase", D(2026, 11, 1), actor="shop", tenant="t1")
    activity(con, "x", "email", D(2026, 11, 1), actor="cheryl", direction="outbound",
             tenant="t2", hour=10)
    refresh(con, D(2026, 11, 1), "t1")
    refresh(con, D(2026, 11, 1), "t2")
    assert queue(con, "customer_onboarding", "t1")["x"][0] == "welcome_email"
    assert queue(con, "customer_onboarding", "t2") == {}
    assert run(con, "SELECT DISTINCT tenant_id FROM marts.work_queue_history") == [("t1",)]


# --- definitions and tenant overrides ---------------------------------------------------

def test_tenant_overrides_change_deadlines_and_owners(con):
    settings = {"workflows": {"customer_onboarding": {
        "steps": {"welcome_email": {"due_days": 3, "owner": "penny"}}}}}
    run(con, "INSERT INTO core.tenants VALUES ('t1', 'T', 'US', 'USD', $s, $at)",
        {"s": __import__("json").dumps(settings), "at": T0})
    contact(con, "buyer")
    activity(con, "buyer", "purchase", D(2026, 11, 2), actor="shop")
    refresh(con, D(2026, 11, 2))
    assert queue(con, "customer_onboarding")["buyer"][:3] == (
        "welcome_email", "penny", D(2026, 11, 5))


@pytest.mark.parametrize("override, message", [
    ({"nurture": {}}, "unknown workflow 'nurture'"),
    ({"retention": {"steps": {"nope": {}}}}, "unknown step 'nope'"),
    ({"retention": {"steps": {"analyse": {"due_days": -1}}}}, "whole number of days"),
    ({"retention": {"steps": {"analyse": {"colour": 1}}}}, "unknown key 'colour'"),
    ({"customer_onboarding": {"timeout_days": 0}}, "at least 1 day"),
    ({"retention": {"min_churn_probability": 2}}, "between 0 and 1"),
    ({"lead_nurture": {"steps": {"outreach": {"evidence": {"subject": "("}}}}},
     "not a regular expression"),
])
def test_bad_overrides_are_refused_in_one_line(override, message):
    with pytest.raises(BadArgument, match=message):
        workflow_definitions({"workflows": override}, "t1")


def test_a_lead_whose_score_drops_keeps_the_steps_it_went_through(con):
    leads(con)
    refresh(con, D(2026, 11, 1))
    activity(con, "hot", "email", D(2026, 11, 2), actor="mercer", direction="outbound")
    refresh(con, D(2026, 11, 2))
    assert queue(con, "lead_nurture")["hot"][0] == "follow_up"
    run(con, "UPDATE core.contacts SET company_size = 1, job_title = 'Intern', industry = 'retail' "
             "WHERE contact_id = 'hot'")
    for i in range(5):  # others overtake it: no longer in the top 5%
        contact(con, f"big{i}", company_size=900, job_title="CEO", industry="software")
        activity(con, f"big{i}", "form_submission", D(2026, 11, 3))
        activity(con, f"big{i}", "download", D(2026, 11, 3))
    refresh(con, D(2026, 11, 3))
    assert queue(con, "lead_nurture")["hot"][0] == "follow_up"
    assert [s[0] for s in steps(con, "lead_nurture", "hot")] == ["outreach", "follow_up"]


def test_queue_invariants_hold_and_are_checked(con):
    from crm_pipeline.workflows.queue import queue_problems

    leads(con)
    declining_customer(con)
    refresh(con, D(2026, 11, 1))
    assert queue_problems(con, "t1") == {"duplicate_open_enrollments": 0,
                                         "queue_history_mismatches": 0,
                                         "exits_without_reason": 0}
    run(con, "DELETE FROM marts.work_queue WHERE contact_id = 'hot'")
    assert queue_problems(con, "t1")["queue_history_mismatches"] == 1


def test_one_email_does_not_complete_a_step_and_the_one_that_follows_it(con):
    declining_customer(con)
    refresh(con, D(2026, 11, 10))
    activity(con, "fading", "meeting", D(2026, 11, 11), actor="binky")
    activity(con, "fading", "email", D(2026, 11, 12), actor="fran", direction="outbound")
    refresh(con, D(2026, 11, 12))  # fran's email is the content; the campaign is still due
    assert queue(con, "retention")["fading"][:3] == (
        "campaign_email", "email_worker", D(2026, 11, 15))
