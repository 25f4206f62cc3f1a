"""Marts for one tenant at a fixed as-of date: engagement, scores, lifecycle, retention, hygiene."""

from __future__ import annotations

import datetime
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_pipeline.marts.refresh import refresh_marts
from crm_pipeline.pipeline import marts_stage
from crm_pipeline.scoring.refresh import score_tenant
from crm_pipeline.warehouse import connect, create_tables, run

AS_OF = datetime.date(2025, 6, 30)
T0 = datetime.datetime(2024, 1, 1)
_ids = itertools.count()


def at(days_ago: int, hour: int = 12, minute: int = 0) -> datetime.datetime:
    """A moment `days_ago` whole days before the as-of date (negative: after it)."""
    return datetime.datetime.combine(AS_OF - datetime.timedelta(days=days_ago),
                                     datetime.time(hour, minute))


def contact(con, contact_id: str, tenant: str = "t1", **fields) -> None:
    row = {"tenant_id": tenant, "contact_id": contact_id, "first_seen_at": T0,
           "updated_at": T0, **fields}
    run(con, f"INSERT INTO core.contacts ({', '.join(row)}) "
             f"VALUES ({', '.join('$' + k for k in row)})", row)


def activity(con, contact_id: str, type_: str, days_ago: int, tenant: str = "t1",
             hour: int = 12, **fields) -> None:
    row = {"tenant_id": tenant, "activity_id": f"a{next(_ids)}", "contact_id": contact_id,
           "type": type_, "occurred_at": at(days_ago, hour), "content_hash": "h",
           "import_id": "imp", "line_number": 1, **fields}
    run(con, f"INSERT INTO core.activities ({', '.join(row)}) "
             f"VALUES ({', '.join('$' + k for k in row)})", row)


def rows(con, query: str, params: dict | None = None) -> list[dict]:
    cur = con.execute(query, params or {})
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def by_contact(con, table: str, tenant: str = "t1") -> dict[str, dict]:
    return {r["contact_id"]: r for r in rows(
        con, f"SELECT * FROM marts.{table} WHERE tenant_id = $t", {"t": tenant})}


# --- engagement -------------------------------------------------------------------------------

def test_engagement_windows_count_the_as_of_day_and_the_n_days_before_it(con):
    contact(con, "c1")
    for days_ago in (0, 7, 8, 30, 31, 90, 91, 365, 366):
        activity(con, "c1", "email", days_ago)
    marts_stage(con, "t1", AS_OF)
    e = by_contact(con, "engagement")["c1"]
    assert (e["activities_7d"], e["activities_30d"], e["activities_90d"],
            e["activities_365d"]) == (2, 4, 6, 8)
    assert e["last_activity_at"] == at(0)
    assert e["days_since_last_activity"] == 0
    assert e["as_of"] == AS_OF


def test_future_activity_bounces_and_scheduled_meetings_are_not_engagement(con):
    contact(con, "c1")
    activity(con, "c1", "email", 0, hour=23)          # late on the as-of day: counts
    activity(con, "c1", "call", -1, hour=0)            # the next day: ignored
    activity(con, "c1", "email_bounce", 1)
    activity(con, "c1", "meeting", 2, status="scheduled")
    activity(con, "c1", "meeting", 3, status="held")
    marts_stage(con, "t1", AS_OF)
    e = by_contact(con, "engagement")["c1"]
    assert e["activities_7d"] == 2
    assert e["last_activity_at"] == at(0, 23)
    types = {r["type"] for r in rows(con, "SELECT type FROM marts.engagement_by_type")}
    assert types == {"email", "meeting"}


def test_every_contact_has_an_engagement_row_even_without_activity(con):
    contact(con, "quiet")
    marts_stage(con, "t1", AS_OF)
    e = by_contact(con, "engagement")["quiet"]
    assert e["last_activity_at"] is None and e["days_since_last_activity"] is None
    assert (e["activities_365d"], e["inbound_90d"], e["trend"]) == (0, 0, "none")


