"""Small builders shared by the end-to-end tests: files and CLI calls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crm_pipeline.cli import main

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
