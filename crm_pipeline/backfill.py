"""History from day one: segment, lifecycle and workflow history as it would have been on
past dates (`crm backfill`).

The histories only move forward (crm_pipeline/marts/refresh.py): a refresh for a date before
the latest one a tenant has seen leaves them alone. A backfill from D1 to D2 therefore first
rewinds the tenant's histories to what they were before D1 (spells entered since are dropped,
spells left since are open again: `sql/backfill/rewind.sql`), then refreshes the marts and the
work queues for every date from D1 to D2 in order, exactly as day-by-day runs for those dates
would, and then once more for every later date at which the history had changed and for the
latest date the marts had been refreshed for (`sql/backfill/history_dates.sql`), so the history
after D2 and the current marts are as a run for those dates gives them. All of it is one
transaction: a failure leaves the tenant as it was. Running it twice gives the same rows.

What a past date sees: activities that occurred up to the end of that day (every rule cuts there).
Contacts are the ones the warehouse holds now, with their current profile values, as for
any run with an earlier --as-of date (core.contacts.first_seen_at is when the warehouse first
saw a contact, not when the source created it).
"""

from __future__ import annotations

import calendar
import datetime
from functools import partial

import duckdb

from crm_pipeline.errors import BadArgument
from crm_pipeline.marts.refresh import latest_history_date, refresh_marts
from crm_pipeline.marts.tenant_settings import query_params
from crm_pipeline.scoring.refresh import score_tenant
from crm_pipeline.sql import sql_text
from crm_pipeline.warehouse import run, transaction
from crm_pipeline.workflows.refresh import refresh_work_queues

STEPS = ("day", "week", "month")
MAX_DATES = 400  # about a year of days, or eight years of weeks
HISTORY_TABLES = {  # table: (date entered, date left)
    "segment_history": ("entered_on", "left_on"),
    "lifecycle_history": ("entered_on", "left_on"),
    "work_queue_history": ("enrolled_at", "exited_at"),
    "workflow_eligibility": ("entered_on", "left_on"),
}


def backfill_dates(start: datetime.date, end: datetime.date, every: str = "week"
                   ) -> list[datetime.date]:
    """The dates from `start` stepping by a day, week or month, with `end` always the last.

    Months step from `start`'s day of the month (the 31st gives each month's last day)."""
    if every not in STEPS:
        raise BadArgument(f"--every {every!r}: use day, week or month")
    if end < start:
        raise BadArgument(f"--to {end} is before --from {start}")
    dates: list[datetime.date] = []
    k = 0
    while True:
        if every == "month":
            year, month = divmod(start.month - 1 + k, 12)
            year += start.year
            day = min(start.day, calendar.monthrange(year, month + 1)[1])
            d = datetime.date(year, month + 1, day)
        else:
            d = start + datetime.timedelta(days=k * (1 if every == "day" else 7))
        if d >= end:
            break
        dates.append(d)
        k += 1
        if len(dates) > MAX_DATES:
            break
    dates.append(end)
    if len(dates) > MAX_DATES:
        raise BadArgument(f"{start} to {end} every {every} is more than {MAX_DATES} dates: "
                          "step by a longer period (--every week|month) or split the range")
    return dates


def _statements(text: str) -> list[str]:
    out = []
    for chunk in text.split(";\n"):
        lines = [ln for ln in chunk.splitlines() if not ln.strip().startswith("--")]
        if any(ln.strip() for ln in lines):
            out.append("\n".join(lines).strip().rstrip(";"))
    return out


def later_history_dates(con: duckdb.DuckDBPyConnection, tenant_id: str, after: datetime.date
                        ) -> list[datetime.date]:
    """Dates after `after` at which the tenant's histories changed, and its marts' latest date."""
    query = sql_text("backfill/history_dates")
    rows = run(con, query, query_params(query, {"tenant_id": tenant_id, "after": after},
                                        "sql/backfill/history_dates.sql"))
    return [d for (d,) in rows if d is not None]


def history_rows(con: duckdb.DuckDBPyConnection, tenant_id: str, start: datetime.date
                 ) -> dict[str, int]:
    """Rows of each history table with a date on or after `start` (written by a backfill)."""
    return {
        f"marts.{table}": int(run(
            con, f"SELECT count(*) FROM marts.{table} WHERE tenant_id = $t "
                 f"AND ({entered} >= $d OR {left} >= $d)", {"t": tenant_id, "d": start})[0][0])
        for table, (entered, left) in HISTORY_TABLES.items()
    }


def backfill_history(con: duckdb.DuckDBPyConnection, tenant_id: str, start: datetime.date,
                     end: datetime.date, every: str = "week", run_id: str | None = None,
                     agent_roles: dict[str, str] | None = None) -> dict:
    """Rebuild the tenant's histories from `start`: each backfill date in order, then the later
    dates the history had seen (see the module). One transaction; the caller holds the
    tenant's write lock; the tenant must have been run, for `end` or a later date (the value
    tables and the audit trail stay those of that run). `run_id` labels the score models' rows
    (one per date, as runs for those dates write them); `agent_roles` as for
    `refresh_work_queues`. Returns the dates run (`dates`, `later_dates`), the last one
    (`as_of`, the current marts' date) and the history rows from `start` per table."""
    dates = backfill_dates(start, end, every)
    latest = latest_history_date(con, tenant_id)
    if latest is None:
        raise BadArgument(f"tenant {tenant_id} has not been run yet: run `crm run --tenant "
                          f"{tenant_id}` first, then backfill the dates before it")
    if end > latest:
        raise BadArgument(f"--to {end} is after tenant {tenant_id}'s latest run (as of {latest}): "
                          f"backfill up to {latest}, or run `crm run --tenant {tenant_id} "
                          f"--as-of {end}` first")
    later = later_history_dates(con, tenant_id, end)
    if len(dates) + len(later) > MAX_DATES:
        raise BadArgument(f"tenant {tenant_id}: {len(dates)} backfill dates and {len(later)} "
                          f"later dates of its history are more than {MAX_DATES}: step by a "
                          "longer period (--every week|month)")
    score = partial(score_tenant, run_id=run_id)
    rewind = sql_text("backfill/rewind")
    with transaction(con):
        for statement in _statements(rewind):
            run(con, statement, query_params(statement, {"tenant_id": tenant_id, "from": start},
                                             "sql/backfill/rewind.sql"))
        for day in [*dates, *later]:
            refresh_marts(con, tenant_id, day, score)
            refresh_work_queues(con, tenant_id, day, agent_roles, "pipeline")
        rows = history_rows(con, tenant_id, start)
    return {"dates": dates, "later_dates": later, "as_of": [*dates, *later][-1], "rows": rows}
