"""Which homes `crm demo` builds in, and what it may remove there.

A demo marks its home with `demo.json`: the sample files it imported (tenant, file, SHA-256),
when, and once finished the files it created. `crm demo` then builds:

- in an empty home: nothing but what any command sets up (the write lock, the secret, Dagster's
  settings, empty folders) and logs;
- over a previous demo: a home with `demo.json` whose warehouse holds only the files that demo
  imported and only its tenants, and whose `landing/` holds no file waiting to be imported.
  Only the demo's own files are removed: its tenants' shards (each folder under `tenants/`, with
  its WAL, spill folder and compaction marker), the audit head files and the error files of the
  sample's imports; the run then replaces the published files. Anything else in the home is left alone.

Any other home is refused. With `--force` its data (`DATA_ENTRIES`) is moved, whole, into
`HOME/pre-demo-<UTC time>/`: a CRM home of its own (its secret goes with it, so its audit chain
and GDPR suppressions still verify there). Nothing is deleted.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import duckdb

from crm_pipeline.contacts.imports import import_id_for
from crm_pipeline.errors import BadArgument
from crm_pipeline.home import Home
from crm_pipeline.paths import SAMPLE_DIR
from crm_pipeline.warehouse import connect

MARKER = "demo.json"
# What any command sets up in a new home (Home.ensure, the write lock): no data.
SKELETON = {"write.lock", "heads.lock", "secret.key", "dagster/dagster.yaml"}
# A home's data: moved aside by `crm demo --force`, never deleted.
DATA_ENTRIES = ("tenants", "warehouse.duckdb", "warehouse.duckdb.wal", "warehouse.duckdb.tmp",
                "warehouse.duckdb.migrated", "published", "errors", "landing", "dagster",
                "audit_head.json", "audit_verified.json", "compaction.pending", "secret.key",
                MARKER)
KINDS = {"contacts": "contact", "activities": "activity"}  # manifest kind -> raw.imports kind
FOLDER_NAME = re.compile(r"[A-Za-z0-9_-]+")  # a tenant id that is safe as a folder name


def _walk(folder: Path, root: Path) -> Iterator[str]:
    """Every file (symbolic links included, not followed) under a folder, relative to root,
    lazily: a home pointed at a big folder is refused after its first few files."""
    if not folder.exists() and not folder.is_symlink():
        return
    if not folder.is_dir() or folder.is_symlink():
        yield folder.relative_to(root).as_posix()
        return
    for parent, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names + [d for d in dirs if (Path(parent) / d).is_symlink()]):
            yield (Path(parent) / name).relative_to(root).as_posix()


def _files(folder: Path, root: Path) -> list[str]:
    return list(_walk(folder, root))


def _marker(home: Home) -> dict | None:
    try:
        marker = json.loads((home.root / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) and marker.get("created_by") == "crm demo" else None


def _marked_imports(marker: dict) -> set[tuple[str, str]]:
    return {(str(i.get("tenant_id")), str(i.get("sha256")))
            for i in marker.get("imports", []) if isinstance(i, dict)}


def _warehouse_problems(home: Home, path: Path, marker: dict) -> list[str]:
    """What a warehouse file (working or published) holds besides the marked demo's imports and
    tenants."""
    name = path.relative_to(home.root).as_posix()
    if not path.exists():
        return []
    try:
        con = connect(path, read_only=True)
    except duckdb.Error as exc:
        return [f"{name} cannot be read ({str(exc).splitlines()[0]})"]
    try:
        imports = con.execute(
            "SELECT tenant_id, file_name, file_sha256 FROM raw.imports").fetchall()
        tenants = [t for (t,) in con.execute("SELECT tenant_id FROM core.tenants").fetchall()]
    except duckdb.CatalogException:
        return []  # a warehouse without tables holds nothing
    except duckdb.Error as exc:
        return [f"{name} cannot be read ({str(exc).splitlines()[0]})"]
    finally:
        con.close()
    marked = _marked_imports(marker)
    demo_tenants = {t for t, _ in marked}
    problems = [f"{name}: an import of {file} for tenant {t}" for t, file, sha in imports
                if (t, sha) not in marked]
    problems += [f"{name}: tenant {t}" for t in tenants if t not in demo_tenants]
    return problems


def foreign_contents(home: Home) -> list[str]:
    """What the home holds that `crm demo` did not create (empty: the demo may build there);
    for a home without the demo's marker, its first few files only."""
    root = home.root
    marker = _marker(home)
    if marker is None:
        return list(islice((f for f in _walk(root, root)
                            if f not in SKELETON and not f.startswith(("logs/", "tmp/"))), 4))
    demo_tenants = {t for t, _ in _marked_imports(marker)}
    extracts = [f for f in _files(home.published_dir / "tenants", root)
                if Path(f).suffix == ".duckdb" and Path(f).stem not in demo_tenants]
    shards = [f"tenants/{t}" for t in home.tenant_ids() if t not in demo_tenants]
    for t in home.tenant_ids():
        if t in demo_tenants:
            shards += _warehouse_problems(home, home.shard(t), marker)
    return (_files(home.landing_dir, root) + extracts + shards
            + _warehouse_problems(home, home.legacy_warehouse, marker)
            + _warehouse_problems(home, home.snapshot, marker))


