"""Segment membership at a fixed as-of date: members, non-members, boundaries, consent, files."""

from __future__ import annotations

import datetime
import itertools
import json

import pytest

from crm_pipeline.errors import BadArgument
from crm_pipeline.marts.segments import load_segment, segment_definitions
from crm_pipeline.pipeline import marts_stage
from crm_pipeline.warehouse import run

AS_OF = datetime.date(2025, 6, 30)
T0 = datetime.datetime(2024, 1, 1)
_ids = itertools.count()
SEGMENTS = {"hot_leads", "existing_customers", "enterprise_prospects", "support_active",
            "cold_leads", "stale_records", "declining_engagement"}
OUTREACH = {"hot_leads", "cold_leads", "enterprise_prospects", "declining_engagement"}


def contact(con, contact_id: str, tenant: str = "t1", **fields) -> None:
    row = {"tenant_id": tenant, "contact_id": contact_id, "first_seen_at": T0,
           "updated_at": T0, "consent_status": "granted", **fields}
    run(con, f"INSERT INTO core.contacts ({', '.join(row)}) "
             f"VALUES ({', '.join('$' + k for k in row)})", row)


def activity(con, contact_id: str, type_: str, days_ago: int, tenant: str = "t1",
             **fields) -> None:
    when = datetime.datetime.combine(AS_OF - datetime.timedelta(days=days_ago),
                                     datetime.time(12))
    row = {"tenant_id": tenant, "activity_id": f"a{next(_ids)}", "contact_id": contact_id,
           "type": type_, "occurred_at": when, "content_hash": "h", "import_id": "imp",
           "line_number": 1, **fields}
    run(con, f"INSERT INTO core.activities ({', '.join(row)}) "
             f"VALUES ({', '.join('$' + k for k in row)})", row)


def tenant_settings(con, tenant: str, settings: dict) -> None:
    run(con, "INSERT INTO core.tenants VALUES ($t, NULL, 'US', 'USD', $s, $at)",
        {"t": tenant, "s": json.dumps(settings), "at": T0})


def members(con, segment: str, tenant: str = "t1") -> set[str]:
    return {r[0] for r in run(
        con, "SELECT contact_id FROM marts.contact_segments WHERE tenant_id = $t AND segment = $s",
        {"t": tenant, "s": segment})}


def customer(con, contact_id: str, **fields) -> None:
    """A contact with an active subscription and no other activity."""
    contact(con, contact_id, **fields)
    activity(con, contact_id, "subscription_start", 400)


# --- the files --------------------------------------------------------------------------------

def test_the_seven_segments_are_files_with_their_outreach_markers():
    defined = {s.name: s.outreach for s in segment_definitions()}
    assert set(defined) == SEGMENTS
    assert {name for name, outreach in defined.items() if outreach} == OUTREACH


def test_a_segment_file_without_a_marker_counts_as_outreach(tmp_path):
    path = tmp_path / "vip.sql"
    path.write_text("-- Very important people.\nSELECT contact_id FROM core.contacts;\n")
    segment = load_segment(path)
    assert (segment.name, segment.outreach) == ("vip", True)
    assert segment.query.endswith("FROM core.contacts")


def test_a_bad_outreach_marker_is_refused(tmp_path):
    path = tmp_path / "vip.sql"
    path.write_text("-- outreach: maybe\nSELECT contact_id FROM core.contacts\n")
    with pytest.raises(BadArgument, match="outreach marker"):
        load_segment(path)


# --- membership -------------------------------------------------------------------------------

def hot_tenant(con, tenant: str = "t1") -> None:
    """Ten contacts: seven with score 0, one low scorer active today, two strong leads active
    14 and 15 days ago (percentiles 0.78, 0.89 and 1.0)."""
    for i in range(7):
        contact(con, f"zero{i}", tenant=tenant)
    contact(con, "low_today", tenant=tenant)
    activity(con, "low_today", "email", 0, tenant=tenant)
    for cid, days_ago in (("strong14", 14), ("strong15", 15)):
        contact(con, cid, tenant=tenant, job_title="CEO", company_size=5000, industry="software")
        activity(con, cid, "email", days_ago, tenant=tenant)


