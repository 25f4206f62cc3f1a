"""Invariants the pipeline promises, as queries: each returns the offending rows (empty = holds)."""

from __future__ import annotations

import duckdb
import polars as pl

from .warehouse import frame


def unbalanced_imports(con: duckdb.DuckDBPyConnection, run_id: str, kind: str) -> pl.DataFrame:
    """Imports processed by the run whose rows_in differs from accepted + merged + quarantined,
    or whose counts disagree with the rows actually stored."""
    placed = (
        "SELECT tenant_id, import_id, count(*) AS n FROM core.contact_sources GROUP BY ALL"
        if kind == "contact"
        else "SELECT tenant_id, import_id, count(*) AS n FROM core.activities GROUP BY ALL"
    )
    raw = (
        "SELECT tenant_id, import_id, count(*) AS n FROM raw.contact_rows GROUP BY ALL"
        if kind == "contact"
        else "SELECT tenant_id, import_id, count(*) AS n FROM raw.activity_events GROUP BY ALL"
    )
    return frame(
        con,
        f"""
        SELECT i.tenant_id, i.import_id, i.rows_in, i.rows_accepted, i.rows_merged,
               i.rows_quarantined, coalesce(r.n, 0) AS raw_rows, coalesce(q.n, 0) AS quarantine_rows,
               coalesce(p.n, 0) AS placed_rows
        FROM raw.imports i
        LEFT JOIN ({raw}) r USING (tenant_id, import_id)
        LEFT JOIN (SELECT tenant_id, import_id, count(*) AS n FROM quarantine.rows
                   GROUP BY ALL) q USING (tenant_id, import_id)
        LEFT JOIN ({placed}) p USING (tenant_id, import_id)
        WHERE i.processed_run_id = $r AND i.kind = $k
          AND (i.rows_in <> i.rows_accepted + i.rows_merged + i.rows_quarantined
               OR i.rows_in <> coalesce(r.n, 0)
               OR i.rows_quarantined <> coalesce(q.n, 0)
               OR ($k = 'contact' AND i.rows_accepted + i.rows_merged <> coalesce(p.n, 0)))
        """,
        {"r": run_id, "k": kind},
    )


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
