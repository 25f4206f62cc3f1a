"""Back-filled as-of dates give the history the workflows would have had: running day by day
over a month while the activity log grows a day at a time gives the same queues, history,
steps, eligibility and performance as loading the whole month first and then running each day
(a back-fill), because no rule reads past the end of its as-of day."""

from __future__ import annotations

import datetime
import random

from test_workflows import AGENTS, activity, contact, declining_customer, everything

from crm_pipeline.pipeline import marts_stage
from crm_pipeline.warehouse import connect, create_tables, run
from crm_pipeline.workflows.refresh import refresh_work_queues

START = datetime.date(2026, 10, 1)
DAYS = [START + datetime.timedelta(days=i) for i in range(31)]
KINDS = [("purchase", "shop", None), ("email", "cheryl", "outbound"), ("meeting", "claire", None),
         ("email", "mercer", "outbound"), ("download", "someone", None),
         ("email", "email_worker", "outbound"), ("meeting", "binky", None),
         ("call", "dana", None), ("form_submission", "someone", None)]


def month_of_activity(seed: int = 7) -> dict[datetime.date, list[tuple]]:
    rng = random.Random(seed)
    by_day: dict[datetime.date, list[tuple]] = {d: [] for d in DAYS}
    for day in DAYS:
        for _ in range(rng.randint(2, 6)):
            cid = f"c{rng.randint(0, 11)}"
            type_, actor, direction = rng.choice(KINDS)
            subject = "onboarding project" if rng.random() < 0.2 else None
            by_day[day].append((cid, type_, actor, direction, subject))
    return by_day


def base(con) -> None:
    declining_customer(con, "fading")
    run(con, "UPDATE core.activities SET activity_id = 'base-' || line_number || '-' || "
             "occurred_at")
    for i in range(12):
        contact(con, f"c{i}", company_size=10 * i, job_title="CEO" if i % 3 == 0 else "Analyst",
                consent_status="denied" if i == 5 else "unknown")


def add(con, day, lines) -> None:
    for n, (cid, type_, actor, direction, subject) in enumerate(lines):
        activity(con, cid, type_, day, actor=actor, direction=direction, subject=subject,
                 activity_id=f"{day}-{n}")


def run_day(con, day) -> None:
    marts_stage(con, "t1", day)
    refresh_work_queues(con, "t1", day, AGENTS)


def test_day_by_day_equals_backfill_of_the_same_month(tmp_path):
    by_day = month_of_activity()
    live, backfill = connect(tmp_path / "live.duckdb"), connect(tmp_path / "backfill.duckdb")
    try:
        for con in (live, backfill):
            create_tables(con)
            base(con)
        for day in DAYS:  # the log arrives a day at a time
            add(live, day, by_day[day])
            run_day(live, day)
        for day in DAYS:  # the whole month is loaded first
            add(backfill, day, by_day[day])
        for day in DAYS:
            run_day(backfill, day)
        got, want = everything(backfill), everything(live)
        assert got == want
        assert len(want["work_queue_history"]) > 5  # the month did enroll and exit people
        assert {r[8] for r in want["work_queue_history"]} - {None}  # some exits
    finally:
        live.close()
        backfill.close()
