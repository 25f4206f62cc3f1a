"""Small builders shared by the end-to-end tests: files and CLI calls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crm_pipeline.cli.app import main

HUBSPOT_HEADER = ("Record ID,First Name,Last Name,Email,Phone Number,Company Name,Job Title,"
                  "Number of Employees,City,Country/Region,Create Date")


def write_csv(path: Path, header: str, rows: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding))
    return path


def write_jsonl(path: Path, records: list[dict | str]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def crm(home: Path, *args: str, capsys=None) -> tuple[int, str, str]:
    """Run the CLI in process; (exit status, stdout, stderr)."""
    with pytest.raises(SystemExit) as exc:
        main(["--home", str(home), *[str(a) for a in args]])
    out, err = capsys.readouterr() if capsys else ("", "")
    return exc.value.code, out, err


def shard(home: Path, tenant: str | None = None) -> Path:
    """A tenant's working shard; without a tenant, the home's only one."""
    if tenant is None:
        found = sorted(Path(home).glob("tenants/*/warehouse.duckdb"))
        assert len(found) == 1, found
        return found[0]
    return Path(home) / "tenants" / tenant / "warehouse.duckdb"


def has_shards(home: Path) -> bool:
    """Whether any tenant's working shard exists (a refused command creates none)."""
    return any(Path(home).glob("tenants/*/warehouse.duckdb"))


def working(home: Path):
    """Every tenant's working shard, read-only, as one database: each table a view over the
    shards that have it (as the analysts' snapshot shows them, but of the working files)."""
    import duckdb

    con = duckdb.connect()
    for i, path in enumerate(sorted(Path(home).glob("tenants/*/warehouse.duckdb"))):
        con.execute(f"ATTACH $path AS _s{i} (READ_ONLY)", {"path": str(path)})
    tables = con.execute("SELECT schema_name, table_name, list(database_name) FROM duckdb_tables() "
                         "WHERE database_name LIKE '\\_s%' ESCAPE '\\' GROUP BY ALL").fetchall()
    for schema, table, dbs in tables:
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        union = " UNION ALL BY NAME ".join(f'SELECT * FROM {d}."{schema}"."{table}"' for d in dbs)
        con.execute(f'CREATE VIEW "{schema}"."{table}" AS {union}')
    return con
