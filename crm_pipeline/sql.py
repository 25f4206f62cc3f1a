"""Loading SQL files from `sql/` (the one place SQL text comes from), and quoting the few names
and paths that must enter SQL as text."""

from functools import cache
from pathlib import Path

from crm_pipeline.errors import BadArgument
from crm_pipeline.paths import SQL_DIR


@cache
def sql_text(name: str) -> str:
    """Text of `sql/<name>.sql`; cached because models run once per tenant per run."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def table_files() -> list[Path]:
    """DDL files in creation order: schemas first, then each schema's tables by name."""
    root = SQL_DIR / "tables"
    return [root / "00_schemas.sql", *sorted(p for p in root.glob("*/*.sql"))]


def segment_files() -> list[Path]:
    """One file per segment; adding a segment is adding a file."""
    return sorted((SQL_DIR / "segments").glob("*.sql"))


def _refuse_nul(text: str, what: str) -> str:
    if "\x00" in text:
        raise BadArgument(f"a {what} holding a NUL character cannot be used: {text!r}")
    return text


def quote_literal(value: str | Path) -> str:
    """`value` as a SQL string literal ('...' with quotes doubled), for the few places DuckDB
    takes no bound parameter (ATTACH, COMMENT ON, SET ... = a path). A NUL is refused: DuckDB
    would end the string there."""
    text = _refuse_nul(str(value), "SQL value")
    return "'" + text.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    """`name` as a SQL identifier ("..." with quotes doubled), for schema, table, column and
    database names that come from the catalogue or a path rather than from our own SQL."""
    text = _refuse_nul(str(name), "SQL name")
    return '"' + text.replace('"', '""') + '"'
