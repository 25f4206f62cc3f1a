"""Contact files into the warehouse: read and register (stage), then normalize and validate.

Staging keeps every row as read (`raw.contact_rows`) and refuses a whole unreadable file before
anything is written. Normalization turns pending rows into `staging.contact_rows`, quarantining
those without tenant or identity and those of erased people.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from .audit import keyed_digest_sql
from .errors import RefusedFile
from .home import Home
from .imports import existing_import, import_id_for, register_import
from .ingest import canonical_rows, read_table, resolve_mapping
from .normalize import hygiene_issues, identity_expr, normalize_contacts
from .normalize.identifiers import other_identifiers, split_first
from .quarantine import quarantine_rows
from .readonly import open_read_only
from .tenants import get_tenant
from .warehouse import frame, memory_capped, run

CANONICAL_FIELDS = (
    "source_id", "first_name", "last_name", "full_name", "email", "phone", "company",
    "job_title", "industry", "company_size", "street", "city", "postcode", "state", "country",
    "birthdate", "tags", "notes", "lifecycle_stage", "consent_status", "created_at", "tenant_id",
    "other_emails", "other_phones",
)
# Whole DuckDB row groups (122,880 rows each) per insert: slices that split row groups cost up
# to twice the time to write; whole files at once cost a second copy of the rows in memory.
STAGE_CHUNK_ROWS = 2 * 122_880
IDENTITY_FIELDS = ("first_name", "last_name", "full_name", "email", "phone")
STAGED_COLUMNS = (
    "source_id", "source_system", "first_name", "last_name", "first_name_key", "last_name_key",
    "email", "email_local_base", "email_domain", "phone", "phone_type", "company", "company_key",
    "job_title", "industry", "company_size", "street", "city", "postcode", "state", "country",
    "birthdate", "tags", "notes", "lifecycle_stage", "consent_status", "created_at",
    "email_status", "phone_status", "extra", "other_emails", "other_phones",
)


def preview_contact_file(path: Path, mapping_file: Path | None = None):
    """(table, mapping, canonical rows) of a file, reading it without touching the warehouse."""
    table = read_table(Path(path))
    mapping = resolve_mapping(table.headers, mapping_file)
    if not any(mapping.columns(f) for f in IDENTITY_FIELDS):
        raise RefusedFile(
            path, "no column is recognised as a name, email or phone (headers: "
            f"{', '.join(table.headers[:8])}{', ...' if len(table.headers) > 8 else ''}); "
            "map them with --mapping MAP.yaml",
        )
    return table, mapping, canonical_rows(table, mapping)


def published_home_country(home: Home, tenant_id: str) -> str | None:
    """The tenant's home country as the last published snapshot has it (None without one).

    For `--dry-run`, which changes nothing: it reads the snapshot as every reader does, so it
    never opens the working file (a run may be writing it), takes no lock and blocks no run."""
    if not home.snapshot.exists():
        return None
    try:
        con = open_read_only(home.snapshot)
    except duckdb.Error:  # not readable as a snapshot: the default region, as without one
        return None
    try:
        tenant = get_tenant(con, tenant_id)
    except duckdb.Error:
        return None
    finally:
        con.close()
    return tenant.home_country if tenant else None


def stage_contact_file(
    con: duckdb.DuckDBPyConnection,
    *,
    tenant_id: str,
    path: Path,
    at: datetime,
    mapping_file: Path | None = None,
    run_id: str | None = None,
    region: str | None = None,
) -> dict:
    """Register a contact file and keep every row as read; the same file again changes nothing."""
    table, mapping, rows = preview_contact_file(path, mapping_file)
    import_id = import_id_for(tenant_id, "contact", table.sha256)
    previous = existing_import(con, tenant_id, import_id)
    if previous:
        return previous | {"already_imported": True}
    fields = [c for c in CANONICAL_FIELDS if c in rows.columns]
    raw_rows = rows.select(
        pl.lit(tenant_id).alias("tenant_id"),
        pl.lit(import_id).alias("import_id"),
        pl.col("row_number").cast(pl.Int64),
        (pl.col("source_id") if "source_id" in rows.columns else pl.lit(None, pl.Utf8)).alias(
            "source_id"
        ),
        pl.lit(mapping.vendor).alias("source_system"),
        pl.col("raw").alias("record"),
        pl.struct([(pl.col(f) if f in fields else pl.lit(None, pl.Utf8)).alias(f)
                   for f in CANONICAL_FIELDS]).alias("mapped"),
        pl.col("extra"),
    )
    bad = table.unparseable
    run(con, "BEGIN TRANSACTION")
    try:
        with memory_capped(con):
            for start in range(0, raw_rows.height, STAGE_CHUNK_ROWS):
                # In slices, so DuckDB never holds a second copy of the file's rows at once.
                con.register("_raw_rows", raw_rows.slice(start, STAGE_CHUNK_ROWS))
                run(con, "INSERT INTO raw.contact_rows BY NAME SELECT * FROM _raw_rows")
                con.unregister("_raw_rows")
        if bad.height:
            bad_rows = bad.select(
                pl.lit(tenant_id).alias("tenant_id"),
                pl.lit(import_id).alias("import_id"),
                pl.col("row_number").cast(pl.Int64),
            )
            con.register("_bad_rows", bad_rows)
            run(con, "INSERT INTO raw.contact_rows BY NAME SELECT * FROM _bad_rows")
            con.unregister("_bad_rows")
            quarantine_rows(
                con, tenant_id=tenant_id, import_id=import_id, kind="contact",
                rows=bad.select(
                    "row_number",
                    pl.lit("unparseable_row").alias("reason_code"),
                    pl.col("detail").alias("reason_detail"),
                    "raw",
                ),
                run_id=run_id, at=at,
            )
        register_import(
            con, tenant_id=tenant_id, import_id=import_id, kind="contact",
            file_name=Path(path).name, file_sha256=table.sha256,
            rows_in=raw_rows.height + bad.height, at=at, encoding=table.encoding,
            delimiter=table.delimiter, vendor=mapping.vendor,
            mapping=json.dumps(mapping.describe() | {"region": region}, sort_keys=True),
        )
        run(con, "COMMIT")
    except BaseException:
        run(con, "ROLLBACK")
        raise
    return {
        "import_id": import_id,
        "already_imported": False,
        "rows_in": raw_rows.height + bad.height,
        "encoding": table.encoding,
        "delimiter": table.delimiter,
        "vendor": mapping.vendor,
    }


def pending_rows(con: duckdb.DuckDBPyConnection, tenant_id: str, import_id: str) -> pl.DataFrame:
    """An import's readable rows with their canonical (mapped, not yet normalized) values."""
    fields = ", ".join(f"mapped.{f} AS {f}" for f in CANONICAL_FIELDS if f != "source_id")
    rows = frame(
        con,
        f"SELECT row_number, source_id, source_system, extra::VARCHAR AS extra, {fields} "
        "FROM raw.contact_rows WHERE tenant_id = $t AND import_id = $i AND record IS NOT NULL",
        {"t": tenant_id, "i": import_id},
    )
    # Rows are stored in file order, so this is almost always a check only: an ORDER BY in
    # DuckDB would buffer every wide row of a million-row import once more.
    return rows if rows["row_number"].is_sorted() else rows.sort("row_number")


