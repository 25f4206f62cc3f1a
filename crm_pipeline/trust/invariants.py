"""Invariants the pipeline promises, as queries: each returns the offending rows (empty = holds)."""

from __future__ import annotations

import duckdb
import polars as pl

from crm_pipeline.warehouse import frame, run


def processed_imports(con: duckdb.DuckDBPyConnection, run_id: str, kind: str | None = None) -> int:
    """How many imports (of `kind`, or any) the run processed."""
    return run(
        con,
        "SELECT count(*) FROM raw.imports "
        "WHERE processed_run_id = $r AND kind = coalesce($k, kind)",
        {"r": run_id, "k": kind},
    )[0][0]


def unbalanced_imports(con: duckdb.DuckDBPyConnection, run_id: str, kind: str) -> pl.DataFrame:
    """Imports processed by the run whose rows_in differs from accepted + merged + quarantined,
    or whose counts disagree with the rows actually stored. Only the run's imports are counted:
    a run that processed none reads nothing else."""
    placed, raw = (("core.contact_sources", "raw.contact_rows") if kind == "contact"
                   else ("core.activities", "raw.activity_events"))
    query = f"""
        WITH imports AS (
            SELECT * FROM raw.imports WHERE processed_run_id = $r AND kind = $k
        ),
        keys AS (SELECT tenant_id, import_id FROM imports)
        SELECT i.tenant_id, i.import_id, i.rows_in, i.rows_accepted, i.rows_merged,
               i.rows_quarantined, coalesce(r.n, 0) AS raw_rows,
               coalesce(q.n, 0) AS quarantine_rows, coalesce(p.n, 0) AS placed_rows
        FROM imports i
        LEFT JOIN ({_counts(raw)}) r USING (tenant_id, import_id)
        LEFT JOIN ({_counts("quarantine.rows")}) q USING (tenant_id, import_id)
        LEFT JOIN ({_counts(placed)}) p USING (tenant_id, import_id)
        WHERE i.rows_in <> i.rows_accepted + i.rows_merged + i.rows_quarantined
           OR i.rows_in <> coalesce(r.n, 0)
           OR i.rows_quarantined <> coalesce(q.n, 0)
           OR ($k = 'contact' AND i.rows_accepted + i.rows_merged <> coalesce(p.n, 0))
        """
    if not processed_imports(con, run_id, kind):
        return frame(con, f"{query} LIMIT 0", {"r": run_id, "k": kind})
    return frame(con, query, {"r": run_id, "k": kind})


def _counts(table: str) -> str:
    return (f"SELECT tenant_id, import_id, count(*) AS n FROM {table} "
            "WHERE (tenant_id, import_id) IN (SELECT * FROM keys) GROUP BY ALL")


def orphan_rows(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Rows pointing at contacts that do not exist, or linking across tenants."""
    return frame(
        con,
        """
        SELECT 'core.contact_sources' AS table_name, s.tenant_id, s.contact_id FROM core.contact_sources s
        ANTI JOIN core.contacts c USING (tenant_id, contact_id)
        UNION ALL
        SELECT 'core.activities', a.tenant_id, a.contact_id FROM core.activities a
        ANTI JOIN core.contacts c USING (tenant_id, contact_id)
        UNION ALL
        SELECT 'core.contact_aliases', a.tenant_id, a.contact_id FROM core.contact_aliases a
        ANTI JOIN core.contacts c USING (tenant_id, contact_id)
        """,
    )