def test_hot_leads_need_recent_activity_and_a_top_fifth_score(con):
    hot_tenant(con)
    marts_stage(con, "t1", AS_OF)
    percentile = dict(run(con, "SELECT contact_id, score_percentile FROM marts.lead_scores"))
    assert percentile["strong15"] >= 0.8 > percentile["low_today"]
    assert members(con, "hot_leads") == {"strong14"}


def test_a_tenant_override_of_hot_days_changes_membership(con):
    tenant_settings(con, "t1", {"thresholds": {"hot_days": 15}})
    hot_tenant(con)
    marts_stage(con, "t1", AS_OF)
    assert members(con, "hot_leads") == {"strong14", "strong15"}


def test_existing_customers_have_an_active_subscription_or_a_recent_purchase(con):
    for cid, days_ago in (("bought365", 365), ("bought366", 366)):
        contact(con, cid)
        activity(con, cid, "purchase", days_ago)
    customer(con, "subscriber", consent_status="denied")
    contact(con, "ended")
    activity(con, "ended", "subscription_start", 400)
    activity(con, "ended", "subscription_end", 100)
    contact(con, "ends_tomorrow")
    activity(con, "ends_tomorrow", "subscription_start", 400)
    activity(con, "ends_tomorrow", "subscription_end", -1)
    contact(con, "same_moment")                    # an end at the start's moment ends it
    activity(con, "same_moment", "subscription_start", 50)
    activity(con, "same_moment", "subscription_end", 50)
    marts_stage(con, "t1", AS_OF)
    assert members(con, "existing_customers") == {"bought365", "subscriber", "ends_tomorrow"}


def test_enterprise_prospects_are_large_companies_never_customers(con):
    contact(con, "size100", company_size=100)
    contact(con, "size99", company_size=99)
    contact(con, "unknown_size")
    customer(con, "big_customer", company_size=5000)
    contact(con, "big_churned", company_size=5000)
    activity(con, "big_churned", "purchase", 800)
    contact(con, "big_denied", company_size=5000, consent_status="denied")
    marts_stage(con, "t1", AS_OF)
    assert members(con, "enterprise_prospects") == {"size100"}


def test_support_active_means_an_open_ticket_or_recent_support_contact(con):
    contact(con, "open_old")
    activity(con, "open_old", "support", 100, ticket_id="T1", status="open")
    activity(con, "open_old", "support", 90, ticket_id="T1", status=None)   # a note, no status
    activity(con, "open_old", "support", -1, ticket_id="T1", status="closed")  # tomorrow
    contact(con, "closed_old")
    activity(con, "closed_old", "support", 100, ticket_id="T2", status="open")
    activity(con, "closed_old", "support", 95, ticket_id="T2", status="closed")
    contact(con, "support14", consent_status="denied")
    activity(con, "support14", "support", 14, ticket_id="T3", status="closed")
    contact(con, "support15")
    activity(con, "support15", "support", 15, ticket_id="T4", status="closed")
    contact(con, "email_only")
    activity(con, "email_only", "email", 1)
    marts_stage(con, "t1", AS_OF)
    assert members(con, "support_active") == {"open_old", "support14"}


def test_cold_leads_are_non_customers_silent_for_more_than_60_days(con):
    contact(con, "never_active")
    contact(con, "quiet61")
    activity(con, "quiet61", "email", 61)
    contact(con, "quiet60")
    activity(con, "quiet60", "email", 60)
    contact(con, "bounce_only")
    activity(con, "bounce_only", "email_bounce", 1)
    customer(con, "silent_customer")
    contact(con, "denied", consent_status="denied")
    marts_stage(con, "t1", AS_OF)
    assert members(con, "cold_leads") == {"never_active", "quiet61", "bounce_only"}


