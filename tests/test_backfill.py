"""`crm backfill`: history from day one. Backfilling weekly gives the same segment, lifecycle
and workflow history as day-by-day `crm run --as-of D` runs for those dates on a copy of the
same home; it leaves the current marts as they were, is idempotent, and refuses bad ranges."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import duckdb
import pytest
from helpers import HUBSPOT_HEADER, crm, shard, write_csv, write_jsonl

from crm_pipeline.backfill import MAX_DATES, backfill_dates
from crm_pipeline.errors import BadArgument

START, END = datetime.date(2026, 9, 7), datetime.date(2026, 11, 2)  # nine Mondays
WEEKS = [START + datetime.timedelta(weeks=i) for i in range(9)]
LATEST = "2026-11-30"
HISTORY = {
    "segment_history": "contact_id, segment, entered_on, left_on",
    "lifecycle_history": "contact_id, stage, entered_on, left_on",
    "work_queue_history": "workflow, contact_id, enrolled_at, triggered_at, exited_at, exit_reason",
    "workflow_eligibility": "workflow, contact_id, entered_on, left_on",
    "work_queue_steps": "workflow, contact_id, enrolled_at, step_no, reached_on, due_on, "
                        "completed_at",
}
CURRENT = {
    "lifecycle": "contact_id, stage, reason, as_of",
    "contact_segments": "contact_id, segment, as_of",
    "engagement": "*",
    "work_queue": "workflow, contact_id, step",
}


def _act(n: int, type_: str, day: str, source: str, **extra) -> dict:
    return {"activity_id": f"a{n}", "tenant_id": "t1", "type": type_, "source_id": source,
            "occurred_at": f"{day}T10:00:00Z", "actor": extra.pop("actor", "pipeline"), **extra}


ACTIVITIES = [
    _act(1, "purchase", "2026-06-10", "1", amount=100, currency="USD"),
    _act(2, "purchase", "2026-09-20", "1", amount=80, currency="USD"),
    _act(3, "form_submission", "2026-07-01", "2"),
    _act(4, "email", "2026-09-15", "3", direction="inbound"),
    _act(5, "meeting", "2026-10-05", "3", actor="claire"),
    _act(6, "purchase", "2026-10-12", "3", amount=300, currency="USD"),
    _act(7, "support", "2026-09-01", "4"),
    _act(8, "download", "2026-08-20", "5"),
    _act(9, "form_submission", "2026-10-20", "5"),
    _act(10, "email", "2026-10-21", "5", direction="outbound", actor="cheryl"),
    _act(11, "purchase", "2026-11-10", "6", amount=50, currency="USD"),
    _act(12, "call", "2026-06-15", "7", actor="dana"),
    _act(13, "webinar", "2026-11-01", "7"),
]


def import_activities(home: Path, lines: list[dict], name: str) -> None:
    path = write_jsonl(home.parent / f"{name}.jsonl", lines)
    assert crm(home, "import", "activities", path, "--tenant", "t1", "--no-run")[0] == 0


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> Path:
    """A home with the tenant's contacts imported, never run (its activities come later)."""
    d = tmp_path_factory.mktemp("backfill")
    home = d / "home"
    contacts = write_csv(d / "t1.csv", HUBSPOT_HEADER, [
        f"{i},N{i},Person,p{i}@example.com,,Co {i % 3},{'CEO' if i % 3 == 0 else 'Analyst'},"
        f"{50 * i},Boston,US,2024-01-02 08:00" for i in range(1, 9)])
    assert crm(home, "import", "contacts", contacts, "--tenant", "t1", "--no-run")[0] == 0
    return home


def _copy(home: Path, to: Path) -> Path:
    shutil.copytree(home, to)
    return to


def rows(home: Path, tables: dict[str, str]) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(shard(home, "t1")), read_only=True)
    try:
        return {t: sorted(con.execute(f"SELECT {cols} FROM marts.{t} WHERE tenant_id = 't1'")
                          .fetchall(), key=repr) for t, cols in tables.items()}
    finally:
        con.close()


@pytest.fixture(scope="module")
def day_by_day(imported, tmp_path_factory) -> Path:
    """A copy run week by week, then for the latest date, as a tenant running weekly would."""
    home = _copy(imported, tmp_path_factory.mktemp("live") / "home")
    loaded: set[str] = set()
    for day in [*WEEKS, datetime.date.fromisoformat(LATEST)]:  # the log arrives as days pass
        known = [a for a in ACTIVITIES if a["occurred_at"][:10] <= day.isoformat()
                 and a["activity_id"] not in loaded]
        if known:
            import_activities(home, known, f"upto-{day}")
            loaded.update(a["activity_id"] for a in known)
        assert crm(home, "run", "--tenant", "t1", "--as-of", day.isoformat())[0] == 0
    return home


@pytest.fixture(scope="module")
def backfilled(imported, tmp_path_factory) -> tuple[Path, dict]:
    """A copy whose first run is for the latest date, then backfilled weekly; the current marts
    before the backfill."""
    home = _copy(imported, tmp_path_factory.mktemp("bf") / "home")
    import_activities(home, ACTIVITIES, "all")  # the whole log arrives at once
    assert crm(home, "run", "--tenant", "t1", "--as-of", LATEST)[0] == 0
    before = rows(home, CURRENT)
    code, out, err = crm(home, "backfill", "--tenant", "t1", "--from", START.isoformat(),
                         "--to", END.isoformat(), "--every", "week")
    assert code == 0, err
    return home, before


