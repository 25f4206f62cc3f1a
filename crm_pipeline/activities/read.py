"""Activity logs (JSON lines) into `raw.activity_events`: checked, then kept line by line.

A log can be gigabytes, so it is never held whole. A first pass only hashes the bytes (the hash
names the import, so a file imported before is recognised without reading it further). A second
pass, for a new file, reads large chunks, splits them into lines and appends the non-blank ones
with their 1-based line numbers (blank lines keep their numbers, so a line number always points
into the file). It runs in one transaction and refuses a file that is binary, undecodable or has
no JSON object on any line by rolling back, so a refused file changes nothing.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from ..errors import RefusedFile
from ..imports import existing_import, import_id_for, register_import
from ..warehouse import run

CHUNK_BYTES = 128 << 20
# C0 control characters other than tab, line feed and carriage return: not text.
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))
_CONTROL_PATTERN = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _encoding_of(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(4)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    return "utf-8"


def _chunks(path: Path, encoding: str) -> Iterator[pl.DataFrame]:
    """Frames of (line_number, line) for the non-blank lines of each chunk of the file.

    A character or a line cut by a chunk edge is completed in the next chunk.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    utf8 = encoding.startswith("utf-8")
    carry = ""
    next_number = 1
    offset = 0
    with path.open("rb") as fh:
        while True:
            data = fh.read(CHUNK_BYTES)
            final = len(data) < CHUNK_BYTES
            if utf8 and len(data.translate(None, _CONTROL_BYTES)) != len(data):
                raise _binary_file(path)
            try:
                text = carry + decoder.decode(data, final=final)
            except UnicodeDecodeError as exc:
                raise RefusedFile(
                    path, f"the file is not valid {encoding} text (near byte "
                    f"{offset + exc.start}): save it as UTF-8"
                ) from exc
            offset += len(data)
            del data
            cut = len(text) if final else text.rfind("\n")
            if cut < 0:
                carry = text
                continue
            carry = text[cut + 1 :]
            lines = pl.Series("line", text[:cut].split("\n"), dtype=pl.String)
            del text
            # UTF-16 bytes below 0x20 are halves of other characters: check the decoded text.
            if not utf8 and lines.str.contains(_CONTROL_PATTERN).any():
                raise _binary_file(path)
            yield _numbered(lines, next_number)
            next_number += lines.len()
            if final:
                return


def _numbered(lines: pl.Series, first: int) -> pl.DataFrame:
    return (
        lines.to_frame()
        .with_row_index("line_number", offset=first)
        .with_columns(
            pl.col("line_number").cast(pl.Int64),
            pl.col("line").str.strip_suffix("\r"),
        )
        .filter(pl.col("line").str.strip_chars() != "")
    )


def _has_json_object(con: duckdb.DuckDBPyConnection, lines: pl.DataFrame) -> bool:
    con.register("_activity_probe", lines)
    try:
        return bool(
            run(
                con,
                "SELECT coalesce(bool_or(CASE WHEN json_valid(line) THEN json_type(line) END "
                "= 'OBJECT'), false) FROM _activity_probe",
            )[0][0]
        )
    finally:
        con.unregister("_activity_probe")


def _binary_file(path: Path) -> RefusedFile:
    return RefusedFile(path, "the file holds binary bytes, not text: give a JSON lines file")


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in large blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(CHUNK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def _append_lines(
    con: duckdb.DuckDBPyConnection, path: Path, encoding: str, tenant_id: str, import_id: str
) -> int:
    """Append the file's non-blank lines to raw.activity_events; refuses a file that is not a
    JSON lines log. Returns the number of lines appended."""
    lines_in = 0
    found_object = False
    for lines in _chunks(path, encoding):
        if lines.height == 0:
            continue
        if not found_object:
            found_object = _has_json_object(con, lines)
        con.register("_activity_lines", lines)
        try:
            run(
                con,
                "INSERT INTO raw.activity_events SELECT $t, $i, line_number, line "
                "FROM _activity_lines",
                {"t": tenant_id, "i": import_id},
            )
        finally:
            con.unregister("_activity_lines")
        lines_in += lines.height
    if lines_in == 0:
        raise RefusedFile(path, "the file has only blank lines: export the activity log again")
    if not found_object:
        raise RefusedFile(path, "no line is a JSON object: give a JSON lines activity log")
    return lines_in


def stage_activity_file(
    con: duckdb.DuckDBPyConnection, *, tenant_id: str, path: Path, at: datetime
) -> dict:
    """Register an activity log and keep its lines; the same file again changes nothing."""
    path = Path(path)
    if not path.is_file():
        raise RefusedFile(path, "no such file: check the path")
    if path.stat().st_size == 0:
        raise RefusedFile(path, "the file is empty: export the activity log again")
    sha = file_sha256(path)
    import_id = import_id_for(tenant_id, "activity", sha)
    previous = existing_import(con, tenant_id, import_id)
    if previous:
        return previous | {"already_imported": True}
    encoding = _encoding_of(path)
    run(con, "BEGIN TRANSACTION")
    try:
        lines_in = _append_lines(con, path, encoding, tenant_id, import_id)
        register_import(
            con, tenant_id=tenant_id, import_id=import_id, kind="activity",
            file_name=path.name, file_sha256=sha, rows_in=lines_in, at=at, encoding=encoding,
        )
        run(con, "COMMIT")
    except BaseException:
        run(con, "ROLLBACK")
        raise
    return {"import_id": import_id, "already_imported": False, "rows_in": lines_in}
