"""Hostile inputs for GDPR erasure and unmerge (issue 13, items 3, 4 and 8).

One home under a path with a quote and non-ASCII letters (`o'brien hömé/crm`), one tenant whose
activity log had a malformed line: unmerge works there; erasure completes, leaves no row or byte
of the person in any table or file (other people's text mentioning them is redacted, rows keyed
by them removed), is completed by running it again after a kill at any point, and later imports
of the person are stored without values from the start.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from helpers import crm, shard, write_csv, write_jsonl

from crm_pipeline.contacts.gdpr_files import scrub_files
from crm_pipeline.contacts.importer import normalize_import, stage_contact_file
from crm_pipeline.contacts.redaction import identifier_pattern, redact_python, redact_tables
from crm_pipeline.contacts.resolve.unmerge import unmerged_contact_id
from crm_pipeline.home import Home
from crm_pipeline.tenants import ensure_tenant

AS_OF = "2026-11-15"
REPO = Path(__file__).resolve().parent.parent
CRM = str(REPO / ".venv" / "bin" / "crm")
HEADER = ("Record ID,First Name,Last Name,Email,Phone Number,Company Name,City,Country/Region,"
          "Notes,Create Date")
# Unmapped columns (kept in extra): a second phone number, and a date that is no phone number.
BASE_HEADER = HEADER + ",Direct Line Tel,Last Visit"
E1 = "zebulon.quimby@quux-mail.org"
SID = "4876876000041024818"  # the person's record id in the exporting CRM
CONTACTS = [
    f"{SID},Zebulon,Quimby,{E1},+1 617 555 0199,Quux Ltd,Boston,US,,2024-01-02 08:00,"
    "(617) 555-0123,2024-01-02",
    f"5101,Ann,Lee,ann.lee@example.com,,Acme Inc.,Boston,US,Met Zebulon Quimby at the fair; "
    f"record {SID}; mobile 617.555.0199; desk 617 555 0123,2024-03-12 09:14,,2024-01-02",
    "5102,Annie,Lee,ann.lee@example.com,,Other Co,Denver,US,,2024-06-01 10:00,,",
    "5103,Bob,Stone,bob@example.com,,Beta LLC,Austin,US,,2024-01-02 08:00,,2024-01-02",
    f"5104,Zeb,Q,{E1},,,,,,,,too,many,fields,,,",  # unparseable: quarantined with their email
]
ACTIVITIES = [
    {"activity_id": "a1", "tenant_id": "t1", "type": "call", "occurred_at": "2026-11-10T10:00:00Z",
     "email": E1, "actor": "jane"},
    {"activity_id": "a2", "tenant_id": "t1", "type": "email", "occurred_at": "2026-11-09T10:00:00Z",
     "email": "ann.lee@example.com", "actor": "jane", "subject": "intro",
     "notes": f"cc {E1}, call him on (617) 555-0199"},
    {"activity_id": "a3", "tenant_id": "t1", "type": "séance",
     "occurred_at": "2026-10-03T10:00:00Z", "source_id": SID, "actor": "jane",
     "subject": "Call with Zebulon Quimby"},
    f'{{"activity_id":"a4","tenant_id":"t1","email":"{E1}"',  # malformed: cut off
    {"activity_id": "a5", "tenant_id": "t1", "type": "call", "occurred_at": "2026-11-11T10:00:00Z",
     "source_id": "5102", "actor": "jane"},
]
# Staged (not yet run) when the person is erased.
PENDING_CONTACTS = [
    "6001,Z.,Quimby,,(617) 555-0199,Quux Ltd,Boston,US,,2025-01-02 08:00",
    "6002,Carl,Berg,carl@example.com,,Gamma Co,Reno,US,,2025-01-02 08:00",
]
PENDING_ACTIVITIES = [
    {"activity_id": "p1", "tenant_id": "t1", "type": "call", "occurred_at": "2026-11-12T10:00:00Z",
     "email": E1, "actor": "jane"},
    {"activity_id": "p2", "tenant_id": "t1", "type": "call", "occurred_at": "2026-11-12T11:00:00Z",
     "email": "bob@example.com", "actor": "jane"},
]
# What must not survive erasure anywhere (lower case; the scans are case-insensitive).
NEEDLES = [E1, SID, "+16175550199", "617 555 0199", "(617) 555-0199", "617.555.0199",
           "617 555 0123", "555-0123", "zebulon", "quimby"]
# Before the commit (files scrubbed, rows still there), after it (nothing left that knows the
# values), and while publishing after the compaction.
KILL_POINTS = ("erase: files scrubbed", "erase: rows erased", "publish: snapshot written")


def q(path: Path, sql: str, params: dict | None = None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


def files_holding(root: Path, needles=NEEDLES) -> dict[str, list[str]]:
    hits = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            data = path.read_bytes().lower()
            found = [n for n in needles if n.encode() in data]
            if found:
                hits[str(path.relative_to(root))] = found
    return hits


def rows_holding(path: Path, needles=NEEDLES) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        hits = {}
        for schema, table in con.execute("SELECT schema_name, table_name FROM duckdb_tables() "
                                          "WHERE database_name = current_database()").fetchall():
            rows = con.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall()
            n = sum(1 for r in rows if any(x in str(r).lower() for x in needles))
            if n:
                hits[f"{schema}.{table}"] = n
        return hits
    finally:
        con.close()


def warehouses(home: Path) -> list[Path]:
    return [shard(home, "t1"), home / "published" / "warehouse.duckdb",
            home / "published" / "tenants" / "t1.duckdb"]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A home under a hostile path: contacts, an activity log with a malformed line, an unmerge,
    then a contact file and an activity log staged but not yet run."""
    d = tmp_path_factory.mktemp("hostile")
    home = d / "o'brien hömé" / "crm"
    contacts = write_csv(d / "contacts.csv", BASE_HEADER, CONTACTS)
    acts = write_jsonl(d / "acts.jsonl", ACTIVITIES)
    assert crm(home, "import", "contacts", contacts, "--tenant", "t1", "--no-run")[0] == 0
    code, _, err = crm(home, "import", "activities", acts, "--tenant", "t1", "--as-of", AS_OF)
    assert code == 0, err
    wh = shard(home, "t1")
    ann, = q(wh, "SELECT contact_id FROM core.contacts WHERE email = 'ann.lee@example.com'")[0]
    annie, = q(wh, "SELECT source_key FROM core.contact_sources WHERE source_id = '5102'")[0]
    person, = q(wh, "SELECT contact_id FROM core.contacts WHERE email = $e", {"e": E1})[0]
    unmerge = crm(home, "unmerge", "--tenant", "t1", "--contact", ann, "--source", annie)
    pending_c = write_csv(d / "pending.csv", HEADER, PENDING_CONTACTS)
    pending_a = write_jsonl(d / "pending.jsonl", PENDING_ACTIVITIES)
    assert crm(home, "import", "contacts", pending_c, "--tenant", "t1", "--no-run")[0] == 0
    assert crm(home, "import", "activities", pending_a, "--tenant", "t1", "--no-run")[0] == 0
    before = d / "before"
    shutil.copytree(home, before)
    return {"dir": d, "home": home, "before": before, "person": person, "ann": ann,
            "annie": annie, "unmerge": unmerge}


