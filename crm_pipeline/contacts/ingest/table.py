"""A contact file as read (`RawTable`): what `files.read_table` (a CSV) or
`workbooks.read_workbook` gives and `headers` maps."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl


@dataclass(frozen=True)
class RawTable:
    """A contact file as read: every record as text, and the records that could not be read."""

    path: Path
    encoding: str
    delimiter: str
    header_line: int
    headers: list[str]
    rows: pl.DataFrame
    unparseable: pl.DataFrame
    sha256: str
    invisible: bool = False  # some value holds an invisible character (`text.INVISIBLE`)
    sheet: str | None = None  # the sheet read, for a workbook (`workbooks`)
