"""Data minimization: the tenant's retention removes old imports' values in the run, audited,
without changing a golden record; `--drop-extra` keeps no unmapped column."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import crm, working, write_csv, write_jsonl

from crm_pipeline.contacts.resolve.explain import explain_contact
from crm_pipeline.contacts.retention import REMOVED_DETAIL
from crm_pipeline.home import Home

OLD_AS_OF, NEW_AS_OF, AS_OF = "2026-01-10", "2026-11-01", "2026-11-15"
HEADER = "Record ID,First Name,Last Name,Email,Phone Number,Company Name,Favourite Colour"
OLD_ROWS = [
    "301,Ann,Lee,ann.lee@example.com,+1 415 555 2671,Acme Inc.,teal",
    "302,Annie,Lee,ann.lee@example.com,,Other Co,red",
    "303,Bob,Stone,bob@example.com,,Beta LLC,blue",
    ",,,,,Nobody Inc.,green",  # no name, email or phone: quarantined
]
NEW_ROWS = [
    "401,Cy,Park,cy.park@example.com,,Gamma plc,plum",
    ",,,,,Nothing Ltd,grey",
]


def q(home, sql, params=None):
    con = working(home)
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


def import_ids(home) -> dict[str, str]:
    return dict(q(home, "SELECT file_name, import_id FROM raw.imports"))


def golden(home):
    return q(home, "SELECT * FROM core.contacts ORDER BY contact_id"), q(
        home, "SELECT * FROM core.contact_sources ORDER BY source_key")


def accounting(home):
    return q(home, """
        SELECT i.file_name, i.rows_in, i.rows_accepted, i.rows_merged, i.rows_quarantined,
               (SELECT count(*) FROM raw.contact_rows r WHERE r.import_id = i.import_id)
             + (SELECT count(*) FROM raw.activity_events e WHERE e.import_id = i.import_id),
               (SELECT count(*) FROM quarantine.rows x WHERE x.import_id = i.import_id)
        FROM raw.imports i ORDER BY 1""")


def explain(home, cid):
    """`crm contact explain`'s document (from the published snapshot)."""
    return explain_contact(Home.resolve(home), "t1", cid)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    d = tmp_path_factory.mktemp("retention")
    home = d / "home"
    old = write_csv(d / "old.csv", HEADER, OLD_ROWS)
    new = write_csv(d / "new.csv", HEADER, NEW_ROWS)
    acts = write_jsonl(d / "old.jsonl", [
        {"activity_id": "u1", "tenant_id": "t1", "type": "call",
         "occurred_at": "2026-01-05T10:00:00Z", "source_id": " 302 ", "actor": "jane",
         "notes": "talked about the renewal"},
        {"activity_id": "u2", "tenant_id": "t1", "type": "call",
         "occurred_at": "2026-01-06T10:00:00Z", "email": "ann.lee@example.com", "actor": "jane"},
        {"activity_id": "u3", "tenant_id": "t1", "type": "telepathy",
         "occurred_at": "2026-01-06T10:00:00Z", "email": "bob@example.com"},
        "not json at all, bob@example.com",
    ])
    assert crm(home, "import", "contacts", old, "--tenant", "t1", "--no-run")[0] == 0
    # 0 keeps for ever: the import run of the newer file (295 days later) removes nothing
    assert crm(home, "tenant", "set", "--tenant", "t1", "raw_rows_days", "0",
               "error_files_days", "0", "quarantine_values_days", "0", "--actor", "jane")[0] == 0
    assert crm(home, "import", "activities", acts, "--tenant", "t1", "--as-of", OLD_AS_OF)[0] == 0
    assert crm(home, "import", "contacts", new, "--tenant", "t1", "--as-of", NEW_AS_OF)[0] == 0
    return home