def test_inbound_counts_what_the_contact_started(con):
    contact(con, "c1")
    activity(con, "c1", "email", 1, direction="inbound")
    activity(con, "c1", "email", 1, direction="outbound")
    activity(con, "c1", "webinar", 2)
    activity(con, "c1", "purchase", 3)
    activity(con, "c1", "call", 91, direction="inbound")
    marts_stage(con, "t1", AS_OF)
    assert by_contact(con, "engagement")["c1"]["inbound_90d"] == 3


TREND_CASES = [(4, 12, "steady"), (5, 12, "steady"), (6, 12, "rising"), (3, 12, "steady"),
               (2, 12, "falling"), (1, 0, "rising"), (0, 3, "falling"), (0, 0, "none")]


def test_trend_compares_last_30_days_with_the_average_30_days_of_the_90_before(con):
    for n, (recent, prior, _) in enumerate(TREND_CASES):
        contact(con, f"c{n}")
        for i in range(recent):
            activity(con, f"c{n}", "email", i % 31)
        for i in range(prior):
            activity(con, f"c{n}", "email", 31 + i % 90)
        activity(con, f"c{n}", "email", 121)  # outside both windows
    marts_stage(con, "t1", AS_OF)
    engagement = by_contact(con, "engagement")
    assert [engagement[f"c{n}"]["trend"] for n in range(len(TREND_CASES))] == [
        trend for *_, trend in TREND_CASES]


def test_engagement_by_type_adds_up_to_engagement(con):
    contact(con, "c1")
    for type_, days_ago in [("email", 1), ("email", 40), ("call", 5), ("support", 200),
                            ("email_bounce", 1)]:
        activity(con, "c1", type_, days_ago)
    marts_stage(con, "t1", AS_OF)
    by_type = {r["type"]: r for r in rows(con, "SELECT * FROM marts.engagement_by_type")}
    assert set(by_type) == {"email", "call", "support"}
    assert (by_type["email"]["count_30d"], by_type["email"]["count_90d"]) == (1, 2)
    assert by_type["email"]["last_at"] == at(1)
    e = by_contact(con, "engagement")["c1"]
    for window in ("7d", "30d", "90d", "365d"):
        assert sum(r[f"count_{window}"] for r in by_type.values()) == e[f"activities_{window}"]


# --- lead scores ------------------------------------------------------------------------------

COMPONENTS = ("fit_company_size", "fit_role", "fit_industry", "engagement_recency",
              "engagement_frequency", "engagement_depth")


def test_an_ideal_lead_scores_100_and_an_unknown_contact_0(con):
    contact(con, "ideal", job_title="CEO", company_size=1000, industry=" Software ")
    for i in range(5):
        activity(con, "ideal", "webinar", 0)
        activity(con, "ideal", "email", i)
    contact(con, "unknown")
    marts_stage(con, "t1", AS_OF)
    scores = by_contact(con, "lead_scores")
    ideal = scores["ideal"]
    assert [ideal[c] for c in COMPONENTS] == [20, 20, 10, 20, 15, 15]
    assert (ideal["fit_score"], ideal["engagement_score"], ideal["lead_score"]) == (50, 50, 100)
    assert scores["unknown"]["lead_score"] == 0
    assert (ideal["score_percentile"], scores["unknown"]["score_percentile"]) == (1.0, 0.0)


ROLE_POINTS = {"Chief Revenue Officer": 20, "Co-Founder": 20, "CEO & Founder": 20,
               "Vice President, Sales": 15, "VP Marketing": 15, "Head of Growth": 15,
               "Marketing Director": 15, "Sales Manager": 10, "Team Lead": 10,
               "Leadership Coach": 5, "Engineer": 5, None: 0}
SIZE_POINTS = {None: 0, 19: 0, 20: 5, 99: 5, 100: 10, 250: 15, 999: 15, 1000: 20}


