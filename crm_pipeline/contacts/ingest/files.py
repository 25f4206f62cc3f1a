"""Reading a contact CSV exactly as written: encoding, delimiter, header line, ragged rows, footers.

Every value stays text (leading zeros, 19-digit ids and dates as written). A record that cannot be
read as one row of the header's width, or a report footer, is set aside in `unparseable`, never
padded or guessed. A file that is not CSV text at all is refused whole with `RefusedFile`.

How records are found, fast and without guessing: the file is split into physical lines by polars;
one regular expression marks the lines that are, by themselves, a well-formed record of exactly the
header's width (nearly all of them). Only the other lines (blank lines, footers, ragged rows,
records whose quoted fields span lines, stray quotes) go through Python's `csv` module, one record
at a time, which settles where each record ends and how many fields it has. The values of the
well-formed records come from one polars `read_csv` of the file (or, if polars rejects the file's
irregular parts, of the well-formed lines alone); those of the irregular but complete records from
the `csv` module. Line breaks inside a quoted value that spans lines are read as `\n`.

Line endings may be LF, CRLF, CR alone, or a mix (files pasted together): all end a line.
A data row that repeats the file's own header (two exports concatenated) is set aside as
unparseable, never imported as a contact. Devices, FIFOs, files over the size limit, over-long
lines and over-wide headers are refused before they cost much (`limits`).
"""

from __future__ import annotations

import csv
import hashlib
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from crm_pipeline.contacts.ingest.headers import is_known_header
from crm_pipeline.contacts.ingest.limits import (
    MAX_COLUMNS_ENV,
    MAX_LINE_ENV,
    max_columns,
    max_line_bytes,
    regular_file_bytes,
    size_text,
)
from crm_pipeline.contacts.ingest.table import RawTable
from crm_pipeline.contacts.normalize.text import INVISIBLE_CLASS, INVISIBLE_EDGES
from crm_pipeline.errors import RefusedFile

DELIMITERS = (",", ";", "\t", "|")
SAMPLE_LINES = 200
HEADER_SEARCH_RECORDS = 20
_CSV_FIELD_LIMIT = 2**31 - 1

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "this is a PNG image, not a CSV file; export the contacts as CSV"),
    (b"\xff\xd8\xff", "this is a JPEG image, not a CSV file; export the contacts as CSV"),
    (b"GIF87a", "this is a GIF image, not a CSV file; export the contacts as CSV"),
    (b"GIF89a", "this is a GIF image, not a CSV file; export the contacts as CSV"),
    (b"%PDF", "this is a PDF document, not a CSV file; export the contacts as CSV"),
    (b"PK\x03\x04", "this is an Excel workbook or zip archive, not a CSV file; "
                    "open it and save or export it as CSV"),
    (b"PK\x05\x06", "this is an (empty) zip archive, not a CSV file; export the contacts as CSV"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "this is an old Excel (.xls) workbook, not a CSV file; "
                                          "open it and save it as CSV"),
    (b"\x1f\x8b", "this file is gzip-compressed; decompress it and import the CSV inside"),
)
_HTML_START = re.compile(r"<(!doctype\s+html|html|head|body|\?xml|table)\b", re.IGNORECASE)
_JSON_START = re.compile(r"(\{|\[\s*[\[{\"\d\]-]|\[\s*$)")
_BINARY_CONTROLS = re.compile(r"[\x01-\x08\x0e-\x1f\x7f]")
FOOTER_PATTERN = (
    r'^\s*"?\s*(?:Grand Totals \(\d[\d,.]* records?\)'
    r"|Confidential Information\s*[-\u2013\u2014]\s*Do Not Distribute"
    r"|Copyright \([cC]\) \d{4}(?:\s*-\s*\d{4})? salesforce\.com, inc\. All rights reserved\.)"
    r'\s*"?\s*$'
)
REPEATED_HEADER = "repeated header row"


@dataclass(frozen=True)
class _Layout:
    delimiter: str
    header_first_line: int  # 0-based index of the header's first physical line
    header_last_line: int
    header_fields: list[str]