@pytest.fixture(scope="module")
def purged(home):
    ids = import_ids(home)
    before = {
        "golden": golden(home), "accounting": accounting(home),
        "raw": q(home, "SELECT import_id, row_number, record::VARCHAR FROM raw.contact_rows "
                       "ORDER BY ALL"),
        "audit": q(home, "SELECT count(*) FROM audit.changes")[0][0],
        "error_files": {f: Path(p) for f, p in q(
            home, "SELECT file_name, error_file FROM raw.imports WHERE error_file IS NOT NULL")},
        "cid": q(home, "SELECT contact_id FROM core.contacts "
                       "WHERE email = 'ann.lee@example.com'")[0][0],
    }
    before["explain"] = explain(home, before["cid"])
    for key in ("raw_rows_days", "error_files_days", "quarantine_values_days"):
        assert crm(home, "tenant", "set", "--tenant", "t1", key, "default",
                   "--actor", "jane")[0] == 0
    assert crm(home, "run", "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    return {"ids": ids, "before": before}


def test_zero_keeps_for_ever(home):
    rows = q(home, "SELECT count(*) FROM raw.contact_rows WHERE record IS NOT NULL")[0][0]
    assert rows == 6  # the quarantined row of each file has its values too
    assert q(home, "SELECT count(*) FROM raw.imports WHERE raw_purged_on IS NOT NULL OR "
                   "error_file_purged_on IS NOT NULL OR quarantine_purged_on IS NOT NULL") == [(0,)]
    assert all(Path(p).is_file() for (p,) in q(
        home, "SELECT error_file FROM raw.imports WHERE error_file IS NOT NULL"))


def test_old_imports_raw_values_are_gone_the_recent_ones_stay(home, purged):
    ids = purged["ids"]
    old, new = ids["old.csv"], ids["new.csv"]
    assert q(home, "SELECT count(*) FROM raw.contact_rows WHERE import_id = $i AND "
                   "(record IS NOT NULL OR mapped IS NOT NULL OR extra IS NOT NULL)",
             {"i": old}) == [(0,)]
    # the rows, their numbers and the sources' ids stay
    assert q(home, "SELECT row_number, source_id FROM raw.contact_rows WHERE import_id = $i "
                   "ORDER BY 1", {"i": old}) == [(1, "301"), (2, "302"), (3, "303"), (4, None)]
    kept = q(home, "SELECT record::VARCHAR, extra::VARCHAR FROM raw.contact_rows "
                   "WHERE import_id = $i AND row_number = 1", {"i": new})
    assert "Cy" in kept[0][0] and "plum" in kept[0][1]
    assert q(home, "SELECT raw_purged_on::VARCHAR FROM raw.imports WHERE import_id IN ($o, $n) "
                   "ORDER BY import_id = $n", {"o": old, "n": new}) == [(AS_OF,), (None,)]


def test_activity_lines_keep_only_the_references_unmerge_reads(home, purged):
    lines = [r[0] for r in q(home, "SELECT line FROM raw.activity_events ORDER BY line_number")]
    assert [json.loads(x) if x else x for x in lines] == [
        {"source_id": "302", "email": None}, {"source_id": None, "email": "ann.lee@example.com"},
        {"source_id": None, "email": "bob@example.com"}, ""]
    assert not any("renewal" in x or "jane" in x for x in lines)


def test_quarantine_values_and_error_files_of_the_old_imports_are_gone(home, purged):
    ids = purged["ids"]
    old_imports = (ids["old.csv"], ids["old.jsonl"])
    rows = q(home, "SELECT import_id, row_number, reason_code, reason_detail, raw "
                   "FROM quarantine.rows ORDER BY ALL")
    for import_id, number, code, detail, raw in rows:
        if import_id in old_imports:
            assert (raw, detail) == (None, REMOVED_DETAIL), (number, code)
        else:
            assert raw and "Nothing Ltd" in raw
    assert {r[2] for r in rows if r[0] in old_imports} >= {"missing_identity"}
    files = purged["before"]["error_files"]
    assert not files["old.csv"].exists() and not files["old.jsonl"].exists()
    assert files["new.csv"].is_file()
    assert dict(q(home, "SELECT file_name, error_file IS NULL FROM raw.imports")) == {
        "old.csv": True, "old.jsonl": True, "new.csv": False}


def test_golden_records_accounting_and_explain_are_unchanged(home, purged, capsys):
    before = purged["before"]
    assert golden(home) == before["golden"]
    assert accounting(home) == before["accounting"]
    for _, rows_in, acc, mer, qua, stored, quarantined in accounting(home):
        assert rows_in == acc + mer + qua == stored and qua == quarantined
    assert explain(home, before["cid"]) == before["explain"]


def test_each_purged_import_is_audited_once(home, purged, capsys):
    rows = q(home, "SELECT entity_id, actor, new FROM audit.changes WHERE entity = 'retention' "
                   "ORDER BY entity_id")
    ids = purged["ids"]
    assert sorted(r[0] for r in rows) == sorted([ids["old.csv"], ids["old.jsonl"]])
    assert {r[1] for r in rows} == {"pipeline"}
    by_id = {r[0]: json.loads(r[2]) for r in rows}
    assert by_id[ids["old.csv"]] == {"as_of": AS_OF, "removed": {
        "raw_rows": 4, "quarantine_rows": 1, "error_file": 1}}
    code, out, _ = crm(home, "audit", "verify", capsys=capsys)
    assert code == 0, out


def test_a_second_run_changes_nothing(home, purged):
    state = (q(home, "SELECT count(*) FROM audit.changes")[0][0], accounting(home), golden(home),
             q(home, "SELECT * FROM quarantine.rows ORDER BY ALL"),
             q(home, "SELECT * FROM raw.activity_events ORDER BY ALL"),
             q(home, "SELECT * EXCLUDE (processed_run_id) FROM raw.imports ORDER BY ALL"))
    assert crm(home, "run", "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    assert state == (q(home, "SELECT count(*) FROM audit.changes")[0][0], accounting(home),
                     golden(home), q(home, "SELECT * FROM quarantine.rows ORDER BY ALL"),
                     q(home, "SELECT * FROM raw.activity_events ORDER BY ALL"),
                     q(home, "SELECT * EXCLUDE (processed_run_id) FROM raw.imports ORDER BY ALL"))


def test_unmerge_after_retention_rebuilds_from_the_staged_rows(home, purged):
    cid = purged["before"]["cid"]
    key, = q(home, "SELECT source_key FROM core.contact_sources WHERE source_id = '302'")[0]
    assert crm(home, "unmerge", "--tenant", "t1", "--contact", cid, "--source", key,
               "--actor", "alice")[0] == 0
    names = dict(q(home, "SELECT first_name, company FROM core.contacts "
                         "WHERE email = 'ann.lee@example.com'"))
    assert names == {"Ann": "Acme Inc.", "Annie": "Other Co"}
    moved = dict(q(home, "SELECT a.activity_id, c.first_name FROM core.activities a "
                         "JOIN core.contacts c USING (tenant_id, contact_id) ORDER BY 1"))
    assert moved == {"u1": "Annie", "u2": "Ann"}  # u2 names the email both rows share


def test_retention_settings_are_checked(home, capsys):
    code, _, err = crm(home, "tenant", "set", "--tenant", "t1", "--actor", "jane", "--",
                       "raw_rows_days", "-1", capsys=capsys)
    assert code == 2 and "retention.raw_rows_days" in err and "\n" not in err.strip()
    code, _, err = crm(home, "tenant", "set", "--tenant", "t1", "raw_rows_days", "40000",
                       "--actor", "jane", capsys=capsys)
    assert code == 2 and "36600" in err
    code, _, err = crm(home, "tenant", "set", "--tenant", "t1", "error_files_days", "1.5",
                       "--actor", "jane", capsys=capsys)
    assert code == 2 and "whole number" in err
    changes = q(home, "SELECT count(*) FROM audit.changes")[0][0]
    code, _, err = crm(home, "tenant", "set", "--tenant", "t1", "quarantine_values_days", "30",
                       "--actor", "jane", capsys=capsys)
    assert code == 0, err
    assert q(home, "SELECT settings->'retention'->>'quarantine_values_days' FROM core.tenants") \
        == [("30",)]
    assert q(home, "SELECT entity FROM audit.changes WHERE change_id > $n",
             {"n": changes}) == [("tenant_settings",)]
    code, out, _ = crm(home, "tenant", "show", "--tenant", "t1", capsys=capsys)
    assert code == 0 and "retention.quarantine_values_days" in out


def test_drop_extra_keeps_no_unmapped_column(tmp_path, capsys):
    home = tmp_path / "home"
    f = write_csv(tmp_path / "c.csv", HEADER, OLD_ROWS[:1])
    code, _, err = crm(home, "import", "contacts", f, "--tenant", "t1", "--drop-extra",
                       "--as-of", AS_OF, capsys=capsys)
    assert code == 0, err
    record, extra = q(home, "SELECT record::VARCHAR, extra FROM raw.contact_rows")[0]
    assert "teal" not in record and "Favourite" not in record and extra is None
    assert q(home, "SELECT extra FROM staging.contact_rows") == [(None,)]
    assert q(home, "SELECT extra FROM core.contacts")[0][0] in (None, "{}")
    options = json.loads(q(home, "SELECT mapping FROM raw.imports")[0][0])
    assert options["drop_extra"] is True and options["extras"] == []
    # without the option the column is kept as an extra attribute
    g = write_csv(tmp_path / "d.csv", HEADER, ["501,Di,Ray,di@example.com,,Delta,amber"])
    assert crm(home, "import", "contacts", g, "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    assert q(home, "SELECT extra->>'Favourite Colour' FROM raw.contact_rows "
                   "WHERE source_id = '501'") == [("amber",)]
