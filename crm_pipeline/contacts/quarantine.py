"""Quarantined rows: written once, with a reason code, and listed in the import's error file."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from crm_pipeline.warehouse import frame, run

CONTACT_REASONS = ("unparseable_row", "missing_tenant", "tenant_mismatch", "missing_identity",
                   "erased_subject")
ACTIVITY_REASONS = ("unparseable_row", "missing_tenant", "tenant_mismatch", "bad_timestamp",
                    "future_timestamp", "unknown_activity_type", "unknown_contact",
                    "conflicting_duplicate", "unknown_currency", "actor_not_permitted",
                    "bad_amount")
# Lines of a changes file (crm import changes): what refuses one line, all of it.
CHANGE_REASONS = ("unparseable_row", "tenant_mismatch", "bad_timestamp", "missing_actor",
                  "actor_not_permitted", "unknown_op", "unknown_contact", "unknown_field",
                  "invalid_value", "missing_identity")
# Rows of a company file (crm import companies) and lines of a signals file (crm import signals).
COMPANY_REASONS = ("unparseable_row", "missing_identity", "bad_domain", "unknown_account",
                   "ambiguous_account")
SIGNAL_REASONS = ("unparseable_row", "missing_identity", "bad_domain", "unknown_account",
                  "ambiguous_account", "bad_timestamp", "unknown_signal_kind")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def quarantine_rows(
    con: duckdb.DuckDBPyConnection,
    *,
    tenant_id: str,
    import_id: str,
    kind: str,
    rows: pl.DataFrame,
    run_id: str | None,
    at: datetime,
) -> int:
    """Insert rows (row_number, reason_code, reason_detail, raw) into quarantine.rows."""
    if rows.height == 0:
        return 0
    allowed = {"contact": CONTACT_REASONS, "change": CHANGE_REASONS, "company": COMPANY_REASONS,
               "signal": SIGNAL_REASONS}.get(kind, ACTIVITY_REASONS)
    unknown = set(rows["reason_code"].unique().to_list()) - set(allowed)
    if unknown:
        raise ValueError(f"unknown {kind} reason codes {sorted(unknown)}")
    q = rows.select(
        pl.lit(tenant_id).alias("tenant_id"),
        pl.lit(import_id).alias("import_id"),
        pl.lit(kind).alias("kind"),
        pl.col("row_number").cast(pl.Int64),
        pl.col("reason_code"),
        pl.col("reason_detail").cast(pl.Utf8),
        pl.col("raw").cast(pl.Utf8),
        pl.lit(run_id, dtype=pl.Utf8).alias("run_id"),
        pl.lit(at, dtype=pl.Datetime("us")).alias("quarantined_at"),
    )
    con.register("_quarantine", q)
    try:
        run(con, "INSERT INTO quarantine.rows BY NAME SELECT * FROM _quarantine")
    finally:
        con.unregister("_quarantine")
    return q.height


def quarantine_counts(con: duckdb.DuckDBPyConnection, tenant_id: str, import_id: str) -> dict:
    """Quarantined rows of one import by reason code."""
    rows = run(
        con,
        "SELECT reason_code, count(*) FROM quarantine.rows WHERE tenant_id = $t AND import_id = $i "
        "GROUP BY 1 ORDER BY 1",
        {"t": tenant_id, "i": import_id},
    )
    return dict(rows)


def spreadsheet_safe(value: str | None) -> str | None:
    """A value a spreadsheet will show as text, never run as a formula (OWASP CSV injection)."""
    if value and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def write_error_file(
    con: duckdb.DuckDBPyConnection, tenant_id: str, import_id: str, path: Path
) -> Path | None:
    """CSV of an import's quarantined rows (row, reason, detail, original values), or None."""
    rows = frame(
        con,
        "SELECT row_number, reason_code, reason_detail, raw FROM quarantine.rows "
        "WHERE tenant_id = $t AND import_id = $i ORDER BY row_number",
        {"t": tenant_id, "i": import_id},
    )
    if rows.height == 0:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["row_number", "reason_code", "reason_detail", "original_values"])
        for rn, code, detail, raw in rows.iter_rows():
            writer.writerow([rn, code, spreadsheet_safe(detail), spreadsheet_safe(raw)])
    tmp.replace(path)
    return path
