"""Audited writes by people and agents: crm contact create/set/tag/delete and crm import changes,
each checked whole (actor, grant, field, value, tenant) and written all or nothing."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from helpers import HUBSPOT_HEADER, crm, shard, write_csv, write_jsonl

AS_OF = "2026-11-15"


def q(home: Path, tenant: str, sql: str, params=None):
    con = duckdb.connect(str(shard(home, tenant)), read_only=True)
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


def audit_count(home: Path, tenant: str = "t1") -> int:
    return q(home, tenant, "SELECT count(*) FROM audit.changes")[0][0]


def contact_of(home: Path, tenant: str, email: str) -> str:
    return q(home, tenant, "SELECT contact_id FROM core.contacts WHERE email = $e",
             {"e": email})[0][0]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    d = tmp_path_factory.mktemp("writes")
    home = d / "home"
    t1 = write_csv(d / "t1.csv", HUBSPOT_HEADER, [
        "1,Zed,Quill,zed@example.com,+1 415 555 0101,Acme Inc,CTO,250,Boston,US,2024-01-02 08:00",
        "2,Bob,Stone,bob@example.com,,Acme Inc,CEO,250,Boston,US,2024-01-03 08:00",
        "3,Cy,Moss,cy@example.com,,Acme Inc,CFO,250,Boston,US,2024-01-03 08:00",
    ])
    t2 = write_csv(d / "t2.csv", HUBSPOT_HEADER, [
        "9,Ann,Other,ann@example.org,,Other Ltd,CFO,5,London,GB,2024-03-12 09:14",
    ])
    assert crm(home, "import", "contacts", t1, "--tenant", "t1", "--no-run")[0] == 0
    assert crm(home, "import", "contacts", t2, "--tenant", "t2", "--no-run")[0] == 0
    assert crm(home, "run", "--as-of", AS_OF)[0] == 0
    return home


def test_a_person_sets_a_field_audited_and_marked_as_set_by_hand(home, capsys):
    cid = contact_of(home, "t1", "zed@example.com")
    before = audit_count(home)
    code, out, err = crm(home, "contact", "set", "--tenant", "t1", "--contact", cid,
                         "--actor", "dana", "job_title=Chief Technology Officer",
                         "phone=(415) 555-0199", capsys=capsys)
    assert code == 0, err
    assert q(home, "t1", "SELECT job_title, phone FROM core.contacts WHERE contact_id = $c",
             {"c": cid}) == [("Chief Technology Officer", "+14155550199")]
    rows = q(home, "t1", "SELECT actor, actor_kind, action, previous, new FROM audit.changes "
                         "WHERE change_id > $n", {"n": before})
    assert len(rows) == 1
    actor, kind, action, previous, new = rows[0]
    assert (actor, kind, action) == ("dana", "user", "update")
    assert json.loads(previous)["job_title"] == "CTO"
    assert json.loads(new)["phone"] == "+14155550199"
    assert {f for (f,) in q(home, "t1", "SELECT field FROM core.manual_fields WHERE "
                                        "contact_id = $c", {"c": cid})} == {"job_title", "phone"}


def test_an_agent_writes_within_its_grant_as_an_agent(home, capsys):
    cid = contact_of(home, "t1", "bob@example.com")
    code, _, err = crm(home, "contact", "set", "--tenant", "t1", "--contact", cid,
                       "--actor", "Cheryl", "city=Cambridge", capsys=capsys)
    assert code == 0, err
    assert q(home, "t1", "SELECT actor, actor_kind FROM audit.changes ORDER BY change_id DESC "
                         "LIMIT 1") == [("cheryl", "agent")]


@pytest.mark.parametrize(("args", "problem"), [
    (("--actor", "tina", "email=x@example.com"), "actor_not_permitted"),
    (("--actor", "cheryl", "company=Evil Corp"), "actor_not_permitted"),
    (("--actor", "t\u0456na", "city=Paris"), "actor_not_permitted"),
    (("--actor", "pipeline", "city=Paris"), "actor_not_permitted"),
    (("--actor", "dana", "favourite_colour=blue"), "unknown field"),
    (("--actor", "dana", "email=ann@"), "email='ann@' is not valid"),
    (("--actor", "dana", "phone=not a phone"), "phone="),
    (("--actor", "dana", "city=Paris", "email=bad@"), "email="),  # one bad field: nothing
    (("--actor", "dana", "cityParis"), "FIELD=VALUE"),
    (("--actor", "", "city=Paris"), "no actor"),
])
def test_a_refused_set_changes_nothing_and_says_why_in_one_line(home, capsys, args, problem):
    cid = contact_of(home, "t1", "cy@example.com")
    before = audit_count(home)
    city = q(home, "t1", "SELECT city FROM core.contacts WHERE contact_id = $c", {"c": cid})
    code, _, err = crm(home, "contact", "set", "--tenant", "t1", "--contact", cid, *args,
                       capsys=capsys)
    assert code == 2 and problem in err and len(err.strip().splitlines()) == 1
    assert audit_count(home) == before
    assert q(home, "t1", "SELECT city FROM core.contacts WHERE contact_id = $c",
             {"c": cid}) == city


def test_a_contact_of_another_tenant_is_unknown(home, capsys):
    other = contact_of(home, "t2", "ann@example.org")
    code, _, err = crm(home, "contact", "set", "--tenant", "t1", "--contact", other,
                       "--actor", "dana", "city=Paris", capsys=capsys)
    assert code == 2 and "no contact" in err
    assert q(home, "t2", "SELECT city FROM core.contacts") == [("London",)]
    code, _, err = crm(home, "contact", "set", "--tenant", "nosuch", "--contact", other,
                       "--actor", "dana", "city=Paris", capsys=capsys)
    assert code == 2 and "nosuch" in err


def test_create_tag_and_delete(home, capsys):
    code, out, err = crm(home, "contact", "create", "--tenant", "t1", "--actor", "frank",
                         "first_name=Eve", "email=EVE@Example.com", "country=germany",
                         capsys=capsys)
    assert code == 0, err
    cid = out.strip()
    assert q(home, "t1", "SELECT email, country, email_status FROM core.contacts WHERE "
                         "contact_id = $c", {"c": cid}) == [("eve@example.com", "DE", "valid")]
    assert q(home, "t1", "SELECT action, actor_kind FROM audit.changes WHERE entity_id = $c",
             {"c": cid}) == [("create", "agent")]
    code, _, err = crm(home, "contact", "tag", "--tenant", "t1", "--contact", cid, "--actor",
                       "cheryl", "--add", "vip", "--add", "renewal", capsys=capsys)
    assert code == 0, err
    code, _, err = crm(home, "contact", "tag", "--tenant", "t1", "--contact", cid, "--actor",
                       "cheryl", "--remove", "renewal", capsys=capsys)
    assert code == 0, err
    assert q(home, "t1", "SELECT tags FROM core.contacts WHERE contact_id = $c",
             {"c": cid}) == [(["vip"],)]
    # cheryl may not create nor delete; frank may
    code, _, err = crm(home, "contact", "delete", "--tenant", "t1", "--contact", cid,
                       "--actor", "cheryl", capsys=capsys)
    assert code == 2 and "actor_not_permitted" in err
    code, _, err = crm(home, "contact", "delete", "--tenant", "t1", "--contact", cid,
                       "--actor", "dana", capsys=capsys)
    assert code == 0, err
    assert q(home, "t1", "SELECT count(*) FROM core.contacts WHERE contact_id = $c",
             {"c": cid}) == [(0,)]
    action, previous = q(home, "t1", "SELECT action, previous FROM audit.changes WHERE "
                                     "entity_id = $c ORDER BY change_id DESC LIMIT 1",
                         {"c": cid})[0]
    assert action == "delete" and json.loads(previous)["email"] == "eve@example.com"


@pytest.mark.parametrize(("actor", "fields", "problem"), [
    ("cheryl", ["first_name=Al"], "actor_not_permitted"),
    ("dana", ["job_title=CTO"], "a name, an email or a phone"),
    ("dana", ["first_name=Al", "email=al@"], "email="),
])
def test_a_refused_create_creates_nothing(home, capsys, actor, fields, problem):
    before = q(home, "t1", "SELECT count(*) FROM core.contacts")
    audit = audit_count(home)
    code, _, err = crm(home, "contact", "create", "--tenant", "t1", "--actor", actor, *fields,
                       capsys=capsys)
    assert code == 2 and problem in err
    assert q(home, "t1", "SELECT count(*) FROM core.contacts") == before
    assert audit_count(home) == audit


def test_a_hand_set_value_is_kept_when_a_later_import_brings_another(home, tmp_path, capsys):
    cid = contact_of(home, "t1", "zed@example.com")
    later = write_csv(tmp_path / "later.csv", HUBSPOT_HEADER, [
        "1,Zed,Quill,zed@example.com,+1 415 555 0101,Acme Inc,VP Engineering,250,Chicago,US,"
        "2024-06-02 08:00",
    ])
    code, _, err = crm(home, "import", "contacts", later, "--tenant", "t1", "--as-of", AS_OF,
                       capsys=capsys)
    assert code == 0, err
    # job_title and phone were set by hand: kept; city was not: the newer source wins
    assert q(home, "t1", "SELECT job_title, phone, city FROM core.contacts WHERE contact_id = $c",
             {"c": cid}) == [("Chief Technology Officer", "+14155550199", "Chicago")]


def test_a_changes_file_applies_good_lines_and_quarantines_the_rest(home, tmp_path, capsys):
    zed, bob = contact_of(home, "t1", "zed@example.com"), contact_of(home, "t1", "bob@example.com")
    other = contact_of(home, "t2", "ann@example.org")
    lines = [
        {"op": "note", "contact_id": zed, "actor": "cheryl", "at": "2026-11-14T15:00:00Z",
         "fields": {"note": "Called about renewal; wants a quote for 50 seats."}},
        {"op": "set", "contact_id": bob, "actor": "mercer",
         "fields": {"lifecycle_stage": "opportunity"}},
        {"op": "tag", "contact_id": bob, "actor": "cheryl", "fields": {"add": ["support"]}},
        {"op": "create", "actor": "frank", "fields": {"first_name": "Fay", "email": "fay@x.com"}},
        {"op": "set", "contact_id": bob, "fields": {"city": "Paris"}},  # missing actor
        {"op": "set", "contact_id": bob, "actor": "tina", "fields": {"city": "Paris"}},
        {"op": "set", "contact_id": bob, "actor": "dana", "fields": {"city": "Paris",
                                                                     "email": "bob@"}},
        {"op": "set", "contact_id": other, "actor": "dana", "fields": {"city": "Paris"}},
        {"op": "set", "contact_id": bob, "actor": "dana", "fields": {"shoe": "42"}},
        {"op": "merge", "contact_id": bob, "actor": "dana"},
        {"op": "note", "contact_id": zed, "actor": "dana", "at": "yesterday",
         "fields": {"note": "x"}},
        "not json at all",
    ]
    f = write_jsonl(tmp_path / "changes.jsonl", lines)
    code, out, err = crm(home, "import", "changes", f, "--tenant", "t1", capsys=capsys)
    assert code == 0, err
    reasons = dict(q(home, "t1", "SELECT reason_code, count(*) FROM quarantine.rows WHERE "
                                 "kind = 'change' GROUP BY 1"))
    assert reasons == {"missing_actor": 1, "actor_not_permitted": 1, "invalid_value": 1,
                       "unknown_contact": 1, "unknown_field": 1, "unknown_op": 1,
                       "bad_timestamp": 1, "unparseable_row": 1}
    assert q(home, "t1", "SELECT city, lifecycle_stage, tags FROM core.contacts WHERE "
                         "contact_id = $c", {"c": bob}) == [("Cambridge", "opportunity",
                                                              ["support"])]
    assert q(home, "t1", "SELECT count(*) FROM core.contacts WHERE email = 'fay@x.com'") == [(1,)]
    assert q(home, "t1", "SELECT author, author_kind, body FROM core.contact_notes") == [
        ("cheryl", "agent", "Called about renewal; wants a quote for 50 seats.")]
    assert "quarantined missing_actor: 1" in out and "error file" in out
    # the same file again changes nothing
    audit = audit_count(home)
    code, out, _ = crm(home, "import", "changes", f, "--tenant", "t1", capsys=capsys)
    assert code == 0 and "already imported" in out and audit_count(home) == audit
    # the note shows in the contact's profile once published (the next run)
    assert crm(home, "run", "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    code, out, _ = crm(home, "contact", "show", "--tenant", "t1", zed, capsys=capsys)
    assert code == 0 and "Notes" in out and "set by hand" in out
    code, out, _ = crm(home, "contact", "show", "--tenant", "t1", zed, "--format", "json",
                       capsys=capsys)
    doc = json.loads(out)
    assert [(n["author"], n["body"]) for n in doc["notes"]] == [
        ("cheryl", "Called about renewal; wants a quote for 50 seats.")]
    assert str(doc["notes"][0]["noted_at"]).startswith("2026-11-14 15:00")
    assert {m["field"] for m in doc["set_by_hand"]} == {"job_title", "phone"}
    code, out, _ = crm(home, "audit", "verify", capsys=capsys)
    assert code == 0, out


def test_a_changes_file_that_is_not_text_is_refused(home, tmp_path, capsys):
    f = tmp_path / "bin.jsonl"
    f.write_bytes(b"\xff\xfe\x00garbage")
    code, _, err = crm(home, "import", "changes", f, "--tenant", "t1", capsys=capsys)
    assert code == 2 and "bin.jsonl" in err


def test_replaying_the_trail_rebuilds_core_contacts_after_hand_made_changes(home):
    """Every hand-made write went through the audited path: the trail alone rebuilds the
    contacts (runs after the writes merged nothing around it either)."""
    from crm_pipeline.contacts.store import CONTACT_FIELDS

    pairs = ", ".join(f"'{f}', c.{f}" for f in CONTACT_FIELDS)
    for tenant in ("t1", "t2"):
        state: dict[str, dict] = {}
        trail = q(home, tenant, "SELECT action, entity_id, new FROM audit.changes "
                                "WHERE entity = 'contact' ORDER BY change_id")
        for action, entity_id, new in trail:
            if action == "create":
                state[entity_id] = json.loads(new)
            elif action == "update":
                state[entity_id].update(json.loads(new))
            else:
                state.pop(entity_id, None)
        replayed = {c: {k: v for k, v in r.items() if v is not None} for c, r in state.items()}
        actual = {c: {k: v for k, v in json.loads(r).items() if v is not None}
                  for c, r in q(home, tenant, f"SELECT contact_id, json_object({pairs})::VARCHAR "
                                              "FROM core.contacts c")}
        assert actual and replayed == actual


def test_changes_dropped_in_the_landing_folder_apply_at_the_next_run(home, capsys):
    bob = contact_of(home, "t1", "bob@example.com")
    folder = home / "landing" / "t1" / "changes"
    folder.mkdir(parents=True)
    write_jsonl(folder / "agent.jsonl", [
        {"op": "note", "contact_id": bob, "actor": "binky", "fields": {"note": "Budget in Q1."}},
        {"op": "set", "contact_id": bob, "actor": "binky", "fields": {"email": "b@x.com"}},
    ])
    assert crm(home, "run", "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    assert not (folder / "agent.jsonl").exists()
    notes = q(home, "t1", "SELECT author, body FROM core.contact_notes")
    assert ("binky", "Budget in Q1.") in notes
    assert q(home, "t1", "SELECT reason_code FROM quarantine.rows WHERE kind = 'change' "
                         "AND raw LIKE '%b@x.com%'") == [("actor_not_permitted",)]


def test_status_shows_runs_landing_files_and_the_audit_chain(home, capsys):
    (home / "landing" / "t2" / "contacts").mkdir(parents=True)
    (home / "landing" / "t2" / "contacts" / "new.csv").write_text("x\n", encoding="utf-8")
    try:
        code, out, err = crm(home, "status", "--format", "json", capsys=capsys)
        assert code == 0, err
        docs = {d["tenant_id"]: d for d in json.loads(out)}
        assert set(docs) == {"t1", "t2"}
        assert docs["t1"]["runs"][0]["status"] == "success"
        assert docs["t2"]["landing_files"] == ["t2/contacts/new.csv"]
        assert docs["t1"]["audit"]["changes"] == audit_count(home)
        assert docs["t1"]["audit"]["head_file_matches"] is True
        code, out, _ = crm(home, "status", "--tenant", "t1", capsys=capsys)
        assert code == 0 and "audit chain" in out and "success" in out
        code, _, err = crm(home, "status", "--tenant", "nosuch", capsys=capsys)
        assert code == 2 and "nosuch" in err
    finally:
        (home / "landing" / "t2" / "contacts" / "new.csv").unlink()


def test_a_deleted_contact_leaves_the_marts_at_the_next_run_and_stays_in_the_audit(home, capsys):
    cy = contact_of(home, "t1", "cy@example.com")
    assert q(home, "t1", "SELECT count(*) FROM marts.engagement WHERE contact_id = $c",
             {"c": cy}) == [(1,)]
    code, _, err = crm(home, "contact", "delete", "--tenant", "t1", "--contact", cy,
                       "--actor", "dana", capsys=capsys)
    assert code == 0, err
    assert crm(home, "run", "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    for table in ("core.contacts", "marts.engagement", "marts.lead_scores", "marts.lifecycle",
                  "marts.contact_segments"):
        assert q(home, "t1", f"SELECT count(*) FROM {table} WHERE contact_id = $c",
                 {"c": cy}) == [(0,)], table
    code, _, err = crm(home, "contact", "show", "--tenant", "t1", cy, capsys=capsys)
    assert code == 2 and "no contact" in err
    previous = q(home, "t1", "SELECT previous FROM audit.changes WHERE entity_id = $c "
                             "AND action = 'delete'", {"c": cy})
    assert json.loads(previous[0][0])["email"] == "cy@example.com"