def read_table(path: Path) -> RawTable:
    """Read a contact CSV; raises `RefusedFile` for a file that cannot be imported at all."""
    path = Path(path)
    raw = regular_file_bytes(path)
    digest = hashlib.sha256(raw).hexdigest()
    _refuse_non_text(path, raw)
    encoding, data = _utf8_bytes(path, raw)
    _refuse_non_csv(path, data[: 1 << 16].decode("utf-8", errors="ignore"))
    try:
        data, lines = _lines(data)  # polars checks that every byte is valid UTF-8
    except pl.exceptions.ComputeError:
        if encoding != "utf-8" or _is_utf8(raw):
            raise
        encoding, data = _cp1252_utf8_bytes(path, raw)
        data, lines = _lines(data)
    del raw
    _refuse_oversized(path, lines)
    layout = _layout(path, lines)
    _refuse_wide(path, len(layout.header_fields), layout.header_first_line)
    headers = unique_headers(layout.header_fields)
    body = lines.slice(layout.header_last_line + 1)
    rows, unparseable = _records(data, body, layout, headers)
    rows, unparseable = without_repeated_headers(rows, unparseable, layout.header_fields,
                                                headers, layout.delimiter)
    if rows.height == 0 and unparseable.height == 0:
        raise RefusedFile(path, "has a header but no data rows; export it again with the contacts")
    return RawTable(
        path=path,
        encoding=encoding,
        delimiter=layout.delimiter,
        header_line=layout.header_first_line + 1,
        headers=headers,
        rows=rows,
        unparseable=unparseable,
        sha256=digest,
        invisible=bool(body.str.contains(INVISIBLE_CLASS).any()),
    )


def unique_headers(names: list[str]) -> list[str]:
    """Header names stripped, blanks named by position, repeats numbered: `Email`, `Email (2)`."""
    seen: set[str] = {"row_number"}
    out = []
    for position, name in enumerate(names, start=1):
        base = name.strip() or f"column {position}"
        candidate, n = base, 1
        while candidate in seen:
            n += 1
            candidate = f"{base} ({n})"
        seen.add(candidate)
        out.append(candidate)
    return out


# --- whole-file refusals and decoding -------------------------------------------------------


def _refuse_non_text(path: Path, raw: bytes) -> None:
    """Refuse empty files and well-known binary formats by their first bytes."""
    if not raw or raw.isspace():
        raise RefusedFile(path, "the file is empty; export the contacts again")
    for magic, problem in _MAGIC:
        if raw.startswith(magic):
            raise RefusedFile(path, problem)


def _utf8_bytes(path: Path, raw: bytes) -> tuple[str, bytes]:
    """(encoding name, the text as UTF-8 bytes without BOM), refusing bytes that are not text;
    a file without BOM or NUL bytes is passed on as UTF-8, to be checked while split into lines."""
    if raw.startswith(b"\xef\xbb\xbf"):
        text = _text(path, raw[3:], "utf-8", "UTF-8 (it starts with a UTF-8 BOM)")
        _refuse_nul(path, text)
        return "utf-8-sig", raw[3:]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = _text(path, raw, "utf-16", "UTF-16 (it starts with a UTF-16 BOM)")
        _refuse_nul(path, text)
        return "utf-16", text.encode("utf-8")
    utf16 = _bomless_utf16(raw)
    if utf16:
        text = _text(path, raw, utf16, "UTF-16")
        _refuse_nul(path, text)
        return utf16, text.encode("utf-8")
    if b"\x00" in raw:
        raise RefusedFile(path, "this is binary data, not CSV text; export the contacts as CSV")
    return "utf-8", raw  # or cp1252, if polars finds it is not UTF-8


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _cp1252_utf8_bytes(path: Path, raw: bytes) -> tuple[str, bytes]:
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start]
        raise RefusedFile(
            path,
            f"the text is neither UTF-8, UTF-16 nor Windows-1252 (byte 0x{bad:02X} at offset "
            f"{exc.start} fits none of them); save the file as UTF-8 CSV and import it again",
        ) from exc
    return "cp1252", text.encode("utf-8")