def test_stale_records_have_no_activity_for_more_than_90_days(con):
    contact(con, "never_active", consent_status="denied")
    contact(con, "quiet91")
    activity(con, "quiet91", "email", 91)
    contact(con, "quiet90")
    activity(con, "quiet90", "email", 90)
    contact(con, "future_only")
    activity(con, "future_only", "email", -3)
    marts_stage(con, "t1", AS_OF)
    assert members(con, "stale_records") == {"never_active", "quiet91", "future_only"}


def test_declining_engagement_is_customers_below_half_their_baseline(con):
    def baseline(cid: str, recent: int, **fields) -> None:
        customer(con, cid, **fields)              # start at 400 days: outside the baseline
        for i in range(12):                       # 12 in days 31..210: 2 per 30 days
            activity(con, cid, "email", 31 + 15 * i)
        for _ in range(recent):
            activity(con, cid, "email", 5)

    baseline("declined", 0)
    baseline("half", 1)
    baseline("declined_denied", 0, consent_status="denied")
    customer(con, "no_baseline")
    contact(con, "not_customer")
    for i in range(12):
        activity(con, "not_customer", "email", 31 + 15 * i)
    marts_stage(con, "t1", AS_OF)
    assert members(con, "declining_engagement") == {"declined"}


def test_consent_denied_leaves_outreach_segments_only(con):
    contact(con, "denied", consent_status="denied", company_size=500)
    activity(con, "denied", "purchase", 800)       # churned, silent: cold but not prospect
    contact(con, "denied_customer", consent_status="DENIED")
    activity(con, "denied_customer", "purchase", 200)
    activity(con, "denied_customer", "support", 1)
    marts_stage(con, "t1", AS_OF)
    found = {r[0]: set() for r in run(con, "SELECT contact_id FROM core.contacts")}
    for cid, segment in run(con, "SELECT contact_id, segment FROM marts.contact_segments"):
        found[cid].add(segment)
    assert found == {"denied": {"stale_records"},
                     "denied_customer": {"existing_customers", "support_active"}}


def test_segments_never_include_another_tenants_contacts(con):
    hot_tenant(con, "t1")
    hot_tenant(con, "t2")
    activity(con, "strong15", "email", 0, tenant="t2")
    marts_stage(con, "t1", AS_OF)
    marts_stage(con, "t2", AS_OF)
    assert members(con, "hot_leads", "t1") == {"strong14"}
    assert members(con, "hot_leads", "t2") == {"strong14", "strong15"}


def test_outreach_uses_consent_at_the_as_of_date_and_now(con):
    def history(contact_id: str, status: str, day: datetime.date) -> None:
        run(con, "INSERT INTO core.consent_history VALUES ('t1', $c, $s, NULL, 'test', $at, 'r')",
            {"c": contact_id, "s": status, "at": datetime.datetime.combine(day, datetime.time(9))})

    before, after = AS_OF - datetime.timedelta(days=30), AS_OF + datetime.timedelta(days=30)
    for cid in ("granted_throughout", "denied_then_granted", "granted_then_denied"):
        contact(con, cid, company_size=500)
    history("granted_throughout", "granted", before)
    history("denied_then_granted", "denied", before)
    history("denied_then_granted", "granted", after)  # after the as-of date: not yet granted
    history("granted_then_denied", "granted", before)
    history("granted_then_denied", "denied", after)
    run(con, "UPDATE core.contacts SET consent_status = 'denied' "
             "WHERE contact_id = 'granted_then_denied'")
    marts_stage(con, "t1", AS_OF)
    # As it was at the as-of date, minus anyone who has said no since.
    assert members(con, "enterprise_prospects") == {"granted_throughout"}
    assert "denied_then_granted" in members(con, "stale_records")  # not an outreach segment
