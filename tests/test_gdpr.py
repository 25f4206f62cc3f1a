"""GDPR through the CLI on a small home: export completeness, erasure everywhere (tables and the raw
bytes of every file under the home), suppression on re-import, and tenants kept apart."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import duckdb
import pytest
from helpers import crm, shard, working, write_csv, write_jsonl

AS_OF = "2026-11-15"
HEADER = ("Record ID,First Name,Last Name,Email,Phone Number,Company Name,City,Country/Region,"
          "Marketing contact status,Create Date")
E1 = "zebulon.quimby@quux-mail.org"
E2 = "zq@ottoline-works.net"
PHONE_AS_WRITTEN = "+1 617 555 0199"
PHONE_E164 = "+16175550199"
# What must not survive erasure anywhere under the home (lower-case; the scan is case-insensitive).
NEEDLES = [E1, E2, PHONE_E164, "617 555 0199", "617-555-0199", "zebulon", "ottoline", "quimby"]

FILE1 = [
    "900,Zebulon,Quimby,zebulon.quimby@quux-mail.org,,Quux Ltd,Boston,US,Marketing contact,2024-01-02 08:00",
    "901,Ottoline,Quimby,zq@ottoline-works.net,+1 617 555 0199,Works Inc,Salem,US,Non-marketing contact,"
    "2024-02-02 08:00",
    "902,Ann,Lee,ann.lee@example.com,+1 415 555 2671,Acme Inc.,Boston,US,Marketing contact,2024-03-12 09:14",
    "903,Bob,Stone,bob@example.com,415-555-0100,Beta LLC,Austin,US,,2024-01-02 08:00",
]
# Row 900 again (same record id) now with the second email: it joins the two contacts (an alias).
FILE2 = [
    "900,Zebulon,Quimby,zq@ottoline-works.net,,Quux Ltd,Boston,US,Marketing contact,2024-05-02 08:00",
]
T2_FILE = [
    "700,Carla,Mendes,carla@example.com,+1 212 555 0142,Gamma Co,New York,US,,2024-01-02 08:00",
]


def _activities(tenant: str) -> list[dict | str]:
    return [
        {"activity_id": "g1", "tenant_id": tenant, "type": "call", "occurred_at": "2026-11-10T10:00:00Z",
         "email": E1, "actor": "jane", "actor_kind": "user", "notes": "asked about pricing"},
        {"activity_id": "g2", "tenant_id": tenant, "type": "purchase",
         "occurred_at": "2026-10-01T10:00:00Z", "email": E2, "actor": "pipeline",
         "actor_kind": "system", "amount": 99.0, "currency": "USD"},
        {"activity_id": "g3", "tenant_id": tenant, "type": "telepathy",
         "occurred_at": "2026-10-02T10:00:00Z", "email": E1, "actor": "jane"},
        {"activity_id": "g4", "tenant_id": tenant, "type": "call", "occurred_at": "2026-11-01T10:00:00Z",
         "email": "ann.lee@example.com", "actor": "jane"},
        # Another person's activity whose notes name the person (kept, with the mention redacted).
        {"activity_id": "g6", "tenant_id": tenant, "type": "email", "occurred_at": "2026-11-02T10:00:00Z",
         "email": "ann.lee@example.com", "actor": "jane", "subject": "intro",
         "notes": f"Ann forwarded this to {E1} and to Zebulon Quimby's assistant"},
        # A quarantined activity that names the person and carries their source id (removed).
        {"activity_id": "g5", "tenant_id": tenant, "type": "séance", "occurred_at": "2026-10-03T10:00:00Z",
         "source_id": "900", "actor": "jane", "subject": "Call with Zebulon Quimby"},
    ]


def q(path, sql, params=None):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


def files_holding(root, needles) -> dict[str, list[str]]:
    """Every file under root whose raw bytes contain a needle (case-insensitive), with the needles."""
    hits: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            data = path.read_bytes().lower()
            found = [n for n in needles if n.encode() in data]
            if found:
                hits[str(path.relative_to(root))] = found
    return hits


def rows_holding(path, needles) -> dict[str, int]:
    """Rows of every table of a DuckDB file whose text contains a needle (case-insensitive)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() "
                             "WHERE database_name = current_database()").fetchall()
        hits = {}
        for schema, table in tables:
            rows = con.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall()
            n = sum(1 for r in rows if any(x in str(r).lower() for x in needles))
            if n:
                hits[f"{schema}.{table}"] = n
        return hits
    finally:
        con.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("gdpr")
    home = d / "home"
    f1 = write_csv(d / "f1.csv", HEADER, FILE1)
    f2 = write_csv(d / "f2.csv", HEADER, FILE2)
    t2 = write_csv(d / "t2.csv", HEADER, T2_FILE)
    acts = write_jsonl(d / "acts.jsonl", _activities("t1"))
    assert crm(home, "import", "contacts", f1, "--tenant", "t1", "--no-run")[0] == 0
    assert crm(home, "import", "contacts", t2, "--tenant", "t2", "--no-run")[0] == 0
    assert crm(home, "run", "--as-of", AS_OF)[0] == 0
    assert crm(home, "import", "contacts", f2, "--tenant", "t1", "--no-run")[0] == 0
    assert crm(home, "import", "activities", acts, "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    wh = shard(home, "t1")
    zeb = q(wh, "SELECT contact_id FROM core.contacts WHERE tenant_id = 't1' AND last_name = 'Quimby'")
    aliases = q(wh, "SELECT alias_id, contact_id FROM core.contact_aliases WHERE tenant_id = 't1'")
    return {"dir": d, "home": home, "contact": zeb, "aliases": aliases}


def test_the_two_records_of_the_person_merged_leaving_an_alias(built):
    assert len(built["contact"]) == 1
    cid = built["contact"][0][0]
    assert [a[1] for a in built["aliases"]] == [cid]


@pytest.fixture(scope="module")
def exported(built, tmp_path_factory):
    alias = built["aliases"][0][0]
    out = tmp_path_factory.mktemp("export") / "subject.json"
    code = crm(built["home"], "gdpr", "export", "--tenant", "t1", "--contact", alias, "--out", out)[0]
    assert code == 0
    return json.loads(out.read_text(encoding="utf-8"))


def test_export_by_alias_finds_the_person_and_holds_everything(built, exported):
    cid, alias = built["contact"][0][0], built["aliases"][0][0]
    doc = exported
    assert doc["contact_id"] == cid and doc["aliases"] == [alias]
    assert doc["core.contacts"][0]["email"] in (E1, E2)
    assert len(doc["source_rows_as_imported"]) == 3  # rows 900, 901 and 900 again
    assert {json.loads(r["record"])["Record ID"] for r in doc["source_rows_as_imported"]} == {"900", "901"}
    assert {a["activity_id"] for a in doc["core.activities"]} == {"g1", "g2"}
    for table in ("core.contact_sources", "marts.engagement", "marts.lead_scores",
                  "marts.contact_segments", "marts.segment_history", "marts.customer_ltv"):
        assert doc[table], table
    assert "core.consent_history" in doc
    quarantined = doc["quarantined_rows_with_their_email_or_phone"]
    assert [r["reason_code"] for r in quarantined] == ["unknown_activity_type"]
    actions = [c["action"] for c in doc["audit.changes"] if c["entity"] == "contact"]
    assert actions.count("create") == 2 and "merge" in actions
    assert doc["core.contact_accounts"]  # their company, and how they were linked to it
    links = [c for c in doc["audit.changes"] if c["entity"] == "contact_account"]
    assert links and links[0]["action"] == "create"


def test_export_holds_no_other_persons_rows(exported):
    text = json.dumps(exported, default=str).lower()
    assert "ann.lee@example.com" not in text and "carla" not in text


def test_another_tenants_id_is_answered_like_no_id(built, capsys):
    cid = built["contact"][0][0]
    results = {}
    for command in (["gdpr", "export"], ["gdpr", "erase", "--actor", "dpo"]):
        other = crm(built["home"], *command, "--tenant", "t2", "--contact", cid, capsys=capsys)
        none = crm(built["home"], *command, "--tenant", "t2", "--contact", "c_0000000000000000",
                   capsys=capsys)
        assert other[0] == none[0] == 2
        assert other[2].replace(cid, "X") == none[2].replace("c_0000000000000000", "X")
        results[command[1]] = other
    assert q(shard(built["home"], "t1"),
             "SELECT count(*) FROM core.contacts WHERE contact_id = $c", {"c": cid}) == [(1,)]


def _plant_in_dagster_storage(home) -> None:
    """Personal values where Dagster keeps run data: a run's captured stderr, where a run launched
    from the UI leaves it (`crm run` prints to its terminal instead), and a SQLite store."""
    log = home / "dagster" / "storage" / "ui-run" / "compute_logs" / "marts_and_value.err"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(f"step started\nwarning: row for {E1} (Zebulon Quimby)\n")
    db = home / "dagster" / "history" / "runs.db"
    con = sqlite3.connect(db)
    con.execute("INSERT INTO kvs (key, value) VALUES ('planted', ?)", (f"contact {E2} {PHONE_E164}",))
    con.commit()
    con.close()


def _plant_refused_landing_file(home) -> None:
    folder = home / "landing" / "t1" / "contacts"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "broken.csv.refused").write_text(
        f"Name;Mail\nZebulon Quimby;{E1}\nNora Vance;nora@example.com\n", encoding="utf-8")


