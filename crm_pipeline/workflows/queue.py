"""Reading a tenant's work queue, filtered as `crm queue` asks."""

from __future__ import annotations

import datetime

import duckdb

from crm_pipeline.errors import BadArgument
from crm_pipeline.sql import sql_text
from crm_pipeline.warehouse import run
from crm_pipeline.workflows.definitions import WORKFLOWS

QUEUE_COLUMNS = ("workflow", "contact_id", "account_id", "enrolled_at", "step", "step_owner",
                 "step_due_at", "overdue", "priority", "next_action", "enroll_reason")


def queue_rows(con: duckdb.DuckDBPyConnection, tenant_id: str, workflow: str | None = None,
               owner: str | None = None, overdue_only: bool = False,
               as_of: datetime.date | None = None) -> tuple[list[str], list[tuple]]:
    """The tenant's open enrollments (marts.work_queue), most urgent first: priority, then the
    due date. `as_of` must be the queue's own date (a past queue is not kept: see
    marts.work_queue_history); `owner` matches step_owner, case-insensitively."""
    if workflow is not None and workflow not in WORKFLOWS:
        raise BadArgument(f"--workflow {workflow!r} is not one of {', '.join(WORKFLOWS)}")
    if not run(con, "SELECT 1 FROM duckdb_tables() WHERE schema_name = 'marts' "
                    "AND table_name = 'work_queue'"):
        raise BadArgument(f"tenant {tenant_id} has no work queue yet: run the pipeline first "
                          f"(crm run --tenant {tenant_id})")
    if as_of is not None:
        dates = [d for (d,) in run(con, "SELECT DISTINCT as_of FROM marts.work_queue "
                                        "WHERE tenant_id = $t", {"t": tenant_id})]
        if dates and as_of not in dates:
            raise BadArgument(f"tenant {tenant_id}'s queue is as of {dates[0]}, not {as_of}: "
                              f"run it for that date (crm run --tenant {tenant_id} --as-of "
                              f"{as_of}), or read marts.work_queue_history for the past")
    rows = run(con, f"""
        SELECT {', '.join(QUEUE_COLUMNS)} FROM marts.work_queue
        WHERE tenant_id = $t
          AND ($w IS NULL OR workflow = $w)
          AND ($o IS NULL OR lower(step_owner) = lower($o))
          AND (NOT $overdue OR overdue)
        ORDER BY priority, step_due_at NULLS LAST, workflow, enrolled_at, contact_id""",
               {"t": tenant_id, "w": workflow, "o": owner, "overdue": overdue_only})
    return list(QUEUE_COLUMNS), rows


def queue_problems(con: duckdb.DuckDBPyConnection, tenant_id: str) -> dict[str, int]:
    """Offending counts per invariant of the tenant's queues (all 0 when sound): one open
    enrollment per workflow and contact, the queue equal to the open enrollments, and every
    exit with its reason."""
    query = sql_text("workflows/queue_problems")
    cursor = con.execute(query, {"tenant_id": tenant_id})
    names = [d[0] for d in cursor.description]
    return dict(zip(names, (int(v) for v in cursor.fetchall()[0]), strict=True))