def _bomless_utf16(raw: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when NUL bytes sit in every other position, as in UTF-16 text."""
    sample = raw[:4096]
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.8 * len(odd) and even.count(0) == 0:
        return "utf-16-le"
    if even.count(0) > 0.8 * len(even) and odd.count(0) == 0:
        return "utf-16-be"
    return None


def _text(path: Path, raw: bytes, codec: str, label: str) -> str:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        raise RefusedFile(
            path,
            f"the file claims to be {label} but byte {exc.start} is not valid {codec}; "
            "save it again as UTF-8 CSV",
        ) from exc


def _refuse_nul(path: Path, text: str) -> None:
    """NUL never occurs in CSV text (and the line splitter relies on that)."""
    if "\x00" in text:
        raise RefusedFile(path, "this is binary data, not CSV text; export the contacts as CSV")


def _refuse_non_csv(path: Path, sample: str) -> None:
    """Refuse text that is clearly not CSV: HTML, JSON, or control characters of binary data."""
    start = sample.lstrip("\ufeff \t\r\n")
    if not start:
        raise RefusedFile(path, "the file is empty; export the contacts again")
    if _BINARY_CONTROLS.search(sample) and len(_BINARY_CONTROLS.findall(sample)) > max(
        3, len(sample) // 200
    ):
        raise RefusedFile(path, "this is binary data, not CSV text; export the contacts as CSV")
    if _HTML_START.match(start):
        raise RefusedFile(
            path,
            "this is an HTML (web) page saved under a .csv name, not a CSV file; "
            "export the contacts as CSV again",
        )
    if _JSON_START.match(start):
        raise RefusedFile(path, "this is JSON, not a CSV file; export the contacts as CSV")


# --- lines, delimiter and header ------------------------------------------------------------


def _lines(data: bytes) -> tuple[bytes, pl.Series]:
    """(the text with every line ending a LF, its physical lines). CRLF lines are split at the
    LF with the CR dropped, as they are; a CR alone (old Mac files, or a mix of files) ends a
    line too, so the text is rewritten only when it holds one."""
    if b"\n" not in data:
        data = data.replace(b"\r", b"\n")  # old Mac: CR alone throughout
    lines = _physical_lines(data)
    if lines.str.contains("\r", literal=True).any():
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = _physical_lines(data)
    return data, lines


def _refuse_oversized(path: Path, lines: pl.Series) -> None:
    """Refuse a line longer than the line limit, and a line among the first ones (where the
    header is looked for) with more fields than the column limit under any delimiter: such
    files cost minutes and gigabytes to look at, and no contact export is like that."""
    limit = max_line_bytes()
    lengths = lines.str.len_bytes()
    if (lengths.max() or 0) > limit:
        n = int((lengths > limit).arg_true()[0])
        raise RefusedFile(
            path,
            f"line {n + 1} is longer than the limit of {size_text(limit)} for one line "
            f"({size_text(int(lengths[n]))}); check the file, or raise {MAX_LINE_ENV}",
        )
    unquoted = lines.head(SAMPLE_LINES).str.replace_all(r'"(?:[^"]|"")*"', "")
    cap = max_columns()
    for delimiter in DELIMITERS:
        fields = unquoted.str.count_matches(delimiter, literal=True) + 1
        if (fields.max() or 0) > cap:
            _refuse_wide(path, int(fields.max()), int((fields > cap).arg_true()[0]))


def _refuse_wide(path: Path, width: int, line: int) -> None:
    cap = max_columns()
    if width > cap:
        raise RefusedFile(
            path,
            f"line {line + 1} has {width:,} columns, more than the limit of {cap:,}; a contact "
            f"export has far fewer: check the file, or raise {MAX_COLUMNS_ENV}",
        )


def _physical_lines(data: bytes) -> pl.Series:
    """The text's lines (split at LF, a trailing CR dropped), read in parallel by polars."""
    frame = pl.read_csv(
        data,
        has_header=False,
        separator="\x00",  # NUL never occurs: such files were refused as binary
        quote_char=None,
        schema={"line": pl.Utf8},
        empty_string_is_null=False,
        raise_if_empty=False,
    )
    return frame["line"]


def _sample_records(lines: list[str], delimiter: str,
                    complete: bool) -> list[tuple[int, int, list]]:
    """(first line, last line, fields) of the non-blank records among the sample's lines."""
    _allow_big_fields()
    reader = csv.reader((line + "\n" for line in lines), delimiter=delimiter, strict=False)
    out: list[tuple[int, int, list]] = []
    before = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error:
            fields = []
        first, before = before, reader.line_num
        if fields and any(f.strip() for f in fields):
            out.append((first, before - 1, fields))
    if out and not complete and out[-1][1] >= len(lines) - 1:
        out.pop()  # may be cut off by the end of the sample
    return out


def _layout(path: Path, lines: pl.Series) -> _Layout:
    """The delimiter and header line: the first record, under the delimiter that reads the file
    most consistently, whose width the following records share and which holds recognised header
    names (so preambles such as LinkedIn's `Notes:` lines are skipped)."""
    sample = lines.head(SAMPLE_LINES).to_list()
    complete = lines.len() <= SAMPLE_LINES
    best: tuple | None = None
    for delimiter in DELIMITERS:
        records = _sample_records(sample, delimiter, complete)
        choice = None
        for k, (first, last, fields) in enumerate(records[:HEADER_SEARCH_RECORDS]):
            width = len(fields)
            if width < 2:
                continue
            followers = records[k + 1 : k + 31]
            agree = (
                sum(len(f) == width for _, _, f in followers) / len(followers) if followers else 1.0
            )
            known = sum(is_known_header(name) for name in fields)
            if agree < 0.5 and not known:
                continue
            candidate = ((known, agree, width), _Layout(delimiter, first, last, fields))
            if choice is None:
                choice = candidate
            if known:
                choice = candidate
                break
        if choice and (best is None or choice[0] > best[0]):
            best = choice
    if best:
        return best[1]
    records = _sample_records(sample, ",", complete) or _sample_records(sample, ",", True)
    if not records:
        raise RefusedFile(path, "the file is empty; export the contacts again")
    first, last, fields = records[0]
    return _Layout(",", first, last, fields)


# --- records --------------------------------------------------------------------------------


def _exact_width_pattern(delimiter: str, width: int) -> str:
    """A line that is by itself a well-formed record of exactly `width` fields."""
    d = re.escape(delimiter)
    field = rf'(?:"(?:[^"]|"")*"|[^"{d}\n]*)'
    if width == 1:
        return rf"^{field}$"
    return rf"^(?:{field}{d}){{{width - 1}}}{field}$"


def _well_quoted_pattern(delimiter: str) -> str:
    """A record of any width whose quotes follow RFC 4180 (line breaks only inside quotes)."""
    d = re.escape(delimiter)
    field = rf'(?:"(?:[^"]|"")*"|[^"{d}\n]*)'
    return rf"^{field}(?:{d}{field})*$"


def _exact_width(lines: pl.Series, delimiter: str, width: int) -> pl.Series:
    """Whether each line is by itself a well-formed record of exactly `width` fields."""
    if width <= 1000:  # one regex; wider ones outgrow the regex engine's size limit
        return lines.str.contains(_exact_width_pattern(delimiter, width))
    outside_quotes = lines.str.replace_all(r'"(?:[^"]|"")*"', "")
    return lines.str.contains(_well_quoted_pattern(delimiter)) & (
        outside_quotes.str.count_matches(delimiter, literal=True) == width - 1
    )


def _blank_pattern(delimiter: str) -> str:
    return r"^[ \r]*$" if delimiter == "\t" else r"^[ \t\r]*$"


def _allow_big_fields() -> None:
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(min(_CSV_FIELD_LIMIT, sys.maxsize))


def _lines_from(body: pl.Series, start: int, first: str, state: dict) -> Iterator[str]:
    """Lines from `start` (whose text is `first`) on, fetched in growing chunks, noting whether
    the reader asked beyond the last one."""
    yield first + "\n"
    pos, size = start + 1, 4
    while pos < body.len():
        chunk = body.slice(pos, size).to_list()
        state["fetched"] = state.get("fetched", [first]) + chunk
        for line in chunk:
            yield line + "\n"
        pos, size = pos + len(chunk), min(size * 4, 4096)
    state["past_end"] = True


@dataclass
class _Irregular:
    """The records that are not a single well-formed line of the right width."""

    starts: list[int]
    ends: list[int]  # last line of each record (inclusive)
    kinds: list[str]  # "blank", "row", "unparseable"
    fields: list[list[str] | None]
    raws: list[str | None]
    details: list[str | None]
    well_quoted: bool = True  # all follow RFC 4180 quoting, so polars splits records alike


def _irregular_records(body: pl.Series, candidates: pl.DataFrame, delimiter: str,
                       width: int) -> _Irregular:
    """Settle each irregular line with the csv module: where its record ends and what it holds."""
    _allow_big_fields()
    well_quoted = re.compile(_well_quoted_pattern(delimiter))
    out = _Irregular([], [], [], [], [], [])
    consumed_until = 0
    for i, line, blank, footer in candidates.iter_rows():
        if i < consumed_until:
            continue
        if blank or footer:
            out.starts.append(i)
            out.ends.append(i)
            out.kinds.append("blank" if blank else "unparseable")
            out.fields.append(None)
            out.raws.append(None if blank else line)
            out.details.append(None if blank else "report footer")
            consumed_until = i + 1
            continue
        state: dict = {}
        reader = csv.reader(_lines_from(body, i, line, state), delimiter=delimiter,
                            strict=False)
        try:
            fields, n_lines, problem = next(reader), reader.line_num, None
        except csv.Error as exc:
            fields, n_lines, problem = None, 1, _csv_problem(exc)
        if state.get("past_end") and problem is None:
            fields, n_lines = None, 1
            problem = "a quoted field is never closed"
        raw_text = line if n_lines == 1 else "\n".join(state["fetched"][:n_lines])
        if out.well_quoted and '"' in raw_text:
            out.well_quoted = bool(well_quoted.match(raw_text))
        out.starts.append(i)
        out.ends.append(i + n_lines - 1)
        out.raws.append(raw_text)
        if fields is not None and len(fields) == width:
            out.kinds.append("row")
            out.fields.append(fields)
            out.details.append(None)
        else:
            out.kinds.append("unparseable")
            out.fields.append(None)
            found = f", found {len(fields)}" if fields is not None else ""
            out.details.append(problem or f"expected {width} fields{found}")
        consumed_until = i + n_lines
    return out


_CSV_PROBLEMS = (
    ("new-line character", "a line break inside a field that is not in quotes"),
    ("field larger than field limit", "a field is too large"),
    ("line contains nul", "the line holds a NUL byte"),
    ("unexpected end of data", "the record ends inside a quoted field"),
    ("expected after", "a quote inside a field is not doubled"),
)


def _csv_problem(exc: csv.Error) -> str:
    """The csv module's complaint in plain words (it speaks of file modes users never chose)."""
    text = str(exc).lower()
    for marker, words in _CSV_PROBLEMS:
        if marker in text:
            return f"cannot be read as CSV: {words}"
    return "cannot be read as CSV"


def _records(data: bytes, body: pl.Series, layout: _Layout,
             headers: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows, unparseable) of the data records after the header."""
    width = len(headers)
    names = [f"c{i}" for i in range(width)]
    exact = _exact_width(body, layout.delimiter, width)
    if width == 1:  # only here can a blank line or a footer look like a well-formed record
        exact = exact & ~body.str.contains(_blank_pattern(layout.delimiter)) & ~body.str.contains(
            FOOTER_PATTERN
        )
    lines = pl.DataFrame({"line": body, "exact": exact}).with_row_index("i").with_columns(
        pl.col("i").cast(pl.Int64)
    )
    suspects = lines.filter(~pl.col("exact")).select(
        "i",
        "line",
        pl.col("line").str.contains(_blank_pattern(layout.delimiter)).alias("blank"),
        pl.col("line").str.contains(FOOTER_PATTERN).alias("footer"),
    )
    irregular = _irregular_records(body, suspects, layout.delimiter, width)
    if not irregular.starts:
        rows = _exact_rows(data, body, layout, None, lines.height, names)
        unparseable = pl.DataFrame(schema={"row_number": pl.Int64, "raw": pl.Utf8,
                                           "detail": pl.Utf8})
        return _named(rows, names, headers), unparseable
    spans = pl.DataFrame(
        {"i": irregular.starts, "end": irregular.ends, "kind": irregular.kinds,
         "raw": irregular.raws, "detail": irregular.details},
        schema={"i": pl.Int64, "end": pl.Int64, "kind": pl.Utf8, "raw": pl.Utf8,
                "detail": pl.Utf8},
    ).with_row_index("irregular")
    records = lines.select("i", "exact")
    continuation = spans.filter(pl.col("end") > pl.col("i")).select(
        pl.int_ranges(pl.col("i") + 1, pl.col("end") + 1).explode().alias("i")
    )["i"]
    if continuation.len():
        records = records.filter(~pl.col("i").is_in(continuation.implode()))
    records = (
        records.join(spans, on="i", how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("exact")).then(pl.lit("row")).otherwise("kind").alias("kind")
        )
        .with_row_index("record")
        .with_columns(
            (pl.col("kind") != "blank").cum_sum().cast(pl.Int64).alias("row_number"),
        )
    )
    n_records = records.height
    records = records.filter(pl.col("kind") != "blank")
    unparseable = records.filter(pl.col("kind") == "unparseable").select(
        "row_number", "raw", "detail"
    )
    rows = _exact_rows(data, body, layout, records, n_records if irregular.well_quoted else None,
                       names)
    irregular_rows = records.filter(pl.col("kind") == "row", ~pl.col("exact"))
    if irregular_rows.height:
        values = [irregular.fields[k] for k in irregular_rows["irregular"].to_list()]
        settled = pl.DataFrame(
            {name: [v[j] for v in values] for j, name in enumerate(names)},
            schema={name: pl.Utf8 for name in names},
        ).with_columns(irregular_rows["row_number"])
        rows = pl.concat([rows, settled.select(rows.columns)]).sort("row_number")
    return _named(rows, names, headers), unparseable


def _folded_cell(cell: pl.Expr) -> pl.Expr:
    return cell.str.replace_all(INVISIBLE_EDGES, "").str.to_lowercase()


def without_repeated_headers(rows: pl.DataFrame, unparseable: pl.DataFrame,
                             header_fields: list[str], headers: list[str],
                             delimiter: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows, unparseable) with the data rows that repeat the file's own header (as a second
    export pasted after the first brings it, BOM and all) moved to unparseable.

    One column is scanned for the header's text first; only the few rows found are compared
    whole."""
    names = pl.select(_folded_cell(pl.lit(pl.Series(header_fields, dtype=pl.String))))
    names = names.to_series().to_list()
    probe = next((i for i, n in enumerate(names) if n), None)
    if probe is None or rows.height == 0:
        return rows, unparseable
    column = headers[probe]
    found = rows.filter(pl.col(column).str.contains("(?i)" + re.escape(names[probe])))
    if found.height:
        found = found.filter(
            pl.all_horizontal(
                _folded_cell(pl.col(h)).fill_null("") == n for h, n in zip(headers, names,
                                                                            strict=True)
            )
        )
    if found.height == 0:
        return rows, unparseable
    repeated = found.select(
        pl.col("row_number").cast(pl.Int64),
        pl.concat_str([pl.col(h).fill_null("") for h in headers],
                      separator=delimiter or ",").alias("raw"),
        pl.lit(REPEATED_HEADER).alias("detail"),
    )
    rows = rows.join(repeated.select("row_number"), on="row_number", how="anti",
                     maintain_order="left")
    unparseable = pl.concat([unparseable, repeated.cast(unparseable.schema)]).sort("row_number")
    return rows, unparseable


def _named(rows: pl.DataFrame, names: list[str], headers: list[str]) -> pl.DataFrame:
    return rows.select(
        pl.col("row_number").cast(pl.Int64),
        *[pl.col(n).alias(h) for n, h in zip(names, headers, strict=True)],
    )


def _exact_rows(data: bytes, body: pl.Series, layout: _Layout, records: pl.DataFrame | None,
                n_records: int | None, names: list[str]) -> pl.DataFrame:
    """Values of the well-formed one-line records, parsed by polars, with their row numbers.

    When every record follows RFC 4180 quoting (`n_records` given), polars reads the whole body
    once, one row per record (blank lines included; ragged records cut or padded, then dropped
    here); otherwise, or if polars rejects the body or counts its records differently, only the
    well-formed lines are parsed."""
    if records is None:  # every line is a well-formed record
        records = pl.DataFrame({"i": pl.int_range(0, n_records, eager=True)}).select(
            pl.col("i").alias("record"), "i", (pl.col("i") + 1).alias("row_number")
        )
    wanted = records.filter(pl.col("exact")) if "exact" in records.columns else records
    wanted = wanted.select("record", "i", "row_number")
    schema = {name: pl.Utf8 for name in names}
    options = dict(has_header=False, separator=layout.delimiter, quote_char='"', schema=schema,
                   empty_string_is_null=False, raise_if_empty=False)
    parsed = None
    if n_records is not None:
        try:
            parsed = pl.read_csv(data, skip_lines=layout.header_last_line + 1,
                                 truncate_ragged_lines=True, **options)
        except pl.exceptions.PolarsError:
            pass
    if parsed is not None and parsed.height == n_records:
        if wanted.height == n_records:
            return parsed.with_columns(wanted["row_number"])
        return parsed.with_row_index("record").join(
            wanted, on="record", how="inner", maintain_order="left"
        ).select(*names, "row_number")
    if wanted.height == 0:
        return pl.DataFrame(schema=schema | {"row_number": pl.Int64})
    good_lines = body.gather(wanted["i"]).str.join("\n").cast(pl.Binary).item() + b"\n"
    parsed = pl.read_csv(good_lines, **options)
    return parsed.with_columns(wanted["row_number"])
