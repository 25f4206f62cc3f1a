"""Refreshing one tenant's marts for an as-of date, segments and history included.

Order (each step reads the ones before it):
  1. helpers (temp tables, dropped at the end): `mart_activity_counts`, the one pass over
     activities (per contact and type), then `mart_contacts`, one row per contact with everything
     the marts say about it: activity rolled up, lead score components, lifecycle stage and reason
     (the steps `contact_activity`, `contact_lead_score`, `contact_lifecycle_stage`, composed into
     one statement);
  1b. the scores, by the `score` step the caller passes (the pipeline passes the learned scores
     of crm_pipeline/scoring, which sits above this package because it also uses the value
     models): it fills the temp tables named in SCORE_TABLES, `mart_lead_model_scores` and
     `mart_churn_model_scores`, and writes the run's rows of marts.lead_score_model and
     retention_model;
  2. marts.lifecycle_history, matching the stages with the spells they continue
     (`mart_lifecycle_spells`, which also gives lifecycle.stage_since);
  3. marts.engagement, engagement_by_type, lead_scores, lifecycle, retention_risk, data_hygiene,
     account_engagement (the accounts' contacts rolled up):
     projections of the helpers, rather than each joining core.contacts and the others again;
  4. segments (`sql/segments/`, reading the marts above) into marts.contact_segments, then
     marts.segment_history.

Each model is a SELECT in `sql/models/marts/`; the tenant's slice of its mart is made equal to
the model's rows, so a re-run is idempotent and other tenants are untouched. These marts have no
PRIMARY KEY: the slice is deleted and the model inserted straight into it (with an index, DuckDB
commits such a delete very slowly, and in-place updates degraded from run to run); uniqueness
follows from the models (one row per contact, per contact and type, per contact and segment) and
is tested. A warehouse made while the marts still had keys is rebuilt without them when opened
(`warehouse.create_tables`). Writing the rows is about half the time of a first run (mostly
compressing the contact ids), so the steps avoid reading or joining what an earlier step has
already worked out.

History only moves forward. A run whose as-of date is on or after the latest date the tenant's
history or marts have seen updates the history (closing spells of contacts that left with
left_on = as_of, opening spells for those who entered with entered_on = as_of; a second run for
the same date first undoes what the first one changed on that date; the spells a run can touch
are matched with the current members once, and only the changes are written; on a tenant's
first run, with nothing to match, every segment member opens a spell directly). A run for an
earlier as-of date (a backfill or a look at the past) refreshes the marts for that date but
leaves both histories untouched: nothing after its date is lost or rewritten, and
lifecycle.stage_since then comes from the spell that covered that date, if any (`lifecycle_past`).

Nothing here reads the wall clock: every window ends at the end of the as-of day (UTC).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable

import duckdb

from crm_pipeline.marts.segments import segment_members
from crm_pipeline.marts.tenant_settings import query_params, sql_params, tenant_settings
from crm_pipeline.sql import sql_text
from crm_pipeline.warehouse import run, unordered_inserts

# The steps of mart_contacts, each a SELECT reading the one before it by name.
CONTACT_STEPS = ("contact_activity", "contact_lead_score", "contact_lifecycle_stage")
MARTS = ("engagement", "engagement_by_type", "lead_scores", "lifecycle", "retention_risk",
         "data_hygiene", "account_engagement")
# The temp tables a score step fills (one row per contact each), read by lead_scores.sql and
# retention_risk.sql, dropped here with the other helpers.
SCORE_TABLES = ("mart_lead_model_scores", "mart_churn_model_scores")
# (con, tenant_id, as_of, params, settings) -> rows written per model table.
ScoreStep = Callable[[duckdb.DuckDBPyConnection, str, datetime.date, dict, dict], dict]
TEMP_TABLES = ("mart_activity_counts", "mart_contacts", "mart_segment_members",
               "mart_lifecycle_spells", "mart_segment_history_changes", *SCORE_TABLES)
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


def _build_contacts(con: duckdb.DuckDBPyConnection, params: dict) -> None:
    """The temp table `mart_contacts`: every contact with all the marts say about it, its steps
    (`CONTACT_STEPS`) run as one statement."""
    steps = ",\n".join(f"{step} AS (\n{_model(step)}\n)" for step in CONTACT_STEPS)
    query = (f"CREATE OR REPLACE TEMP TABLE mart_contacts AS\nWITH {steps}\n"
             f"SELECT * FROM {CONTACT_STEPS[-1]}")
    _execute(con, query, params, "sql/models/marts/" + ", ".join(CONTACT_STEPS))


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> tuple[list[str], list[str]]:
    """Primary-key columns and the other columns of marts.<table>, from the catalog."""
    keys = run(
        con,
        "SELECT constraint_column_names FROM duckdb_constraints() "
        "WHERE schema_name = 'marts' AND table_name = $table AND constraint_type = 'PRIMARY KEY'",
        {"table": table},
    )
    columns = run(
        con,
        "SELECT column_name FROM duckdb_columns() "
        "WHERE schema_name = 'marts' AND table_name = $table ORDER BY column_index",
        {"table": table},
    )
    key = list(keys[0][0]) if keys else []
    return key, [c for (c,) in columns if c not in key]


def _has_rows(con: duckdb.DuckDBPyConnection, table: str, tenant_id: str) -> bool:
    return bool(run(con, f"SELECT 1 FROM marts.{table} WHERE tenant_id = $tenant_id LIMIT 1",
                    {"tenant_id": tenant_id}))


def replace_rows(con: duckdb.DuckDBPyConnection, table: str, source: str, tenant_id: str) -> int:
    """The tenant's rows of marts.<table> made equal to the temp table `source`; its row count.

    A table without a key (the marts this module writes) has the tenant's slice deleted and
    refilled: cheap without an index. A keyed table is changed in place (rows whose key
    disappeared deleted, changed rows updated through a join, new keys inserted) rather than
    emptied and refilled: DuckDB commits a mass delete from a table with an index very slowly
    (about 14 s per million rows on disk). A tenant without rows yet gets a plain INSERT.
    """
    key, others = _columns(con, table)
    tenant = {"tenant_id": tenant_id}
    if not key or not _has_rows(con, table, tenant_id):
        if not key:
            run(con, f"DELETE FROM marts.{table} WHERE tenant_id = $tenant_id", tenant)
        rows = run(con, f"INSERT INTO marts.{table} BY NAME SELECT * FROM {source}")
        return int(rows[0][0]) if rows else 0
    match = " AND ".join(f"n.{k} = m.{k}" for k in key)
    run(con, f"DELETE FROM marts.{table} AS m WHERE m.tenant_id = $tenant_id "
             f"AND NOT EXISTS (SELECT 1 FROM {source} AS n WHERE {match})", tenant)
    if others:  # rows whose values are all equal are left alone
        changed = " OR ".join(f"m.{c} IS DISTINCT FROM n.{c}" for c in others)
        run(con, f"UPDATE marts.{table} AS m SET " + ", ".join(f"{c} = n.{c}" for c in others)
                 + f" FROM {source} AS n WHERE {match} AND ({changed})")
    run(con, f"INSERT INTO marts.{table} BY NAME SELECT n.* FROM {source} AS n "
             f"WHERE NOT EXISTS (SELECT 1 FROM marts.{table} AS m WHERE {match})")
    return int(run(con, f"SELECT count(*) FROM {source}")[0][0])


def _refresh_mart(con: duckdb.DuckDBPyConnection, table: str, params: dict,
                  model: str | None = None) -> int:
    """marts.<table> for the tenant replaced by the rows of its model (`model`, by default the
    table's name); rows written.

    The marts have no key (`create_tables` rebuilds a warehouse made while they had one): the
    tenant's slice is deleted and the model inserted straight into it."""
    model = model or table
    query = _model(model)
    source = f"sql/models/marts/{model}.sql"
    run(con, f"DELETE FROM marts.{table} WHERE tenant_id = $tenant_id",
        {"tenant_id": params["tenant_id"]})
    rows = _execute(con, f"INSERT INTO marts.{table} BY NAME\n{query}", params, source)
    return int(rows[0][0]) if rows else 0


def _update_history(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> None:
    for statement in _statements(_model(name)):
        _execute(con, statement, params, f"sql/models/marts/{name}.sql")


def latest_history_date(con: duckdb.DuckDBPyConnection, tenant_id: str) -> datetime.date | None:
    """The latest as-of date the tenant's history or marts have seen (None before the first run)."""
    query = _model("latest_history_date")
    rows = _execute(con, query, {"tenant_id": tenant_id},
                    "sql/models/marts/latest_history_date.sql")
    return rows[0][0] if rows else None


def refresh_marts(
    con: duckdb.DuckDBPyConnection, tenant_id: str, as_of: datetime.date, score: ScoreStep,
) -> dict[str, int]:
    """Refresh the tenant's marts, segments and histories for `as_of`.

    `score` fills SCORE_TABLES once `mart_contacts` holds the rule scores (step 1b).
    Returns rows written per mart table (`marts.engagement`, ...), the size of each segment
    (`segment.hot_leads`, ...) and `history_updated` (1, or 0 for a run before the latest date).
    Runs inside the caller's transaction; opens none itself. The marts are sets: rows are
    inserted in whatever order DuckDB's threads produce them (`unordered_inserts`).
    """
    if isinstance(as_of, datetime.datetime):
        as_of = as_of.date()
    with unordered_inserts(con):
        return _refresh(con, tenant_id, as_of, score)


def _refresh(con: duckdb.DuckDBPyConnection, tenant_id: str, as_of: datetime.date,
             score: ScoreStep) -> dict[str, int]:
    settings = tenant_settings(con, tenant_id)
    params = {"tenant_id": tenant_id, "as_of": as_of, **sql_params(settings)}
    latest = latest_history_date(con, tenant_id)
    history_moves = latest is None or as_of >= latest

    _build_helper(con, "activity_counts", params)
    _build_contacts(con, params)
    scores = score(con, tenant_id, as_of, params, settings)
    if history_moves:
        _update_history(con, "lifecycle_history_update", params)
    models = {} if history_moves else {"lifecycle": "lifecycle_past"}
    counts = {f"marts.{table}": _refresh_mart(con, table, params, models.get(table))
              for table in MARTS}

    sizes = segment_members(con, tenant_id, as_of, params)
    replace_rows(con, "contact_segments", "mart_segment_members", tenant_id)
    if history_moves:  # a first run has no spells to match the members with
        _update_history(con, "segment_history_update" if latest else "segment_history_start",
                        params)
    for table in TEMP_TABLES:
        run(con, f"DROP TABLE IF EXISTS {table}")

    counts.update(scores)
    counts["marts.contact_segments"] = sum(sizes.values())
    counts.update({f"segment.{name}": size for name, size in sizes.items()})
    counts["history_updated"] = int(history_moves)
    return counts


def replace_slice(con, table: str, tenant_id: str, rows) -> None:
    """Make one tenant's slice of a mart equal to `rows`; re-runs are idempotent.

    Keyed tables are changed in place (see `replace_rows`: DuckDB commits mass deletes from
    indexed tables slowly). The rows are read straight from the frame, in any order (a mart is
    a set)."""
    schema, name = table.split(".")
    if schema != "marts":
        raise ValueError(f"replace_slice writes marts tables only, not {table}")
    con.register("_slice", rows)
    try:
        with unordered_inserts(con):
            replace_rows(con, name, "_slice", tenant_id)
    finally:
        con.unregister("_slice")
