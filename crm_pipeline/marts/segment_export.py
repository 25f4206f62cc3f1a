"""A segment as a file another tool re-imports as a static list: HubSpot, Salesforce, Mailchimp
or plain CSV, each with that tool's own column names and the record ids it knows.

Members are the segment's rows of `marts.contact_segments` (the latest run) whose contact still
exists, with today's values from `core.contacts`. A tool's record id is the `source_id` of the
contact's source rows imported from that tool's export (`raw.imports.vendor`), the latest import's
when there are several; a contact the tool never exported has none, and the tool matches it by
email. Consent is honoured as the segments do for outreach, but against the contact's consent
*now*: an outreach segment, or any segment sent to Mailchimp (a mailing tool: every list sent there
is outreach), leaves out contacts whose consent is denied today, also if it changed since the run.
Mailchimp lists need an email: contacts without one are left out too. Values a spreadsheet would
run as a formula (starting with `=`, `+`, `-`, `@`, tab or CR) get a leading `'`, except phone
numbers, which are E.164 (`+1...`) by construction.

The caller audits the export (`crm segment export` writes an `export` row to the trail).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from crm_pipeline.errors import BadArgument
from crm_pipeline.marts.segments import segment_definitions
from crm_pipeline.warehouse import frame

FIELDS = ("contact_id", "source_id", "first_name", "last_name", "email", "phone", "company",
          "job_title", "city", "country", "lifecycle_stage", "consent_status")
# Per format: (the vendor whose record ids it carries, [(column, field)]).
FORMATS: dict[str, tuple[str | None, list[tuple[str, str]]]] = {
    "hubspot": ("hubspot", [
        ("Record ID", "source_id"), ("First Name", "first_name"), ("Last Name", "last_name"),
        ("Email", "email"), ("Phone Number", "phone"), ("Company Name", "company"),
        ("Job Title", "job_title"), ("City", "city"), ("Country/Region", "country"),
        ("Lifecycle Stage", "lifecycle_stage"),
    ]),
    "salesforce": ("salesforce", [
        ("Id", "source_id"), ("FirstName", "first_name"), ("LastName", "last_name"),
        ("Email", "email"), ("Phone", "phone"), ("Title", "job_title"),
        ("MailingCity", "city"), ("MailingCountry", "country"),
    ]),
    "mailchimp": ("mailchimp", [
        ("Email Address", "email"), ("First Name", "first_name"), ("Last Name", "last_name"),
        ("Phone Number", "phone"), ("Company", "company"), ("Tags", "segment"),
    ]),
    "csv": (None, [(f, f) for f in FIELDS if f != "source_id"] + [("segment", "segment"),
                                                                   ("as_of", "as_of")]),
}
MAILING_FORMATS = frozenset({"mailchimp"})
_FORMULA_START = r"^[=+\-@\t\r]"


@dataclass
class SegmentExport:
    """A segment's export: the rows as the tool names its columns, and what was left out."""

    tenant_id: str
    segment: str
    format: str
    as_of: str | None
    rows: pl.DataFrame
    left_out: dict[str, int] = field(default_factory=dict)
    with_record_id: int = 0

    def csv_bytes(self) -> bytes:
        return self.rows.write_csv(quote_style="necessary").encode("utf-8")

    def audit_new(self, file_name: str, digest: str) -> dict:
        """What the audit row records: counts and the file's digest, never a person's values."""
        return {"segment": self.segment, "format": self.format, "as_of": self.as_of,
                "rows": self.rows.height, "with_record_id": self.with_record_id,
                "left_out": self.left_out, "file": file_name, "sha256": digest}


def checked_format(fmt: str) -> str:
    name = (fmt or "").strip().lower()
    if name not in FORMATS:
        raise BadArgument(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    return name


def segment_export(con: duckdb.DuckDBPyConnection, tenant_id: str, segment: str,
                   fmt: str) -> SegmentExport:
    """The segment's members as rows for `fmt` (see the module docstring)."""
    fmt = checked_format(fmt)
    segments = {s.name: s for s in segment_definitions()}
    if segment not in segments:
        raise BadArgument(f"unknown segment {segment!r}: use one of {', '.join(sorted(segments))}")
    vendor, columns = FORMATS[fmt]
    as_of = frame(con, "SELECT max(as_of)::VARCHAR AS as_of FROM marts.contact_segments "
                       "WHERE tenant_id = $t", {"t": tenant_id})["as_of"][0]
    if as_of is None:
        raise BadArgument(f"tenant {tenant_id!r} has no segments yet: run crm run --tenant "
                          f"{tenant_id} first")
    members = frame(con, """
        WITH ids AS (
            SELECT cs.contact_id,
                   arg_max(cs.source_id, (i.imported_at, cs.import_id, cs.row_number)) AS source_id
            FROM core.contact_sources cs
            JOIN raw.imports i USING (tenant_id, import_id)
            WHERE cs.tenant_id = $t AND i.vendor = $vendor AND nullif(trim(cs.source_id), '') <> ''
            GROUP BY cs.contact_id
        )
        SELECT c.contact_id, ids.source_id, c.first_name, c.last_name, c.email, c.phone,
               c.company, c.job_title, c.city, c.country, c.lifecycle_stage, c.consent_status
        FROM marts.contact_segments m
        JOIN core.contacts c ON c.tenant_id = m.tenant_id AND c.contact_id = m.contact_id
        LEFT JOIN ids ON ids.contact_id = c.contact_id
        WHERE m.tenant_id = $t AND m.segment = $segment
        ORDER BY c.contact_id
        """, {"t": tenant_id, "segment": segment, "vendor": vendor or ""})
    left_out: dict[str, int] = {}
    if segments[segment].outreach or fmt in MAILING_FORMATS:
        denied = pl.col("consent_status").str.to_lowercase().fill_null("") == "denied"
        left_out["consent_denied"] = int(members.select(denied.sum()).item())
        members = members.filter(~denied)
    if fmt in MAILING_FORMATS:
        no_email = pl.col("email").fill_null("").str.strip_chars() == ""
        left_out["no_email"] = int(members.select(no_email.sum()).item())
        members = members.filter(~no_email)
    members = members.with_columns(pl.lit(segment).alias("segment"), pl.lit(as_of).alias("as_of"))
    rows = members.select(
        _spreadsheet_safe(pl.col(f).cast(pl.Utf8), f).alias(name) for name, f in columns
    )
    with_id = int(members["source_id"].is_not_null().sum()) if vendor else 0
    return SegmentExport(tenant_id, segment, fmt, as_of, rows, left_out, with_id)


def _spreadsheet_safe(value: pl.Expr, field_name: str) -> pl.Expr:
    if field_name == "phone":
        return value
    return pl.when(value.str.contains(_FORMULA_START)).then(pl.lit("'") + value).otherwise(value)


def write_export(export: SegmentExport, out: Path) -> tuple[Path, str]:
    """Write the file beside its final name, to be renamed to it once the export is audited;
    returns (the temporary file, the content's SHA-256)."""
    data = export.csv_bytes()
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(data)
    return tmp, hashlib.sha256(data).hexdigest()
