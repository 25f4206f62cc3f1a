"""Segment and lifecycle history across runs: enter, leave, stay, re-runs and earlier dates."""

from __future__ import annotations

import datetime
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from crm_pipeline.marts.refresh import latest_history_date
from crm_pipeline.pipeline import marts_stage
from crm_pipeline.warehouse import connect, create_tables, run

D1 = datetime.date(2025, 3, 31)
D2 = datetime.date(2025, 6, 30)
D3 = datetime.date(2025, 9, 30)
T0 = datetime.datetime(2024, 1, 1)
_ids = itertools.count()


def contact(con, contact_id: str, tenant: str = "t1") -> None:
    run(con, "INSERT INTO core.contacts (tenant_id, contact_id, first_seen_at, updated_at) "
             "VALUES ($t, $c, $at, $at)", {"t": tenant, "c": contact_id, "at": T0})


def activity(con, contact_id: str, type_: str, day: datetime.date, tenant: str = "t1") -> None:
    run(con, "INSERT INTO core.activities (tenant_id, activity_id, contact_id, type, occurred_at, "
             "content_hash, import_id, line_number) VALUES ($t, $a, $c, $type, $at, 'h', 'i', 1)",
        {"t": tenant, "a": f"a{next(_ids)}", "c": contact_id, "type": type_,
         "at": datetime.datetime.combine(day, datetime.time(9))})


def spells(con, table: str, item: str, tenant: str = "t1") -> set[tuple]:
    return set(run(con, f"SELECT contact_id, {item}, entered_on, left_on FROM marts.{table} "
                        "WHERE tenant_id = $t", {"t": tenant}))


def stale_spells(con) -> set[tuple]:
    return {(c, entered, left) for c, seg, entered, left in
            spells(con, "segment_history", "segment") if seg == "stale_records"}


def three_contacts(con) -> None:
    """always: never active (stale at every date); leaver: silent at D1, active just before D2;
    joiner: active just before D1, silent by D2."""
    for cid in ("always", "leaver", "joiner"):
        contact(con, cid)
    activity(con, "leaver", "email", D2 - datetime.timedelta(days=1))
    activity(con, "joiner", "email", D1 - datetime.timedelta(days=1))


def test_history_records_who_entered_left_and_stayed(con):
    three_contacts(con)
    marts_stage(con, "t1", D1)
    assert stale_spells(con) == {("always", D1, None), ("leaver", D1, None)}
    marts_stage(con, "t1", D2)
    assert stale_spells(con) == {("always", D1, None), ("leaver", D1, D2), ("joiner", D2, None)}


def test_a_second_run_for_the_same_date_undoes_the_first_runs_changes(con):
    three_contacts(con)
    marts_stage(con, "t1", D1)
    marts_stage(con, "t1", D2)
    activity(con, "joiner", "call", D2)                        # late data: joiner not stale
    run(con, "DELETE FROM core.activities WHERE contact_id = 'leaver'")  # leaver stale again
    marts_stage(con, "t1", D2)
    assert stale_spells(con) == {("always", D1, None), ("leaver", D1, None)}
    marts_stage(con, "t1", D2)
    assert stale_spells(con) == {("always", D1, None), ("leaver", D1, None)}


def test_lifecycle_history_follows_stage_changes_and_gives_stage_since(con):
    contact(con, "c1")
    contact(con, "c2")
    activity(con, "c2", "form_submission", D1)
    marts_stage(con, "t1", D1)
    activity(con, "c1", "purchase", D2)
    marts_stage(con, "t1", D2)
    marts_stage(con, "t1", D3)
    assert spells(con, "lifecycle_history", "stage") == {
        ("c1", "prospect", D1, D2), ("c1", "customer", D2, None), ("c2", "lead", D1, None)}
    since = dict(run(con, "SELECT contact_id, stage_since FROM marts.lifecycle"))
    assert since == {"c1": D2, "c2": D1}


def test_a_run_for_an_earlier_date_leaves_history_alone(con):
    three_contacts(con)
    contact(con, "buyer")
    activity(con, "buyer", "purchase", D2)
    marts_stage(con, "t1", D1)
    marts_stage(con, "t1", D2)
    segments_before = spells(con, "segment_history", "segment")
    stages_before = spells(con, "lifecycle_history", "stage")

    counts = marts_stage(con, "t1", D1)

    assert counts["history_updated"] == 0
    assert spells(con, "segment_history", "segment") == segments_before
    assert spells(con, "lifecycle_history", "stage") == stages_before
    lifecycle = {c: (stage, since, as_of) for c, stage, since, as_of in run(
        con, "SELECT contact_id, stage, stage_since, as_of FROM marts.lifecycle")}
    assert lifecycle["buyer"] == ("prospect", D1, D1)          # the spell covering D1
    assert {r[0] for r in run(con, "SELECT DISTINCT as_of FROM marts.contact_segments")} == {D1}
    assert latest_history_date(con, "t1") == D2


