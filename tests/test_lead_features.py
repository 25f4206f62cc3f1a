"""A lead's features at a past cut-off are what the warehouse held up to that day: nothing later
changes them (no leakage), and at the as-of date they are what the marts compute."""

from __future__ import annotations

import datetime
import itertools

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_pipeline.contacts.store import set_contact_fields
from crm_pipeline.marts.tenant_settings import sql_params, tenant_settings
from crm_pipeline.pipeline import marts_stage
from crm_pipeline.scoring.features import (
    HOLDOUT_CUTOFFS,
    HORIZON_DAYS,
    STEP_DAYS,
    WARMUP_DAYS,
    anchor_date,
    features_at,
    plan_cutoffs,
)
from crm_pipeline.trust.audit import ChangeContext
from crm_pipeline.warehouse import connect, create_tables, frame, run

AS_OF = datetime.date(2026, 6, 30)
CUTOFF = datetime.date(2026, 3, 31)
T0 = datetime.datetime(2024, 1, 1)
_ids = itertools.count()


def contact(con, contact_id: str, tenant: str = "t1", **fields) -> None:
    row = {"tenant_id": tenant, "contact_id": contact_id, "first_seen_at": T0,
           "updated_at": T0, **fields}
    run(con, f"INSERT INTO core.contacts ({', '.join(row)}) "
             f"VALUES ({', '.join('$' + k for k in row)})", row)


def activity(con, contact_id: str, type_: str, when: datetime.datetime, tenant: str = "t1",
             **fields) -> None:
    row = {"tenant_id": tenant, "activity_id": f"a{next(_ids)}", "contact_id": contact_id,
           "type": type_, "occurred_at": when, "content_hash": "h", "import_id": "imp",
           "line_number": 1, **fields}
    run(con, f"INSERT INTO core.activities ({', '.join(row)}) "
             f"VALUES ({', '.join('$' + k for k in row)})", row)


def day(d: datetime.date, days: int, hour: int = 12) -> datetime.datetime:
    return datetime.datetime.combine(d + datetime.timedelta(days=days), datetime.time(hour))


def params(con, tenant: str = "t1") -> dict:
    return {"tenant_id": tenant, **sql_params(tenant_settings(con, tenant))}


def feats(con, cutoffs, ids=None, tenant: str = "t1") -> pl.DataFrame:
    return features_at(con, tenant, cutoffs, ids, params(con, tenant)).drop("label", "weight")


def a_tenant(con) -> None:
    run(con, "INSERT INTO core.tenants VALUES ('t1', NULL, 'US', 'USD', NULL, $at)", {"at": T0})
    contact(con, "c_1", industry="Healthcare", company_size=12, job_title="Practice Manager",
            country="US", created_at=T0)
    contact(con, "c_2", industry="Software", company_size=800, job_title="VP Sales",
            created_at=T0)
    contact(con, "c_3", job_title="CEO", created_at=T0)
    for days, type_, extra in [(-200, "email", {"direction": "outbound"}),
                               (-40, "webinar", {}), (-20, "webinar", {}),
                               (-3, "email", {"direction": "inbound"}),
                               (-1, "form_submission", {}), (0, "download", {}),
                               (-10, "email_bounce", {}),
                               (-5, "meeting", {"status": "scheduled"})]:
        activity(con, "c_1", type_, day(CUTOFF, days), **extra)
    activity(con, "c_2", "purchase", day(CUTOFF, -100), amount=500.0, amount_base=500.0)
    activity(con, "c_2", "purchase", day(CUTOFF, -30), amount=200.0, amount_base=200.0)
    activity(con, "c_2", "support", day(CUTOFF, -2))
    activity(con, "c_3", "subscription_start", day(CUTOFF, -60))


@pytest.fixture
def con():
    c = connect(":memory:")
    create_tables(c)
    a_tenant(c)
    yield c
    c.close()


