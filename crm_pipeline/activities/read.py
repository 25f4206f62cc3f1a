"""Activity logs (JSON lines) into `raw.activity_events`: checked, then kept line by line.

A log can be gigabytes, so it is never held whole. A first pass hashes the bytes (the hash names
the import, so a file imported before is recognised without reading it further) and notes whether
the file holds any control byte other than tab and line feed. A plain UTF-8 file without them,
the usual case, is then split into lines by DuckDB's own parallel reader (one row per line feed,
blank lines numbered but not kept). Any other file, or one that reader refuses, goes through
Python: large chunks, decoded and split into lines with their 1-based numbers, so that a file
that is binary, undecodable or has no JSON object on any line is refused with a precise message.
Either way it runs in one transaction and a refused file changes nothing.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from crm_pipeline.contacts.imports import existing_import, import_id_for, register_import
from crm_pipeline.errors import RefusedFile
from crm_pipeline.warehouse import run

BLANK_FILE = "the file has only blank lines: export the activity log again"
NO_JSON_OBJECT = "no line is a JSON object: give a JSON lines activity log"

CHUNK_BYTES = 128 << 20
# C0 control characters other than tab, line feed and carriage return: not text.
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))
_CONTROL_PATTERN = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
# ... and carriage return too: a file without any of these can be split by DuckDB's reader.
_NOT_PLAIN_BYTES = bytes(b for b in range(32) if b not in (9, 10))
# What polars' strip_chars() strips (Unicode White_Space), less the line ends and control bytes
# that never reach the direct path: a line of only these is blank on either path.
_BLANKS = "\t \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
    "\u2028\u2029\u202f\u205f\u3000"
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


def lines_of(path: Path) -> Iterator[pl.DataFrame]:
    """Frames of (line_number, line) of a log's non-blank lines, read as an import reads them
    (BOM, encoding, binary bytes refused), for checking a file without staging it."""
    return _chunks(Path(path), _encoding_of(Path(path)))


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
    return _fingerprint(path)[0]


def _fingerprint(path: Path) -> tuple[str, bool]:
    """(SHA-256 of the bytes, whether no byte is a C0 control other than tab and line feed).

    Such a file can be split by DuckDB's reader, which also ends a line at a carriage return.
    """
    digest = hashlib.sha256()
    plain = True
    # hashlib lets go of the GIL on large blocks: hash on a second thread while checking bytes
    with path.open("rb") as fh, ThreadPoolExecutor(1) as hasher:
        while block := fh.read(CHUNK_BYTES):
            hashed = hasher.submit(digest.update, block)
            plain = plain and len(block.translate(None, _NOT_PLAIN_BYTES)) == len(block)
            hashed.result()
    return digest.hexdigest(), plain


def _read_directly(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Read a UTF-8 file's non-blank lines with DuckDB's reader into the temp table
    `_activity_lines`: no quotes, and the delimiter is byte 0x01, which a plain file does not
    hold, so each line is one value.

    Numbering the lines makes the read one thread, so it only fills a temp table; the costly
    part, compressing the lines into the table, then runs on every thread
    (`_append_read_lines`). The file's fingerprint is taken meanwhile, on another thread.
    """
    # on an error the caller rolls back, which drops the temp table too
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE _activity_lines AS
        SELECT ordinality AS line_number, line
        FROM read_csv($path, columns = {'line': 'VARCHAR'}, delim = $delim, quote = '',
                      escape = '', header = false, auto_detect = false, new_line = '\\n',
                      max_line_size = 1073741824, encoding = 'utf-8') WITH ORDINALITY
        WHERE starts_with(line, '{') OR trim(line, $blanks) <> ''  -- the first test is cheap
        """,
        {"path": str(path), "delim": "\x01", "blanks": _BLANKS},
    )


def _append_read_lines(con: duckdb.DuckDBPyConnection, tenant_id: str, import_id: str) -> int:
    appended = run(
        con,
        "INSERT INTO raw.activity_events SELECT $t, $i, line_number, line FROM _activity_lines",
        {"t": tenant_id, "i": import_id},
    )[0][0]
    run(con, "DROP TABLE _activity_lines")
    return appended


def _staged_has_json_object(con: duckdb.DuckDBPyConnection, tenant_id: str, import_id: str) -> bool:
    return bool(
        run(
            con,
            "SELECT EXISTS (SELECT 1 FROM raw.activity_events WHERE tenant_id = $t "
            "AND import_id = $i AND CASE WHEN json_valid(line) THEN json_type(line) END "
            "= 'OBJECT')",
            {"t": tenant_id, "i": import_id},
        )[0][0]
    )


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
        raise RefusedFile(path, BLANK_FILE)
    if not found_object:
        raise RefusedFile(path, NO_JSON_OBJECT)
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
    encoding = _encoding_of(path)
    with ThreadPoolExecutor(1) as worker:
        # The fingerprint (a full read and hash) runs while DuckDB reads the lines: both let go
        # of the GIL, so the two cores share them.
        fingerprint = worker.submit(_fingerprint, path)
        run(con, "BEGIN TRANSACTION")
        try:
            read = False
            if encoding == "utf-8":
                try:
                    _read_directly(con, path)
                    read = True
                except duckdb.Error:
                    # Not what the direct path expects (invalid UTF-8, a huge line): start
                    # again through Python, which refuses it with a precise message or reads it.
                    run(con, "ROLLBACK")
                    run(con, "BEGIN TRANSACTION")
            sha, plain = fingerprint.result()
        except BaseException:
            run(con, "ROLLBACK")
            raise
    import_id = import_id_for(tenant_id, "activity", sha)
    previous = existing_import(con, tenant_id, import_id)
    if previous:
        run(con, "ROLLBACK")
        return previous | {"already_imported": True}
    try:
        if read and plain:
            lines_in = _append_read_lines(con, tenant_id, import_id)
            if lines_in == 0:
                raise RefusedFile(path, BLANK_FILE)
            if not _staged_has_json_object(con, tenant_id, import_id):
                raise RefusedFile(path, NO_JSON_OBJECT)
        else:
            run(con, "DROP TABLE IF EXISTS _activity_lines")
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
