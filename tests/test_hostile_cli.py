"""Hostile use of the `crm` command itself: a demo over a real home, markup in values, extreme
dates and failing steps, unusable paths, query output, and the help text (issue 13, items 7,
11, 14, 15, 16 and 18)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from helpers import HUBSPOT_HEADER, crm, shard, working, write_csv, write_jsonl
from rich.console import Console

from crm_pipeline.cli import commands
from crm_pipeline.home import Home

AS_OF = "2026-11-15"
REPO = Path(__file__).resolve().parent.parent
CRM = str(REPO / ".venv" / "bin" / "crm")

HOSTILE_NAMES = ["[/x]", "[red]Red[/red]", "[link=http://evil.example]click[/link]", ":smile:",
                 "[bold"]
ROWS = [
    "1,[/x],Lee,ann@example.com,,Acme,,,,US,2024-03-12 09:14",
    "2,[red]Red[/red],Chen,bo@example.com,,Beta,,,,US,2024-03-12 09:14",
    "3,[link=http://evil.example]click[/link],Ray,cy@example.com,,Gamma,,,,US,2024-03-12 09:14",
    "4,:smile:,Ng,di@example.com,,\x1b[31mRedCo\x1b]8;;http://evil.example\x1b\\,,,,US,2024-03-12",
    "5,[bold,Fox,ed@example.com,,Delta,,,,US,2024-03-12 09:14",
]


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def files_of(root: Path) -> dict[str, str]:
    """Every file under root (but the write lock, rewritten by each writer) and its digest."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != "write.lock"}


