"""The register of imported files: ids, re-import detection and row accounting."""

from __future__ import annotations

import hashlib
from datetime import datetime

import duckdb

from crm_pipeline.warehouse import run


def import_id_for(tenant_id: str, kind: str, file_sha256: str) -> str:
    """Deterministic import id: the same file for the same tenant is the same import."""
    digest = hashlib.sha256(f"{tenant_id}\x1f{kind}\x1f{file_sha256}".encode()).hexdigest()
    return f"imp_{digest[:16]}"


def existing_import(con: duckdb.DuckDBPyConnection, tenant_id: str, import_id: str) -> dict | None:
    """The register row of an import already made, or None."""
    rows = run(
        con,
        "SELECT import_id, kind, file_name, rows_in, rows_accepted, rows_merged, rows_quarantined, "
        "imported_at, processed_run_id, error_file FROM raw.imports "
        "WHERE tenant_id = $t AND import_id = $i",
        {"t": tenant_id, "i": import_id},
    )
    if not rows:
        return None
    keys = [
        "import_id",
        "kind",
        "file_name",
        "rows_in",
        "rows_accepted",
        "rows_merged",
        "rows_quarantined",
        "imported_at",
        "processed_run_id",
        "error_file",
    ]
    return dict(zip(keys, rows[0], strict=True))


def register_import(
    con: duckdb.DuckDBPyConnection,
    *,
    tenant_id: str,
    import_id: str,
    kind: str,
    file_name: str,
    file_sha256: str,
    rows_in: int,
    at: datetime,
    encoding: str | None = None,
    delimiter: str | None = None,
    vendor: str | None = None,
    mapping: str | None = None,
) -> None:
    """Record a new import as pending (processed_run_id NULL until a run processes it)."""
    run(
        con,
        "INSERT INTO raw.imports (tenant_id, import_id, kind, file_name, file_sha256, encoding, "
        "delimiter, vendor, mapping, rows_in, imported_at) "
        "VALUES ($t, $i, $k, $f, $s, $e, $d, $v, $m, $n, $at)",
        {
            "t": tenant_id,
            "i": import_id,
            "k": kind,
            "f": file_name,
            "s": file_sha256,
            "e": encoding,
            "d": delimiter,
            "v": vendor,
            "m": mapping,
            "n": rows_in,
            "at": at,
        },
    )


def pending_imports(con: duckdb.DuckDBPyConnection, tenant_id: str, kind: str) -> list[str]:
    """Ids of a tenant's imports of one kind that no run has processed yet, oldest first."""
    rows = run(
        con,
        "SELECT import_id FROM raw.imports WHERE tenant_id = $t AND kind = $k "
        "AND processed_run_id IS NULL ORDER BY imported_at, import_id",
        {"t": tenant_id, "k": kind},
    )
    return [r[0] for r in rows]


def close_import(
    con: duckdb.DuckDBPyConnection,
    *,
    tenant_id: str,
    import_id: str,
    run_id: str,
    accepted: int,
    merged: int,
    quarantined: int,
    error_file: str | None = None,
) -> None:
    """Record an import's outcome; the counts must add up to rows_in (checked here)."""
    rows_in = run(
        con,
        "SELECT rows_in FROM raw.imports WHERE tenant_id = $t AND import_id = $i",
        {"t": tenant_id, "i": import_id},
    )[0][0]
    if accepted + merged + quarantined != rows_in:
        raise AssertionError(
            f"import {import_id}: {rows_in} rows in but {accepted} accepted + {merged} merged + "
            f"{quarantined} quarantined"
        )
    run(
        con,
        "UPDATE raw.imports SET rows_accepted = $a, rows_merged = $m, rows_quarantined = $q, "
        "processed_run_id = $r, error_file = $e WHERE tenant_id = $t AND import_id = $i",
        {
            "a": accepted,
            "m": merged,
            "q": quarantined,
            "r": run_id,
            "e": error_file,
            "t": tenant_id,
            "i": import_id,
        },
    )
