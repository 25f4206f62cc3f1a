"""Changes files (`crm import changes`, `landing/<T>/changes/*.jsonl`): agents' writes in bulk.

Each line is one change (`{"op": "create|set|tag|delete|note", "contact_id": ..., "fields":
{...}, "actor": ..., "at": ...}`) applied on its own, all or nothing, through the same checks and
the same audited write as `crm contact ...`; a refused line is quarantined (kind `change`) with
its reason code and listed in the import's error file, and the other lines apply. Each line's
writes carry `<import_id>:<line>` as their run id, so a file interrupted half way is finished by
importing it again (lines already applied or quarantined are skipped), and a file imported in
full is recognised and changes nothing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import polars as pl

from crm_pipeline.contacts.edits import BadChange, actor_context, apply_change, parse_change_line
from crm_pipeline.contacts.imports import (
    close_import,
    existing_import,
    import_id_for,
    register_import,
)
from crm_pipeline.contacts.quarantine import quarantine_rows, write_error_file
from crm_pipeline.errors import RefusedFile
from crm_pipeline.home import Home
from crm_pipeline.trust.roles import Roles
from crm_pipeline.warehouse import run, utc_now

MAX_BYTES = 256 * 1024 * 1024  # a changes file larger than this is refused before reading
MAX_LINE_CHARS = 1_000_000


def read_lines(path: Path,
               empty: str = "holds no change") -> tuple[bytes, list[tuple[int, str]]]:
    """(the file's bytes, its non-blank lines with their numbers); refused in one line when it
    is not a readable UTF-8 text file of bounded size, or has no line (`empty` says so)."""
    if not path.is_file():
        raise RefusedFile(path, "not a regular file")
    if path.stat().st_size > MAX_BYTES:
        raise RefusedFile(path, f"larger than {MAX_BYTES // 1024 // 1024} MB: split it")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RefusedFile(path, f"not UTF-8 text (byte {exc.start})") from None
    lines = [(i, line) for i, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise RefusedFile(path, empty)
    return data, lines


def import_changes_file(con: duckdb.DuckDBPyConnection, home: Home, tenant_id: str,
                        path: Path, roles: Roles | None = None) -> dict:
    """Apply a changes file to the tenant (whose lock the caller holds); returns the import's
    accounting: import_id, rows_in, accepted, quarantined by reason, error_file, already."""
    roles = roles or Roles.for_tenant(home, tenant_id)
    data, lines = read_lines(path)
    import_id = import_id_for(tenant_id, "change", hashlib.sha256(data).hexdigest())
    known = existing_import(con, tenant_id, import_id)
    if known and known["processed_run_id"] is not None:
        return {"import_id": import_id, "rows_in": known["rows_in"], "already": True,
                **_outcome(con, tenant_id, import_id)}
    if known is None:
        register_import(con, tenant_id=tenant_id, import_id=import_id, kind="change",
                        file_name=path.name, file_sha256=hashlib.sha256(data).hexdigest(),
                        rows_in=len(lines), at=utc_now(), encoding="utf-8")
    done = _lines_done(con, tenant_id, import_id)
    key = home.key()
    for number, line in lines:
        if number in done:
            continue
        try:
            if len(line) > MAX_LINE_CHARS:
                raise BadChange("unparseable_row", f"line longer than {MAX_LINE_CHARS} characters")
            change = parse_change_line(line, tenant_id)
            ctx = actor_context(roles, tenant_id, change.actor, f"{import_id}:{number}", key,
                                utc_now())
            apply_change(con, roles, ctx, change)
        except BadChange as exc:
            quarantine_rows(con, tenant_id=tenant_id, import_id=import_id, kind="change",
                            rows=pl.DataFrame({"row_number": [number],
                                               "reason_code": [exc.reason],
                                               "reason_detail": [str(exc)],
                                               "raw": [line[:10_000]]}),
                            run_id=f"{import_id}:{number}", at=utc_now())
    outcome = _outcome(con, tenant_id, import_id)
    quarantined = sum(outcome["quarantined"].values())
    error_file = write_error_file(con, tenant_id, import_id, home.error_file(tenant_id, import_id))
    close_import(con, tenant_id=tenant_id, import_id=import_id, run_id=import_id,
                 accepted=len(lines) - quarantined, merged=0, quarantined=quarantined,
                 error_file=str(error_file) if error_file else None)
    return {"import_id": import_id, "rows_in": len(lines), "already": False,
            **_outcome(con, tenant_id, import_id)}


def _lines_done(con, tenant_id: str, import_id: str) -> set[int]:
    """Lines of an interrupted import already applied (audited) or quarantined."""
    rows = run(con, """
        SELECT row_number FROM quarantine.rows WHERE tenant_id = $t AND import_id = $i
        UNION SELECT TRY_CAST(split_part(run_id, ':', 2) AS BIGINT) FROM audit.changes
        WHERE tenant_id = $t AND run_id LIKE $prefix""",
        {"t": tenant_id, "i": import_id, "prefix": import_id + ":%"})
    return {r[0] for r in rows if r[0] is not None}


def _outcome(con, tenant_id: str, import_id: str) -> dict:
    reasons = dict(run(con, "SELECT reason_code, count(*) FROM quarantine.rows "
                            "WHERE tenant_id = $t AND import_id = $i GROUP BY 1 ORDER BY 1",
                       {"t": tenant_id, "i": import_id}))
    error_file = run(con, "SELECT error_file FROM raw.imports WHERE tenant_id = $t AND "
                          "import_id = $i", {"t": tenant_id, "i": import_id})
    return {"quarantined": reasons, "error_file": error_file[0][0] if error_file else None}
