"""The tenant's HTML report: written after every run, self-contained, its charts valid
Vega-Lite, its numbers the warehouse's; `crm report` and its refusals."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from datetime import date

import duckdb
import pytest
import vl_convert
from helpers import HUBSPOT_HEADER, crm, write_csv, write_jsonl

from crm_pipeline.home import Home
from crm_pipeline.report.bundle import vega_bundle
from crm_pipeline.report.files import PREVIEW_ENV, preview_png
from dagster_defs.launch import run_pipeline
from dagster_defs.ui import stop_group

FIRST, SECOND = "2026-11-15", "2026-11-22"
ROWS = [
    "101,Ann,Lee,ann.lee@example.com,+1 415 555 2671,Acme Inc.,CEO,250,Boston,US,2024-03-12 09:14",
    "102,ANN,LEE,Ann.Lee@Example.com ,(415) 555-2671,ACME,CEO,250,Boston,US,2024-05-01 10:00",
    "103,Bob,Stone,bob@beta.io,415-555-0100,Beta LLC,Engineer,12,Austin,US,2024-01-02 08:00",
    ",,,,,,,,,,",
]


def _activities(n: int = 12) -> list[dict]:
    lines = []
    for i in range(n):
        lines.append({"activity_id": f"a{i}", "tenant_id": "t1", "type": "purchase",
                      "occurred_at": f"2026-{1 + i % 10:02d}-0{1 + i % 8}T10:00:00Z",
                      "email": "bob@beta.io" if i % 2 else "ann.lee@example.com",
                      "actor": "shop", "amount": 100 + 10 * i, "currency": "USD"})
    lines.append({"activity_id": "bad", "tenant_id": "t1", "type": "telepathy",
                  "occurred_at": "2026-11-01T10:00:00Z", "email": "bob@beta.io", "actor": "x"})
    return lines


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A home of one tenant with two runs a week apart."""
    h = Home(tmp_path_factory.mktemp("report") / "home").ensure()
    landing = h.landing_dir / "t1"
    (landing / "contacts").mkdir(parents=True)
    (landing / "activities").mkdir(parents=True)
    write_csv(landing / "contacts" / "people.csv", HUBSPOT_HEADER, ROWS)
    write_jsonl(landing / "activities" / "log.jsonl", _activities())
    for day in (FIRST, SECOND):
        outcome = run_pipeline(h, None, day)
        assert outcome.success, outcome.failures
    return h


def _page(home: Home) -> str:
    return home.report_file("t1").read_text(encoding="utf-8")


def _specs(page: str) -> list[dict]:
    return [json.loads(s) for s in re.findall(
        r'<script type="application/json" class="chart-spec"[^>]*>(.*?)</script>', page, re.S)]


def _table(page: str, table_id: str) -> list[list[str]]:
    """The data-value of each cell of a table of the page, row by row."""
    body = re.search(rf'<table id="{table_id}">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    return [re.findall(r'data-value="([^"]*)"', row) for row in re.findall(r"<tr>(.*?)</tr>", body,
                                                                          re.S)]


def test_every_run_writes_the_report_with_no_reference_outside_the_file(home):
    page = _page(home)
    assert "<title>t1: CRM report as of 2026-11-22</title>" in page
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', page), "a resource outside the file"
    assert "@import" not in page and "url(http" not in page
    assert page.count(vega_bundle()[-200:]) == 1  # the renderer embedded once
    assert len(page.encode()) < 5_000_000


def test_every_chart_is_valid_vega_lite_with_its_data_inline(home):
    specs = _specs(_page(home))
    assert len(specs) >= 8
    for spec in specs:
        assert "url" not in spec["data"] and spec["data"]["values"]
        vl_convert.vegalite_to_vega(spec)  # raises on an invalid specification


def test_the_import_funnel_shows_the_warehouse_accounting(home):
    con = duckdb.connect(str(home.extract("t1")), read_only=True)
    try:
        expected = con.execute(
            "SELECT file_name, kind, rows_in, rows_accepted, rows_merged, rows_quarantined "
            "FROM raw.imports WHERE tenant_id = 't1' ORDER BY imported_at, file_name").fetchall()
    finally:
        con.close()
    shown = [tuple(r[:2]) + tuple(int(v) for v in r[2:]) for r in _table(_page(home),
                                                                         "imports-table-1")]
    assert shown == [tuple(r) for r in expected]
    assert sum(r[5] for r in expected) > 0  # the quarantine is not vacuous


def test_as_of_cuts_the_segment_history_and_later_dates_are_refused(home, tmp_path, capsys):
    out = tmp_path / "first.html"
    code, printed, _ = crm(home.root, "report", "--tenant", "t1", "--as-of", FIRST,
                           "--out", out, capsys=capsys)
    assert code == 0 and str(out) in printed
    dates = {row[1] for row in _table(out.read_text(encoding="utf-8"), "segments-table-1")}
    assert dates == {FIRST}
    assert {row[1] for row in _table(_page(home), "segments-table-1")} == {FIRST, SECOND}
    code, _, err = crm(home.root, "report", "--tenant", "t1", "--as-of", "2026-12-01",
                       capsys=capsys)
    assert code == 2 and "after tenant 't1''s latest run (2026-11-22)" in err