def test_role_points_follow_title_seniority(con):
    for n, title in enumerate(ROLE_POINTS):
        contact(con, f"c{n}", job_title=title)
    marts_stage(con, "t1", AS_OF)
    scores = by_contact(con, "lead_scores")
    assert {title: scores[f"c{n}"]["fit_role"] for n, title in enumerate(ROLE_POINTS)} == (
        ROLE_POINTS)


def test_company_size_points_grow_with_the_company(con):
    for n, size in enumerate(SIZE_POINTS):
        contact(con, f"c{n}", company_size=size)
    marts_stage(con, "t1", AS_OF)
    scores = by_contact(con, "lead_scores")
    assert {size: scores[f"c{n}"]["fit_company_size"] for n, size in enumerate(SIZE_POINTS)} == (
        SIZE_POINTS)


def test_recency_points_fall_linearly_to_zero_at_90_days(con):
    for cid, days_ago in [("d0", 0), ("d45", 45), ("d90", 90), ("d120", 120)]:
        contact(con, cid)
        activity(con, cid, "email", days_ago)
    marts_stage(con, "t1", AS_OF)
    scores = by_contact(con, "lead_scores")
    assert [scores[c]["engagement_recency"] for c in ("d0", "d45", "d90", "d120")] == [
        20, 10, 0, 0]


def test_score_percentile_ranks_within_the_tenant_only(con):
    for i, size in enumerate([None, 20, 100, 250, 1000]):
        contact(con, f"c{i}", company_size=size)
    contact(con, "other", tenant="t2", company_size=1)
    marts_stage(con, "t1", AS_OF)
    scores = by_contact(con, "lead_scores")
    assert [scores[f"c{i}"]["score_percentile"] for i in range(5)] == [0, 0.25, 0.5, 0.75, 1.0]


def test_score_weights_come_from_the_tenant_settings(con):
    run(con, "INSERT INTO core.tenants VALUES ('t1', NULL, 'US', 'USD', $s, $at)",
        {"s": '{"score_weights": {"industry": 30, "company_size": 0},'
              ' "target_industries": ["retail"]}', "at": T0})
    contact(con, "c1", company_size=5000, industry="Retail")
    contact(con, "c2", industry="software")
    marts_stage(con, "t1", AS_OF)
    scores = by_contact(con, "lead_scores")
    assert (scores["c1"]["fit_company_size"], scores["c1"]["fit_industry"]) == (0, 30)
    assert scores["c2"]["lead_score"] == 0


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=st.sampled_from([None, "CEO", "VP Sales", "Manager", "Intern"]),
    size=st.one_of(st.none(), st.integers(0, 5000)),
    industry=st.sampled_from([None, "software", "retail"]),
    acts=st.lists(st.tuples(st.sampled_from(["email", "webinar", "meeting", "download", "call"]),
                            st.integers(-5, 400),
                            st.sampled_from([None, "inbound", "outbound"])), max_size=15),
)
def test_components_add_up_to_a_score_between_0_and_100(title, size, industry, acts):
    con = connect(":memory:")
    create_tables(con)
    contact(con, "c1", job_title=title, company_size=size, industry=industry)
    for type_, days_ago, direction in acts:
        activity(con, "c1", type_, days_ago, direction=direction)
    marts_stage(con, "t1", AS_OF)
    s = by_contact(con, "lead_scores")["c1"]
    con.close()
    assert s["fit_score"] == pytest.approx(sum(s[c] for c in COMPONENTS[:3]))
    assert s["engagement_score"] == pytest.approx(sum(s[c] for c in COMPONENTS[3:]))
    assert s["lead_score"] == pytest.approx(s["fit_score"] + s["engagement_score"])
    assert 0 <= s["lead_score"] <= 100


# --- lifecycle --------------------------------------------------------------------------------

