"""process_activities: validation in the contract's precedence, linking, re-deliveries, bounces."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_pipeline.activities.currency import load_rates
from crm_pipeline.activities.process import process_activities
from crm_pipeline.activities.read import stage_activity_file
from crm_pipeline.trust.audit import ChangeContext
from crm_pipeline.warehouse import connect, create_tables, run

AS_OF = date(2024, 6, 1)
AT = datetime(2024, 6, 1, 12)
SEEDED = datetime(2024, 1, 1)


def seed_contacts(con) -> None:
    """Tenant t1: c1, c2, c3 (known only through a staged source row), alias c1-old of c1.
    Tenant t2: x9. Source id hs-1 was linked to c1, then more recently to c2."""
    contacts = [
        ("t1", "c1", "ann@example.com", "+14155552671", "valid"),
        ("t1", "c2", "bob@example.com", None, "valid"),
        ("t1", "c3", None, None, "missing"),
        ("t2", "x9", "zed@example.com", "+14155550000", "valid"),
    ]
    for t, cid, email, phone, status in contacts:
        run(con, "INSERT INTO core.contacts (tenant_id, contact_id, email, phone, email_status, "
                 "first_seen_at, updated_at) VALUES ($t, $c, $e, $p, $s, $at, $at)",
            {"t": t, "c": cid, "e": email, "p": phone, "s": status, "at": SEEDED})
    sources = [
        ("t1", 1, "hs-1", "c1", datetime(2024, 1, 1)),
        ("t1", 2, "hs-2", "c2", datetime(2024, 1, 1)),
        ("t1", 3, "hs-3", "c3", datetime(2024, 1, 1)),
        ("t1", 4, "hs-1", "c2", datetime(2024, 3, 1)),
        ("t2", 1, "hs-9", "x9", datetime(2024, 1, 1)),
    ]
    for t, rn, sid, cid, linked in sources:
        run(con, "INSERT INTO core.contact_sources VALUES ($t, 'imp_seed', $rn, $sid, "
                 "'imp_seed:' || $rn, $c, 1.0, 'new', $at, 'seed')",
            {"t": t, "rn": rn, "sid": sid, "c": cid, "at": linked})
    run(con, "INSERT INTO staging.contact_rows (tenant_id, import_id, row_number, email, phone, "
             "status) VALUES ('t1', 'imp_seed', 3, 'carol@old.example.com', '+442079460958', "
             "'resolved'), ('t2', 'imp_seed', 1, 'zed@old.example.com', NULL, 'resolved')")
    run(con, "INSERT INTO core.contact_aliases VALUES ('t1', 'c1-old', 'c1', $at, 'seed')",
        {"at": SEEDED})


@pytest.fixture
def wh(con):
    seed_contacts(con)
    return con


def line(activity_id: str, **fields) -> dict:
    """A good line; a field given as None is left out."""
    base = {
        "activity_id": activity_id, "tenant_id": "t1", "type": "email",
        "occurred_at": "2024-05-01T10:00:00Z", "contact_id": "c1", "actor": "alice",
        "subject": "Hello",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def ingest(con, tmp_path, lines, name="log.jsonl", tenant="t1") -> dict:
    """Write lines (dicts as JSON, strings verbatim), stage and process them for t1."""
    path = tmp_path / name
    path.write_text(
        "\n".join(json.dumps(x) if isinstance(x, dict) else x for x in lines) + "\n",
        encoding="utf-8",
    )
    stage_activity_file(con, tenant_id=tenant, path=path, at=AT)
    ctx = ChangeContext(tenant, "run-1", "pipeline", "system", b"secret-key", AT)
    result = process_activities(con, ctx, as_of=AS_OF, base_currency="USD", home_region="US")
    assert result["rows_in"] == result["accepted"] + result["merged"] + result["quarantined"]
    return result


def quarantined(con) -> list[tuple]:
    return run(con, "SELECT row_number, reason_code, reason_detail FROM quarantine.rows "
                    "ORDER BY import_id, row_number")


def stored(con, column: str = "contact_id") -> dict:
    return dict(run(con, f"SELECT activity_id, {column} FROM core.activities"))


def test_good_lines_are_stored_with_times_in_utc(wh, tmp_path):
    result = ingest(wh, tmp_path, [
        line("a1", occurred_at="2024-05-01T10:00:00+02:00"),
        line("a2", occurred_at="2024-05-01T10:00:00-0530"),
        line("a3", occurred_at="2024-05-01 23:30:00.250Z"),
    ])
    assert result == {"rows_in": 3, "accepted": 3, "merged": 0, "quarantined": 0,
                      "by_reason": {}, "requarantined": {}}
    assert stored(wh, "occurred_at") == {
        "a1": datetime(2024, 5, 1, 8, 0),
        "a2": datetime(2024, 5, 1, 15, 30),
        "a3": datetime(2024, 5, 1, 23, 30, 0, 250000),
    }


BAD_LINES = {
    "not_json": ("unparseable_row", "this is not json"),
    "json_array": ("unparseable_row", "[1, 2, 3]"),
    "no_activity_id": ("unparseable_row", line(None)),
    "no_tenant": ("missing_tenant", line("b", tenant_id=None)),
    "empty_tenant": ("missing_tenant", line("b", tenant_id="  ")),
    "other_tenant": ("tenant_mismatch", line("b", tenant_id="t2")),
    "no_time_zone": ("bad_timestamp", line("b", occurred_at="2024-05-01T10:00:00")),
    "unreadable_time": ("bad_timestamp", line("b", occurred_at="last tuesday")),
    "impossible_date": ("bad_timestamp", line("b", occurred_at="2024-02-30T10:00:00Z")),
    "no_time": ("bad_timestamp", line("b", occurred_at=None)),
    "unknown_type": ("unknown_activity_type", line("b", type="telegram")),
    "no_type": ("unknown_activity_type", line("b", type=None)),
    "future": ("future_timestamp", line("b", occurred_at="2024-06-03T00:00:01Z")),
    "future_held_meeting": ("future_timestamp",
                            line("b", type="meeting", status="held",
                                 occurred_at="2024-07-01T09:00:00Z")),
    "agent_wrong_type": ("actor_not_permitted",
                         line("b", type="purchase", amount=5, actor="mercer",
                              actor_kind="agent")),
    "listed_agent_without_kind": ("actor_not_permitted",
                                  line("b", type="meeting", actor="cheryl")),
    "unlisted_agent": ("actor_not_permitted", line("b", actor="robo", actor_kind="agent")),
    "unknown_actor_kind": ("actor_not_permitted", line("b", actor_kind="robot")),
    "unknown_contact": ("unknown_contact", line("b", contact_id="nobody")),
    "no_reference": ("unknown_contact", line("b", contact_id=None)),
    "unknown_currency": ("unknown_currency",
                         line("b", type="purchase", amount=5, currency="XXX")),
    "purchase_without_amount": ("bad_amount", line("b", type="purchase")),
    "refund_amount_not_a_number": ("bad_amount", line("b", type="refund", amount="five")),
}


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_a_bad_line_is_quarantined_with_its_reason_amid_good_lines(wh, tmp_path, case):
    code, bad = BAD_LINES[case]
    result = ingest(wh, tmp_path, [line("g1"), bad, line("g2")])
    assert result["accepted"] == 2 and result["quarantined"] == 1
    assert result["by_reason"] == {code: 1}
    [(row_number, reason, detail)] = quarantined(wh)
    assert (row_number, reason) == (2, code)
    assert detail and "\n" not in detail
    raw = run(wh, "SELECT raw FROM quarantine.rows")[0][0]
    assert raw == (bad if isinstance(bad, str) else json.dumps(bad))
    assert set(stored(wh)) == {"g1", "g2"}


def test_a_changed_delivery_of_an_id_in_the_same_file_is_a_conflict(wh, tmp_path):
    result = ingest(wh, tmp_path, [
        line("a1"), line("a1", subject="Changed"), line("a1"), line("a2"),
    ])
    assert (result["accepted"], result["merged"], result["quarantined"]) == (2, 1, 1)
    assert [(r, c) for r, c, _ in quarantined(wh)] == [(2, "conflicting_duplicate")]
    assert stored(wh, "subject") == {"a1": "Hello", "a2": "Hello"}


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (line("b", tenant_id=None, occurred_at="nope"), "missing_tenant"),
        (line("b", tenant_id="t2", type="telegram"), "tenant_mismatch"),
        (line("b", occurred_at="2024-05-01", type="telegram"), "bad_timestamp"),
        (line("b", type="telegram", occurred_at="2030-01-01T00:00:00Z"),
         "unknown_activity_type"),
        (line("b", occurred_at="2030-01-01T00:00:00Z", actor="mercer", type="refund"),
         "future_timestamp"),
        (line("b", actor="mercer", actor_kind="agent", type="support", contact_id="nobody"),
         "actor_not_permitted"),
        (line("b", contact_id="nobody", type="purchase", amount=1, currency="XXX"),
         "unknown_contact"),
    ],
)
def test_a_line_breaking_several_rules_gets_the_first_in_precedence(wh, tmp_path, bad, expected):
    ingest(wh, tmp_path, [bad])
    assert [c for _, c, _ in quarantined(wh)] == [expected]


def test_future_limit_is_one_day_after_the_end_of_the_as_of_date(wh, tmp_path):
    result = ingest(wh, tmp_path, [
        line("edge", occurred_at="2024-06-03T00:00:00Z"),
        line("past_edge", occurred_at="2024-06-03T00:00:00.001Z"),
        line("meeting", type="meeting", status="Scheduled", occurred_at="2024-09-01T09:00:00Z"),
    ])
    assert set(stored(wh)) == {"edge", "meeting"}
    assert result["by_reason"] == {"future_timestamp": 1}


def test_agents_write_only_granted_types_users_and_system_everything(wh, tmp_path):
    result = ingest(wh, tmp_path, [
        line("m1", actor="mercer", actor_kind="agent", type="call"),
        line("m2", actor="Mercer", type="webinar"),
        line("c1", actor="cheryl", type="support", ticket_id="T-1", status="open"),
        line("u1", actor="dana", type="purchase", amount=10),
        line("s1", actor="pipeline", actor_kind="system", type="refund", amount=3),
        line("s2", actor="Pipeline", type="subscription_start"),
        line("x1", actor="billing", actor_kind="system", type="refund", amount=3),
    ])
    # the kind is the registry's: only the pipeline itself is the system
    assert stored(wh, "actor_kind") == {
        "m1": "agent", "m2": "agent", "c1": "agent", "u1": "user", "s1": "system",
        "s2": "system",
    }
    assert result["by_reason"] == {"actor_not_permitted": 1}


def test_a_redelivery_is_merged_and_the_same_file_again_changes_nothing(wh, tmp_path):
    first = ingest(wh, tmp_path, [line("a1"), line("a2", type="call")], name="one.jsonl")
    assert first["accepted"] == 2
    # The same activity with keys reordered and other spacing, in a new file.
    redelivered = json.dumps(dict(reversed(list(line("a1").items()))), indent=None,
                             separators=(" , ", " : "))
    second = ingest(wh, tmp_path, [redelivered, line("a3")], name="two.jsonl")
    assert (second["accepted"], second["merged"], second["quarantined"]) == (1, 1, 0)
    tables = ("core.activities", "raw.activity_events", "raw.imports", "quarantine.rows",
              "audit.changes")
    before = {t: run(wh, f"SELECT count(*) FROM {t}")[0][0] for t in tables}
    again = stage_activity_file(wh, tenant_id="t1", path=tmp_path / "one.jsonl", at=AT)
    assert again["already_imported"] is True
    assert (again["rows_in"], again["rows_accepted"]) == (2, 2)
    ctx = ChangeContext("t1", "run-2", "pipeline", "system", b"secret-key", AT)
    nothing = process_activities(wh, ctx, as_of=AS_OF, base_currency="USD", home_region="US")
    assert nothing["rows_in"] == 0
    assert {t: run(wh, f"SELECT count(*) FROM {t}")[0][0] for t in tables} == before


def test_a_changed_second_file_with_a_known_id_is_a_conflicting_duplicate(wh, tmp_path):
    ingest(wh, tmp_path, [line("a1")], name="one.jsonl")
    result = ingest(wh, tmp_path, [line("a1", subject="Rewritten"), line("a2")],
                    name="two.jsonl")
    assert result["by_reason"] == {"conflicting_duplicate": 1}
    [(row_number, _, detail)] = quarantined(wh)
    assert row_number == 1 and "a1" in detail
    assert stored(wh, "subject") == {"a1": "Hello", "a2": "Hello"}


@pytest.mark.parametrize(
    ("reference", "contact"),
    [
        ({"contact_id": "c1"}, "c1"),
        ({"contact_id": "c1-old"}, "c1"),
        ({"contact_id": None, "source_id": "hs-1"}, "c2"),
        ({"contact_id": None, "source_id": "hs-3"}, "c3"),
        ({"contact_id": None, "email": "  Ann@Example.COM "}, "c1"),
        ({"contact_id": None, "email": "carol@old.example.com"}, "c3"),
        ({"contact_id": None, "phone": "(415) 555-2671"}, "c1"),
        ({"contact_id": None, "phone": "+44 20 7946 0958"}, "c3"),
        ({"contact_id": "gone", "email": "bob@example.com"}, "c2"),
    ],
    ids=["contact_id", "alias", "source_id_most_recent", "source_id", "email",
         "email_of_a_source", "phone_home_region", "phone_of_a_source", "falls_through"],
)
def test_links_by_each_kind_of_reference(wh, tmp_path, reference, contact):
    ingest(wh, tmp_path, [line("a1", **reference)])
    assert stored(wh) == {"a1": contact}


@pytest.mark.parametrize(
    ("field", "elsewhere", "nowhere"),
    [
        ("contact_id", "x9", "x404"),
        ("source_id", "hs-9", "hs-404"),
        ("email", "zed@example.com", "nobody@example.com"),
        ("email", "zed@old.example.com", "nobody@old.example.com"),
        ("phone", "+14155550000", "+14155550404"),
    ],
)
def test_another_tenants_contact_is_never_matched_nor_revealed(
    wh, tmp_path, field, elsewhere, nowhere
):
    refs = {"contact_id": None, field: elsewhere}
    result = ingest(wh, tmp_path, [line("a1", **refs),
                                   line("a2", **{"contact_id": None, field: nowhere})])
    assert result["by_reason"] == {"unknown_contact": 2}
    (_, _, d1), (_, _, d2) = quarantined(wh)
    assert d1.replace(elsewhere, "<ref>") == d2.replace(nowhere, "<ref>")
    assert "t2" not in d1 and "x9" not in d1.replace(elsewhere, "")


def test_an_email_bounce_marks_the_email_bounced_with_an_audit_row(wh, tmp_path):
    ingest(wh, tmp_path, [line("b1", type="email_bounce", contact_id="c1-old"),
                          line("b2", type="email_bounce", contact_id="c1")])
    assert run(wh, "SELECT email_status FROM core.contacts WHERE contact_id = 'c1'") == [
        ("bounced",)
    ]
    changes = run(wh, "SELECT tenant_id, action, entity_id, new FROM audit.changes")
    assert [(t, a, e, json.loads(n)) for t, a, e, n in changes] == [
        ("t1", "update", "c1", {"email_status": "bounced"})
    ]


def test_money_is_converted_and_refunds_are_positive(wh, tmp_path):
    ingest(wh, tmp_path, [
        line("p1", type="purchase", amount="100.50", currency="eur"),
        line("p2", type="purchase", amount=40),
        line("r1", type="refund", amount=-20, currency="EUR"),
    ])
    eur = load_rates().filter(currency="EUR")["usd_per_unit"][0]
    rows = {r[0]: r[1:] for r in run(
        wh, "SELECT activity_id, amount, currency, amount_base FROM core.activities")}
    assert rows["p1"][:2] == (100.5, "EUR") and rows["p1"][2] == pytest.approx(100.5 * eur)
    assert rows["p2"] == (40.0, "USD", 40.0)
    assert rows["r1"][:2] == (20.0, "EUR") and rows["r1"][2] == pytest.approx(20 * eur)


def test_every_import_is_closed_with_rows_in_equal_to_its_outcomes(wh, tmp_path):
    ingest(wh, tmp_path, [line("a1"), "oops", line("a1"), line("a2", contact_id="nobody"),
                          "", line("a3")], name="one.jsonl")
    ingest(wh, tmp_path, [line("a3"), line("a4")], name="two.jsonl")
    rows = run(wh, "SELECT rows_in, rows_accepted, rows_merged, rows_quarantined, "
                   "processed_run_id FROM raw.imports ORDER BY imported_at, file_name")
    assert rows == [(5, 2, 1, 2, "run-1"), (2, 1, 1, 0, "run-1")]


def test_quarantined_line_numbers_count_blank_lines(wh, tmp_path):
    ingest(wh, tmp_path, [line("a1"), "", "   ", "broken {", line("a2")])
    assert [(r, c) for r, c, _ in quarantined(wh)] == [(4, "unparseable_row")]
    assert stored(wh, "line_number") == {"a1": 1, "a2": 5}




@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    extra=st.dictionaries(st.sampled_from(["direction", "notes", "ticket_id", "status"]),
                          st.text(max_size=8), max_size=4),
    order=st.randoms(use_true_random=False),
    spacing=st.sampled_from([(",", ":"), (", ", ": "), (" ,  ", " :\t")]),
)
def test_key_order_and_spacing_never_make_a_redelivery_a_conflict(tmp_path_factory, extra,
                                                                  order, spacing):
    con = connect(":memory:")
    create_tables(con)
    seed_contacts(con)
    tmp = tmp_path_factory.mktemp("redelivery")
    original = line("a1", **extra)
    items = list(original.items())
    order.shuffle(items)
    again = json.dumps(dict(items), separators=spacing)
    ingest(con, tmp, [original], name="one.jsonl")
    result = ingest(con, tmp, [again], name="two.jsonl")
    assert (result["merged"], result["quarantined"]) == (1, 0)
    con.close()


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(
    st.lists(st.tuples(st.sampled_from(["a1", "a2", "a3"]), st.sampled_from(["Hi", "Yo"]),
                       st.booleans()), min_size=1, max_size=6),
    min_size=1, max_size=3))
def test_an_activity_id_is_stored_at_most_once_however_it_is_delivered(tmp_path_factory, files):
    """core.activities has no primary key: uniqueness comes from the merge/conflict rules."""
    con = connect(":memory:")
    create_tables(con)
    seed_contacts(con)
    tmp = tmp_path_factory.mktemp("deliveries")
    for n, deliveries in enumerate(files):
        ingest(con, tmp, [line(a, subject=s, tenant_id="t1" if good else "t2")
                          for a, s, good in deliveries], name=f"f{n}.jsonl")
    ids = run(con, "SELECT activity_id, count(*) FROM core.activities GROUP BY 1")
    assert all(c == 1 for _, c in ids)
    assert {a for a, _ in ids} == {a for d in files for a, _, good in d if good}
    con.close()


def test_a_hash_stored_as_sha256_by_an_earlier_version_still_recognises_a_redelivery(wh, tmp_path):
    ingest(wh, tmp_path, [line("a1"), line("a2")], name="one.jsonl")
    # What earlier versions stored: sha256 over the same canonical text.
    run(wh, """
        UPDATE core.activities a SET content_hash = sha256(to_json([
            o.activity_id, o.type, o.occurred_at, o.contact_id, o.source_id, o.email, o.phone,
            o.actor, o.actor_kind, o.direction, o.subject, o.notes, o.amount, o.currency,
            o.ticket_id, o.status])::VARCHAR)
        FROM (SELECT e.line_number, unnest(json_transform(e.line, '{"activity_id": "VARCHAR",
                "type": "VARCHAR", "occurred_at": "VARCHAR", "contact_id": "VARCHAR",
                "source_id": "VARCHAR", "email": "VARCHAR", "phone": "VARCHAR",
                "actor": "VARCHAR", "actor_kind": "VARCHAR", "direction": "VARCHAR",
                "subject": "VARCHAR", "notes": "VARCHAR", "amount": "VARCHAR",
                "currency": "VARCHAR", "ticket_id": "VARCHAR", "status": "VARCHAR"}'))
              FROM raw.activity_events e) o
        WHERE o.line_number = a.line_number""")
    assert {len(h) for (h,) in run(wh, "SELECT content_hash FROM core.activities")} == {64}
    result = ingest(wh, tmp_path, [line("a1"), line("a2", subject="Changed")], name="two.jsonl")
    assert (result["merged"], result["by_reason"]) == (1, {"conflicting_duplicate": 1})
    assert {len(h) for (h,) in run(wh, "SELECT content_hash FROM core.activities")} == {32}


def _outcome_in_slices(files, slice_lines, tmp) -> tuple:
    import crm_pipeline.activities.process as activities

    default = activities.SLICE_LINES
    activities.SLICE_LINES = slice_lines
    try:
        con = connect(":memory:")
        create_tables(con)
        seed_contacts(con)
        results = [ingest(con, tmp, lines, name=f"f{n}.jsonl") for n, lines in enumerate(files)]
        stored_rows = run(con, "SELECT * FROM core.activities ORDER BY activity_id")
        return results, stored_rows, quarantined(con)
    finally:
        activities.SLICE_LINES = default


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    files=st.lists(st.lists(st.one_of(
        st.builds(lambda a, s, t, ty: line(a, subject=s, tenant_id=t, type=ty),
                  st.sampled_from(["a1", "a2", "a3"]), st.sampled_from(["Hi", "Yo"]),
                  st.sampled_from(["t1", "t1", "t2"]),
                  st.sampled_from(["email", "email_bounce", "call"])),
        st.just("not json"), st.just("")), min_size=1, max_size=8), min_size=1, max_size=2),
    slice_lines=st.integers(min_value=1, max_value=4),
)
def test_an_import_checked_in_slices_has_the_outcome_of_one_go(tmp_path_factory, files,
                                                               slice_lines):
    files = [[line(f"g{n}"), *lines] for n, lines in enumerate(files)]  # never refused whole
    whole = _outcome_in_slices(files, 10**9, tmp_path_factory.mktemp("whole"))
    sliced = _outcome_in_slices(files, slice_lines, tmp_path_factory.mktemp("sliced"))
    assert sliced == whole
