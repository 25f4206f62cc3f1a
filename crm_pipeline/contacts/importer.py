"""Contact files into the warehouse: read and register (stage), then normalize and validate.

Staging keeps every row as read (`raw.contact_rows`) and refuses a whole unreadable file before
anything is written. Normalization turns pending rows into `staging.contact_rows`, quarantining
those without tenant or identity. A row of a person erased under GDPR (its email or phone matches a
suppression) is never stored with its values: only its row number, the reason `erased_subject` and
a keyed digest of the row as read (`suppress_rows`), checked when the file is staged already.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from crm_pipeline.contacts.imports import existing_import, import_id_for, register_import
from crm_pipeline.contacts.ingest.headers import canonical_rows, resolve_mapping
from crm_pipeline.contacts.ingest.workbooks import read_contact_file
from crm_pipeline.contacts.normalize.contacts import (
    hygiene_issues,
    identity_expr,
    normalize_contacts,
)
from crm_pipeline.contacts.normalize.identifiers import other_identifiers, split_first
from crm_pipeline.contacts.quarantine import quarantine_rows
from crm_pipeline.errors import RefusedFile
from crm_pipeline.home import Home
from crm_pipeline.tenants import get_tenant
from crm_pipeline.trust.audit import keyed_digest_sql
from crm_pipeline.trust.readonly import open_read_only
from crm_pipeline.warehouse import frame, memory_capped, run

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
ERASED_DETAIL = ("the row matches a person erased under GDPR; its values are not kept, only its "
                 "keyed digest {}")
STAGED_COLUMNS = (
    "source_id", "source_system", "first_name", "last_name", "first_name_key", "last_name_key",
    "email", "email_local_base", "email_domain", "phone", "phone_type", "company", "company_key",
    "job_title", "industry", "company_size", "street", "city", "postcode", "state", "country",
    "birthdate", "birth_year", "tags", "notes", "lifecycle_stage", "consent_status", "created_at",
    "email_status", "phone_status", "extra", "other_emails", "other_phones",
)


def preview_contact_file(path: Path, mapping_file: Path | None = None, sheet: str | None = None,
                         drop_extra: bool = False):
    """(table, mapping, canonical rows) of a file (a CSV, or a workbook's first or named
    sheet), reading it without touching the warehouse. With `drop_extra` (data minimization)
    the unmapped and ignored columns are dropped before anything is made of the rows: they are
    in neither the row as read (`raw`) nor `extra`, which stays empty."""
    table = read_contact_file(Path(path), sheet)
    mapping = resolve_mapping(table.headers, mapping_file)
    if not any(mapping.columns(f) for f in IDENTITY_FIELDS):
        raise RefusedFile(
            path, "no column is recognised as a name, email or phone (headers: "
            f"{', '.join(table.headers[:8])}{', ...' if len(table.headers) > 8 else ''}); "
            "map them with --mapping MAP.yaml",
        )
    if drop_extra:
        dropped = set(mapping.extras) | set(mapping.ignored)
        table = dataclasses.replace(
            table, headers=[h for h in table.headers if h not in dropped],
            rows=table.rows.drop([h for h in table.headers if h in dropped]))
        mapping = dataclasses.replace(mapping, extras=())
        rows = canonical_rows(table, mapping).with_columns(pl.lit(None, pl.Utf8).alias("extra"))
        return table, mapping, rows
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
    key: bytes | None = None,
    sheet: str | None = None,
    drop_extra: bool = False,
) -> dict:
    """Register a contact file and keep every row as read; the same file again changes nothing.
    With `drop_extra`, no unmapped column is kept (`preview_contact_file`); recorded with the
    import's options.

    With the home's `key`, rows of people erased under GDPR are recognised here and stored
    without their values (without it, normalization recognises them, and strips the values it
    finds already stored)."""
    table, mapping, rows = preview_contact_file(path, mapping_file, sheet, drop_extra)
    import_id = import_id_for(tenant_id, "contact", table.sha256)
    previous = existing_import(con, tenant_id, import_id)
    if previous:
        return previous | {"already_imported": True}
    erased = _erased_at_the_door(con, rows, tenant_id, key, region)
    if erased.height:
        rows = rows.filter(~pl.col("row_number").is_in(erased["row_number"].implode()))
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
        if bad.height or erased.height:
            # rows whose values are not kept: the row number only (the reason is quarantined)
            bad_rows = pl.concat([bad.select(pl.col("row_number").cast(pl.Int64)),
                                  erased.select(pl.col("row_number").cast(pl.Int64))]).select(
                pl.lit(tenant_id).alias("tenant_id"),
                pl.lit(import_id).alias("import_id"),
                "row_number",
            )
            con.register("_bad_rows", bad_rows)
            run(con, "INSERT INTO raw.contact_rows BY NAME SELECT * FROM _bad_rows")
            con.unregister("_bad_rows")
        if erased.height:
            quarantine_rows(
                con, tenant_id=tenant_id, import_id=import_id, kind="contact",
                rows=erased.select("row_number", pl.lit("erased_subject").alias("reason_code"),
                                   "reason_detail", pl.lit(None, pl.Utf8).alias("raw")),
                run_id=run_id, at=at,
            )
        if bad.height:
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
            rows_in=raw_rows.height + bad.height + erased.height, at=at, encoding=table.encoding,
            delimiter=table.delimiter or None, vendor=mapping.vendor,
            mapping=json.dumps(mapping.describe() | {"region": region}
                               | ({"drop_extra": True} if drop_extra else {}), sort_keys=True),
        )
        run(con, "COMMIT")
    except BaseException:
        run(con, "ROLLBACK")
        raise
    return {
        "import_id": import_id,
        "already_imported": False,
        "rows_in": raw_rows.height + bad.height + erased.height,
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
    erased = _erased_rows(con, norm, tenant_id, key)
    if erased.len():  # erased after the file was staged: its values go now
        suppress_rows(con, tenant_id=tenant_id, import_id=import_id, row_numbers=erased, key=key,
                      run_id=run_id, at=at)
        norm = norm.filter(~pl.col("row_number").is_in(erased.implode()))
    reasons = _quarantine_reasons(norm, tenant_id, tenant_column)
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
    counts = dict(quarantined.group_by(pl.col("_reason").struct.field("code")).len().iter_rows())
    if erased.len():
        counts["erased_subject"] = counts.get("erased_subject", 0) + erased.len()
    return counts


def _quarantine_reasons(norm: pl.DataFrame, tenant_id: str, tenant_column: bool) -> pl.Series:
    """Per row: null, or {code, detail} for the first rule it breaks (rows of erased people are
    taken out before: they are never stored with their values)."""
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
    )
    return norm.select(reason.alias("r"))["r"]


def has_suppressions(con: duckdb.DuckDBPyConnection, tenant_id: str) -> bool:
    return bool(run(con, "SELECT 1 FROM gdpr.suppressions WHERE tenant_id = $t LIMIT 1",
                    {"t": tenant_id}))


def subject_identifiers(rows: pl.DataFrame, home_region: str) -> pl.DataFrame:
    """`row_number, email, phone, other_emails, other_phones` of canonical rows, normalized
    exactly as `normalize_import` normalizes them (what suppressions are compared with)."""
    present = [c for c in ("email", "phone", "country", "other_emails", "other_phones")
               if c in rows.columns]
    ids = split_first(split_first(rows.select("row_number", *present), "email"), "phone")
    norm = normalize_contacts(ids.drop("other_emails", "other_phones", strict=False),
                              default_region=home_region)
    return pl.concat([norm.select("row_number", "email", "phone"),
                      other_identifiers(ids, norm, home_region)], how="horizontal")


def _erased_rows(con, norm: pl.DataFrame, tenant_id: str, key: bytes) -> pl.Series:
    """Row numbers whose email or phone (the first or any further one) matches a GDPR
    suppression of this tenant."""
    if not has_suppressions(con, tenant_id):
        return pl.Series("row_number", [], pl.Int64)
    probe = norm.select("row_number", "email", "phone", "other_emails", "other_phones")
    con.register("_probe", probe)
    try:
        hits = frame(
            con,
            f"""
            WITH probe AS (
                SELECT row_number, 'email' AS kind, email AS v FROM _probe WHERE email IS NOT NULL
                UNION ALL SELECT row_number, 'phone', phone FROM _probe WHERE phone IS NOT NULL
                UNION ALL SELECT row_number, 'email', unnest(other_emails) FROM _probe
                UNION ALL SELECT row_number, 'phone', unnest(other_phones) FROM _probe
            )
            SELECT DISTINCT p.row_number FROM probe p JOIN gdpr.suppressions s
              ON s.tenant_id = $t AND s.kind = p.kind
             AND s.subject_digest = {keyed_digest_sql('p.v')}
            ORDER BY 1
            """,
            {"t": tenant_id, "key_hex": key.hex()},
        )
    finally:
        con.unregister("_probe")
    return hits["row_number"]


def _erased_at_the_door(con, rows: pl.DataFrame, tenant_id: str, key: bytes | None,
                        region: str | None) -> pl.DataFrame:
    """`row_number, reason_detail` of the file's rows that belong to erased people: they are
    kept as their row number, the reason and a keyed digest of the row as read, never values."""
    empty = pl.DataFrame(schema={"row_number": pl.Int64, "reason_detail": pl.Utf8})
    if key is None or rows.height == 0 or not has_suppressions(con, tenant_id):
        return empty
    tenant = get_tenant(con, tenant_id)
    home_region = region or (tenant.home_country if tenant else None) or "US"
    erased = _erased_rows(con, subject_identifiers(rows, home_region), tenant_id, key)
    if erased.len() == 0:
        return empty
    con.register("_erased", rows.filter(pl.col("row_number").is_in(erased.implode()))
                 .select(pl.col("row_number").cast(pl.Int64), "raw"))
    digest = keyed_digest_sql("coalesce(raw, '')")
    try:
        return frame(
            con,
            f"SELECT row_number, format($detail, {digest}) AS reason_detail FROM _erased "
            "ORDER BY row_number",
            {"key_hex": key.hex(), "detail": ERASED_DETAIL},
        )
    finally:
        con.unregister("_erased")


def suppress_rows(
    con: duckdb.DuckDBPyConnection,
    *,
    tenant_id: str,
    import_id: str,
    row_numbers: pl.Series,
    key: bytes,
    run_id: str | None,
    at: datetime,
) -> int:
    """Rows of an erased person already stored in raw.contact_rows: their values are removed (the
    row number stays, so the import still adds up) and each is quarantined as `erased_subject`
    with the keyed digest of the row as read; a row quarantined before only loses its values.
    Returns the number of rows newly quarantined."""
    if row_numbers.len() == 0:
        return 0
    con.register("_suppress", pl.DataFrame({"row_number": row_numbers.cast(pl.Int64)}))
    p = {"t": tenant_id, "i": import_id}
    try:
        fresh = frame(
            con,
            f"""
            SELECT r.row_number,
                   format($detail, {keyed_digest_sql("coalesce(r.record::VARCHAR, '')")})
                       AS reason_detail
            FROM raw.contact_rows r
            WHERE r.tenant_id = $t AND r.import_id = $i
              AND r.row_number IN (SELECT row_number FROM _suppress)
              AND NOT EXISTS (SELECT 1 FROM quarantine.rows q WHERE q.tenant_id = $t
                              AND q.import_id = $i AND q.row_number = r.row_number)
            ORDER BY 1
            """,
            p | {"key_hex": key.hex(), "detail": ERASED_DETAIL},
        )
        run(con, "UPDATE quarantine.rows SET raw = NULL WHERE tenant_id = $t AND import_id = $i "
            "AND row_number IN (SELECT row_number FROM _suppress) AND raw IS NOT NULL", p)
        run(con, "UPDATE raw.contact_rows SET record = NULL, mapped = NULL, extra = NULL, "
            "source_id = NULL WHERE tenant_id = $t AND import_id = $i "
            "AND row_number IN (SELECT row_number FROM _suppress)", p)
    finally:
        con.unregister("_suppress")
    return quarantine_rows(
        con, tenant_id=tenant_id, import_id=import_id, kind="contact",
        rows=fresh.select("row_number", pl.lit("erased_subject").alias("reason_code"),
                          "reason_detail", pl.lit(None, pl.Utf8).alias("raw")),
        run_id=run_id, at=at,
    )