def test_weekly_backfill_equals_day_by_day_runs(day_by_day, backfilled):
    home, _ = backfilled
    got, want = rows(home, HISTORY), rows(day_by_day, HISTORY)
    assert got["segment_history"] == want["segment_history"]
    assert got["lifecycle_history"] == want["lifecycle_history"]
    assert got["work_queue_history"] == want["work_queue_history"]
    assert got["workflow_eligibility"] == want["workflow_eligibility"]
    assert got["work_queue_steps"] == want["work_queue_steps"]
    assert got["work_queue_history"]  # the tenant's workflows did enroll people
    # the history does go back: spells entered at the backfill's dates, some of them closed
    entered = {r[2] for r in got["segment_history"]} | {r[2] for r in got["lifecycle_history"]}
    assert START in entered and len(entered) > 2
    assert any(r[3] is not None for r in got["lifecycle_history"])


def test_backfill_leaves_the_current_marts_as_they_were(backfilled, day_by_day):
    """The current marts are those of the latest date, re-derived; only lifecycle.stage_since
    moves back, to the day the backfilled history says the stage began (as day by day)."""
    home, before = backfilled
    assert rows(home, CURRENT) == before
    since = {"lifecycle": "contact_id, stage_since"}
    assert rows(home, since) == rows(day_by_day, since)
    assert min(d for _, d in rows(home, since)["lifecycle"]) == START


def test_backfill_is_audited_as_a_run_and_published(backfilled):
    home, _ = backfilled
    con = duckdb.connect(str(home / "published" / "tenants" / "t1.duckdb"), read_only=True)
    try:
        runs = con.execute("SELECT run_id, status, as_of, message FROM audit.runs "
                           "WHERE run_id LIKE 'backfill-%'").fetchall()
        dates = {d for (d,) in con.execute(
            "SELECT DISTINCT entered_on FROM marts.segment_history").fetchall()}
    finally:
        con.close()
    assert len(runs) == 1 and runs[0][1] == "success"
    assert runs[0][2] == datetime.date.fromisoformat(LATEST)
    assert "9 dates" in runs[0][3]
    assert START in dates  # the published snapshot has the backfilled history


def test_backfill_twice_gives_identical_rows(backfilled, tmp_path, capsys):
    home = _copy(backfilled[0], tmp_path / "home")
    first = rows(home, {**HISTORY, **CURRENT})
    code, out, _ = crm(home, "backfill", "--tenant", "t1", "--from", START.isoformat(),
                       "--to", END.isoformat(), capsys=capsys)
    assert code == 0
    assert rows(home, {**HISTORY, **CURRENT}) == first
    assert "9 dates backfilled and" in out and f"current marts as of {LATEST}" in out
    assert "marts.segment_history:" in out


@pytest.mark.parametrize(("args", "says"), [
    (("--from", "2026-10-01", "--to", "2026-09-01"), "before --from"),
    (("--from", "2026-10-01", "--to", "2999-01-01"), "future"),
    (("--from", "yesterday", "--to", "2026-09-01"), "not a date"),
    (("--from", "2020-01-01", "--to", "2026-09-01", "--every", "day"), "more than 400"),
    (("--from", "2026-01-01", "--to", "2026-09-01", "--every", "year"), "use day, week or month"),
])
def test_bad_ranges_are_refused_in_one_line(imported, capsys, args, says):
    code, _, err = crm(imported, "backfill", "--tenant", "t1", *args, capsys=capsys)
    assert code == 2
    assert says in err and len(err.strip().splitlines()) == 1


def test_a_tenant_never_run_or_a_range_past_its_latest_run_is_refused(imported, backfilled,
                                                                      capsys):
    code, _, err = crm(imported, "backfill", "--tenant", "t1", "--from", "2026-10-01",
                       "--to", "2026-11-01", capsys=capsys)
    assert code == 2 and "has not been run yet" in err and len(err.strip().splitlines()) == 1
    code, _, err = crm(backfilled[0], "backfill", "--tenant", "t1", "--from", "2026-10-01",
                       "--to", "2026-12-01", capsys=capsys)
    assert code == 2 and f"latest run (as of {LATEST})" in err
    assert len(err.strip().splitlines()) == 1


def test_an_unknown_tenant_is_refused(imported, capsys):
    code, _, err = crm(imported, "backfill", "--tenant", "nobody", "--from", "2026-10-01",
                       "--to", "2026-11-01", capsys=capsys)
    assert code == 2 and "nobody" in err and len(err.strip().splitlines()) == 1


def test_dates_step_by_week_and_month_and_end_at_the_last_date():
    d = datetime.date
    assert backfill_dates(d(2026, 1, 1), d(2026, 1, 20)) == [
        d(2026, 1, 1), d(2026, 1, 8), d(2026, 1, 15), d(2026, 1, 20)]
    assert backfill_dates(d(2026, 1, 31), d(2026, 4, 30), "month") == [
        d(2026, 1, 31), d(2026, 2, 28), d(2026, 3, 31), d(2026, 4, 30)]
    assert backfill_dates(d(2026, 1, 1), d(2026, 1, 1), "day") == [d(2026, 1, 1)]
    assert len(backfill_dates(d(2026, 1, 1), d(2026, 1, 1) + datetime.timedelta(MAX_DATES - 1),
                              "day")) == MAX_DATES
    with pytest.raises(BadArgument):
        backfill_dates(d(2026, 1, 1), d(2026, 1, 1) + datetime.timedelta(MAX_DATES), "day")


def test_backfilling_dates_that_have_history_replaces_it_with_the_same_rows(day_by_day, tmp_path):
    """Over part of a history run week by week: spells before --from are kept, those from it
    are written again, identical."""
    home = _copy(day_by_day, tmp_path / "home")
    assert crm(home, "backfill", "--tenant", "t1", "--from", "2026-10-05",
               "--to", END.isoformat())[0] == 0
    assert rows(home, {**HISTORY, **CURRENT}) == rows(day_by_day, {**HISTORY, **CURRENT})