def test_unmerge_works_in_a_tenant_whose_log_had_a_malformed_line(base):
    code, _, err = base["unmerge"]
    assert code == 0, err
    new = unmerged_contact_id("t1", base["annie"])
    assert q(shard(base["home"], "t1"),
             "SELECT contact_id FROM core.activities WHERE activity_id = 'a5'") == [(new,)]


def test_before_erasure_the_scans_find_the_person(base):
    assert rows_holding(shard(base["before"], "t1"))
    assert any(p.startswith("errors/") for p in files_holding(base["before"]))


@pytest.fixture(scope="module")
def erased(base):
    code, out, err = crm(base["home"], "gdpr", "erase", "--tenant", "t1", "--contact",
                         base["person"], "--actor", "dpo")
    return {"code": code, "out": out, "err": err, "home": base["home"]}


def test_erasure_under_a_path_with_a_quote_completes(erased):
    assert erased["code"] == 0, erased["err"]
    home = erased["home"]
    assert not (home / "compaction.pending").exists()
    assert not list(home.glob("warehouse.compact*"))


def test_no_row_of_any_table_or_published_file_holds_the_person(erased):
    for path in warehouses(erased["home"]):
        assert rows_holding(path) == {}, path


def test_no_file_under_the_home_holds_the_persons_bytes(erased):
    assert files_holding(erased["home"]) == {}