def later_changes(con, at: datetime.datetime) -> None:
    """Everything that happens after the cut-off day: new activity of every kind, a conversion,
    a new contact, and audited updates of the profile fields."""
    after = day(CUTOFF, 1, hour=0)
    for type_ in ("webinar", "download", "form_submission", "meeting", "email", "call",
                  "support", "purchase", "subscription_end", "email_bounce", "refund"):
        activity(con, "c_1", type_, after, direction="inbound", amount=10.0, amount_base=10.0)
        activity(con, "c_2", type_, day(CUTOFF, 30), amount=10.0, amount_base=10.0)
    contact(con, "c_9", industry="Healthcare", created_at=after, first_seen_at=after)
    ctx = ChangeContext("t1", "later", "ann", "user", b"k", at)
    set_contact_fields(con, ctx, pl.DataFrame({
        "contact_id": ["c_1", "c_2", "c_3"], "industry": ["Retail", "Retail", "Retail"],
        "company_size": [5000, 3, 40], "job_title": ["Chief Nurse", "Intern", "Owner"]}))


def test_nothing_after_the_cut_off_changes_a_feature(con):
    before = feats(con, [CUTOFF], ["c_1", "c_2", "c_3"])
    later_changes(con, day(CUTOFF, 2))
    after = feats(con, [CUTOFF], ["c_1", "c_2", "c_3"])
    assert after.equals(before)
    # the same changes dated on the cut-off day itself do change them (the test has teeth)
    now = feats(con, [CUTOFF + datetime.timedelta(days=40)], ["c_1", "c_2", "c_3"])
    assert not now.drop("cutoff", "known_days").equals(before.drop("cutoff", "known_days"))


def test_a_profile_field_changed_after_the_cut_off_is_read_as_it_was(con):
    later_changes(con, day(CUTOFF, 2))
    row = feats(con, [CUTOFF], ["c_1"]).row(0, named=True)
    assert (row["industry"], row["company_size"], row["job_title"]) == (
        "Healthcare", 12, "Practice Manager")
    assert row["seniority"] == "mid"
    now = feats(con, [CUTOFF + datetime.timedelta(days=5)], ["c_1"]).row(0, named=True)
    assert (now["industry"], now["company_size"], now["seniority"]) == ("Retail", 5000, "top")


def test_counts_windows_and_customer_facts_at_a_cut_off(con):
    rows = {r["contact_id"]: r for r in feats(con, [CUTOFF]).to_dicts()}
    lead = rows["c_1"]
    assert (lead["webinar_30d"], lead["webinar_90d"], lead["webinar_365d"]) == (1, 2, 2)
    assert (lead["email_in_90d"], lead["email_out_90d"], lead["email_out_ever"]) == (1, 0, 1)
    assert lead["form_submission_30d"] == lead["download_30d"] == 1
    assert lead["meeting_365d"] == 0  # scheduled meetings are not activity, nor are bounces
    assert lead["days_since_last_activity"] == 0 and lead["days_since_first_activity"] == 200
    assert lead["signals_ever"] == 5 and lead["customer_days"] is None
    assert lead["depth_90d"] == 5 and lead["activities_90d"] == 5
    buyer = rows["c_2"]
    assert (buyer["purchases_90d"], buyer["purchases_365d"]) == (1, 2)
    assert buyer["days_since_last_purchase"] == 30
    assert buyer["customer_days"] == 100 and not buyer["subscribed"]
    subscriber = rows["c_3"]
    assert subscriber["subscribed"] and subscriber["subscription_days"] == 60


def test_at_the_as_of_date_the_features_and_rule_score_are_the_marts(con):
    marts_stage(con, "t1", AS_OF)
    mine = {r["contact_id"]: r for r in feats(con, [AS_OF]).to_dicts()}
    marts = {r[0]: r[1:] for r in run(con, """
        SELECT s.contact_id, s.lead_score, s.fit_company_size, s.fit_role, s.fit_industry,
               s.engagement_recency, s.engagement_frequency, s.engagement_depth,
               e.activities_90d, e.days_since_last_activity
        FROM marts.lead_scores AS s JOIN marts.engagement AS e USING (tenant_id, contact_id)""")}
    assert set(mine) == set(marts)
    for cid, (score, *components, activities, days) in marts.items():
        r = mine[cid]
        assert r["rule_score"] == score
        assert [r[c] for c in ("fit_company_size", "fit_role", "fit_industry",
                               "engagement_recency", "engagement_frequency",
                               "engagement_depth")] == components
        assert (r["activities_90d"], r["days_since_last_activity"]) == (activities, days)


