"""Company signals (`crm import signals`): news, funding, hiring and intent about accounts.

"Archy finds industry news relevant to key accounts; Daily-Intel flags contacts whose companies
are in the news." A signals file is JSON lines (`{"domain": "acme.com", "company": "Acme",
"kind": "funding", "title": "...", "url": "https://...", "occurred_at": "2026-11-02T08:00:00Z"}`),
each linked to an account exactly as a company file's row is (by domain, then by a name that
identifies one account; never creating one), kept in core.account_signals, and shown against
the account's contacts in marts.contact_signals at the next run. A line that is not a JSON
object, names no company, has an unknown kind, no title or an unreadable time, or matches no
account is quarantined with its reason; a signal delivered again (same signal_id, or the same
company, kind, title and time from the same source) is merged, never stored twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from crm_pipeline.accounts.companies_file import account_matches, company_identities
from crm_pipeline.contacts.changes_file import read_lines
from crm_pipeline.contacts.imports import (
    close_import,
    existing_import,
    import_id_for,
    register_import,
)
from crm_pipeline.contacts.quarantine import quarantine_counts, quarantine_rows, write_error_file
from crm_pipeline.marts.tenant_settings import tenant_settings
from crm_pipeline.trust.audit import ChangeContext
from crm_pipeline.warehouse import run, transaction

SIGNAL_KINDS = ("news", "funding", "hiring", "intent", "leadership_change", "acquisition",
                "partnership", "product_launch", "layoffs", "award", "expansion")
TEXT_LIMIT = 2000  # characters kept of a title or URL
ROW_SCHEMA = {"row_number": pl.Int64, "domain": pl.String, "website": pl.String,
              "name": pl.String, "kind": pl.String, "title": pl.String, "url": pl.String,
              "occurred_at": pl.Datetime("us"), "given_id": pl.String, "reason": pl.String,
              "detail": pl.String, "raw": pl.String}


def _text(value) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text[:TEXT_LIMIT] or None


def _time(value) -> datetime | None:
    """UTC time of an ISO 8601 date (midnight UTC) or date-time with a zone; None otherwise."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if len(text) == 10:  # a date alone
        return parsed
    if parsed.tzinfo is None or not 1900 <= parsed.year <= 9999:
        return None
    return parsed.astimezone(UTC).replace(tzinfo=None)


def _line(number: int, line: str) -> dict:
    """One line read into the row schema, with the reason it cannot be kept, if any."""
    row = dict.fromkeys(ROW_SCHEMA) | {"row_number": number, "raw": line[:10_000]}
    try:
        doc = json.loads(line)
    except ValueError:
        return row | {"reason": "unparseable_row", "detail": "not a JSON object"}
    if not isinstance(doc, dict):
        return row | {"reason": "unparseable_row", "detail": "not a JSON object"}
    url = _text(doc.get("url"))
    row |= {"domain": _text(doc.get("domain")), "website": _text(doc.get("website")),
            "name": _text(doc.get("company") or doc.get("company_name")),
            "kind": (_text(doc.get("kind")) or "").lower() or None,
            "title": _text(doc.get("title")),
            "url": url if url and url.lower().startswith(("http://", "https://")) else None,
            "occurred_at": _time(doc.get("occurred_at")), "given_id": _text(doc.get("signal_id"))}
    if not (row["domain"] or row["website"] or row["name"]):
        return row | {"reason": "missing_identity", "detail": "no domain, website or company"}
    if row["kind"] not in SIGNAL_KINDS:
        return row | {"reason": "unknown_signal_kind",
                      "detail": f"kind must be one of {', '.join(SIGNAL_KINDS)}"}
    if not row["title"]:
        return row | {"reason": "unparseable_row", "detail": "no title"}
    if row["occurred_at"] is None:
        return row | {"reason": "bad_timestamp",
                      "detail": "occurred_at must be an ISO 8601 date, or a time with its zone"}
    return row