def _plant_in_crm_log(home) -> Path:
    """An internal error's details, as `crm` logs them, naming the person."""
    folder = home / "logs"
    folder.mkdir(exist_ok=True)
    log = folder / "crm-20261115T101500-4242.log"
    log.write_text(f"Traceback ...\nValueError: bad row for Zebulon Quimby <{E1}>\n",
                   encoding="utf-8")
    log.chmod(0o600)
    return log


@pytest.fixture(scope="module")
def erased(built, exported, tmp_path_factory):
    """The home before erasure is kept aside, to show the scans would find the person there."""
    home = built["home"]
    _plant_in_dagster_storage(home)
    _plant_refused_landing_file(home)
    log = _plant_in_crm_log(home)
    before = tmp_path_factory.mktemp("before") / "home"
    shutil.copytree(home, before)
    code, out, err = crm(home, "gdpr", "erase", "--tenant", "t1", "--contact",
                         built["aliases"][0][0], "--actor", "dpo")
    assert code == 0, err
    return {"home": home, "before": before, "cid": built["contact"][0][0],
            "alias": built["aliases"][0][0], "log": log}


def test_before_erasure_the_scans_find_the_person(erased):
    before = erased["before"]
    assert rows_holding(shard(before, "t1"), NEEDLES)
    hits = files_holding(before, NEEDLES)
    assert any(p.startswith("errors/") for p in hits)  # the quarantined activity line
    assert any(p.startswith("dagster/") for p in hits) and any(p.startswith("landing/") for p in hits)
    assert any(p.startswith("logs/") for p in hits)
    # DuckDB compresses strings, but some of the person's values are stored as written: the byte
    # scan of the warehouse files below is not vacuous.
    assert any(p.endswith(".duckdb") for p in hits), hits


