"""Hostile contact files and rows (issue 13): look-alike emails that would take a contact over,
resource bombs (huge headers, devices, FIFOs, oversized files and lines), mixed line endings,
exports pasted together, invisible characters, and a dry run while a run holds the warehouse."""

from __future__ import annotations

import csv
import os
import resource
import subprocess
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from helpers import crm, has_shards, shard, write_csv

from crm_pipeline.contacts.importer import normalize_import, stage_contact_file
from crm_pipeline.contacts.ingest import files
from crm_pipeline.contacts.ingest.files import read_table
from crm_pipeline.contacts.normalize import emails
from crm_pipeline.contacts.resolve.apply import resolve_tenant
from crm_pipeline.trust.confusables import ascii_skeleton, mixed_script
from crm_pipeline.warehouse import run

REPO = Path(__file__).resolve().parent.parent
CRM = str(REPO / ".venv" / "bin" / "crm")
HEADER = ("Record ID,First Name,Last Name,Email,Phone Number,Company Name,Street Address,City,"
          "Postal Code")
VICTIM = "1,Jane,Doe,jane.doe@acme.com,+1 415 555 0100,Acme Inc,1 Main St,San Francisco,94105"
# The same person as far as the eye can tell: a Cyrillic "а" in the email, the attacker's phone
# and address.
ATTACKER = "A-7,Jane,Doe,j\u0430ne.doe@acme.com,+1 212 555 0199,Acme Inc,66 Evil Rd,New York,10001"
DETAILS = ("email", "phone", "street", "city", "postcode")
VICTIM_DETAILS = ("jane.doe@acme.com", "+14155550100", "1 Main St", "San Francisco", "94105")


def import_file(con, ctx, path: Path, at: datetime) -> str:
    """Stage, normalize and resolve one file for tenant t1, as a run does."""
    staged = stage_contact_file(con, tenant_id="t1", path=path, at=at)
    normalize_import(con, tenant_id="t1", import_id=staged["import_id"], home_region="US",
                     key=ctx.key, run_id=ctx.run_id, at=at)
    resolve_tenant(con, replace(ctx, at=at))
    return staged["import_id"]


def contacts(con) -> list[tuple]:
    return run(con, f"SELECT {', '.join(DETAILS)} FROM core.contacts WHERE tenant_id = 't1' "
                    "ORDER BY contact_id")


def victim_contact(con) -> tuple:
    return tuple(run(con, f"SELECT {', '.join(DETAILS)} FROM core.contacts c "
                          "JOIN core.contact_sources s USING (tenant_id, contact_id) "
                          "WHERE s.tenant_id = 't1' AND s.source_id = '1'")[0])


# --- item 9: homoglyph takeover ---------------------------------------------------------------


def test_look_alike_emails_are_flagged_and_ordinary_ones_are_not():
    flagged = ["j\u0430ne.doe@acme.com",            # Cyrillic a inside a Latin word
               "\uff4aane.doe@acme.com",            # full-width j
               "jane.doe@\u0430\u0441me.com",       # a Cyrillic word passing for "acme"
               "paypal@\u0440\u0430yp\u0430l.com",  # mixed in the domain
               "\u0131nfo@acme.com"]                # dotless i
    ordinary = ["jane.doe@acme.com", "jos\u00e9@example.com", "m\u00fcller@example.de",
                "ivan@\u043f\u043e\u0447\u0442\u0430.\u0440\u0444",
                "\u0435\u0433\u043e\u0440@\u043f\u043e\u0447\u0442\u0430.\u0440\u0444",
                "\u7530\u4e2d@example.jp", "\u00e6ble@example.dk", None]
    result = emails.confusable(pl.Series(flagged + ordinary))
    assert result.to_list() == [True] * len(flagged) + [False] * len(ordinary)
    normalized = emails.normalize(pl.Series(flagged[:1] + ordinary[:1]))
    assert normalized["email"].to_list() == [flagged[0], ordinary[0]]  # kept, not cleared
    assert normalized["email_issue"].to_list() == ["confusable_email", None]


def test_skeleton_folds_look_alikes_case_and_compatibility_forms():
    assert ascii_skeleton("J\u0430ne") == "jane"
    assert ascii_skeleton("\uff34\uff49\uff4e\uff41") == "tina"  # full-width
    assert ascii_skeleton("t\u0456na") == "tina"  # Cyrillic i
    assert ascii_skeleton("Jos\u00e9") == "jos\u00e9"
    assert mixed_script("t\u0456na") and not mixed_script("tina")
    assert not mixed_script("\u0438\u0432\u0430\u043d")