def normalize_import(
    con: duckdb.DuckDBPyConnection,
    *,
    tenant_id: str,
    import_id: str,
    home_region: str,
    key: bytes,
    run_id: str,
    at: datetime,
    date_order: str | None = None,
    tenant_column: bool = False,
) -> dict[str, int]:
    """Normalize and validate one pending import into staging; returns quarantined counts by reason."""
    rows = pending_rows(con, tenant_id, import_id)
    if rows.height == 0:
        return {}
    rows = split_first(split_first(rows, "email"), "phone")
    norm = normalize_contacts(rows, default_region=home_region, date_order=date_order)
    norm = pl.concat([norm.drop("other_emails", "other_phones", strict=False),
                      other_identifiers(rows, norm, home_region)], how="horizontal")
    del rows  # a million rows: each copy freed as soon as it is done with keeps the peak down
    norm = norm.with_columns(
        pl.when(pl.col("email").is_not_null()).then(pl.lit("valid"))
        .when(pl.col("email_issue").is_not_null()).then(pl.lit("invalid"))
        .otherwise(pl.lit("missing")).alias("email_status"),
        pl.when(pl.col("phone").is_not_null()).then(pl.lit("valid"))
        .when(pl.col("phone_issue").is_not_null()).then(pl.lit("invalid"))
        .otherwise(pl.lit("missing")).alias("phone_status"),
    )
    reasons = _quarantine_reasons(con, norm, tenant_id, key, tenant_column)
    norm = norm.with_columns(reasons.alias("_reason"))
    quarantined = norm.filter(pl.col("_reason").is_not_null())
    accepted = norm.filter(pl.col("_reason").is_null())
    del norm
    if quarantined.height:
        raw = frame(
            con,
            "SELECT row_number, record::VARCHAR AS raw FROM raw.contact_rows "
            "WHERE tenant_id = $t AND import_id = $i",
            {"t": tenant_id, "i": import_id},
        )
        q = quarantined.select("row_number", "_reason").join(raw, on="row_number", how="left")
        q = q.with_columns(
            pl.col("_reason").struct.field("code").alias("reason_code"),
            pl.col("_reason").struct.field("detail").alias("reason_detail"),
        ).select("row_number", "reason_code", "reason_detail", "raw")
        quarantine_rows(con, tenant_id=tenant_id, import_id=import_id, kind="contact", rows=q,
                        run_id=run_id, at=at)
    staged = accepted.select(
        pl.lit(tenant_id).alias("tenant_id"),
        pl.lit(import_id).alias("import_id"),
        pl.col("row_number").cast(pl.Int64),
        *[pl.col(c) for c in STAGED_COLUMNS],
        pl.lit("pending").alias("status"),
    )
    with memory_capped(con):
        for start in range(0, staged.height, STAGE_CHUNK_ROWS):
            con.register("_staged", staged.slice(start, STAGE_CHUNK_ROWS))
            run(con, "INSERT INTO staging.contact_rows BY NAME SELECT * FROM _staged")
            con.unregister("_staged")
    del staged
    issues = hygiene_issues(accepted)
    if issues.height:
        issues = issues.select(
            pl.lit(tenant_id).alias("tenant_id"), pl.lit(import_id).alias("import_id"),
            pl.col("row_number").cast(pl.Int64), "field",
            pl.col("original_value").cast(pl.Utf8), "issue",
        )
        con.register("_issues", issues)
        run(con, "INSERT INTO staging.field_issues BY NAME SELECT * FROM _issues")
        con.unregister("_issues")
    return dict(quarantined.group_by(pl.col("_reason").struct.field("code")).len().iter_rows())


