"""The audit trail through the CLI: every kind of tampering is named by `crm audit verify`, and every
code path that changes core.contacts leaves its audit rows (replaying them rebuilds the table)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from helpers import HUBSPOT_HEADER, crm, shard, working, write_csv

from crm_pipeline.contacts.store import CONTACT_FIELDS, _field_json

AS_OF = "2026-11-15"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A home whose trail holds creates, updates, merges, an unmerge and an erase."""
    d = tmp_path_factory.mktemp("audit")
    home = d / "home"
    f1 = write_csv(d / "f1.csv", HUBSPOT_HEADER, [
        "101,Ann,Lee,ann.lee@example.com,+1 415 555 2671,Acme Inc.,CEO,250,Boston,US,2024-03-12 09:14",
        "102,Ann,Lee,ann.lee@example.com,,ACME,CEO,250,Boston,US,2024-05-01 10:00",
        "103,Bob,Stone,bob@example.com,415-555-0100,Beta LLC,Engineer,12,Austin,US,2024-01-02 08:00",
        "104,Eve,Moss,eve@example.com,,Eta LLC,Analyst,12,Austin,US,2024-01-02 08:00",
        "105,Ivy,Lark,eve.moss@example.org,+1 212 555 0142,Zeta Co,Buyer,3,Reno,US,2024-01-02 08:00",
    ])
    # 104 again with 105's email: joins two existing contacts (a merge, leaving an alias).
    f2 = write_csv(d / "f2.csv", HUBSPOT_HEADER, [
        "103,Bob,Stone,bob@example.com,415-555-0100,Beta LLC,CTO,40,Dallas,US,2024-01-02 08:00",
        "104,Eve,Moss,eve.moss@example.org,,Eta LLC,Analyst,12,Austin,US,2024-01-02 08:00",
    ])
    assert crm(home, "import", "contacts", f1, "--tenant", "t1", "--no-run")[0] == 0
    assert crm(home, "import", "contacts", f1, "--tenant", "t2", "--no-run")[0] == 0
    assert crm(home, "run", "--as-of", AS_OF)[0] == 0
    assert crm(home, "import", "contacts", f2, "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    con = working(home)
    ann = con.execute("SELECT contact_id FROM core.contacts WHERE tenant_id = 't1' "
                      "AND email = 'ann.lee@example.com'").fetchone()[0]
    key = con.execute("SELECT source_key FROM core.contact_sources WHERE contact_id = $c "
                      "ORDER BY source_key DESC LIMIT 1", {"c": ann}).fetchone()[0]
    bob = con.execute("SELECT contact_id FROM core.contacts WHERE tenant_id = 't2' "
                      "AND email = 'bob@example.com'").fetchone()[0]
    con.close()
    assert crm(home, "unmerge", "--tenant", "t1", "--contact", ann, "--source", key)[0] == 0
    assert crm(home, "gdpr", "erase", "--tenant", "t2", "--contact", bob, "--actor", "dpo")[0] == 0
    return home


def test_the_trail_holds_every_action_and_verifies(home, capsys):
    con = working(home)
    actions = {r[0] for r in con.execute("SELECT DISTINCT action FROM audit.changes").fetchall()}
    con.close()
    assert {"create", "update", "merge", "unmerge", "erase"} <= actions
    code, out, _ = crm(home, "audit", "verify", capsys=capsys)
    assert code == 0 and "verified" in out
    assert crm(home, "audit", "verify", "--tenant", "t2", capsys=capsys)[0] == 0


def test_every_change_carries_actor_run_and_time(home):
    con = working(home)
    rows = con.execute("SELECT action, actor, run_id, \"at\" FROM audit.changes").fetchall()
    con.close()
    assert all(actor and run_id and at for _, actor, run_id, at in rows)
    assert {a for action, a, _, _ in rows if action == "erase"} == {"dpo"}
    assert {a for action, a, _, _ in rows if action in ("create", "merge")} == {"pipeline", "cli"}
    assert {a for action, a, _, _ in rows if action == "unmerge"} == {"cli"}


def test_updates_record_previous_and_new_values_of_each_changed_field(home):
    con = working(home)
    rows = con.execute("SELECT previous, new FROM audit.changes WHERE tenant_id = 't1' "
                       "AND action = 'update'").fetchall()
    con.close()
    diffs = [(json.loads(p), json.loads(n)) for p, n in rows]
    assert ({"job_title": "Engineer"}.items() <= diffs[0][0].items()
            or any(p.get("job_title") == "Engineer" and n.get("job_title") == "CTO" for p, n in diffs))
    for p, n in diffs:
        assert set(p) == set(n) and all(p[k] != n[k] for k in p)


def _replayed(con, tenant: str) -> dict[str, dict]:
    """core.contacts as the audit trail says it should be."""
    state: dict[str, dict] = {}
    for action, entity_id, new in con.execute(
        "SELECT action, entity_id, new FROM audit.changes WHERE tenant_id = $t AND entity = 'contact' "
        "ORDER BY change_id", {"t": tenant}
    ).fetchall():
        if action == "create":
            state[entity_id] = json.loads(new) if new else {}  # values redacted by an erasure
        elif action == "update":
            state[entity_id].update(json.loads(new))
        elif action in ("merge", "delete", "erase"):
            state.pop(entity_id, None)
    return {cid: {k: v for k, v in row.items() if v is not None} for cid, row in state.items()}


def test_replaying_the_trail_rebuilds_core_contacts_exactly(home):
    """Proof that no path changed core.contacts without its audit row."""
    con = working(home)
    try:
        for tenant in ("t1", "t2"):
            actual = {
                cid: {k: v for k, v in json.loads(row).items() if v is not None}
                for cid, row in con.execute(
                    f"SELECT contact_id, {_field_json('c')}::VARCHAR FROM core.contacts c "
                    "WHERE tenant_id = $t", {"t": tenant}).fetchall()
            }
            assert actual and _replayed(con, tenant) == actual
    finally:
        con.close()


def test_no_code_writes_core_contacts_around_the_audited_write_path():
    write = re.compile(r"(INSERT\s+INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO|COPY)\s+core\.contacts\b",
                       re.IGNORECASE)
    offenders = []
    for path in [*REPO.glob("crm_pipeline/**/*.py"), *REPO.glob("dagster_defs/**/*.py"),
                 *REPO.glob("sql/**/*.sql")]:
        if path == REPO / "crm_pipeline" / "contacts" / "store.py":
            continue
        if write.search(path.read_text(encoding="utf-8")):
            offenders.append(str(path.relative_to(REPO)))
    assert offenders == []
    assert "consent_status" in CONTACT_FIELDS


TAMPERING = {
    "changed value": ("UPDATE audit.changes SET new = '{\"email\":\"evil@example.com\"}' "
                      "WHERE tenant_id = 't1' AND change_id = 2", 2, "digest"),
    "changed actor": ("UPDATE audit.changes SET actor = 'mallory' WHERE tenant_id = 't1' "
                      "AND change_id = 3", 3, "hash does not match"),
    "changed time": ("UPDATE audit.changes SET \"at\" = \"at\" + INTERVAL 1 DAY "
                     "WHERE tenant_id = 't1' AND change_id = 1", 1, "hash does not match"),
    "changed action": ("UPDATE audit.changes SET action = 'delete' WHERE tenant_id = 't1' "
                       "AND change_id = 4", 4, "hash does not match"),
    "changed entity id": ("UPDATE audit.changes SET entity_id = 'c_other' WHERE tenant_id = 't1' "
                          "AND change_id = 2", 2, "hash does not match"),
    "changed run id": ("UPDATE audit.changes SET run_id = 'r' WHERE tenant_id = 't1' "
                       "AND change_id = 2", 2, "hash does not match"),
    "changed digest": ("UPDATE audit.changes SET previous_digest = 'x' WHERE tenant_id = 't1' "
                       "AND action = 'update' AND change_id = (SELECT min(change_id) FROM audit.changes "
                       "WHERE tenant_id = 't1' AND action = 'update')", None, "digest"),
    "false redaction": ("UPDATE audit.changes SET new = NULL WHERE tenant_id = 't1' AND change_id = 2",
                        2, "digest"),
    "value rewritten behind the redacted flag": (
        "UPDATE audit.changes SET redacted = true, new = '{\"email\":\"evil@example.com\"}' "
        "WHERE tenant_id = 't1' AND change_id = 2", 2, "marked redacted but new holds a value"),
    "values hidden by a redaction without an erasure": (
        "UPDATE audit.changes SET redacted = true, previous = NULL, new = NULL "
        "WHERE tenant_id = 't1' AND change_id = 2", 2, "no erasure of its entity"),
    "deleted row in the middle": ("DELETE FROM audit.changes WHERE tenant_id = 't1' AND change_id = 2",
                                  3, "deleted"),
    "reordered rows": ("UPDATE audit.changes SET change_id = CASE change_id WHEN 2 THEN 3 ELSE 2 END "
                       "WHERE tenant_id = 't1' AND change_id IN (2, 3)", 2, "prev_hash"),
    "duplicated row": ("INSERT INTO audit.changes SELECT * FROM audit.changes "
                       "WHERE tenant_id = 't1' AND change_id = 2", 2, "inserted"),
    "rows cut off the end": ("DELETE FROM audit.changes WHERE tenant_id = 't1' AND change_id >= "
                             "(SELECT max(change_id) - 1 FROM audit.changes WHERE tenant_id = 't1')",
                             None, "cut off"),
}


@pytest.mark.parametrize("kind", sorted(TAMPERING))
def test_each_kind_of_tampering_is_named_by_audit_verify(home, tmp_path, capsys, kind):
    statement, change_id, reason = TAMPERING[kind]
    copy = tmp_path / "home"
    shutil.copytree(home, copy, ignore=shutil.ignore_patterns("dagster", "published"))
    con = duckdb.connect(str(shard(copy, "t1")))
    con.execute(statement).fetchall()
    if change_id is None and reason == "digest":
        change_id = con.execute("SELECT min(change_id) FROM audit.changes WHERE tenant_id = 't1' "
                                "AND action = 'update'").fetchone()[0]
    con.close()
    code, _, err = crm(copy, "audit", "verify", capsys=capsys)
    assert code == 1
    line = err.strip().replace("\n", " ")
    assert "tenant t1" in line and reason in line
    where = f"change {change_id}" if change_id is not None else "end of chain"
    assert where in line
    assert "t2" not in line  # the other tenant's chain is intact
    assert crm(copy, "audit", "verify", "--tenant", "t2", capsys=capsys)[0] == 0