def test_look_alike_row_does_not_take_over_the_victim(con, ctx, tmp_path):
    victim = write_csv(tmp_path / "victim.csv", HEADER, [VICTIM])
    import_file(con, ctx, victim, datetime(2026, 1, 1))
    attack = import_file(con, ctx, write_csv(tmp_path / "attack.csv", HEADER, [ATTACKER]),
                         datetime(2026, 1, 2))
    assert victim_contact(con) == VICTIM_DETAILS
    rule = run(con, "SELECT match_rule FROM core.contact_sources WHERE import_id = $i",
               {"i": attack})[0][0]
    assert rule != "same_email"
    issues = run(con, "SELECT field, original_value, issue FROM staging.field_issues "
                      "WHERE import_id = $i ORDER BY field", {"i": attack})
    # Flagged for review: the look-alike address, and (when the row joined the victim) its
    # details held back.
    assert issues[0] == ("email", "j\u0430ne.doe@acme.com", "confusable_email")
    assert issues[1:] in ([], [("record", None, "held_update")])


def test_look_alike_email_alone_never_replaces_the_established_one(con, ctx, tmp_path):
    # Same phone and name: the exact phone rule joins the rows, yet the look-alike address,
    # the only thing that differs, does not become the contact's email.
    same_but_email = VICTIM.replace("1,", "B-1,", 1).replace("jane.doe", "j\u0430ne.doe")
    victim = write_csv(tmp_path / "victim.csv", HEADER, [VICTIM])
    import_file(con, ctx, victim, datetime(2026, 1, 1))
    import_file(con, ctx, write_csv(tmp_path / "b.csv", HEADER, [same_but_email]),
                datetime(2026, 1, 2))
    assert contacts(con) == [VICTIM_DETAILS]


def test_one_row_may_not_replace_several_established_details_now_or_later(con, ctx, tmp_path):
    import_file(con, ctx, write_csv(tmp_path / "v.csv", HEADER, [VICTIM]), datetime(2026, 1, 1))
    # The same email (an exact match) with another phone, street, city and postcode: held back.
    moved = "2,Jane,Doe,jane.doe@acme.com,+1 212 555 0199,Acme Inc,66 Evil Rd,New York,10001"
    held = import_file(con, ctx, write_csv(tmp_path / "m.csv", HEADER, [moved]),
                       datetime(2026, 1, 2))
    assert contacts(con) == [VICTIM_DETAILS]
    assert run(con, "SELECT field, issue FROM staging.field_issues WHERE import_id = $i",
               {"i": held}) == [("record", "held_update")]
    # The same row again under another id changes nothing either ...
    again = moved.replace("2,", "3,", 1)
    import_file(con, ctx, write_csv(tmp_path / "a.csv", HEADER, [again]), datetime(2026, 1, 3))
    assert contacts(con) == [VICTIM_DETAILS]
    # ... and a later ordinary update of one detail applies, without bringing the held values in.
    one_change = "4,Jane,Doe,jane.doe@acme.com,+1 415 555 0111,Acme Inc,,,"
    import_file(con, ctx, write_csv(tmp_path / "u.csv", HEADER, [one_change]), datetime(2026, 1, 4))
    assert contacts(con) == [("jane.doe@acme.com", "+14155550111", "1 Main St", "San Francisco",
                              "94105")]
    assert run(con, "SELECT count(*) FROM core.contact_sources WHERE tenant_id = 't1'")[0][0] == 4


def test_look_alike_takeover_end_to_end_is_flagged_in_data_hygiene(tmp_path, capsys):
    home = tmp_path / "home"
    victim = write_csv(tmp_path / "victim.csv", HEADER, [VICTIM])
    attack = write_csv(tmp_path / "attack.csv", HEADER, [ATTACKER])
    for f in (victim, attack):
        code, _, err = crm(home, "import", "contacts", f, "--tenant", "t1", "--no-run",
                           capsys=capsys)
        assert code == 0, err
    code, _, err = crm(home, "run", "--as-of", "2026-11-15", capsys=capsys)
    assert code == 0, err
    con = duckdb.connect(str(home / "published" / "warehouse.duckdb"), read_only=True)
    try:
        cols = ", ".join(f"c.{d}" for d in DETAILS)
        victim_row = con.execute(
            f"SELECT {cols} FROM core.contacts c JOIN core.contact_sources s "
            "USING (tenant_id, contact_id) WHERE s.source_id = '1'").fetchall()
        flags = con.execute("SELECT field, original_value, issue, detail FROM marts.data_hygiene "
                            "WHERE issue IN ('confusable_email', 'held_update')").fetchall()
    finally:
        con.close()
    assert victim_row == [VICTIM_DETAILS]
    flags = [f for f in flags if f[2] == "confusable_email"]
    assert len(flags) == 1
    assert flags[0][:3] == ("email", "j\u0430ne.doe@acme.com", "confusable_email")
    assert "never used to match" in flags[0][3]