def test_other_peoples_records_keep_their_text_with_the_mentions_redacted(base, erased, capsys):
    wh = shard(erased["home"], "t1")
    assert q(wh, "SELECT notes FROM core.contacts WHERE contact_id = $c", {"c": base["ann"]}) == [
        ("Met [erased] at the fair; record [erased]; mobile [erased]; desk [erased]",)]
    # a date is no phone number: other people's dates are untouched
    assert q(wh, "SELECT count(*) FROM raw.contact_rows WHERE extra->>'Last Visit' = '2024-01-02'"
             ) == [(2,)]
    assert q(wh, "SELECT notes FROM core.activities WHERE activity_id = 'a2'") == [
        ("cc [erased], call him on ([erased]",)]
    # the golden record changed through the audited write path, by the erasure's actor
    assert q(wh, "SELECT action, actor FROM audit.changes WHERE entity_id = $c "
             "ORDER BY change_id DESC LIMIT 1", {"c": base["ann"]}) == [("update", "dpo")]
    code, out, err = crm(erased["home"], "audit", "verify", capsys=capsys)
    assert code == 0, out + err


def test_quarantined_rows_keyed_by_the_person_are_removed_and_others_redacted(erased):
    wh = shard(erased["home"], "t1")
    rows = q(wh, "SELECT q.row_number, q.reason_code, q.raw FROM quarantine.rows q "
             "JOIN raw.imports i USING (tenant_id, import_id) WHERE i.file_name = 'acts.jsonl' "
             "ORDER BY 1")
    # a3 (their source id) is gone; the malformed a4 is kept, their email replaced in it
    assert [(r[0], r[1]) for r in rows] == [(4, "unparseable_row")]
    assert "[erased]" in rows[0][2]
    assert q(wh, "SELECT count(*) FROM quarantine.rows q JOIN raw.imports i "
             "USING (tenant_id, import_id) WHERE i.file_name = 'contacts.csv'") == [(0,)]


def test_the_next_run_processes_the_pending_imports_which_add_up(erased, capsys):
    code, _, err = crm(erased["home"], "run", "--as-of", AS_OF, capsys=capsys)
    assert code == 0, err
    wh = shard(erased["home"], "t1")
    contacts = q(wh, "SELECT r.row_number, r.record, q.reason_code, q.raw FROM raw.contact_rows r "
                 "JOIN raw.imports i USING (tenant_id, import_id) LEFT JOIN quarantine.rows q "
                 "USING (tenant_id, import_id, row_number) WHERE i.file_name = 'pending.csv' "
                 "ORDER BY 1")
    assert [(r[0], r[2], r[3]) for r in contacts] == [(1, "erased_subject", None), (2, None, None)]
    assert contacts[0][1] is None
    lines = q(wh, "SELECT q.row_number, q.reason_code, q.raw FROM quarantine.rows q "
              "JOIN raw.imports i USING (tenant_id, import_id) WHERE i.file_name = 'pending.jsonl'")
    assert lines == [(1, "unparseable_row", "[erased]")]
    assert q(wh, "SELECT rows_in, rows_accepted + rows_merged + rows_quarantined FROM raw.imports "
             "WHERE file_name LIKE 'pending%' ORDER BY 1") == [(2, 2), (2, 2)]
    assert files_holding(erased["home"]) == {}


