"""Segments: one SQL file per segment in `sql/segments/`, run after the marts they read.

A segment file is a SELECT returning `contact_id` for `$tenant_id` at `$as_of`; it may bind any
setting (`$hot_days`, ...) and read the marts refreshed before it (engagement, lead_scores,
lifecycle, retention_risk). Its leading comment lines carry markers:

    -- outreach: true

An outreach segment (used to contact people) leaves out contacts whose consent is denied now or
was denied at the as-of date (core.consent_history); a file without the marker counts as
outreach, so a new segment respects consent by default. The tenant's contacts and their consent
are worked out once per run (`sql/models/marts/segment_audience.sql`), then each segment's
members are matched against them.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from crm_pipeline.errors import BadArgument
from crm_pipeline.marts.tenant_settings import query_params, sql_params, tenant_settings
from crm_pipeline.sql import segment_files, sql_text
from crm_pipeline.warehouse import run

SEGMENT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
MARKER = re.compile(r"^--\s*([a-z_]+)\s*:\s*(.*?)\s*$")
FLAGS = {"true": True, "yes": True, "false": False, "no": False}
# Errors in a segment file's text (a user can fix them); others are internal errors.
QUERY_ERRORS = (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException)


@dataclass(frozen=True)
class Segment:
    name: str
    query: str
    outreach: bool
    path: Path


def load_segment(path: Path) -> Segment:
    """A segment file read: its name (the file name), query and outreach marker."""
    name = path.stem
    if not SEGMENT_NAME.match(name):
        raise BadArgument(
            f"{path}: a segment file name must be lower-case letters, digits and '_'"
        )
    text = path.read_text(encoding="utf-8")
    markers = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        if not line.lstrip().startswith("--"):
            break
        match = MARKER.match(line.strip())
        if match:
            markers[match.group(1)] = match.group(2).lower()
    outreach = markers.get("outreach", "true")
    if outreach not in FLAGS:
        raise BadArgument(f"{path}: the outreach marker must be true or false, not {outreach!r}")
    query = text.strip().rstrip(";").strip()
    if not query:
        raise BadArgument(f"{path}: the segment file has no query")
    return Segment(name=name, query=query, outreach=FLAGS[outreach], path=path)


def segment_definitions() -> list[Segment]:
    """Every segment of `sql/segments/`, by name."""
    return [load_segment(p) for p in segment_files()]


def membership_insert(segment: Segment) -> str:
    """INSERT of a segment's members into the staging temp table: the tenant's own contacts
    only (`mart_segment_audience`), consent applied."""
    # Consent (denied now, or at the as-of date) is worked out once per run for every contact:
    # sql/models/marts/segment_audience.sql. A semi join lists each audience contact (unique) at
    # most once, however often the query returns it: no DISTINCT needed.
    consent = "\nWHERE a.outreach_allowed" if segment.outreach else ""
    return (
        "INSERT INTO mart_segment_members (tenant_id, contact_id, segment, as_of)\n"
        "SELECT $tenant_id, a.contact_id, $segment, CAST($as_of AS DATE)\n"
        "FROM mart_segment_audience AS a\n"
        f"SEMI JOIN (\n{segment.query}\n) AS members ON members.contact_id = a.contact_id{consent}"
    )


def segment_members(
    con: duckdb.DuckDBPyConnection,
    tenant_id: str,
    as_of: datetime.date,
    params: dict | None = None,
) -> dict[str, int]:
    """Every segment's members at `as_of`, into the temp table `mart_segment_members` (shaped
    like marts.contact_segments); sizes by segment.

    Run after the marts (segments read them); `crm_pipeline.marts.refresh` then writes the rows to
    marts.contact_segments. `params` are the tenant's SQL parameters (from
    `tenant_settings.sql_params`); read from the warehouse when not given.
    """
    if params is None:
        params = sql_params(tenant_settings(con, tenant_id))
    params = {**params, "tenant_id": tenant_id, "as_of": as_of}
    run(con, "CREATE OR REPLACE TEMP TABLE mart_segment_members AS "
             "SELECT * FROM marts.contact_segments LIMIT 0")
    run(con, "CREATE OR REPLACE TEMP TABLE mart_segment_audience AS\n"
             + sql_text("models/marts/segment_audience"), {"tenant_id": tenant_id, "as_of": as_of})
    sizes: dict[str, int] = {}
    for segment in segment_definitions():
        query = membership_insert(segment)
        bound = query_params(query, {**params, "segment": segment.name}, str(segment.path))
        try:
            rows = run(con, query, bound)
        except QUERY_ERRORS as exc:
            raise BadArgument(
                f"{segment.path}: the segment query cannot run ({str(exc).splitlines()[0]}); "
                "fix the file"
            ) from exc
        sizes[segment.name] = int(rows[0][0]) if rows else 0
    run(con, "DROP TABLE mart_segment_audience")
    return sizes