def test_erasure_leaves_no_row_holding_the_person_in_any_table_or_published_file(erased):
    home = erased["home"]
    for path in (shard(home, "t1"), home / "published" / "warehouse.duckdb",
                 home / "published" / "tenants" / "t1.duckdb"):
        assert rows_holding(path, NEEDLES) == {}, path


def test_erasure_leaves_no_raw_bytes_of_the_person_in_any_file_under_the_home(erased):
    assert files_holding(erased["home"], NEEDLES) == {}


def test_a_crm_log_naming_the_person_is_scrubbed_and_stays_private(erased):
    log = erased["log"]
    text = log.read_text(encoding="utf-8")
    assert "Traceback" in text and E1 not in text
    assert log.stat().st_mode & 0o777 == 0o600


def test_erasure_removes_every_row_keyed_by_the_person(erased):
    home, ids = erased["home"], [erased["cid"], erased["alias"]]
    con = working(home)
    try:
        tables = con.execute("SELECT DISTINCT schema_name || '.' || table_name FROM duckdb_columns() "
                             "WHERE database_name = current_database() AND column_name IN "
                             "('contact_id', 'alias_id', 'blocked_contact_id') "
                             "AND schema_name NOT IN ('gdpr')").fetchall()
        for (table,) in tables:
            cols = [c[0] for c in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name || '.' || table_name = $t "
                "AND column_name IN ('contact_id', 'alias_id', 'blocked_contact_id')", {"t": table}
            ).fetchall()]
            for col in cols:
                n = con.execute(f"SELECT count(*) FROM {table} WHERE {col} IN (SELECT unnest($ids))",
                                {"ids": ids}).fetchone()[0]
                assert n == 0, f"{table}.{col}"
    finally:
        con.close()


