"""Hostile activity lines: values a later stage cannot hold, actors that claim a kind or borrow
an agent's name, odd offsets and years, ids that are not strings, repeated keys.

Each is refused at the door with a reason code; a row an earlier version let in is taken out
again by the next run, so a tenant never stays blocked (issue 13, items 1, 10 and 17)."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta

import duckdb
import pytest
from helpers import HUBSPOT_HEADER, crm, shard, write_csv, write_jsonl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_activities import ingest, line, quarantined, seed_contacts, stored

from crm_pipeline.activities.validate import MAX_AMOUNT, MAX_ID_LENGTH
from crm_pipeline.trust.confusables import _table, confusable, folded, skeleton
from crm_pipeline.trust.roles import SYSTEM_ACTOR, Roles
from crm_pipeline.warehouse import connect, create_tables, run

AS_OF = "2026-11-15"
CONTACTS = [
    "101,Ann,Lee,ann.lee@example.com,+1 415 555 2671,Acme Inc.,CEO,250,Boston,US,2024-03-12 09:14",
    "103,Bob,Stone,bob@example.com,415-555-0100,Beta LLC,Engineer,12,Austin,US,2024-01-02 08:00",
]


def purchase(activity_id: str, amount, **fields) -> dict:
    base = {"activity_id": activity_id, "tenant_id": "t1", "type": "purchase",
            "occurred_at": "2026-10-01T10:00:00Z", "source_id": "101", "actor": "jane",
            "amount": amount}
    return base | fields


def raw_purchase(activity_id: str, amount_json: str) -> str:
    """A line written by hand, for amounts json.dumps would not write (NaN, 1e400)."""
    return (f'{{"activity_id": "{activity_id}", "tenant_id": "t1", "type": "purchase", '
            f'"occurred_at": "2026-10-01T10:00:00Z", "source_id": "101", "actor": "jane", '
            f'"amount": {amount_json}}}')


def q(home, sql, params=None):
    con = duckdb.connect(str(shard(home, "t1")), read_only=True)
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


# --- item 1: poison amounts, through the real import and run ------------------------------------

POISON = {
    "p_trillions": purchase("p_trillions", 2_000_000_000_000),
    "p_1e308": raw_purchase("p_1e308", "1e308"),
    "p_1e400": raw_purchase("p_1e400", "1e400"),
    "p_bare_nan": raw_purchase("p_bare_nan", "NaN"),
    "p_nan": purchase("p_nan", "NaN"),
    "p_infinity": purchase("p_infinity", "Infinity"),
    "p_minus_inf": purchase("p_minus_inf", "-Infinity"),
    "p_1e999": purchase("p_1e999", "1e999"),
    "p_missing": {k: v for k, v in purchase("p_missing", 0).items() if k != "amount"},
    "p_refund_huge": purchase("p_refund_huge", -1e13, type="refund"),
    # below the bound in pounds, above it in the tenant's dollars once converted
    "p_converted": purchase("p_converted", 900_000_000_000, currency="GBP"),
    "e_email_inf": purchase("e_email_inf", "inf", type="email"),
}
GOOD = [purchase("g_small", 120.5), purchase("g_edge", 999_999_999_999.99),
        purchase("g_refund", 10, type="refund", source_id="103")]


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory):
    d = tmp_path_factory.mktemp("poison")
    home = d / "home"
    contacts = write_csv(d / "c.csv", HUBSPOT_HEADER, CONTACTS)
    acts = write_jsonl(d / "a.jsonl", [*GOOD[:1], *POISON.values(), *GOOD[1:]])
    codes = [
        crm(home, "import", "contacts", contacts, "--tenant", "t1", "--no-run")[0],
        crm(home, "import", "activities", acts, "--tenant", "t1", "--as-of", AS_OF)[0],
        crm(home, "run", "--as-of", AS_OF)[0],
    ]
    return home, codes


def test_poison_amounts_are_quarantined_and_every_run_succeeds(poisoned):
    home, codes = poisoned
    assert codes == [0, 0, 0]
    stored_ids = {a for (a,) in q(home, "SELECT activity_id FROM core.activities")}
    assert stored_ids == {g["activity_id"] for g in GOOD}
    reasons = q(home, "SELECT reason_code, count(*) FROM quarantine.rows WHERE kind = 'activity' "
                      "GROUP BY 1")
    assert reasons == [("bad_amount", len(POISON))]
    statuses = q(home, "SELECT status FROM audit.runs WHERE tenant_id = 't1' ORDER BY started_at")
    assert statuses and all(s == "success" for (s,) in statuses)
    # the value stage held the largest amount the door lets in
    assert q(home, "SELECT count(*) FROM marts.customer_ltv WHERE tenant_id = 't1'")[0][0] >= 1


def test_each_poison_line_says_why_in_one_line(poisoned):
    home, _ = poisoned
    details = dict(q(home, "SELECT json_extract_string(raw, '$.activity_id'), reason_detail "
                           "FROM quarantine.rows WHERE kind = 'activity'"))
    assert "out of range" in details["p_trillions"] and "finite" in details["p_infinity"]
    assert "missing" in details["p_missing"] and "USD" in details["p_converted"]
    assert all(d and "\n" not in d for d in details.values())


@pytest.fixture(scope="module")
def converged(tmp_path_factory):
    """A home whose warehouse holds rows an earlier version accepted: amounts no later stage
    can hold, and a time before 1900."""
    d = tmp_path_factory.mktemp("old_home")
    home = d / "home"
    contacts = write_csv(d / "c.csv", HUBSPOT_HEADER, CONTACTS)
    acts = write_jsonl(d / "a.jsonl", [
        purchase("o1", 10), purchase("o2", 20), purchase("o3", 30, source_id="103"),
        purchase("o4", 40, type="email"), purchase("o5", 50),
    ])
    assert crm(home, "import", "contacts", contacts, "--tenant", "t1", "--no-run")[0] == 0
    assert crm(home, "import", "activities", acts, "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    con = duckdb.connect(str(shard(home, "t1")))
    try:
        for aid, amount, base in (("o1", 2e12, 2e12), ("o2", float("nan"), float("nan")),
                                  ("o3", 5e11, float("inf"))):
            con.execute("UPDATE core.activities SET amount = $a, amount_base = $b "
                        "WHERE activity_id = $i", {"a": amount, "b": base, "i": aid})
        con.execute("UPDATE core.activities SET occurred_at = TIMESTAMP '0001-03-01 00:00:00' "
                     "WHERE activity_id = 'o4'")
    finally:
        con.close()
    first = crm(home, "run", "--as-of", AS_OF)[0]
    after_first = q(home, "SELECT count(*) FROM quarantine.rows")[0][0]
    second = crm(home, "run", "--as-of", AS_OF)[0]
    return home, first, second, after_first


def test_rows_an_earlier_version_accepted_are_quarantined_and_the_tenant_converges(converged):
    home, first, second, after_first = converged
    assert (first, second) == (0, 0)
    assert {a for (a,) in q(home, "SELECT activity_id FROM core.activities")} == {"o5"}
    got = q(home, "SELECT json_extract_string(raw, '$.activity_id'), reason_code, "
                  "run_id IS NOT NULL FROM quarantine.rows ORDER BY row_number")
    assert got == [("o1", "bad_amount", True), ("o2", "bad_amount", True),
                   ("o3", "bad_amount", True), ("o4", "bad_timestamp", True)]
    # the second run found nothing more to take out
    assert q(home, "SELECT count(*) FROM quarantine.rows")[0][0] == after_first


def test_requarantined_rows_keep_their_import_balanced_and_listed(converged):
    home, *_ = converged
    [(rows_in, accepted, merged, quarantined_n, error_file)] = q(
        home, "SELECT rows_in, rows_accepted, rows_merged, rows_quarantined, error_file "
              "FROM raw.imports WHERE kind = 'activity'")
    assert (rows_in, accepted, merged, quarantined_n) == (5, 1, 0, 4)
    with open(error_file, encoding="utf-8") as fh:
        listed = fh.read()
    assert all(f'""activity_id"": ""{a}""' in listed for a in ("o1", "o2", "o3", "o4"))


def test_the_bound_is_what_money_is_summed_in():
    con = duckdb.connect()
    below = math.nextafter(MAX_AMOUNT, 0)
    assert con.execute("SELECT CAST($x AS DECIMAL(18, 6)) > 0", {"x": below}).fetchone()[0]
    with pytest.raises(duckdb.Error):
        con.execute("SELECT CAST($x AS DECIMAL(18, 6))", {"x": MAX_AMOUNT}).fetchone()


# --- item 10 and 17: through the library path the import uses ----------------------------------


@pytest.fixture
def wh():
    con = connect(":memory:")
    create_tables(con)
    seed_contacts(con)
    yield con
    con.close()


ACTORS = {
    # a declared kind never grants anything
    "agent_as_system": ("actor_not_permitted", line("b", actor="tina", actor_kind="system")),
    "agent_as_user": ("actor_not_permitted", line("b", actor="tina", actor_kind="User")),
    "unknown_as_system": ("actor_not_permitted", line("b", actor="billing", actor_kind="system")),
    "unknown_as_agent": ("actor_not_permitted", line("b", actor="robo", actor_kind="agent")),
    # a name that only looks like an agent's, or the pipeline's
    "cyrillic_i": ("actor_not_permitted", line("b", actor="t\u0456na")),
    "cyrillic_i_as_user": ("actor_not_permitted", line("b", actor="t\u0456na", actor_kind="user")),
    "cyrillic_capital_t": ("actor_not_permitted", line("b", actor="\u0422INA")),
    "cyrillic_e_in_mercer": ("actor_not_permitted", line("b", actor="merc\u0435r")),
    "pipeline_lookalike": ("actor_not_permitted",
                           line("b", actor="p\u0456peline", actor_kind="system")),
    # the same name written otherwise is that agent, with that agent's grants (none here)
    "fullwidth": ("actor_not_permitted", line("b", actor="\uff54\uff49\uff4e\uff41")),
    "zero_width": ("actor_not_permitted", line("b", actor="ti\u200bna")),
    "upper_case": ("actor_not_permitted", line("b", actor="TINA")),
}


@pytest.mark.parametrize("case", sorted(ACTORS))
def test_an_actor_is_what_the_registry_says_whatever_the_line_claims(wh, tmp_path, case):
    code, bad = ACTORS[case]
    result = ingest(wh, tmp_path, [line("g1"), bad, line("g2")])
    assert result["by_reason"] == {code: 1}
    [(row_number, reason, detail)] = quarantined(wh)
    assert (row_number, reason) == (2, code) and "\n" not in detail


def test_people_the_system_and_agents_within_grants_are_accepted_with_the_registrys_kind(
    wh, tmp_path
):
    result = ingest(wh, tmp_path, [
        line("u1", actor="jane.rep", actor_kind="User"),
        line("u2", actor="dana"),
        line("s1", actor="pipeline", actor_kind="system", type="subscription_start"),
        line("s2", actor="Pipeline", type="purchase", amount=3),
        line("m1", actor="Mercer", actor_kind="AGENT", type="call"),
        line("m2", actor="\uff4d\uff45\uff52\uff43\uff45\uff52", type="call"),  # full width
    ])
    assert result["quarantined"] == 0
    assert stored(wh, "actor_kind") == {"u1": "user", "u2": "user", "s1": "system",
                                        "s2": "system", "m1": "agent", "m2": "agent"}


def test_the_lookalike_detail_names_the_agent_imitated(wh, tmp_path):
    ingest(wh, tmp_path, [line("b", actor="t\u0456na", type="email")])
    [(_, _, detail)] = quarantined(wh)
    assert "'tina'" in detail


ROLES = Roles.load()
# Every single-character look-alike Unicode lists for a letter of an agent's name.
_LOOKALIKES = {}
for _source, _target in _table().items():
    if len(_target) == 1 and _target.isascii() and _target.isalpha() and folded(_source) != _target:
        _LOOKALIKES.setdefault(_target, []).append(_source)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_single_lookalike_letter_turns_an_agent_into_a_person(data):
    agent = data.draw(st.sampled_from(sorted(ROLES.agents)))
    spots = [i for i, c in enumerate(agent) if _LOOKALIKES.get(c)]
    if not spots:
        return
    i = data.draw(st.sampled_from(spots))
    swapped = agent[:i] + data.draw(st.sampled_from(_LOOKALIKES[agent[i]])) + agent[i + 1:]
    assert confusable(swapped, agent)
    if folded(swapped) != agent:  # a different name that looks the same: refused outright
        assert ROLES.lookalike(swapped) is not None
        assert not any(ROLES.may_write(swapped, kind, "email") for kind in (None, "user"))


def test_confusable_skeletons_are_shared_for_the_email_checks():
    assert skeleton("\u0430nn@example.com") == skeleton("ann@example.com")
    assert skeleton("ann@example.com") != skeleton("anna@example.com")
    assert not confusable(SYSTEM_ACTOR, "tina")


TIMES = {
    "offset_25h": ("bad_timestamp", "2024-05-01T10:00:00+25:00"),
    "offset_past_14h": ("bad_timestamp", "2024-05-01T10:00:00+14:01"),
    "offset_minus_15h": ("bad_timestamp", "2024-05-01T10:00:00-1500"),
    "offset_minutes_99": ("bad_timestamp", "2024-05-01T10:00:00+05:99"),
    "year_0001": ("bad_timestamp", "0001-05-01T10:00:00Z"),
    "year_0000": ("bad_timestamp", "0000-05-01T10:00:00Z"),
    "year_1899": ("bad_timestamp", "1899-12-31T23:59:59Z"),
    "past_9999_in_utc": ("bad_timestamp", "9999-12-31T23:00:00-05:00"),
    "five_digit_year": ("bad_timestamp", "10000-01-01T00:00:00Z"),
}


@pytest.mark.parametrize("case", sorted(TIMES))
def test_offsets_and_years_outside_the_documented_range_are_bad_timestamps(wh, tmp_path, case):
    code, when = TIMES[case]
    result = ingest(wh, tmp_path, [line("g1"), line("b", occurred_at=when), line("g2")])
    assert result["by_reason"] == {code: 1}
    [(row_number, _, detail)] = quarantined(wh)
    assert row_number == 2 and when in detail


def test_the_edges_of_the_range_are_accepted_and_readable(wh, tmp_path):
    result = ingest(wh, tmp_path, [
        line("east", occurred_at="2024-05-01T10:00:00+14:00"),
        line("west", occurred_at="2024-05-01T10:00:00-14:00"),
        line("nepal", occurred_at="2024-05-01T10:00:00+0545"),
        line("hours_only", occurred_at="2024-05-01T10:00:00-03"),
        line("first", occurred_at="1900-01-01T00:00:00Z"),
        line("last", type="meeting", status="scheduled", occurred_at="9999-12-31T23:59:59Z"),
    ])
    assert result["quarantined"] == 0
    assert stored(wh, "occurred_at") == {
        "east": datetime(2024, 4, 30, 20), "west": datetime(2024, 5, 2, 0),
        "nepal": datetime(2024, 5, 1, 4, 15), "hours_only": datetime(2024, 5, 1, 13),
        "first": datetime(1900, 1, 1), "last": datetime(9999, 12, 31, 23, 59, 59),
    }


def test_an_offset_is_accepted_exactly_when_a_real_zone_could_have_it(wh, tmp_path):
    offsets = [(s, h, m) for s in "+-" for h in range(31) for m in (0, 1, 30, 45, 59, 60, 99)]
    lines = [line(f"a{n}", occurred_at=f"2024-05-01T12:00:00{s}{h:02d}:{m:02d}")
             for n, (s, h, m) in enumerate(offsets)]
    result = ingest(wh, tmp_path, lines)
    times = stored(wh, "occurred_at")
    for n, (s, h, m) in enumerate(offsets):
        if m <= 59 and h * 60 + m <= 14 * 60:
            offset = timedelta(hours=h, minutes=m)
            assert times[f"a{n}"] == datetime(2024, 5, 1, 12) - (offset if s == "+" else -offset)
        else:
            assert f"a{n}" not in times
    assert result["by_reason"] == {"bad_timestamp": len(offsets) - len(times)}


IDS = {
    "number": 12,
    "float": 1.5,
    "array": ["x"],
    "object": {"id": "x"},
    "boolean": True,
    "empty": "",
    "blank": "   ",
    "too_long": "x" * (MAX_ID_LENGTH + 1),
}


@pytest.mark.parametrize("case", sorted(IDS))
def test_an_activity_id_must_be_a_bounded_nonempty_string(wh, tmp_path, case):
    result = ingest(wh, tmp_path, [line("g1"), line(IDS[case]), line("g2")])
    assert result["by_reason"] == {"unparseable_row": 1}
    assert set(stored(wh)) == {"g1", "g2"}


def test_the_longest_id_and_escaped_ids_are_kept_as_sent(wh, tmp_path):
    longest = "x" * MAX_ID_LENGTH
    ingest(wh, tmp_path, [line(longest), line("caf\u00e9 \"quoted\"")])
    assert set(stored(wh)) == {longest, "caf\u00e9 \"quoted\""}


@pytest.mark.parametrize(
    "text",
    [
        '{"activity_id": "a", "activity_id": "b", "tenant_id": "t1", "type": "email", '
        '"occurred_at": "2024-05-01T10:00:00Z", "contact_id": "c1"}',
        '{"activity_id": "a", "tenant_id": "t1", "type": "purchase", "amount": 5, '
        '"occurred_at": "2024-05-01T10:00:00Z", "contact_id": "c1", "amount": 500000}',
        '{"activity_id": "a", "tenant_id": "t1", "type": "email", "x-extra": 1, '
        '"occurred_at": "2024-05-01T10:00:00Z", "contact_id": "c1", "x-extra": 2}',
    ],
    ids=["activity_id", "amount", "unknown_key"],
)
def test_a_repeated_key_makes_a_line_unparseable(wh, tmp_path, text):
    result = ingest(wh, tmp_path, [line("g1"), text, line("g2")])
    assert result["by_reason"] == {"unparseable_row": 1}
    [(_, _, detail)] = quarantined(wh)
    assert "more than once" in detail
    raw = run(wh, "SELECT raw FROM quarantine.rows")[0][0]
    assert raw == text and json.loads(raw)  # kept verbatim