def import_signals_file(con: duckdb.DuckDBPyConnection, ctx: ChangeContext, path: Path,
                        source: str, error_path: Callable[[str], Path]) -> dict:
    """Import a signals file into the tenant (whose lock the caller holds); its accounting:
    import_id, rows_in, accepted, merged, quarantined (by reason), error_file, already."""
    tenant_id = ctx.tenant_id
    data, lines = read_lines(path, "holds no signal (JSON lines expected)")
    digest = hashlib.sha256(data).hexdigest()
    import_id = import_id_for(tenant_id, f"signal\x1f{source}", digest)
    known = existing_import(con, tenant_id, import_id)
    if known and known["processed_run_id"] is not None:
        return {"import_id": import_id, "already": True, "rows_in": known["rows_in"],
                "accepted": known["rows_accepted"], "merged": known["rows_merged"],
                "quarantined": quarantine_counts(con, tenant_id, import_id),
                "error_file": known["error_file"]}
    rows = pl.DataFrame([_line(n, line) for n, line in lines], schema=ROW_SCHEMA, orient="row")
    excluded = tenant_settings(con, tenant_id)["accounts"]["excluded_domains"]
    rows = company_identities(rows, excluded)
    rows = rows.join(account_matches(con, tenant_id, rows).rename({"reason": "match_reason"}),
                     on="row_number", how="left").with_columns(
        pl.coalesce("reason", "match_reason",
                    pl.when(pl.col("match") == "new").then(pl.lit("unknown_account")))
        .alias("reason"))
    key = pl.concat_str([pl.lit(source), pl.coalesce("domain_reg", "name_key", pl.lit("")),
                         "kind", "title", pl.col("occurred_at").cast(pl.String)],
                        separator="\x1f")
    rows = rows.with_columns(key.alias("signal_key"))
    good = rows.filter(pl.col("reason").is_null())
    with transaction(con):
        if known is None:
            register_import(con, tenant_id=tenant_id, import_id=import_id, kind="signal",
                            file_name=Path(path).name, file_sha256=digest, rows_in=rows.height,
                            at=ctx.at, vendor=source)
        bad = rows.filter(pl.col("reason").is_not_null()).select(
            "row_number", pl.col("reason").alias("reason_code"),
            pl.coalesce("detail", pl.lit("matches no account of the tenant")).alias(
                "reason_detail"), "raw")
        quarantine_rows(con, tenant_id=tenant_id, import_id=import_id, kind="signal", rows=bad,
                        run_id=ctx.run_id, at=ctx.at)
        accepted = _store(con, ctx, good, source, import_id)
        written = write_error_file(con, tenant_id, import_id, error_path(import_id))
        close_import(con, tenant_id=tenant_id, import_id=import_id, run_id=ctx.run_id,
                     accepted=accepted, merged=good.height - accepted, quarantined=bad.height,
                     error_file=str(written) if written else None)
    return {"import_id": import_id, "already": False, "rows_in": rows.height,
            "accepted": accepted, "merged": good.height - accepted,
            "quarantined": quarantine_counts(con, tenant_id, import_id),
            "error_file": str(written) if written else None}


def _store(con, ctx: ChangeContext, good: pl.DataFrame, source: str, import_id: str) -> int:
    """The new signals (the first line of each id, ids not stored yet) inserted; how many. An
    id is the line's signal_id, else `s_` and a digest of the source, company, kind, title and
    time."""
    con.register("_sig_good", good.select("given_id", "signal_key", "account_id", "kind",
                                          "title", "url", "occurred_at", "row_number"))
    try:
        rows = run(con, """
            INSERT INTO core.account_signals
            SELECT $t, signal_id, account_id, kind, title, url, occurred_at, $source, $import_id,
                   row_number, $at
            FROM (SELECT coalesce(given_id, 's_' || substr(sha256(signal_key), 1, 16))
                             AS signal_id, *
                  FROM _sig_good
                  QUALIFY row_number() OVER (PARTITION BY signal_id ORDER BY row_number) = 1)
            ANTI JOIN (SELECT signal_id FROM core.account_signals WHERE tenant_id = $t)
                 USING (signal_id)""",
            {"t": ctx.tenant_id, "source": source, "import_id": import_id, "at": ctx.at})
    finally:
        con.unregister("_sig_good")
    return int(rows[0][0]) if rows else 0