def test_the_counts_at_the_as_of_date_are_the_marts_own(con):
    from crm_pipeline.marts.refresh import _build_helper
    from crm_pipeline.scoring.features import drop_temp_tables

    values = {**params(con), "as_of": AS_OF}
    _build_helper(con, "activity_counts", values)
    marts = run(con, "SELECT * FROM mart_activity_counts ORDER BY contact_id, type")
    run(con, "CREATE TEMP TABLE score_pairs AS SELECT DATE '2026-06-30' AS cutoff, contact_id "
             "FROM core.contacts")
    from crm_pipeline.scoring.features import _execute

    _execute(con, "activity_counts", values, "CREATE TEMP TABLE score_activity_counts AS\n")
    mine = run(con, "SELECT * EXCLUDE (cutoff) FROM score_activity_counts "
                    "ORDER BY contact_id, type")
    assert mine == marts and len(mine) > 5
    drop_temp_tables(con)


def test_scoring_at_the_as_of_date_reads_the_features_training_would_compute(con):
    """The run scores from the marts' own counts; training counts per cut-off: the same rows."""
    from crm_pipeline.marts.refresh import _build_helper
    from crm_pipeline.scoring.features import build_contact_facts, pair_features

    contact(con, "c_later", first_seen_at=day(AS_OF, 5))  # known only after the as-of date
    activity(con, "c_later", "webinar", day(AS_OF, 2))
    activity(con, "c_1", "webinar", day(AS_OF, 1))
    values = {**params(con), "as_of": AS_OF}
    _build_helper(con, "activity_counts", values)
    expected = feats(con, [AS_OF])
    build_contact_facts(con, "t1", from_marts=True)
    run(con, "CREATE TEMP TABLE score_pairs AS SELECT row_number() OVER (ORDER BY contact_id) - 1 "
             "AS i, DATE '2026-06-30' AS cutoff, contact_id, CAST(NULL AS BOOLEAN) AS label, "
             "1.0 AS weight FROM core.contacts")
    got = pair_features(con, "t1", params(con), marts_as_of=AS_OF).drop("label", "weight")
    assert got.equals(expected) and got.height == 4


def test_a_contact_is_in_a_cut_offs_cohort_only_once_known(con):
    contact(con, "c_new", created_at=day(CUTOFF, 1, hour=0), first_seen_at=day(CUTOFF, 3))
    contact(con, "c_active", created_at=None, first_seen_at=day(CUTOFF, 3))
    activity(con, "c_active", "webinar", day(CUTOFF, -5))
    from crm_pipeline.scoring.features import build_cohort, build_contact_facts

    build_contact_facts(con, "t1")
    build_cohort(con, "conversion", "t1", (CUTOFF,), params(con))
    cohort = dict(run(con, "SELECT contact_id, label FROM score_cohort"))
    # c_2 and c_3 were customers by then; c_new was not known yet; c_active was (its activity)
    assert cohort == {"c_1": False, "c_active": False}
    activity(con, "c_1", "purchase", day(CUTOFF, HORIZON_DAYS, hour=23))
    build_contact_facts(con, "t1")
    build_cohort(con, "conversion", "t1", (CUTOFF,), params(con))
    assert dict(run(con, "SELECT contact_id, label FROM score_cohort"))["c_1"] is True


# --- the same, for any activity history -------------------------------------------------------