def test_history_goes_on_after_a_run_for_an_earlier_date(con):
    three_contacts(con)
    marts_stage(con, "t1", D1)
    marts_stage(con, "t1", D2)
    marts_stage(con, "t1", D1)
    activity(con, "always", "email", D3)
    marts_stage(con, "t1", D3)
    assert stale_spells(con) == {("always", D1, D3), ("leaver", D1, D2), ("leaver", D3, None),
                                 ("joiner", D2, None)}


def test_one_tenants_history_is_not_touched_by_another(con):
    three_contacts(con)
    marts_stage(con, "t1", D1)
    before = spells(con, "segment_history", "segment")
    contact(con, "always", tenant="t2")
    activity(con, "always", "email", D2, tenant="t2")
    marts_stage(con, "t2", D2)
    assert spells(con, "segment_history", "segment") == before
    assert latest_history_date(con, "t1") == D1
    assert ("always", "stale_records", D2, None) not in spells(con, "segment_history",
                                                               "segment", "t2")


# --- keys: the marts have no PRIMARY KEY (an index made refreshes slow); uniqueness is tested -----

KEYS = {
    "engagement": "tenant_id, contact_id",
    "engagement_by_type": "tenant_id, contact_id, type",
    "lead_scores": "tenant_id, contact_id",
    "lifecycle": "tenant_id, contact_id",
    "retention_risk": "tenant_id, contact_id",
    "contact_segments": "tenant_id, contact_id, segment",
    "segment_history": "tenant_id, contact_id, segment, entered_on",
    "lifecycle_history": "tenant_id, contact_id, stage, entered_on",
}
CONTACTS = ("always", "leaver", "joiner")
STEP = st.tuples(st.sampled_from([D1, D2, D3]),
                 st.sampled_from([None, "email", "purchase", "form_submission", "support"]),
                 st.sampled_from(CONTACTS), st.sampled_from(["t1", "t2"]))


def key_problems(con) -> list[str]:
    """Keys held twice, overlapping open spells, spells that end before they start."""
    problems = [table for table, key in KEYS.items() if run(
        con, f"SELECT 1 FROM marts.{table} GROUP BY {key} HAVING count(*) > 1 LIMIT 1")]
    for table, item in (("segment_history", "segment"), ("lifecycle_history", "stage")):
        if run(con, f"SELECT 1 FROM marts.{table} WHERE left_on IS NULL "
                    f"GROUP BY tenant_id, contact_id, {item} HAVING count(*) > 1 LIMIT 1"):
            problems.append(f"{table}: two open spells")
        if run(con, f"SELECT 1 FROM marts.{table} WHERE left_on <= entered_on LIMIT 1"):
            problems.append(f"{table}: a spell ends before it starts")
    return problems


def open_spells_match_the_marts(con, tenant: str) -> bool:
    segments = run(con, "SELECT contact_id, segment FROM marts.segment_history "
                        "WHERE tenant_id = $t AND left_on IS NULL "
                        "EXCEPT SELECT contact_id, segment FROM marts.contact_segments "
                        "WHERE tenant_id = $t", {"t": tenant})
    members = run(con, "SELECT contact_id, segment FROM marts.contact_segments "
                       "WHERE tenant_id = $t "
                       "EXCEPT SELECT contact_id, segment FROM marts.segment_history "
                       "WHERE tenant_id = $t AND left_on IS NULL", {"t": tenant})
    stages = run(con, "SELECT contact_id, stage FROM marts.lifecycle WHERE tenant_id = $t "
                      "EXCEPT SELECT contact_id, stage FROM marts.lifecycle_history "
                      "WHERE tenant_id = $t AND left_on IS NULL", {"t": tenant})
    return not segments and not members and not stages


@settings(max_examples=8, deadline=None)
@given(steps=st.lists(STEP, min_size=2, max_size=4))
def test_any_sequence_of_runs_keeps_one_row_per_key_and_one_open_spell(steps):
    con = connect(":memory:")
    create_tables(con)
    for tenant in ("t1", "t2"):
        for cid in CONTACTS:
            contact(con, cid, tenant)
    for day, type_, cid, tenant in steps:
        if type_:
            activity(con, cid, type_, day - datetime.timedelta(days=1), tenant)
        latest = latest_history_date(con, tenant)
        marts_stage(con, tenant, day)
        assert key_problems(con) == []
        if latest is None or day >= latest:  # the history moved to this date
            assert open_spells_match_the_marts(con, tenant)
    con.close()
