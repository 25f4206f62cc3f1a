"""Reading a contact workbook (`.xlsx`, `.xlsm`, `.xls`) into the same `RawTable` a CSV gives.

HubSpot's and Salesforce's default exports are workbooks. One sheet is read (the first, or the one
named) by the calamine engine (`fastexcel`, the reader behind polars' `read_excel`), every cell as
text, so that the rest of the import (header mapping, normalization, quarantine) cannot tell a
workbook from the CSV Excel would have saved: whole numbers without `.0` and never in exponent
form (ids and phone numbers keep every digit), dates and times as ISO text (`2024-03-05`,
`2024-03-05T10:30:00`), a date kept as a bare serial number where the cell has no date format
(the date normalizer reads those as Excel serials), empty cells as empty text.

The header is the first row, among the first twenty non-blank ones, holding a recognised header
name (else the first non-blank row); blank rows are skipped as blank CSV lines are, and a row's
number is its place among the data rows, as in a CSV. A row with values to the right of the
header's last column, a report footer, or a repeat of the header is set aside as unparseable.
A workbook that cannot be opened (corrupt, password-protected, not a workbook), a missing sheet,
or an empty sheet is refused whole with `RefusedFile`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import fastexcel
import polars as pl

from crm_pipeline.contacts.ingest.files import (
    FOOTER_PATTERN,
    HEADER_SEARCH_RECORDS,
    read_table,
    unique_headers,
    without_repeated_headers,
)
from crm_pipeline.contacts.ingest.headers import is_known_header
from crm_pipeline.contacts.ingest.limits import (
    MAX_COLUMNS_ENV,
    max_columns,
    regular_file_bytes,
)
from crm_pipeline.contacts.ingest.table import RawTable
from crm_pipeline.contacts.normalize.text import INVISIBLE_CLASS
from crm_pipeline.errors import RefusedFile

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
_MIDNIGHT = r"^(\d{4}-\d{2}-\d{2}) 00:00:00$"
_DATETIME = r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)$"
_BEYOND = "has values to the right of the header's last column"


def read_contact_file(path: Path, sheet: str | None = None) -> RawTable:
    """A contact file as read: one sheet of a workbook (by the file's name), else a CSV."""
    path = Path(path)
    if is_workbook(path):
        return read_workbook(path, sheet)
    if sheet is not None:
        raise RefusedFile(path, "--sheet names a sheet of an Excel workbook (.xlsx, .xls); this "
                                "file is read as CSV, so leave --sheet out")
    return read_table(path)


def is_workbook(path: Path) -> bool:
    """Whether a file is to be read as a workbook (by its name, as users and exports name them)."""
    return Path(path).suffix.lower() in WORKBOOK_SUFFIXES


def read_workbook(path: Path, sheet: str | None = None) -> RawTable:
    """Read one sheet of a contact workbook; raises `RefusedFile` if it cannot be imported."""
    path = Path(path)
    raw = regular_file_bytes(path)
    if not raw or raw.isspace():
        raise RefusedFile(path, "the file is empty; export the contacts again")
    digest = hashlib.sha256(raw)
    del raw
    reader = _opened(path)
    names = list(reader.sheet_names)
    name = _sheet_name(path, names, sheet)
    try:
        cells = reader.load_sheet(name, header_row=None, dtypes="string").to_polars()
    except fastexcel.FastExcelError as exc:
        raise RefusedFile(path, f"the sheet {name!r} cannot be read ({_first_line(exc)}); "
                                "open the workbook, save it again and import it") from exc
    cells = _as_csv_text(cells)
    if cells.width:
        blank = pl.all_horizontal(pl.col(c).str.strip_chars() == "" for c in cells.columns)
        cells = cells.with_row_index("line").filter(~blank)
    if cells.width == 0 or cells.height == 0:
        raise RefusedFile(path, f"the sheet {name!r} is empty; export the contacts again"
                                + (f" (other sheets: {', '.join(names)}; pick one with --sheet)"
                                   if len(names) > 1 else ""))
    header_at = _header_index(cells)
    header_cells = [str(v) for v in cells.drop("line").row(header_at)]
    while header_cells and not header_cells[-1].strip():
        header_cells.pop()
    _refuse_wide(path, len(header_cells))
    headers = unique_headers(header_cells)
    body = cells.slice(header_at + 1).drop("line")
    if body.height == 0:
        raise RefusedFile(path, "has a header but no data rows; export it again with the contacts")
    rows, unparseable = _split(body, len(headers), headers)
    rows, unparseable = without_repeated_headers(rows, unparseable, header_cells, headers, ",")
    invisible = bool(rows.select(
        pl.any_horizontal(pl.col(headers).str.contains(INVISIBLE_CLASS)).any()).item())
    digest.update(b"\x1fsheet\x1f" + name.encode())  # another sheet is another import
    return RawTable(
        path=path,
        encoding=path.suffix.lower().lstrip("."),
        delimiter="",
        header_line=int(cells["line"][header_at]) + 1,
        headers=headers,
        rows=rows,
        unparseable=unparseable,
        sha256=digest.hexdigest(),
        invisible=invisible,
        sheet=name,
    )


def _opened(path: Path) -> fastexcel.ExcelReader:
    """The workbook opened, or a one-line refusal saying why it cannot be."""
    try:
        return fastexcel.read_excel(str(path))
    except fastexcel.FastExcelError as exc:
        text = str(exc).lower()
        if "password" in text or "encrypt" in text:
            problem = ("the workbook is password-protected; open it in Excel, remove the password "
                       "(File > Info > Protect Workbook) and import it again")
        else:
            problem = (f"the file cannot be opened as an Excel workbook ({_first_line(exc)}); "
                       "it may be damaged or not a workbook: export the contacts again")
        raise RefusedFile(path, problem) from exc


def _first_line(exc: Exception) -> str:
    """calamine's own reason, without its multi-line context."""
    line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return line.removeprefix("calamine error: ")


def _sheet_name(path: Path, names: list[str], sheet: str | None) -> str:
    if not names:
        raise RefusedFile(path, "the workbook has no sheets; export the contacts again")
    if sheet is None:
        return names[0]
    if sheet in names:
        return sheet
    folded = [n for n in names if n.strip().casefold() == sheet.strip().casefold()]
    if len(folded) == 1:
        return folded[0]
    raise RefusedFile(path, f"the workbook has no sheet named {sheet!r} (its sheets: "
                            f"{', '.join(repr(n) for n in names)}); name one of them with --sheet")


def _as_csv_text(cells: pl.DataFrame) -> pl.DataFrame:
    """Cells as the text a CSV export would hold: dates as ISO text, empty cells as ''."""
    return cells.select(
        pl.col(c).cast(pl.Utf8).fill_null("")
        .str.replace(_MIDNIGHT, "${1}").str.replace(_DATETIME, "${1}T${2}")
        .alias(f"c{i}")
        for i, c in enumerate(cells.columns)
    )


def _header_index(cells: pl.DataFrame) -> int:
    """The first of the first non-blank rows that holds a recognised header name, else 0."""
    for k, row in enumerate(cells.drop("line").head(HEADER_SEARCH_RECORDS).iter_rows()):
        filled = [v for v in row if v.strip()]
        if len(filled) >= 2 and any(is_known_header(v) for v in filled):
            return k
    return 0


def _refuse_wide(path: Path, width: int) -> None:
    cap = max_columns()
    if width > cap:
        raise RefusedFile(
            path,
            f"the header has {width:,} columns, more than the limit of {cap:,}; a contact "
            f"export has far fewer: check the file, or raise {MAX_COLUMNS_ENV}",
        )


def _split(body: pl.DataFrame, width: int,
           headers: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows, unparseable): rows numbered from 1 as in a CSV; values beyond the header's width
    or a report footer make a row unparseable."""
    names = body.columns
    inside, beyond = names[:width], names[width:]
    inside = inside + [f"pad{i}" for i in range(width - len(inside))]
    body = body.with_columns(pl.lit("").alias(c) for c in inside if c not in names)
    numbered = body.with_row_index("row_number", offset=1).with_columns(
        pl.col("row_number").cast(pl.Int64))
    rest_empty = pl.all_horizontal(pl.col(c).str.strip_chars() == "" for c in inside[1:]) \
        if width > 1 else pl.lit(True)
    footer = pl.col(inside[0]).str.contains(FOOTER_PATTERN) & rest_empty
    wide = pl.any_horizontal(pl.col(c).str.strip_chars() != "" for c in beyond) \
        if beyond else pl.lit(False)
    detail = pl.when(footer).then(pl.lit("report footer")).when(wide).then(pl.lit(_BEYOND))
    marked = numbered.with_columns(detail.alias("detail"))
    unparseable = marked.filter(pl.col("detail").is_not_null()).select(
        "row_number",
        pl.concat_str([pl.col(c) for c in inside + beyond], separator=",")
        .str.strip_chars_end(",").alias("raw"),
        pl.col("detail").cast(pl.Utf8),
    )
    rows = marked.filter(pl.col("detail").is_null()).select(
        "row_number", *[pl.col(c).alias(h) for c, h in zip(inside, headers, strict=True)]
    )
    return rows, unparseable