# --- item 12: resource bombs ------------------------------------------------------------------


def crm_process(home: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The real command in its own process, with its memory capped at 2 GB and a time limit: a
    file read without limit fails the test instead of filling the machine or hanging it."""

    def cap_memory():
        resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))

    return subprocess.run([CRM, "--home", str(home), *args], capture_output=True, text=True,
                          timeout=120, preexec_fn=cap_memory, cwd=REPO,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


def test_a_hundred_thousand_column_header_is_refused(tmp_path, capsys):
    wide = tmp_path / "wide.csv"
    names = ["Email", *(f"c{i}" for i in range(100_000))]
    write_csv(wide, ",".join(names), [",".join(["a@example.com", *["x"] * 100_000])])
    code, _, err = crm(tmp_path / "home", "import", "contacts", wide, "--tenant", "t1",
                       capsys=capsys)
    assert code == 2
    assert str(wide) in err and "100,001 columns" in err and "CRM_MAX_IMPORT_COLUMNS" in err
    assert len(err.strip().splitlines()) == 1


def test_a_fifo_and_a_device_are_refused_without_reading(tmp_path):
    fifo = tmp_path / "contacts.csv"
    os.mkfifo(fifo)  # no writer: opening it for reading would wait for ever
    for path, kind in ((fifo, "pipe (FIFO)"), (Path("/dev/zero"), "device")):
        result = crm_process(tmp_path / "home", "import", "contacts", str(path), "--tenant", "t1")
        assert result.returncode == 2, result.stderr
        assert str(path) in result.stderr and kind in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_a_mapping_file_that_is_a_device_is_refused(tmp_path):
    f = write_csv(tmp_path / "c.csv", HEADER, [VICTIM])
    result = crm_process(tmp_path / "home", "import", "contacts", str(f), "--tenant", "t1",
                         "--mapping", "/dev/zero", "--dry-run")
    assert result.returncode == 2, result.stderr
    assert "/dev/zero" in result.stderr and "device" in result.stderr


def test_file_size_and_line_length_limits_refuse_with_a_clear_line(tmp_path, capsys, monkeypatch):
    f = write_csv(tmp_path / "c.csv", HEADER, [VICTIM] * 20)
    home = tmp_path / "home"
    monkeypatch.setenv("CRM_MAX_IMPORT_BYTES", "1000")
    code, _, err = crm(home, "import", "contacts", f, "--tenant", "t1", capsys=capsys)
    assert code == 2 and str(f) in err and "limit of 1000 bytes" in err
    assert "CRM_MAX_IMPORT_BYTES" in err
    monkeypatch.setenv("CRM_MAX_IMPORT_BYTES", "lots")
    code, _, err = crm(home, "import", "contacts", f, "--tenant", "t1", capsys=capsys)
    assert code == 2 and "CRM_MAX_IMPORT_BYTES" in err and "positive whole number" in err
    monkeypatch.delenv("CRM_MAX_IMPORT_BYTES")
    monkeypatch.setenv("CRM_MAX_IMPORT_LINE_BYTES", "50")
    code, _, err = crm(home, "import", "contacts", f, "--tenant", "t1", capsys=capsys)
    assert code == 2 and "line 1 is longer than the limit of 50 bytes" in err
    assert not has_shards(home)


# --- item 13: line endings, pasted exports, invisible characters --------------------------------


def test_a_bare_cr_among_lf_lines_ends_a_record(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"Record ID,First Name,Last Name,Email\n1,Ann,Lee,ann@x.com\r"
                     b"2,Bob,Ray,bob@x.com\r\n3,Cy,Oz,\"two\rlines\"\n")
    table = read_table(path)
    assert table.unparseable.height == 0
    assert table.rows["Email"].to_list() == ["ann@x.com", "bob@x.com", "two\nlines"]
    assert table.rows["row_number"].to_list() == [1, 2, 3]


def test_two_exports_pasted_together_do_not_import_the_second_header(con, ctx, tmp_path):
    first = "\ufeff" + HEADER + "\n" + VICTIM + "\n"
    second = "\ufeff" + HEADER + "\n" + "2,Max,Roe,max@beta.com,,Beta LLC,,Austin,73301" + "\n"
    path = tmp_path / "both.csv"
    path.write_bytes((first + second).encode("utf-8"))
    table = read_table(path)
    assert table.unparseable["detail"].to_list() == ["repeated header row"]
    assert table.unparseable["row_number"].to_list() == [2]
    import_id = import_file(con, ctx, path, datetime(2026, 1, 1))
    quarantined = run(con, "SELECT row_number, reason_code, reason_detail FROM quarantine.rows "
                           "WHERE import_id = $i", {"i": import_id})
    assert quarantined == [(2, "unparseable_row", "repeated header row")]
    assert run(con, "SELECT count(*) FROM core.contacts")[0][0] == 2
    counts = run(con, "SELECT rows_in FROM raw.imports WHERE import_id = $i", {"i": import_id})
    assert counts == [(3,)]  # nothing lost: 2 contacts + 1 quarantined


def test_invisible_characters_at_the_edge_of_a_value_are_dropped(con, ctx, tmp_path):
    row = "1,\u200bJane,Doe\u2060,\ufeffjane.doe@acme.com,\ufeff+1 415 555 0100,Acme Inc,,,"
    import_file(con, ctx, write_csv(tmp_path / "c.csv", HEADER, [row]), datetime(2026, 1, 1))
    stored = run(con, "SELECT first_name, last_name, email, phone, email_status FROM core.contacts")
    assert stored == [("Jane", "Doe", "jane.doe@acme.com", "+14155550100", "valid")]
    raw = run(con, "SELECT record::VARCHAR FROM raw.contact_rows")[0][0]
    assert "\ufeff" in raw  # the row as read keeps what the file held


def test_csv_complaints_are_said_in_plain_words():
    problem = files._csv_problem(csv.Error("new-line character seen in unquoted field - do you "
                                           "need to open the file in universal-newline mode?"))
    assert "universal" not in problem and "line break" in problem


# --- item 17b: a dry run while a run holds the warehouse --------------------------------------

RUN_IN_PROGRESS = """
import sys, duckdb
from crm_pipeline.home import Home
from crm_pipeline.trust.locking import write_lock
home = Home.resolve(sys.argv[1])
with write_lock(home, wait_seconds=0):
    con = duckdb.connect(str(home.shard("t1")))  # the working file, open for writing
    print("running", flush=True)
    sys.stdin.readline()
    con.close()
"""


def test_dry_run_during_a_run_reads_the_snapshot_and_touches_nothing(tmp_path, capsys):
    home = tmp_path / "home"
    f = write_csv(tmp_path / "c.csv", HEADER, [VICTIM])
    code, _, err = crm(home, "import", "contacts", f, "--tenant", "t1", "--region", "GB",
                       capsys=capsys)
    assert code == 0, err
    before = shard(home, "t1").stat().st_mtime_ns
    holder = subprocess.Popen([sys.executable, "-c", RUN_IN_PROGRESS, str(home)], cwd=REPO,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "running"
        local = write_csv(tmp_path / "uk.csv", HEADER, ["9,Ann,Lee,ann@x.co.uk,020 7946 0018,,,,"])
        code, out, err = crm(home, "import", "contacts", local, "--tenant", "t1", "--dry-run",
                             capsys=capsys)
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=60)
    assert code == 0, err
    assert "dry run" in out and "+442079460018" in out  # the tenant's GB region, from the snapshot
    assert shard(home, "t1").stat().st_mtime_ns == before


@pytest.mark.parametrize("value", ["0", "-5", "1e3"])
def test_limits_must_be_positive_whole_numbers(tmp_path, capsys, monkeypatch, value):
    monkeypatch.setenv("CRM_MAX_IMPORT_COLUMNS", value)
    f = write_csv(tmp_path / "c.csv", HEADER, [VICTIM])
    code, _, err = crm(tmp_path / "home", "import", "contacts", f, "--tenant", "t1", "--dry-run",
                       capsys=capsys)
    assert code == 2 and "CRM_MAX_IMPORT_COLUMNS" in err
