"""The refresh's shortcuts give the rows the general rules give: a tenant's first run, the one-row-
per-contact helper, and segment membership without DISTINCT."""

from __future__ import annotations

import datetime
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from crm_pipeline.marts.segments import Segment, membership_insert
from crm_pipeline.pipeline import marts_stage
from crm_pipeline.warehouse import connect, create_tables, run

D1 = datetime.date(2025, 3, 31)
T0 = datetime.datetime(2024, 1, 1)
_ids = itertools.count()
TYPES = ("email", "call", "purchase", "form_submission", "subscription_start", "support")
HISTORIES = {"segment_history": "segment", "lifecycle_history": "stage"}


def contact(con, contact_id: str, tenant: str) -> None:
    run(con, "INSERT INTO core.contacts (tenant_id, contact_id, company_size, first_seen_at, "
             "updated_at) VALUES ($t, $c, 500, $at, $at)", {"t": tenant, "c": contact_id, "at": T0})


def activity(con, contact_id: str, type_: str, days_ago: int, tenant: str) -> None:
    run(con, "INSERT INTO core.activities (tenant_id, activity_id, contact_id, type, occurred_at, "
             "direction, content_hash, import_id, line_number) "
             "VALUES ($t, $a, $c, $type, $at, 'inbound', 'h', 'i', 1)",
        {"t": tenant, "a": f"a{next(_ids)}", "c": contact_id, "type": type_,
         "at": datetime.datetime.combine(D1 - datetime.timedelta(days=days_ago),
                                         datetime.time(9))})


def spells(con, table: str, tenant: str) -> set[tuple]:
    return set(run(con, f"SELECT contact_id, {HISTORIES[table]}, entered_on, left_on "
                        f"FROM marts.{table} WHERE tenant_id = $t", {"t": tenant}))


def same_data(con, tenants: tuple[str, ...], activities: list[tuple[int, str, int]]) -> None:
    for tenant in tenants:
        for i in range(4):
            contact(con, f"c{i}", tenant)
        for who, type_, days_ago in activities:
            activity(con, f"c{who}", type_, days_ago, tenant)


@settings(max_examples=15)
@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from(TYPES), st.integers(0, 500)),
                max_size=12))
def test_a_first_run_writes_the_history_that_matching_an_empty_one_gives(activities):
    """t1's first run opens its spells directly; t2 (same data, a stale marts row so its run is
    not a first one, and no history) goes through the matching: the histories are the same."""
    con = connect(":memory:")
    create_tables(con)
    same_data(con, ("t1", "t2"), activities)
    run(con, "INSERT INTO marts.lifecycle VALUES ('t2', 'gone', $d, 'lead', NULL, 'x')",
        {"d": D1 - datetime.timedelta(days=1)})

    first, matched = marts_stage(con, "t1", D1), marts_stage(con, "t2", D1)

    assert first == matched
    for table in HISTORIES:
        assert spells(con, table, "t1") == spells(con, table, "t2")
    members = set(run(con, "SELECT contact_id, segment, as_of, NULL FROM marts.contact_segments "
                           "WHERE tenant_id = 't1'"))
    assert spells(con, "segment_history", "t1") == members
    lifecycle = set(run(con, "SELECT contact_id, stage, stage_since, NULL FROM marts.lifecycle "
                             "WHERE tenant_id = 't1'"))
    assert spells(con, "lifecycle_history", "t1") == lifecycle
    con.close()


def test_every_contact_gets_one_row_in_each_per_contact_mart(con):
    same_data(con, ("t1",), [(0, "email", 1), (0, "purchase", 3), (0, "call", 40),
                             (1, "subscription_start", 10)])
    activity(con, "nobody", "email", 1, "t1")        # an activity of no known contact
    counts = marts_stage(con, "t1", D1)
    for table in ("engagement", "lead_scores", "lifecycle"):
        rows = run(con, f"SELECT contact_id, count(*) FROM marts.{table} GROUP BY ALL")
        assert sorted(rows) == [(f"c{i}", 1) for i in range(4)]
        assert counts[f"marts.{table}"] == 4
    by_type = run(con, "SELECT DISTINCT contact_id FROM marts.engagement_by_type")
    assert sorted(by_type) == [("c0",), ("c1",)]


def test_a_segment_lists_each_member_once_and_only_the_tenants_contacts(con):
    for tenant in ("t1", "t2"):
        contact(con, "c1", tenant)
    contact(con, "c2", "t1")
    contact(con, "only_t2", "t2")
    run(con, "CREATE TEMP TABLE mart_segment_audience AS SELECT contact_id, true AS "
             "outreach_allowed FROM core.contacts WHERE tenant_id = 't1'")
    run(con, "CREATE TEMP TABLE mart_segment_members AS SELECT * FROM marts.contact_segments "
             "LIMIT 0")
    query = ("SELECT contact_id FROM core.contacts UNION ALL SELECT 'c1' "
             "UNION ALL SELECT NULL")                # duplicates, t2's contacts and a NULL
    segment = Segment(name="everyone", query=query, outreach=True, path=None)

    inserted = run(con, membership_insert(segment),
                   {"tenant_id": "t1", "segment": "everyone", "as_of": D1})

    assert inserted[0][0] == 2
    assert sorted(run(con, "SELECT * FROM mart_segment_members")) == [
        ("t1", "c1", "everyone", D1), ("t1", "c2", "everyone", D1)]