def test_lifecycle_stages_follow_the_rules(con):
    contact(con, "prospect")
    activity(con, "prospect", "email", 3, direction="outbound")
    contact(con, "lead_form")
    activity(con, "lead_form", "form_submission", 500)
    contact(con, "lead_score", job_title="CEO", company_size=1000, industry="software")
    contact(con, "buyer_365")
    activity(con, "buyer_365", "purchase", 365)
    contact(con, "buyer_366")
    activity(con, "buyer_366", "purchase", 366)
    contact(con, "subscriber")
    activity(con, "subscriber", "subscription_start", 700)
    contact(con, "unsubscribed")
    activity(con, "unsubscribed", "subscription_start", 700)
    activity(con, "unsubscribed", "subscription_end", 10)
    activity(con, "unsubscribed", "webinar", 5)
    contact(con, "advocate")
    activity(con, "advocate", "purchase", 20)
    for type_ in ("webinar", "download", "email"):
        activity(con, "advocate", type_, 30, direction="inbound")
    contact(con, "almost_advocate")
    activity(con, "almost_advocate", "purchase", 20)
    activity(con, "almost_advocate", "webinar", 30)
    activity(con, "almost_advocate", "email", 30, direction="outbound")
    activity(con, "almost_advocate", "webinar", 91)
    marts_stage(con, "t1", AS_OF)
    life = by_contact(con, "lifecycle")
    assert {c: r["stage"] for c, r in life.items()} == {
        "prospect": "prospect", "lead_form": "lead", "lead_score": "lead",
        "buyer_365": "customer", "buyer_366": "churned", "subscriber": "customer",
        "unsubscribed": "churned", "advocate": "advocate", "almost_advocate": "customer",
    }
    assert "purchase in the last 365 days" in life["buyer_365"]["reason"]
    assert life["subscriber"]["reason"] == "customer: active subscription"
    assert life["lead_score"]["reason"].startswith("lead score 50")
    assert life["lead_form"]["reason"].startswith("engagement signals so far: 1 ")
    assert life["advocate"]["reason"].startswith("customer (purchase in the last 365 days) with 3")
    assert life["buyer_366"]["reason"].startswith("former customer")
    assert all(r["stage_since"] == AS_OF for r in life.values())


def test_a_purchase_after_the_as_of_date_does_not_make_a_customer(con):
    contact(con, "c1")
    activity(con, "c1", "purchase", -2)
    marts_stage(con, "t1", AS_OF)
    assert by_contact(con, "lifecycle")["c1"]["stage"] == "prospect"


# --- retention risk ---------------------------------------------------------------------------

def test_retention_risk_compares_30_days_with_the_monthly_rate_of_the_180_before(con):
    for cid, recent in [("silent", 0), ("half", 1), ("busy", 3)]:
        contact(con, cid)
        activity(con, cid, "subscription_start", 210)       # baseline window: 31..210 days
        for i in range(11):
            activity(con, cid, "email", 31 + i * 10)
        for _ in range(recent):
            activity(con, cid, "email", 30)
    contact(con, "new_customer")
    activity(con, "new_customer", "purchase", 2)
    contact(con, "not_customer")
    activity(con, "not_customer", "email", 100)
    marts_stage(con, "t1", AS_OF)
    risk = by_contact(con, "retention_risk")
    assert set(risk) == {"silent", "half", "busy", "new_customer"}
    assert risk["silent"]["baseline_monthly_rate"] == pytest.approx(2.0)
    assert [(risk[c]["activities_last_30d"], risk[c]["ratio"], risk[c]["declining"])
            for c in ("silent", "half", "busy")] == [(0, 0.0, True), (1, 0.5, False),
                                                     (3, 1.5, False)]
    assert (risk["new_customer"]["ratio"], risk["new_customer"]["declining"]) == (None, False)


# --- data hygiene -----------------------------------------------------------------------------

