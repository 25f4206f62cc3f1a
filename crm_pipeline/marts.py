"""Refreshing one tenant's marts for an as-of date, segments and history included.

Order (each step reads the ones before it):
  1. helpers `mart_activity_counts` (the one pass over activities) and `mart_contact_activity`
     (temp tables, dropped at the end);
  2. marts.engagement, marts.engagement_by_type, marts.lead_scores;
  3. the lifecycle stage (`mart_lifecycle_stage`), marts.lifecycle_history, then marts.lifecycle
     (stage_since comes from the history);
  4. marts.retention_risk, marts.data_hygiene;
  5. segments (`sql/segments/`, reading the marts above) into marts.contact_segments, then
     marts.segment_history.

Every mart is replaced for the tenant (delete, then insert), so a re-run is idempotent.

History only moves forward. A run whose as-of date is on or after the latest date the tenant's
history or marts have seen updates the history (closing spells of contacts that left with
left_on = as_of, opening spells for those who entered with entered_on = as_of; a second run for
the same date first undoes what the first one changed on that date). A run for an earlier as-of
date (a backfill or a look at the past) refreshes the marts for that date but leaves both
histories untouched: nothing after its date is lost or rewritten, and lifecycle.stage_since then
comes from the spell that covered that date, if any.

Nothing here reads the wall clock: every window ends at the end of the as-of day (UTC).
"""

from __future__ import annotations

import datetime
import re

import duckdb

from .segments import refresh_segments
from .sql import sql_text
from .tenant_settings import query_params, sql_params, tenant_settings
from .warehouse import run

HELPERS = ("activity_counts", "contact_activity")
FIRST_MARTS = ("engagement", "engagement_by_type", "lead_scores")
LATER_MARTS = ("lifecycle", "retention_risk", "data_hygiene")
TEMP_TABLES = ("mart_activity_counts", "mart_contact_activity", "mart_lifecycle_stage")
STATEMENT_END = re.compile(r";[ \t]*(?:\n|$)")


def _model(name: str) -> str:
    return sql_text(f"models/marts/{name}")


def _statements(text: str) -> list[str]:
    """Statements of a multi-statement file (each ends with ';' at the end of a line)."""
    chunks = (c.strip() for c in STATEMENT_END.split(text))
    return [
        c for c in chunks
        if any(line.strip() and not line.strip().startswith("--") for line in c.splitlines())
    ]


def _execute(con: duckdb.DuckDBPyConnection, query: str, params: dict, source: str) -> list:
    return run(con, query, query_params(query, params, source))


def _build_helper(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> None:
    """A helper model materialized as the temp table `mart_<name>`."""
    query = f"CREATE OR REPLACE TEMP TABLE mart_{name} AS\n{_model(name)}"
    _execute(con, query, params, f"sql/models/marts/{name}.sql")


def _replace_slice(con: duckdb.DuckDBPyConnection, table: str, params: dict) -> int:
    """The tenant's rows of marts.<table> replaced by the model's rows; rows written."""
    run(con, f"DELETE FROM marts.{table} WHERE tenant_id = $tenant_id",
        {"tenant_id": params["tenant_id"]})
    query = f"INSERT INTO marts.{table} BY NAME\n{_model(table)}"
    rows = _execute(con, query, params, f"sql/models/marts/{table}.sql")
    return int(rows[0][0]) if rows else 0


def _update_history(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> None:
    for statement in _statements(_model(name)):
        _execute(con, statement, params, f"sql/models/marts/{name}.sql")


def latest_history_date(con: duckdb.DuckDBPyConnection, tenant_id: str) -> datetime.date | None:
    """The latest as-of date the tenant's history or marts have seen (None before the first run)."""
    query = _model("latest_history_date")
    rows = _execute(con, query, {"tenant_id": tenant_id}, "latest_history_date.sql")
    return rows[0][0] if rows else None


def refresh_marts(
    con: duckdb.DuckDBPyConnection, tenant_id: str, as_of: datetime.date
) -> dict[str, int]:
    """Refresh the tenant's marts, segments and histories for `as_of`.

    Returns rows written per mart table (`marts.engagement`, ...), the size of each segment
    (`segment.hot_leads`, ...) and `history_updated` (1, or 0 for a run before the latest date).
    Runs inside the caller's transaction; opens none itself.
    """
    if isinstance(as_of, datetime.datetime):
        as_of = as_of.date()
    params = {"tenant_id": tenant_id, "as_of": as_of, **sql_params(tenant_settings(con, tenant_id))}
    latest = latest_history_date(con, tenant_id)
    history_moves = latest is None or as_of >= latest

    for helper in HELPERS:
        _build_helper(con, helper, params)
    counts = {f"marts.{table}": _replace_slice(con, table, params) for table in FIRST_MARTS}
    _build_helper(con, "lifecycle_stage", params)
    if history_moves:
        _update_history(con, "lifecycle_history_update", params)
    counts.update({f"marts.{table}": _replace_slice(con, table, params) for table in LATER_MARTS})

    sizes = refresh_segments(con, tenant_id, as_of, params)
    if history_moves:
        _update_history(con, "segment_history_update", params)
    for table in TEMP_TABLES:
        run(con, f"DROP TABLE IF EXISTS {table}")

    counts["marts.contact_segments"] = sum(sizes.values())
    counts.update({f"segment.{name}": size for name, size in sizes.items()})
    counts["history_updated"] = int(history_moves)
    return counts
