"""Data minimization: the values an import brought are removed once the tenant's retention ends.

Three kinds of copies of a file's values are kept beside the golden records, each with its own
retention in days after the import was processed (`retention` in the tenant settings; 0 keeps
them for ever): the rows as read (`raw.contact_rows` record, mapped and extra; the lines of
`raw.activity_events`), the import's error file, and the values kept with its quarantined rows
(`quarantine.rows.raw` and the detail sentence, which may quote a value). The day an import was
processed is the as-of date of the run that processed it (the day it was imported, for the files
applied at once: changes, companies, signals), and "more than N days before" is counted from the
run's as-of date, never the wall clock.

What stays: the rows themselves (row numbers, the sources' ids and systems), so an import's
accounting still reads rows in = accepted + merged + quarantined; the quarantined rows' row
number, reason code and, for an erased person's row, the keyed digest; `staging.contact_rows`,
from which survivorship and unmerge rebuild a golden record (so retention never changes one; an
explanation reads core.contact_sources and core.match_evidence, which stay as well);
and of an activity line the two references unmerge reads to re-home it (`source_id` and `email`,
trimmed), as a JSON object. Each import whose values are removed gets one `audit.changes` row
(entity `retention`) and the date on `raw.imports` (`raw_purged_on`, `error_file_purged_on`,
`quarantine_purged_on`). A second run on the same date finds nothing left to remove.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from crm_pipeline.contacts.quarantine import write_error_file
from crm_pipeline.home import Home
from crm_pipeline.trust.audit import ChangeContext, append_changes
from crm_pipeline.warehouse import frame, run

REMOVED_DETAIL = "values removed under the tenant's data retention"
# Imports read row by row into raw.*: the others (changes, companies, signals) keep no raw rows.
RAW_KINDS = ("contact", "activity")


@dataclass(frozen=True)
class RetentionDays:
    """Days after processing each copy of an import's values is kept; 0 or None: for ever."""

    raw_rows: int | None
    error_files: int | None
    quarantine_values: int | None

    @classmethod
    def from_settings(cls, section: dict) -> RetentionDays:
        return cls(section.get("raw_rows_days"), section.get("error_files_days"),
                   section.get("quarantine_values_days"))


_DUE = """
SELECT i.import_id, i.kind
FROM raw.imports i
LEFT JOIN audit.runs r ON r.tenant_id = i.tenant_id AND r.run_id = i.processed_run_id
WHERE i.tenant_id = $t
  AND (i.processed_run_id IS NOT NULL OR i.kind NOT IN ('contact', 'activity'))
  AND coalesce(r.as_of, CAST(i.imported_at AS DATE)) < $as_of - CAST($days AS INTEGER)
  AND {condition}
ORDER BY i.import_id
"""

_RAW_LEFT = """(
    (i.kind = 'contact' AND EXISTS (
        SELECT 1 FROM raw.contact_rows c WHERE c.tenant_id = i.tenant_id
          AND c.import_id = i.import_id
          AND (c.record IS NOT NULL OR c.mapped IS NOT NULL OR c.extra IS NOT NULL)))
    OR (i.kind = 'activity' AND i.raw_purged_on IS NULL))"""
_QUARANTINE_LEFT = """EXISTS (
    SELECT 1 FROM quarantine.rows q WHERE q.tenant_id = i.tenant_id AND q.import_id = i.import_id
      AND (q.raw IS NOT NULL OR (q.reason_code <> 'erased_subject'
                                 AND q.reason_detail IS DISTINCT FROM $removed)))"""

# Of an activity line, the references unmerge re-homes it by (crm_pipeline.contacts.resolve.
# unmerge._rehome_activities reads them trimmed); a line that is not valid JSON keeps nothing.
_REDUCED_LINE = """
UPDATE raw.activity_events AS e SET line = coalesce(CASE WHEN o.j IS NOT NULL THEN json_object(
        'source_id', nullif(trim(o.j->>'$.source_id'), ''),
        'email', nullif(trim(o.j->>'$.email'), ''))::VARCHAR END, '')
FROM (SELECT line_number, CASE WHEN json_valid(line) THEN line END AS j
      FROM raw.activity_events WHERE tenant_id = $t AND import_id = $i) o
WHERE e.tenant_id = $t AND e.import_id = $i AND e.line_number = o.line_number
"""


def _due(con, tenant_id: str, as_of: date, days: int | None, condition: str,
         extra: dict | None = None) -> list[tuple[str, str]]:
    if not days:
        return []
    return [tuple(r) for r in run(con, _DUE.format(condition=condition),
                                  {"t": tenant_id, "as_of": as_of, "days": days, **(extra or {})})]


