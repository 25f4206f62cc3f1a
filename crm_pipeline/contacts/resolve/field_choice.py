"""Survivorship field by field: which source row's value a golden contact keeps, and why.

All source rows of the contacts being rebuilt are laid out long (one row per source row and field
with a value), then `sql/models/core/golden_field_choice.sql` picks one value per contact and
field in one query: held rows last, then the tenant's source priority, then the value seen in
more rows up to a small edit (two "Michael" beat a newer "Micheal"), then the most complete and
the most recent; a field that changes over time (job title, company, address) takes the newest
value instead. A swapped first/last name is put back the way round the contact's other rows
give it before anything is counted. Hand-set values are put back by the caller
(`store.keep_manual_values`): they win over every import.

The rules and their tenant overrides are the `survivorship` settings (`tenants.survivorship_
settings`); `docs/warehouse.md`, "Which value the golden record keeps", documents them.
"""

from __future__ import annotations

import duckdb
import polars as pl

from crm_pipeline.sql import sql_text
from crm_pipeline.tenants import SURVIVING_FIELDS, survivorship_settings
from crm_pipeline.warehouse import run

HELD_TIER = 1_000_000_000  # added to a held row's tier: it only fills a field nobody else gives
UNLISTED = 1_000_000  # the priority rank of a source the tenant does not list for the field
# Details a held row never gives (survive.GUARDED_FIELDS; repeated to avoid an import cycle).
GUARDED = ("email", "phone", "street", "city", "postcode")
PRIORITY_SCHEMA = {"field": pl.String, "source": pl.String, "rank": pl.Int64}


def priority_frame(settings: dict) -> pl.DataFrame:
    """(field, source, rank) of `survivorship.source_priority`, sources lower-cased; `*` gives
    every field without a list of its own."""
    lists = settings["source_priority"]
    rows = [(f, s.strip().lower(), rank) for f in SURVIVING_FIELDS
            for rank, s in enumerate(lists.get(f, lists.get("*", [])))]
    return pl.DataFrame(rows, schema=PRIORITY_SCHEMA, orient="row")


def _long_query(prioritized: bool, disputed_only: bool) -> str:
    """Every source row in `_survive_src` (survive.py's source rows of the contacts being
    rebuilt, with their `_held` and `_email_held`), one row per field with a value (as text),
    with its tier. With `disputed_only`, only the fields `_survive_agg._disputed` lists (those
    whose sources may differ) of the contacts that have such fields."""
    as_text = ", ".join(f"{f}::VARCHAR AS {f}" for f in SURVIVING_FIELDS)
    priority = (
        "(SELECT min(p.rank) FROM _survive_priority AS p "
        "WHERE p.field = l.field AND list_contains(l._names, p.source))"
        if prioritized else "NULL::BIGINT"
    )
    return f"""
        WITH rows AS (
            SELECT src.*, {"a._disputed" if disputed_only else "NULL::VARCHAR[]"} AS _disputed,
                   lower(strip_accents(src.first_name)) AS _fk,
                   lower(strip_accents(src.last_name)) AS _lk
            FROM _survive_src AS src
            {"JOIN _survive_agg AS a ON a.contact_id = src.contact_id AND len(a._disputed) > 0"
             if disputed_only else ""}
        ),
        orient AS (  -- each order of a contact's two names, with its rows and first appearance
            SELECT contact_id, _fk, _lk, count(*) AS n, min(_rank) AS first_rank
            FROM rows WHERE _fk IS NOT NULL AND _lk IS NOT NULL AND _fk <> _lk
            GROUP BY contact_id, _fk, _lk
        ),
        swapped AS (  -- the order seen in fewer rows (or later) when both are seen
            SELECT a.contact_id, a._fk, a._lk
            FROM orient AS a
            JOIN orient AS b ON a.contact_id = b.contact_id AND a._fk = b._lk AND a._lk = b._fk
            WHERE b.n > a.n OR (b.n = a.n AND b.first_rank < a.first_rank)
        ),
        named AS (
            SELECT r.* REPLACE (
                       CASE WHEN w.contact_id IS NULL THEN r.first_name ELSE r.last_name END
                           AS first_name,
                       CASE WHEN w.contact_id IS NULL THEN r.last_name ELSE r.first_name END
                           AS last_name),
                   [lower(i.vendor), lower(r.source_system), lower(i.file_name)] AS _names
            FROM rows AS r
            LEFT JOIN swapped AS w USING (contact_id, _fk, _lk)
            JOIN raw.imports AS i ON i.tenant_id = $t AND i.import_id = r.import_id
        ),
        long AS (
            UNPIVOT (SELECT contact_id, import_id, row_number, _rank, _held, _email_held, _names,
                            _disputed, {as_text} FROM named)
            ON {", ".join(SURVIVING_FIELDS)} INTO NAME field VALUE value
        )
        SELECT l.contact_id, l.import_id, l.row_number, l.field, l.value, l._rank,
               CASE WHEN l._held OR (l.field = 'email' AND l._email_held) THEN {HELD_TIER}
                    ELSE 0 END + coalesce(pr.rank, {UNLISTED}) AS tier,
               pr.rank IS NOT NULL AS listed,
               list_contains($changing, l.field) AS changing
        FROM long AS l, LATERAL (SELECT {priority} AS rank) AS pr
        WHERE NOT (l._held AND list_contains($guarded, l.field))
          {"AND list_contains(l._disputed, l.field)" if disputed_only else ""}
        """


def build_picks(con: duckdb.DuckDBPyConnection, tenant_id: str,
                disputed_only: bool = False) -> None:
    """Temp table `_survive_pick` (golden_field_choice.sql's rows) for the source rows in the
    temp table `_survive_src` (every field, or only the disputed ones: `_long_query`)."""
    settings = survivorship_settings(con, tenant_id)
    priority = priority_frame(settings)
    params = {"t": tenant_id, "changing": list(settings["changes_over_time"]),
              "guarded": list(GUARDED)}
    con.register("_survive_priority", priority)
    try:
        run(con, "CREATE OR REPLACE TEMP TABLE _survive_long AS "
                 + _long_query(priority.height > 0, disputed_only), params)
        run(con, "CREATE OR REPLACE TEMP TABLE _survive_pick AS "
                 + sql_text("models/core/golden_field_choice"))
    finally:
        con.unregister("_survive_priority")
        run(con, "DROP TABLE IF EXISTS _survive_long")


def picked_columns() -> str:
    """SQL select list pivoting `_survive_pick` (alias p) to one golden row per contact: each
    field cast back to its type, and the rows the company and phone came from (their
    companions, company_key and phone_type, come from the same row)."""
    casts = {"company_size": "BIGINT", "birthdate": "DATE"}
    fields = ",\n".join(
        f"any_value(p.value) FILTER (WHERE p.field = '{f}')::{casts.get(f, 'VARCHAR')} AS {f}"
        for f in SURVIVING_FIELDS
    )
    return f"""p.contact_id,
        {fields},
        any_value(p.import_id) FILTER (WHERE p.field = 'company') AS _company_import,
        any_value(p.row_number) FILTER (WHERE p.field = 'company') AS _company_row,
        any_value(p.import_id) FILTER (WHERE p.field = 'phone') AS _phone_import,
        any_value(p.row_number) FILTER (WHERE p.field = 'phone') AS _phone_row"""