def run_crm(home: Path, *args: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([CRM, "--home", str(home), *args], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200", **env}, timeout=300)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A home whose contacts and activities carry rich markup, emoji codes and terminal escapes."""
    d = tmp_path_factory.mktemp("hostile_cli")
    home = d / "home"
    f = write_csv(d / "c.csv", HUBSPOT_HEADER, ROWS)
    acts = write_jsonl(d / "a.jsonl", [
        {"activity_id": "a1", "tenant_id": "t1", "type": "call",
         "occurred_at": "2026-11-10T10:00:00Z", "email": "ann@example.com", "actor": "[/x]",
         "subject": "[red]call[/red] [/x]"},
    ])
    assert crm(home, "import", "contacts", f, "--tenant", "t1", "--no-run")[0] == 0
    assert crm(home, "import", "activities", acts, "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    return home


def contact_ids(home: Path) -> list[str]:
    con = duckdb.connect(str(home / "published" / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT contact_id FROM core.contacts ORDER BY 1").fetchall()
        return [c for (c,) in rows]
    finally:
        con.close()


# --- item 7: crm demo never wipes a home it did not make ---------------------------------------

@pytest.fixture
def real_home(tmp_path):
    """A home holding someone's data (an import) and a file of their own."""
    home = tmp_path / "real"
    f = write_csv(tmp_path / "mine.csv", HUBSPOT_HEADER, ["1,Ann,Lee,ann@example.com,,,,,,,"])
    assert crm(home, "import", "contacts", f, "--tenant", "t1", "--no-run")[0] == 0
    (home / "notes.txt").write_text("mine", encoding="utf-8")
    return home


def test_demo_refuses_a_home_holding_other_data_and_changes_nothing(real_home, tmp_path, capsys):
    before = files_of(real_home)
    code, out, err = crm(real_home, "demo", capsys=capsys)
    assert code == 2, out + err
    assert len(lines(err)) == 1 and "--force" in err and str(real_home) in err
    assert files_of(real_home) == before

    other = tmp_path / "somebodys_folder"  # CRM_HOME pointing at a folder that is no CRM home
    other.mkdir()
    (other / "thesis.tex").write_text("years of work", encoding="utf-8")
    code, _, err = crm(other, "demo", capsys=capsys)
    assert code == 2 and "thesis.tex" in err
    assert (other / "thesis.tex").read_text(encoding="utf-8") == "years of work"


def test_demo_force_moves_the_data_aside_whole_and_builds_the_demo(real_home, capsys):
    secret = (real_home / "secret.key").read_bytes()
    code, out, err = crm(real_home, "demo", "--force", capsys=capsys)
    assert code == 0, err
    aside = [p for p in real_home.iterdir() if p.name.startswith("pre-demo-")]
    assert len(aside) == 1 and str(aside[0]) in out
    old = aside[0]
    assert (old / "secret.key").read_bytes() == secret  # the old chain and digests still verify
    con = duckdb.connect(str(shard(old, "t1")), read_only=True)
    try:
        assert con.execute("SELECT tenant_id, file_name FROM raw.imports").fetchall() == [
            ("t1", "mine.csv")]
    finally:
        con.close()
    assert (real_home / "notes.txt").read_text(encoding="utf-8") == "mine"  # never touched
    marker = json.loads((real_home / "demo.json").read_text(encoding="utf-8"))
    assert marker["finished_at"] and "tenants/acme_us/warehouse.duckdb" in marker["created"]
    assert (real_home / "secret.key").read_bytes() != secret
    assert crm(old, "audit", "verify", capsys=capsys)[0] == 0


def test_a_previous_demo_is_rebuilt_without_force_and_only_its_files_go(tmp_path, capsys):
    home = Home.resolve(tmp_path / "demo")
    quiet = Console(file=io.StringIO())
    with commands.locked(home):
        commands.demo_stage(quiet, home)  # a demo (interrupted before its run, as may happen)
    (home.root / "notes.txt").write_text("mine", encoding="utf-8")
    stale = home.root / "audit_head.json"
    stale.write_text("{}", encoding="utf-8")
    with commands.locked(home):
        commands.demo_stage(quiet, home)  # rebuilt: no --force needed
    assert not stale.exists()
    assert (home.root / "notes.txt").read_text(encoding="utf-8") == "mine"
    con = working(home.root)
    try:
        assert con.execute("SELECT count(*) FROM raw.imports").fetchone()[0] == 9
    finally:
        con.close()

    # once someone imports their own file into the demo home, it is no longer only a demo
    f = write_csv(tmp_path / "real.csv", HUBSPOT_HEADER, ["1,Ann,Lee,ann@example.com,,,,,,,"])
    assert crm(home.root, "import", "contacts", f, "--tenant", "acme_us", "--no-run")[0] == 0
    before = files_of(home.root)
    code, _, err = crm(home.root, "demo", capsys=capsys)
    assert code == 2 and "real.csv" in err and "--force" in err
    assert files_of(home.root) == before


def test_a_file_waiting_in_landing_makes_a_demo_home_refused(tmp_path, capsys):
    home = Home.resolve(tmp_path / "demo")
    with commands.locked(home):
        commands.demo_stage(Console(file=io.StringIO()), home)
    waiting = home.landing_dir / "acme_us" / "contacts" / "new.csv"
    waiting.parent.mkdir(parents=True)
    waiting.write_text("Email\nx@example.com\n", encoding="utf-8")
    code, _, err = crm(home.root, "demo", capsys=capsys)
    assert code == 2 and "new.csv" in err
    assert waiting.exists()


# --- item 11: values are never read as markup -----------------------------------------------

def test_markup_in_values_is_printed_as_written_by_sql(home, capsys):
    code, out, err = crm(home, "sql", "select first_name from core.contacts", capsys=capsys)
    assert code == 0, err
    for name in HOSTILE_NAMES:
        assert name in out
    code, out, err = crm(home, "sql", "select company from core.contacts", capsys=capsys)
    assert code == 0, err
    assert "\x1b" not in out and "\\x1b[31mRedCo" in out  # a value cannot drive the terminal
    code, out, err = crm(home, "sql", 'select 1 as "[/x]", \'[red]\' as ":smile:"', capsys=capsys)
    assert code == 0 and "[/x]" in out and ":smile:" in out and "[red]" in out


def test_markup_in_values_is_printed_as_written_by_contact_show_and_explain(home, capsys):
    shown = ""
    for cid in contact_ids(home):
        for command in ("show", "explain"):
            code, out, err = crm(home, "contact", command, "--tenant", "t1", cid, capsys=capsys)
            assert code == 0, err
            shown += out
    for name in HOSTILE_NAMES:
        assert name in shown
    assert "[red]call[/red] [/x]" in shown and "\x1b" not in shown


def test_markup_in_file_names_and_headers_is_printed_as_written(tmp_path, capsys):
    f = write_csv(tmp_path / "[red]x.csv", "Email,[/x],First Name", ["a@example.com,1,[/y]"])
    code, out, err = crm(tmp_path / "home", "import", "contacts", f, "--tenant", "t1", "--dry-run",
                         capsys=capsys)
    assert code == 0, err
    assert "[red]x.csv" in out and "[/x]" in out and "[/y]" in out
    code, out, err = crm(tmp_path / "home", "import", "contacts", f, "--tenant", "t1", "--no-run",
                         capsys=capsys)
    assert code == 0 and "[red]x.csv" in out
    code, _, err = crm(tmp_path / "home", "import", "contacts", tmp_path / "[/x].csv", "--tenant",
                       "t1", capsys=capsys)
    assert code == 2 and "[/x].csv" in err


# --- item 14: one line per problem ------------------------------------------------------------

@pytest.mark.parametrize("as_of", ["9999-12-31", "0001-01-01", "1969-12-31", "2999-01-01"])
def test_as_of_outside_the_documented_range_is_refused_at_the_door(home, as_of, capsys):
    code, _, err = crm(home, "run", "--as-of", as_of, capsys=capsys)
    assert code == 2 and len(lines(err)) == 1
    assert "--as-of" in err and "1970-01-01" in err


def test_a_failing_step_is_one_line_with_its_details_in_a_log_file(tmp_path, capsys):
    home = tmp_path / "home"
    f = write_csv(tmp_path / "c.csv", HUBSPOT_HEADER, ["1,Ann,Lee,ann@example.com,,,,,,,"])
    assert crm(home, "import", "contacts", f, "--tenant", "t1", "--no-run")[0] == 0
    (home / "published" / "tenants").write_text("a file where publishing needs a folder")
    code, _, err = crm(home, "run", "--as-of", AS_OF, capsys=capsys)
    assert code == 1
    problems = [line for line in lines(err) if not line.startswith(("…", "crm: warning: "))]
    assert len(problems) == 1, err
    assert problems[0].startswith("crm: internal error: run ")
    assert "Traceback" not in err and "Stack Trace" not in err and "dagster._core" not in err
    log = Path(re.search(r"details in (\S+\.log)\)", problems[0]).group(1))
    assert log.parent == home / "logs" and log.exists()
    text = log.read_text(encoding="utf-8")
    assert "publish" in text and ("Traceback" in text or "Stack Trace" in text)


def test_an_internal_error_outside_a_run_is_one_line_with_a_log(tmp_path, capsys):
    home = tmp_path / "home"
    shard(home, "t1").parent.mkdir(parents=True)
    shard(home, "t1").write_bytes(b"this is not a duckdb file" * 100)
    code, _, err = crm(home, "run", capsys=capsys)
    assert code == 1 and len(lines(err)) == 1 and "internal error" in err
    log = Path(re.search(r"details in (\S+\.log)\)", err).group(1))
    assert log.parent == home / "logs" and "Traceback" in log.read_text(encoding="utf-8")


def test_warnings_are_one_line_each_without_a_source_line(home):
    result = run_crm(home, "run", "--tenant", "t1", "--as-of", AS_OF)
    assert result.returncode == 0, result.stderr
    warned = [line for line in lines(result.stderr) if "warning" in line.lower()]
    assert warned, result.stderr  # five contacts, no repeat buyers: LTV falls back, and says so
    assert all(line.startswith("crm: warning: ") for line in warned), result.stderr
    assert "warnings.warn" not in result.stderr and ".py:" not in result.stderr
    assert "LtvFallbackWarning" not in result.stderr


# --- item 15: paths the user names ------------------------------------------------------------

def test_gdpr_export_out_paths_are_checked_before_anything_is_read(home, tmp_path, capsys):
    cid = contact_ids(home)[0]
    cases = [(tmp_path, "is a folder"), (tmp_path / "nonexistent" / "x.json", "does not exist"),
             (tmp_path / "c.csv" / "x.json", "does not exist")]
    (tmp_path / "c.csv").write_text("a file, not a folder", encoding="utf-8")
    cases[-1] = (tmp_path / "c.csv" / "x.json", "is not a folder")
    for out_path, words in cases:
        code, _, err = crm(home, "gdpr", "export", "--tenant", "t1", "--contact", cid, "--out",
                           out_path, capsys=capsys)
        assert code == 2, err
        assert len(lines(err)) == 1 and str(out_path) in err and words in err
        assert "Errno" not in err


def test_gdpr_export_writes_a_file_only_its_owner_can_read(home, tmp_path, capsys):
    cid = contact_ids(home)[0]
    out_path = tmp_path / "person.json"
    code, _, err = crm(home, "gdpr", "export", "--tenant", "t1", "--contact", cid, "--out",
                       out_path, capsys=capsys)
    assert code == 0, err
    assert json.loads(out_path.read_text(encoding="utf-8"))
    assert out_path.stat().st_mode & 0o077 == 0


def test_an_unwritable_out_path_is_refused_in_one_line(home, capsys):
    target = Path("/sys/crm-export.json")
    try:
        target.write_text("x")
    except OSError:
        pass
    else:  # pragma: no cover - a machine where even /sys is writable
        target.unlink()
        pytest.skip("/sys is writable here")
    code, _, err = crm(home, "gdpr", "export", "--tenant", "t1", "--contact", contact_ids(home)[0],
                       "--out", target, capsys=capsys)
    assert code == 2 and len(lines(err)) == 1 and str(target) in err and "Errno" not in err


@pytest.mark.parametrize("command", [
    ["run"], ["sql", "select 1"], ["audit", "verify"], ["demo"],
    ["gdpr", "export", "--tenant", "t1", "--contact", "c_1"],
    ["contact", "show", "--tenant", "t1", "c_1"],
])
def test_a_home_that_is_a_file_is_refused_in_one_line(tmp_path, command, capsys):
    not_a_folder = tmp_path / "home"
    not_a_folder.write_text("a file", encoding="utf-8")
    code, _, err = crm(not_a_folder, *command, capsys=capsys)
    assert code == 2 and len(lines(err)) == 1, err
    assert str(not_a_folder) in err and "is a file" in err
    assert not_a_folder.read_text(encoding="utf-8") == "a file"


def test_a_home_that_cannot_be_created_is_refused_in_one_line(tmp_path, capsys):
    f = write_csv(tmp_path / "c.csv", HUBSPOT_HEADER, ["1,Ann,Lee,ann@example.com,,,,,,,"])
    (tmp_path / "file").write_text("x", encoding="utf-8")
    homes = [tmp_path / "file" / "home"]
    try:
        Path("/sys/crm_home").mkdir()
    except OSError:
        homes.append(Path("/sys/crm_home"))  # not even root may create a folder there
    else:  # pragma: no cover - a machine where /sys is writable
        Path("/sys/crm_home").rmdir()
    for home in homes:
        code, _, err = crm(home, "import", "contacts", f, "--tenant", "t1", capsys=capsys)
        assert code == 2 and len(lines(err)) == 1, err
        assert str(home) in err and "Errno" not in err


def test_input_paths_that_cannot_be_read_are_refused_in_one_line(tmp_path, capsys):
    f = write_csv(tmp_path / "c.csv", HUBSPOT_HEADER, ["1,Ann,Lee,ann@example.com,,,,,,,"])
    folder = tmp_path / "maps"
    folder.mkdir()
    home = tmp_path / "home"
    for args, named in [(["--mapping", folder], folder), (["--mapping", tmp_path / "none.yaml"],
                                                          tmp_path / "none.yaml")]:
        code, _, err = crm(home, "import", "contacts", f, "--tenant", "t1", *args, capsys=capsys)
        assert code == 2 and len(lines(err)) == 1 and str(named) in err, err
    code, _, err = crm(home, "import", "activities", folder, "--tenant", "t1", capsys=capsys)
    assert code == 2 and str(folder) in err


# --- item 16: query output --------------------------------------------------------------------

def test_csv_and_json_output_carry_values_exactly(home, capsys):
    query = "select '-5' as a, '+1415' as b, '=1+1' as c, '@x' as d, repeat('x', 5000) as e"
    code, out, _ = crm(home, "sql", query, "--format", "csv", capsys=capsys)
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows == [["a", "b", "c", "d", "e"], ["-5", "+1415", "=1+1", "@x", "x" * 5000]]
    code, out, _ = crm(home, "sql", query, "--format", "json", capsys=capsys)
    assert json.loads(out) == [{"a": "-5", "b": "+1415", "c": "=1+1", "d": "@x", "e": "x" * 5000}]


def test_a_table_is_capped_and_says_how_many_rows_were_left_out(home, capsys):
    query = "select range as n from range(120)"
    code, out, _ = crm(home, "sql", query, capsys=capsys)
    assert code == 0
    numbers = set(re.findall(r"│\s*(\d+)\s*│", out))
    assert numbers == {str(i) for i in range(50)}
    assert "70 more" in out and "--all" in out
    code, out, _ = crm(home, "sql", query, "--all", capsys=capsys)
    assert set(re.findall(r"│\s*(\d+)\s*│", out)) == {str(i) for i in range(120)}
    code, out, _ = crm(home, "sql", query, "--limit", "10", capsys=capsys)
    assert set(re.findall(r"│\s*(\d+)\s*│", out)) == {str(i) for i in range(10)}
    assert "110 more" in out
    code, out, _ = crm(home, "sql", query, "--format", "csv", capsys=capsys)
    assert len(out.splitlines()) == 121  # programs get every row unless they ask for fewer
    code, _, err = crm(home, "sql", query, "--limit", "0", capsys=capsys)
    assert code == 2


# --- item 18: help that reads like a well-kept CLI's -----------------------------------------

COMMANDS = [[], ["run"], ["sql"], ["demo"], ["unmerge"], ["import", "contacts"],
            ["import", "activities"], ["contact", "show"], ["contact", "explain"],
            ["gdpr", "export"], ["gdpr", "erase"], ["audit", "verify"],
            ["segment", "export"], ["tenant", "show"], ["tenant", "set"]]
REQUIRED = {("import", "contacts"): ["--tenant"], ("import", "activities"): ["--tenant"],
            ("contact", "show"): ["--tenant"], ("contact", "explain"): ["--tenant"],
            ("unmerge",): ["--tenant", "--contact", "--source"],
            ("gdpr", "export"): ["--tenant", "--contact"],
            ("gdpr", "erase"): ["--tenant", "--contact", "--actor"],
            ("segment", "export"): ["--tenant", "--format"], ("tenant", "show"): ["--tenant"],
            ("tenant", "set"): ["--tenant"]}


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "crm")
def test_help_names_values_marks_required_options_and_shows_examples(command):
    result = subprocess.run([CRM, *command, "--help"], capture_output=True, text=True,
                            env={**os.environ, "COLUMNS": "200"}, timeout=60)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert not re.search(r"<(str|bool|int|path)>", text), text
    assert re.search(r"^\s*│?\s*\$ crm " + re.escape(" ".join(command)), text, re.M), text
    for option in REQUIRED.get(tuple(command), []):
        row = next(line for line in text.splitlines() if re.match(rf"│\W*{option}\s", line))
        assert "[required]" in row and "*" in row, row


def test_a_missing_required_option_is_a_usage_error_naming_it(tmp_path, capsys):
    code, _, err = crm(tmp_path / "home", "gdpr", "erase", "--tenant", "t1", "--contact", "c_1",
                       capsys=capsys)
    assert code == 2 and "--actor" in err and len(lines(err)) == 1


def test_a_flag_never_shows_a_value_type():
    result = subprocess.run([sys.executable, "-m", "crm_pipeline.cli.app", "import", "contacts",
                             "--help"], capture_output=True, text=True, cwd=REPO,
                            env={**os.environ, "COLUMNS": "200"}, timeout=60)
    row = next(line for line in result.stdout.splitlines() if "--dry-run" in line)
    assert "bool" not in row
