"""The audit chains' heads kept outside the database (`audit_head.json`, and the heads at which
each chain last verified, `audit_verified.json`), so rows cut off the end of a chain are detected.
Written under the home's heads lock: runs of different tenants update the same file."""

from __future__ import annotations

import json
import os
from pathlib import Path

from crm_pipeline.home import Home
from crm_pipeline.trust.audit import chain_head
from crm_pipeline.trust.locking import heads_lock


def _read_heads(home: Home, path: Path | None = None) -> dict[str, str]:
    """Heads kept in a file; none when it is missing or unreadable (audit.runs keeps them too,
    and the next write records the file afresh), so a damaged file never blocks a run."""
    try:
        heads = json.loads((path or home.audit_head_file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(heads, dict):
        return {}
    return {t: h for t, h in heads.items() if isinstance(t, str) and isinstance(h, str)}


def _write_heads(home: Home, heads: dict[str, str], path: Path | None = None) -> None:
    """The chain heads outside the database, so rows cut off the end are detected."""
    path = path or home.audit_head_file
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(heads, sort_keys=True, indent=1), encoding="utf-8")
    tmp.replace(path)


def update_heads(home: Home, heads: dict[str, str], path: Path | None = None) -> None:
    """Record some tenants' heads; other tenants' runs may update the same file meanwhile."""
    with heads_lock(home):
        _write_heads(home, {**_read_heads(home, path), **heads}, path)


def audit_heads(home: Home) -> dict[str, str]:
    return _read_heads(home)


def verified_heads(home: Home) -> dict[str, str]:
    """The heads at which each tenant's chain last verified: later checks re-read what follows."""
    return _read_heads(home, home.audit_verified_file)


def record_verified_heads(home: Home, heads: dict[str, str]) -> None:
    update_heads(home, heads, home.audit_verified_file)


def record_chain_heads(con, home: Home, tenants: list[str]) -> None:
    """Keep the tenants' current chain heads outside the database (after any audited command)."""
    update_heads(home, {t: chain_head(con, t)[1] for t in tenants})