def _quarantine_reasons(con, norm: pl.DataFrame, tenant_id: str, key: bytes,
                        tenant_column: bool) -> pl.Series:
    """Per row: null, or {code, detail} for the first rule it breaks."""
    erased = _erased_rows(con, norm, tenant_id, key)
    row_tenant = pl.col("tenant_id").str.strip_chars() if tenant_column else pl.lit(tenant_id)
    reason = (
        pl.when(row_tenant.is_null() | (row_tenant == ""))
        .then(pl.struct(code=pl.lit("missing_tenant"),
                        detail=pl.lit("the row's tenant_id column is empty")))
        .when(row_tenant != tenant_id)
        .then(pl.struct(code=pl.lit("tenant_mismatch"),
                        detail=pl.lit("the row's tenant_id is not the tenant being imported")))
        .when(~identity_expr())
        .then(pl.struct(code=pl.lit("missing_identity"),
                        detail=pl.lit("the row has no usable name, email or phone")))
        .when(pl.col("row_number").is_in(erased.implode()))
        .then(pl.struct(code=pl.lit("erased_subject"),
                        detail=pl.lit("the row matches a person erased under GDPR")))
    )
    return norm.select(reason.alias("r"))["r"]


def _erased_rows(con, norm: pl.DataFrame, tenant_id: str, key: bytes) -> pl.Series:
    """Row numbers whose email or phone matches a GDPR suppression of this tenant."""
    if not run(con, "SELECT 1 FROM gdpr.suppressions WHERE tenant_id = $t LIMIT 1", {"t": tenant_id}):
        return pl.Series("row_number", [], pl.Int64)
    probe = norm.select("row_number", "email", "phone")
    con.register("_probe", probe)
    try:
        hits = frame(
            con,
            f"""
            SELECT DISTINCT p.row_number FROM _probe p JOIN gdpr.suppressions s
              ON s.tenant_id = $t
             AND ((s.kind = 'email' AND s.subject_digest = {keyed_digest_sql('p.email')})
               OR (s.kind = 'phone' AND s.subject_digest = {keyed_digest_sql('p.phone')}))
            """,
            {"t": tenant_id, "key_hex": key.hex()},
        )
    finally:
        con.unregister("_probe")
    return hits["row_number"]