def test_other_people_and_tenants_are_untouched(erased):
    wh = shard(erased["home"], "t1")
    assert q(wh, "SELECT tenant_id, count(*) FROM core.contacts GROUP BY 1") == [("t1", 2)]
    assert q(shard(erased["home"], "t2"), "SELECT tenant_id, count(*) FROM core.contacts "
             "GROUP BY 1") == [("t2", 1)]
    assert q(wh, "SELECT activity_id FROM core.activities ORDER BY 1") == [("g4",), ("g6",)]
    assert q(wh, "SELECT notes FROM core.activities WHERE activity_id = 'g6'") == [
        ("Ann forwarded this to [erased] and to [erased]'s assistant",)]
    landing = (erased["home"] / "landing" / "t1" / "contacts" / "broken.csv.refused").read_text()
    assert "nora@example.com" in landing


def test_audit_rows_keep_id_and_action_lose_values_and_the_chain_verifies(erased, capsys):
    rows = q(shard(erased["home"], "t1"),
             "SELECT action, previous, new, redacted, previous_digest IS NOT NULL OR new_digest IS NOT NULL "
             "FROM audit.changes WHERE entity_id IN ($a, $b) ORDER BY change_id",
             {"a": erased["cid"], "b": erased["alias"]})
    assert [r[0] for r in rows].count("erase") == 1 and "merge" in [r[0] for r in rows]
    assert all(r[1] is None and r[2] is None and r[3] and r[4] for r in rows)
    code, out, _ = crm(erased["home"], "audit", "verify", capsys=capsys)
    assert code == 0 and "verified" in out


def test_suppression_holds_digests_never_values(erased):
    rows = q(shard(erased["home"], "t1"),
             "SELECT kind, subject_digest, actor FROM gdpr.suppressions ORDER BY kind")
    kinds = {r[0] for r in rows}
    assert {"email", "phone"} <= kinds and {r[2] for r in rows} == {"dpo"}
    assert all(len(r[1]) == 64 for r in rows)


def test_erasing_again_completes_and_changes_nothing_more(erased, capsys):
    code, out, _ = crm(erased["home"], "gdpr", "erase", "--tenant", "t1", "--contact", erased["cid"],
                       "--actor", "dpo", capsys=capsys)
    assert code == 0 and "0 rows removed" in out


def test_a_later_import_of_the_erased_person_is_quarantined_and_the_rest_imports(erased, built):
    d = built["dir"]
    again = write_csv(d / "again.csv", HEADER, [
        "950,Zeb,Quimby,ZEBULON.QUIMBY@quux-mail.org,,Quux Ltd,Boston,US,,2025-01-02 08:00",
        "951,Otto,Q,,(617) 555-0199,Works Inc,Salem,US,,2025-01-02 08:00",
        "952,Nora,Vance,nora@example.com,,Vance LLC,Denver,US,,2025-01-02 08:00",
    ])
    code, _, _ = crm(erased["home"], "import", "contacts", again, "--tenant", "t1", "--as-of", AS_OF)
    assert code == 0
    wh = shard(erased["home"], "t1")
    reasons = q(wh, "SELECT q.row_number, q.reason_code FROM quarantine.rows q JOIN raw.imports i "
                "USING (tenant_id, import_id) WHERE i.file_name = 'again.csv' ORDER BY 1")
    assert reasons == [(1, "erased_subject"), (2, "erased_subject")]
    assert q(wh, "SELECT count(*) FROM core.contacts WHERE email = 'nora@example.com'") == [(1,)]
    assert q(wh, "SELECT count(*) FROM core.contacts WHERE tenant_id = 't1' AND "
             "(last_name = 'Quimby' OR phone = $p)", {"p": PHONE_E164}) == [(0,)]
    # The suppressed rows are kept as their row number, reason and keyed digest, never values:
    # not in quarantine.rows, raw.contact_rows, the error file, the snapshot or the extract.
    stored = q(wh, "SELECT q.raw, q.reason_detail, r.record, r.mapped, r.source_id "
               "FROM quarantine.rows q JOIN raw.imports i USING (tenant_id, import_id) "
               "JOIN raw.contact_rows r USING (tenant_id, import_id, row_number) "
               "WHERE i.file_name = 'again.csv' ORDER BY q.row_number")
    assert [(r[0], r[2], r[3], r[4]) for r in stored] == [(None,) * 4] * 2
    assert all("keyed digest" in r[1] for r in stored)
    for path in (wh, erased["home"] / "published" / "warehouse.duckdb",
                 erased["home"] / "published" / "tenants" / "t1.duckdb"):
        assert rows_holding(path, NEEDLES + ["zeb,"]) == {}, path
    assert files_holding(erased["home"], NEEDLES) == {}