def test_a_later_file_of_the_person_is_never_stored_with_its_values(erased, base):
    again = write_csv(base["dir"] / "again.csv", HEADER, [
        "7001,Zeb,Quimby,new.address@example.org ::: ZEBULON.QUIMBY@quux-mail.org,,,,,,",
        "7002,Z,Q,,+1 (617) 555-0199,,,,,",
        "7003,Nora,Vance,nora@example.com,,,,,,",
    ])
    code, _, err = crm(erased["home"], "import", "contacts", again, "--tenant", "t1", "--no-run")
    assert code == 0, err
    wh = shard(erased["home"], "t1")
    rows = q(wh, "SELECT r.row_number, r.record IS NULL AND r.mapped IS NULL AND r.source_id "
             "IS NULL, q.reason_code, q.raw, q.reason_detail FROM raw.contact_rows r JOIN "
             "raw.imports i USING (tenant_id, import_id) LEFT JOIN quarantine.rows q "
             "USING (tenant_id, import_id, row_number) WHERE i.file_name = 'again.csv' ORDER BY 1")
    assert [r[:4] for r in rows] == [(1, True, "erased_subject", None),
                                     (2, True, "erased_subject", None), (3, False, None, None)]
    assert all("keyed digest" in r[4] for r in rows[:2])
    assert files_holding(erased["home"], NEEDLES + ["new.address"]) == {}