def _moved_aside(home: Home) -> Path:
    """Move the home's data into a new HOME/pre-demo-<time>/ folder; returns that folder."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    dest = home.root / f"pre-demo-{stamp}"
    n = 1
    while dest.exists():
        n += 1
        dest = home.root / f"pre-demo-{stamp}-{n}"
    dest.mkdir()
    for name in DATA_ENTRIES:
        source = home.root / name
        if source.exists() or source.is_symlink():
            os.rename(source, dest / name)
    return dest


def _remove_previous_demo(home: Home, marker: dict) -> None:
    """Remove what a previous demo created and a new one would not replace."""
    legacy = home.legacy_warehouse
    for path in (legacy, legacy.with_name(legacy.name + ".wal"), home.audit_head_file,
                 home.audit_verified_file, home.root / "compaction.pending"):
        path.unlink(missing_ok=True)
    demo_tenants = {t for t, _ in _marked_imports(marker)}
    for tenant in home.tenant_ids():
        folder = home.shard_dir(tenant)
        if tenant in demo_tenants and FOLDER_NAME.fullmatch(tenant) and not folder.is_symlink():
            shutil.rmtree(folder)
    for item in marker.get("imports", []):
        tenant, kind = str(item.get("tenant_id")), KINDS.get(item.get("kind"), "")
        if kind and FOLDER_NAME.fullmatch(tenant):
            import_id = import_id_for(tenant, kind, str(item.get("sha256")))
            home.error_file(tenant, import_id).unlink(missing_ok=True)


def _sample_imports(manifest: dict) -> list[dict]:
    return [{"tenant_id": item["tenant_id"], "kind": item["kind"], "file": item["file"],
             "sha256": hashlib.sha256((SAMPLE_DIR / item["file"]).read_bytes()).hexdigest()}
            for item in manifest["imports"]]


def _write_marker(home: Home, marker: dict) -> None:
    tmp = home.root / (MARKER + ".tmp")
    tmp.write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    tmp.replace(home.root / MARKER)


def prepare_demo_home(home: Home, manifest: dict, force: bool) -> Path | None:
    """Make the home ready for a demo, or refuse it; returns where its data was moved with
    `force`, else None. The caller holds the home's write lock."""
    foreign = foreign_contents(home)
    moved = None
    if foreign and not force:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise BadArgument(
            f"{home.root} holds more than a previous demo ({shown}); the demo would replace "
            "it: give --home another folder, or crm demo --force to move that data aside "
            f"into {home.root}/pre-demo-TIME/ (nothing is deleted)")
    if foreign:
        moved = _moved_aside(home)
    elif (marker := _marker(home)) is not None:
        _remove_previous_demo(home, marker)
    home.ensure()
    _write_marker(home, {"created_by": "crm demo", "started_at": datetime.now(UTC).isoformat(),
                         "as_of": str(manifest["as_of"]), "imports": _sample_imports(manifest),
                         "finished_at": None, "created": []})
    return moved


def record_demo_finished(home: Home) -> None:
    """Add to the marker the time and every file the finished demo created."""
    marker = _marker(home) or {"created_by": "crm demo", "imports": []}
    created = [f for name in DATA_ENTRIES if name != MARKER
               for f in _files(home.root / name, home.root)]
    marker.update(finished_at=datetime.now(UTC).isoformat(), created=created)
    _write_marker(home, marker)
