"""Loading SQL files from `sql/`: the one place SQL text comes from."""

from functools import cache
from pathlib import Path

from .paths import SQL_DIR


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