activity_rows = st.lists(
    st.tuples(st.sampled_from(["c_1", "c_2"]),
              st.sampled_from(["email", "call", "meeting", "support", "webinar", "download",
                               "form_submission", "purchase", "subscription_start",
                               "subscription_end", "email_bounce", "refund"]),
              st.integers(-400, 120), st.sampled_from(["inbound", "outbound", None]),
              st.sampled_from([None, "scheduled", "held"])),
    max_size=25)


@pytest.fixture(scope="module")
def prop_con():
    c = connect(":memory:")
    create_tables(c)
    run(c, "INSERT INTO core.tenants VALUES ('p', NULL, 'US', 'USD', NULL, $at)", {"at": T0})
    for cid in ("c_1", "c_2"):
        contact(c, cid, tenant="p", industry="Retail", company_size=50, created_at=T0)
    yield c
    c.close()


@settings(max_examples=8)
@given(rows=activity_rows)
def test_features_from_the_whole_history_equal_those_from_the_history_up_to_the_cut_off(
        prop_con, rows):
    con = prop_con
    run(con, "DELETE FROM core.activities WHERE tenant_id = 'p'")
    log = pl.DataFrame(
        [(f"p{i}", cid, type_, day(CUTOFF, offset, hour=23 if offset % 2 else 0), direction,
          status) for i, (cid, type_, offset, direction, status) in enumerate(rows)],
        schema=["activity_id", "contact_id", "type", "occurred_at", "direction", "status"],
        orient="row")
    con.register("_log", log)
    run(con, "INSERT INTO core.activities (tenant_id, activity_id, contact_id, type, occurred_at, "
             "direction, status, amount, amount_base, content_hash, import_id, line_number) "
             "SELECT 'p', activity_id, contact_id, type, occurred_at, direction, status, 5.0, "
             "5.0, 'h', 'imp', 1 FROM _log")
    con.unregister("_log")
    whole = feats(con, [CUTOFF], tenant="p")
    run(con, "DELETE FROM core.activities WHERE tenant_id = 'p' AND occurred_at >= $end",
        {"end": day(CUTOFF, 1, hour=0)})
    assert feats(con, [CUTOFF], tenant="p").equals(whole)


# --- the time plan --------------------------------------------------------------------------


@given(as_of=st.dates(datetime.date(2020, 1, 1), datetime.date(2030, 12, 31)),
       history=st.integers(0, 2000), retrain=st.integers(1, 30))
def test_validation_learns_only_from_labels_observed_before_the_held_out_period(
        as_of, history, retrain):
    anchor = anchor_date(as_of, retrain)
    assert as_of - datetime.timedelta(days=retrain) < anchor <= as_of
    assert anchor_date(anchor, retrain) == anchor
    start = as_of - datetime.timedelta(days=history)
    plan = plan_cutoffs(anchor, start)
    horizon = datetime.timedelta(days=HORIZON_DAYS)
    for cutoff in plan.cutoffs:
        assert cutoff + horizon <= anchor  # every label observed by the training date
        assert cutoff >= start + datetime.timedelta(days=WARMUP_DAYS)
    if plan.usable:
        assert len(plan.holdout) == HOLDOUT_CUTOFFS
        assert max(plan.holdout) == anchor - horizon
        assert max(plan.validation_train) + horizon <= min(plan.holdout)
        assert set(plan.validation_train) <= set(plan.deploy) or len(plan.deploy) == 24
        gaps = {(b - a).days for a, b in itertools.pairwise(sorted(plan.deploy))}
        assert gaps <= {STEP_DAYS}


def test_weekly_models_are_trained_as_of_the_monday_on_or_before_the_run():
    monday = datetime.date(2026, 11, 16)
    assert monday.weekday() == 0
    for offset in range(7):
        assert anchor_date(monday + datetime.timedelta(days=offset), 7) == monday


def test_the_cohort_sql_reads_nothing_but_its_parameters_and_tables(con):
    frame(con, "SELECT 1")  # the connection is usable after every helper dropped its tables
    assert not run(con, "SELECT table_name FROM duckdb_tables() WHERE temporary "
                        "AND table_name LIKE 'score%'")