def _purge_raw(con, tenant_id: str, import_id: str, kind: str) -> int:
    if kind == "contact":
        return run(con, "UPDATE raw.contact_rows SET record = NULL, mapped = NULL, extra = NULL "
                        "WHERE tenant_id = $t AND import_id = $i AND (record IS NOT NULL OR "
                        "mapped IS NOT NULL OR extra IS NOT NULL)",
                   {"t": tenant_id, "i": import_id})[0][0]
    return run(con, _REDUCED_LINE, {"t": tenant_id, "i": import_id})[0][0]


def _purge_quarantine(con, tenant_id: str, import_id: str) -> int:
    return run(con, """
        UPDATE quarantine.rows SET raw = NULL,
            reason_detail = CASE WHEN reason_code = 'erased_subject' THEN reason_detail
                                 ELSE $removed END
        WHERE tenant_id = $t AND import_id = $i
          AND (raw IS NOT NULL OR (reason_code <> 'erased_subject'
                                   AND reason_detail IS DISTINCT FROM $removed))""",
               {"t": tenant_id, "i": import_id, "removed": REMOVED_DETAIL})[0][0]


def _mark(con, tenant_id: str, import_id: str, column: str, as_of: date) -> None:
    assert column in ("raw_purged_on", "error_file_purged_on", "quarantine_purged_on")
    run(con, f"UPDATE raw.imports SET {column} = coalesce({column}, $d) "
             "WHERE tenant_id = $t AND import_id = $i",
        {"d": as_of, "t": tenant_id, "i": import_id})


def apply_retention(con: duckdb.DuckDBPyConnection, ctx: ChangeContext, home: Home,
                    as_of: date, days: RetentionDays) -> dict[str, int]:
    """Remove the values of the tenant's imports whose retention ended before `as_of`; counts of
    imports and rows changed. The caller holds the transaction; an error file is removed before
    the commit (a rollback leaves raw.imports naming it, and the next run removes it again)."""
    t = ctx.tenant_id
    done: dict[str, dict] = {}
    for import_id, kind in _due(con, t, as_of, days.raw_rows, _RAW_LEFT):
        n = _purge_raw(con, t, import_id, kind)
        _mark(con, t, import_id, "raw_purged_on", as_of)
        done.setdefault(import_id, {})["raw_rows"] = n
    for import_id, _ in _due(con, t, as_of, days.quarantine_values, _QUARANTINE_LEFT,
                             {"removed": REMOVED_DETAIL}):
        n = _purge_quarantine(con, t, import_id)
        _mark(con, t, import_id, "quarantine_purged_on", as_of)
        done.setdefault(import_id, {})["quarantine_rows"] = n
        path = home.error_file(t, import_id)
        if path.exists():  # its copy of the values goes too, if the file itself is kept longer
            write_error_file(con, t, import_id, path)
    for import_id, _ in _due(con, t, as_of, days.error_files, "i.error_file IS NOT NULL"):
        home.error_file(t, import_id).unlink(missing_ok=True)
        run(con, "UPDATE raw.imports SET error_file = NULL WHERE tenant_id = $t AND import_id = $i",
            {"t": t, "i": import_id})
        _mark(con, t, import_id, "error_file_purged_on", as_of)
        done.setdefault(import_id, {})["error_file"] = 1
    if done:
        append_changes(con, ctx, pl.DataFrame({
            "action": ["update"] * len(done),
            "entity": ["retention"] * len(done),
            "entity_id": list(done),
            "previous": [None] * len(done),
            "new": [json.dumps({"as_of": as_of.isoformat(), "removed": removed}, sort_keys=True)
                    for removed in done.values()],
        }, schema={"action": pl.Utf8, "entity": pl.Utf8, "entity_id": pl.Utf8,
                   "previous": pl.Utf8, "new": pl.Utf8}))
    return {
        "retention.imports": len(done),
        "retention.raw_rows": sum(d.get("raw_rows", 0) for d in done.values()),
        "retention.quarantine_rows": sum(d.get("quarantine_rows", 0) for d in done.values()),
        "retention.error_files": sum(d.get("error_file", 0) for d in done.values()),
    }


def purged_imports(con: duckdb.DuckDBPyConnection, tenant_id: str) -> pl.DataFrame:
    """The tenant's imports with the dates their values were removed (for `crm` and tests)."""
    return frame(con, "SELECT import_id, kind, raw_purged_on, error_file_purged_on, "
                      "quarantine_purged_on FROM raw.imports WHERE tenant_id = $t "
                      "ORDER BY import_id", {"t": tenant_id})