@pytest.mark.parametrize("args, message", [
    (["--tenant", "nobody"], "has no data"),
    (["--tenant", "t1", "--as-of", "yesterday"], "is not a date"),
])
def test_crm_report_refuses_with_one_line(home, capsys, args, message):
    code, _, err = crm(home.root, "report", *args, capsys=capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_crm_report_refuses_a_folder_or_a_missing_folder_as_out(home, tmp_path, capsys):
    code, _, err = crm(home.root, "report", "--tenant", "t1", "--out", tmp_path, capsys=capsys)
    assert code == 2 and "is a folder" in err
    missing = tmp_path / "no" / "such" / "r.html"
    code, _, err = crm(home.root, "report", "--tenant", "t1", "--out", missing, capsys=capsys)
    assert code == 2 and "no such file or folder" in err and not missing.parent.exists()


def test_the_report_names_no_person(home):
    page = _page(home).lower()
    for value in ("ann.lee@example.com", "bob@beta.io", "415 555", "stone"):
        assert value not in page


def test_stopping_the_ui_ends_a_process_group_that_ignores_the_interrupt():
    """make ui: a group whose leader ignores SIGINT and leaves a child is still ended whole."""
    script = ("import signal, subprocess, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
              "subprocess.Popen(['sleep', '300']); time.sleep(300)")
    process = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    time.sleep(1)
    stop_group(process, grace=1)
    assert process.returncode == -signal.SIGTERM
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # signals are delivered asynchronously
        states = subprocess.run(["ps", "-o", "stat=", "-g", str(process.pid)],
                                capture_output=True, text=True).stdout.split()
        if all(s.startswith("Z") for s in states):  # none, or ended and not yet reaped
            break
        time.sleep(0.2)
    assert all(s.startswith("Z") for s in states), states


def test_the_reports_as_of_is_a_date(home):
    match = re.search(r'<time datetime="([^"]+)">', _page(home))
    assert date.fromisoformat(match.group(1)) == date.fromisoformat(SECOND)


def test_a_tenant_with_nothing_accepted_still_gets_its_report(tmp_path):
    """Empty marts: every section says so instead of failing the run."""
    h = Home(tmp_path / "home").ensure()
    (h.landing_dir / "t2" / "contacts").mkdir(parents=True)
    write_csv(h.landing_dir / "t2" / "contacts" / "empty.csv", HUBSPOT_HEADER, [",,,,,,,,,,"])
    outcome = run_pipeline(h, None, FIRST)
    assert outcome.success, outcome.failures
    page = h.report_file("t2").read_text(encoding="utf-8")
    assert "No customer has purchased yet" in page and "No revenue to forecast yet" in page
    for spec in _specs(page):
        vl_convert.vegalite_to_vega(spec)


def test_without_a_browser_the_preview_is_left_out(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no chromium on it
    monkeypatch.setenv(PREVIEW_ENV, "1")
    html = tmp_path / "r.html"
    html.write_text("<p>report</p>", encoding="utf-8")
    assert preview_png(html, tmp_path / "r.png") is None
    assert not (tmp_path / "r.png").exists()


def test_an_imports_run_skips_the_preview_and_crm_run_renders_it(tmp_path, monkeypatch, capsys):
    """The thumbnail is a browser start (seconds): `crm import`'s run leaves it to the next
    `crm run` or Dagster run. A stand-in browser on the PATH records each start."""
    bin_dir, calls = tmp_path / "bin", tmp_path / "calls"
    bin_dir.mkdir()
    fake = bin_dir / "chromium"
    fake.write_text("#!/bin/sh\necho started >> " + str(calls) + "\n"
                    "for a in \"$@\"; do case \"$a\" in --screenshot=*) "
                    "printf 'png' > \"${a#--screenshot=}\";; esac; done\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv(PREVIEW_ENV, "1")
    home = tmp_path / "home"
    people = write_csv(tmp_path / "people.csv", HUBSPOT_HEADER, ROWS[:3])
    code, _, err = crm(home, "import", "contacts", people, "--tenant", "t1", "--as-of", FIRST,
                       capsys=capsys)
    assert code == 0, err
    png = Home(home).report_file("t1").with_suffix(".png")
    assert Home(home).report_file("t1").is_file() and not png.exists() and not calls.exists()
    code, _, err = crm(home, "run", "--tenant", "t1", "--as-of", FIRST, capsys=capsys)
    assert code == 0, err
    assert png.read_bytes() == b"png" and calls.read_text().count("started") == 1