@pytest.fixture(scope="module")
def killed(base):
    """The home before erasure, copied once per point, each erasure killed there (all at once)."""
    homes, procs = {}, {}
    for i, point in enumerate(KILL_POINTS):
        home = base["dir"] / f"killed {i} o'brien" / "crm"
        shutil.copytree(base["before"], home)
        env = dict(os.environ, CRM_TEST_KILL_AT=point)
        procs[point] = subprocess.Popen(
            [CRM, "--home", str(home), "gdpr", "erase", "--tenant", "t1", "--contact",
             base["person"], "--actor", "dpo"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        homes[point] = home
    codes = {point: p.wait(timeout=600) for point, p in procs.items()}
    return homes, codes


@pytest.mark.parametrize("point", KILL_POINTS)
def test_an_erasure_killed_at_any_point_completes_when_run_again(base, killed, point, capsys):
    homes, codes = killed
    home = homes[point]
    assert codes[point] == -signal.SIGKILL
    code, _, err = crm(home, "gdpr", "erase", "--tenant", "t1", "--contact", base["person"],
                       "--actor", "dpo", capsys=capsys)
    assert code == 0, err
    assert not (home / "compaction.pending").exists()
    for path in warehouses(home):
        assert rows_holding(path) == {}, path
    assert files_holding(home) == {}
    code, _, _ = crm(home, "contact", "show", "--tenant", "t1", base["person"], capsys=capsys)
    assert code == 2
    assert crm(home, "audit", "verify", capsys=capsys)[0] == 0


# ------------------------------------------------------------------------------ units

def test_the_pattern_finds_phones_names_and_ids_however_written():
    pattern = identifier_pattern(
        emails=["zq@x.org"], phones=["+16175550199"], names=[("Zoë", "Quimby")],
        ids=["c_0123456789abcdef"], source_ids=["4876876000041024818", "1181"])
    text = ("ZQ@X.org | +1 (617) 555-0199 | 001 617 555 0199 | 617.555.0199 | 6175550199 | "
            "zoë  QUIMBY | Quimby, Zoë | Zo\\u00eb Quimby | c_0123456789abcdef | "
            "4876876000041024818")
    assert redact_python(pattern, text).split(" | ") == ["[erased]"] * 10
    # not another number, a longer id, a first name alone, nor a short source id in text
    kept = ("+1 617 555 01990 | 14876876000041024818 | Zoë | Quimby | order 1181 | "
            "bzq@x.org | zq@x.organic.net")
    assert redact_python(pattern, kept) == kept


def test_redaction_covers_a_table_added_later_and_leaves_keys_and_other_tenants(con):
    con.execute("CREATE SCHEMA IF NOT EXISTS extra_stuff")
    con.execute('CREATE TABLE extra_stuff."odd ""name""" (tenant_id VARCHAR, note_id VARCHAR, '
                '"free text" VARCHAR, payload STRUCT(who VARCHAR, ref_id VARCHAR, n INTEGER), '
                "tags VARCHAR[], props MAP(VARCHAR, VARCHAR), doc JSON)")
    row = ("zq@x.org", {"who": "ZQ@x.org", "ref_id": "zq@x.org", "n": 1}, ["a", "zq@x.org"],
           {"k": "to zq@x.org"}, json.dumps({"to": "zq@x.org"}))
    for tenant in ("t1", "t2"):
        con.execute('INSERT INTO extra_stuff."odd ""name""" VALUES ($t, $t || \'-zq@x.org\', '
                    '$a, $b, $c, MAP {\'k\': $d}, $e)',
                    {"t": tenant, "a": "mail " + row[0], "b": row[1], "c": row[2],
                     "d": row[3]["k"], "e": row[4]})
    changed = redact_tables(con, "t1", identifier_pattern(emails=["zq@x.org"]))
    assert changed == 1
    got = dict((r[0], r[1:]) for r in con.execute(
        'SELECT tenant_id, note_id, "free text", payload, tags, props, doc::VARCHAR '
        'FROM extra_stuff."odd ""name"""').fetchall())
    assert got["t1"] == ("t1-zq@x.org", "mail [erased]",
                         {"who": "[erased]", "ref_id": "zq@x.org", "n": 1}, ["a", "[erased]"],
                         {"k": "to [erased]"}, '{"to": "[erased]"}')
    assert got["t2"][1] == "mail zq@x.org"


def test_dagster_storage_with_odd_table_and_column_names_is_scrubbed(tmp_path):
    home = Home(tmp_path / "o'brien \"home\"").ensure()
    db = home.dagster_home / "odd.db"
    con = sqlite3.connect(db)
    con.execute('CREATE TABLE "we""ird" ("va""l" TEXT, body BLOB)')
    con.execute('INSERT INTO "we""ird" VALUES (?, ?)', ("mail zq@x.org", b"\xff zq@x.org \xfe"))
    con.commit()
    con.close()
    assert scrub_files(home, identifier_pattern(emails=["zq@x.org"])) == 1
    con = sqlite3.connect(db)
    assert con.execute('SELECT * FROM "we""ird"').fetchall() == [
        ("mail [erased]", b"\xff [erased] \xfe")]
    con.close()


def test_a_person_erased_after_the_file_was_staged_loses_the_values_at_normalization(
        con, tmp_path):
    key = b"k" * 32
    ensure_tenant(con, "t1", home_country="US")
    con.execute("INSERT INTO gdpr.suppressions VALUES ('t1', sha256($k || 'zq@x.org'), 'email', "
                "'c_1', now()::TIMESTAMP, 'dpo')", {"k": key.hex()})
    path = write_csv(tmp_path / "f.csv", HEADER, [
        "1,Zeb,Q,ZQ@x.org,,,,,,", "2,Ann,Lee,ann@example.com,,,,,,"])
    staged = stage_contact_file(con, tenant_id="t1", path=path, at=datetime(2026, 1, 1))  # no key
    counts = normalize_import(con, tenant_id="t1", import_id=staged["import_id"], home_region="US",
                              key=key, run_id="r1", at=datetime(2026, 1, 1))
    assert counts == {"erased_subject": 1}
    assert con.execute("SELECT row_number, record IS NULL, mapped IS NULL FROM raw.contact_rows "
                       "ORDER BY 1").fetchall() == [(1, True, True), (2, False, False)]
    assert con.execute("SELECT row_number, reason_code, raw FROM quarantine.rows").fetchall() == [
        (1, "erased_subject", None)]
    assert con.execute("SELECT row_number FROM staging.contact_rows").fetchall() == [(2,)]