def test_data_hygiene_lists_cleared_fields_bounces_and_stale_records(con):
    contact(con, "c1", email="x@example.com", email_status="bounced")
    activity(con, "c1", "email", 90)
    contact(con, "c2")
    activity(con, "c2", "email", 91)
    contact(con, "c3")
    run(con, "INSERT INTO core.contact_sources VALUES "
             "('t1', 'imp1', 2, 's2', 'imp1:2', 'c2', 1, 'new', $at, NULL)", {"at": T0})
    run(con, "INSERT INTO staging.field_issues VALUES "
             "('t1', 'imp1', 2, 'phone', '12', 'invalid_phone'),"
             "('t1', 'imp1', 9, 'email', 'nope@', 'invalid_email'),"
             "('t2', 'imp1', 2, 'email', 'other@', 'invalid_email')")
    marts_stage(con, "t1", AS_OF)
    found = {(r["contact_id"], r["field"], r["original_value"], r["issue"], r["row_number"])
             for r in rows(con, "SELECT * FROM marts.data_hygiene WHERE as_of = $d",
                           {"d": AS_OF})}
    assert found == {
        ("c2", "phone", "12", "invalid_phone", 2),
        (None, "email", "nope@", "invalid_email", 9),
        ("c1", "email", "x@example.com", "bounced_email", None),
        ("c2", "record", None, "stale_record", None),
        ("c3", "record", None, "stale_record", None),
    }


# --- the whole refresh ------------------------------------------------------------------------

def snapshot(con, tenant: str = "t1") -> dict[str, list]:
    tables = ("engagement", "engagement_by_type", "lead_scores", "lifecycle", "lifecycle_history",
              "retention_risk", "data_hygiene", "contact_segments", "segment_history")
    return {t: sorted(map(str, run(con, f"SELECT * FROM marts.{t} WHERE tenant_id = $t",
                                   {"t": tenant}))) for t in tables}


def busy_tenant(con, tenant: str) -> None:
    contact(con, "c1", tenant=tenant, company_size=500, job_title="VP Sales")
    activity(con, "c1", "purchase", 40, tenant=tenant)
    activity(con, "c1", "support", 3, tenant=tenant, ticket_id="T1", status="open")
    contact(con, "c2", tenant=tenant, email_status="bounced", email="b@x.io")
    activity(con, "c2", "webinar", 100, tenant=tenant)
    contact(con, "c3", tenant=tenant)


def test_refresh_reports_rows_per_mart_and_segment_sizes(con):
    busy_tenant(con, "t1")
    counts = marts_stage(con, "t1", AS_OF)
    assert counts["marts.engagement"] == counts["marts.lead_scores"] == 3
    assert counts["marts.lifecycle"] == 3
    assert counts["marts.retention_risk"] == 1
    assert counts["segment.support_active"] == 1
    assert counts["marts.contact_segments"] == sum(
        v for k, v in counts.items() if k.startswith("segment."))
    assert counts["history_updated"] == 1


def test_a_second_run_for_the_same_date_changes_nothing(con):
    busy_tenant(con, "t1")
    marts_stage(con, "t1", AS_OF)
    first = snapshot(con)
    marts_stage(con, "t1", AS_OF)
    assert snapshot(con) == first


def test_another_tenant_never_changes_a_tenants_marts(con):
    busy_tenant(con, "t1")
    marts_stage(con, "t1", AS_OF)
    alone = snapshot(con)
    busy_tenant(con, "t2")                    # same contact ids, other tenant
    for _ in range(5):
        activity(con, "c3", "form_submission", 1, tenant="t2")
        activity(con, "c1", "email", 1, tenant="t2", direction="inbound")
    marts_stage(con, "t2", AS_OF)
    marts_stage(con, "t1", AS_OF)
    assert snapshot(con) == alone
    assert snapshot(con, "t2") != alone


def test_the_refresh_runs_inside_the_callers_transaction(con):
    busy_tenant(con, "t1")
    con.execute("BEGIN")
    refresh_marts(con, "t1", AS_OF, score_tenant)
    con.execute("ROLLBACK")
    assert snapshot(con) == {t: [] for t in snapshot(con)}
