"""Refreshing one tenant's work queues for an as-of date, after its marts (and value) were.

Order (each step a file of `sql/workflows/`, reading the ones before it by name):
  0. undo_same_date: a second run for the same date first undoes what the first one did on it
     (enrollments opened, exits, eligibility spells), so a re-run changes nothing;
  1. contact_state (`wf_contacts`): per contact, what the rules read from the marts, the
     contact record, the suppression list and the activity log;
  2. enrollment_rules (`wf_match`): per workflow and contact, criteria, goal, suppression;
  3. subjects, step_candidates, step_complete (once per step position), step_schedule
     (`wf_subjects`, `wf_candidates`, `wf_step_state`): the steps of every open enrollment and
     possible new one, completed by evidence in the activity log, reached and due;
     onboarding's goal (every step done) from them;
  4. eligibility_update: spells of eligibility (criteria met, goal not met, not suppressed)
     in marts.workflow_eligibility, like marts.segment_history;
  5. exits, then enrollments: open enrollments close with the first exit reason that applies;
     contacts whose eligibility spell opened on this date are enrolled (a transition from not
     eligible to eligible; never again while they stay eligible);
  6. steps_write, queue, performance: marts.work_queue_steps for the enrollments this run can
     change, then the tenant's slices of marts.work_queue and marts.workflow_performance.

History only moves forward, as in crm_pipeline/marts/refresh.py: a run whose as-of date is
before the latest date the tenant's workflow tables (or marts histories) have seen changes
none of the four workflow tables, so later history is never rewritten. Nothing reads the wall
clock: evidence and rules stop at the end of the as-of day (UTC).
"""

from __future__ import annotations

import datetime

import duckdb
import polars as pl

from crm_pipeline.errors import BadArgument
from crm_pipeline.marts.refresh import latest_history_date, replace_rows
from crm_pipeline.marts.tenant_settings import query_params, tenant_settings
from crm_pipeline.sql import sql_text
from crm_pipeline.warehouse import run, unordered_inserts
from crm_pipeline.workflows.definitions import (
    steps_frame,
    workflow_definitions,
    workflow_params,
    workflows_frame,
)

TEMP_TABLES = ("wf_contacts", "wf_match", "wf_subjects", "wf_step_state", "wf_candidates",
               "wf_eligible", "wf_exits", "wf_queue", "wf_performance")
REGISTERED = ("wf_steps", "wf_workflows", "wf_agents")
AGENTS_SCHEMA = {"actor": pl.String, "role": pl.String}


def _statements(text: str) -> list[str]:
    """Statements of a multi-statement file (each ends with ';' at the end of a line)."""
    out = []
    for chunk in text.split(";\n"):
        lines = [ln for ln in chunk.splitlines() if not ln.strip().startswith("--")]
        if any(ln.strip() for ln in lines):
            out.append(chunk.strip().rstrip(";"))
    return out


def _run_file(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> None:
    source = f"sql/workflows/{name}.sql"
    for statement in _statements(sql_text(f"workflows/{name}")):
        run(con, statement, query_params(statement, params, source))


def latest_workflow_date(con: duckdb.DuckDBPyConnection, tenant_id: str) -> datetime.date | None:
    """The latest as-of date the tenant's workflow tables have seen (None before any run)."""
    query = sql_text("workflows/latest_date")
    rows = run(con, query, {"tenant_id": tenant_id})
    return rows[0][0] if rows else None


def _marts_date(con: duckdb.DuckDBPyConnection, tenant_id: str) -> datetime.date | None:
    rows = run(con, "SELECT max(as_of) FROM marts.lifecycle WHERE tenant_id = $t",
               {"t": tenant_id})
    return rows[0][0] if rows else None


def refresh_work_queues(
    con: duckdb.DuckDBPyConnection, tenant_id: str, as_of: datetime.date,
    agent_roles: dict[str, str] | None = None, system_actor: str = "pipeline",
) -> dict[str, int]:
    """Refresh the tenant's work queues, their history, steps and performance for `as_of`.

    `agent_roles` maps each agent's (folded) name to its role, from the roles registry: an
    activity counts as step evidence only when its actor's role (or name) is one the step
    lists, or the actor is a person (not in the registry); `system_actor`'s lines never count.
    The marts must already be refreshed for `as_of` (the pipeline runs this after them).
    Runs inside the caller's transaction. Returns rows per table, the queue size per workflow
    (`queue.lead_nurture`, ...) and `history_updated` (0 for a run before the latest date).
    """
    if isinstance(as_of, datetime.datetime):
        as_of = as_of.date()
    latest = max((d for d in (latest_workflow_date(con, tenant_id),
                              latest_history_date(con, tenant_id)) if d is not None),
                 default=None)
    if latest is not None and as_of < latest:
        return {"history_updated": 0}
    marts_as_of = _marts_date(con, tenant_id)
    if marts_as_of is not None and marts_as_of != as_of:
        raise BadArgument(f"tenant {tenant_id}: the marts are as of {marts_as_of}, not {as_of}: "
                          f"refresh them first (crm run --tenant {tenant_id} --as-of {as_of})")
    settings = tenant_settings(con, tenant_id)
    defs = workflow_definitions(settings, tenant_id)
    params = {"tenant_id": tenant_id, "as_of": as_of, "system_actor": system_actor.lower(),
              "hot_percentile": settings["thresholds"]["hot_percentile"],
              **workflow_params(defs)}
    agents = pl.DataFrame(
        [(a.lower(), r.lower()) for a, r in sorted((agent_roles or {}).items())],
        schema=AGENTS_SCHEMA, orient="row")
    con.register("wf_steps", steps_frame(defs))
    con.register("wf_workflows", workflows_frame(defs))
    con.register("wf_agents", agents)
    try:
        with unordered_inserts(con):
            return _refresh(con, tenant_id, params)
    finally:
        for name in REGISTERED:
            con.unregister(name)
        for table in TEMP_TABLES:
            run(con, f"DROP TABLE IF EXISTS {table}")


def _refresh(con: duckdb.DuckDBPyConnection, tenant_id: str, params: dict) -> dict[str, int]:
    for name in ("undo_same_date", "contact_state", "enrollment_rules", "subjects",
                 "step_candidates"):
        _run_file(con, name, params)
    positions = run(con, "SELECT coalesce(max(position), 0) FROM wf_step_state")[0][0]
    for position in range(1, positions + 1):
        _run_file(con, "step_complete", {"position": position})
    for name in ("step_schedule", "eligibility_update", "exits", "enrollments", "steps_write"):
        _run_file(con, name, params)
    for table, model in (("work_queue", "queue"), ("workflow_performance", "performance")):
        query = sql_text(f"workflows/{model}")
        run(con, f"CREATE OR REPLACE TEMP TABLE wf_{model} AS\n{query}",
            query_params(query, params, f"sql/workflows/{model}.sql"))
        replace_rows(con, table, f"wf_{model}", tenant_id)
    counts = {
        f"marts.{table}": run(con, f"SELECT count(*) FROM marts.{table} WHERE tenant_id = $t",
                              {"t": tenant_id})[0][0]
        for table in ("work_queue", "work_queue_history", "work_queue_steps",
                      "workflow_eligibility", "workflow_performance")
    }
    sizes = dict(run(con, "SELECT workflow, count(*) FROM wf_queue GROUP BY 1"))
    counts.update({f"queue.{w}": int(sizes.get(w, 0))
                   for w in ("lead_nurture", "customer_onboarding", "retention")})
    counts["history_updated"] = 1
    return counts
