"""A CRM home: the folder holding one warehouse, its published snapshots, error files and secret."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = "crm_home"


@dataclass(frozen=True)
class Home:
    """Paths of a CRM home; creating a Home creates nothing until `ensure()`."""

    root: Path

    @classmethod
    def resolve(cls, home: str | Path | None = None) -> Home:
        """The home named by --home, else $CRM_HOME, else ./crm_home."""
        chosen = home or os.environ.get("CRM_HOME") or DEFAULT_HOME
        return cls(Path(chosen).expanduser().resolve())

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def published_dir(self) -> Path:
        return self.root / "published"

    @property
    def snapshot(self) -> Path:
        """The read-only snapshot readers open (never the working file)."""
        return self.published_dir / "warehouse.duckdb"

    def extract(self, tenant_id: str) -> Path:
        """The per-tenant extract agents open: only that tenant's rows."""
        return self.published_dir / "tenants" / f"{tenant_id}.duckdb"

    @property
    def errors_dir(self) -> Path:
        return self.root / "errors"

    def error_file(self, tenant_id: str, import_id: str) -> Path:
        return self.errors_dir / tenant_id / f"{import_id}.errors.csv"

    @property
    def landing_dir(self) -> Path:
        """Drop files here (landing/<tenant>/contacts/*.csv, landing/<tenant>/activities/*.jsonl)."""
        return self.root / "landing"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    @property
    def lock_file(self) -> Path:
        return self.root / "write.lock"

    @property
    def audit_head_file(self) -> Path:
        return self.root / "audit_head.json"

    @property
    def audit_verified_file(self) -> Path:
        """The head at which each tenant's chain last verified (the run's check starts there)."""
        return self.root / "audit_verified.json"

    @property
    def compaction_pending(self) -> Path:
        """Present from the start of an erasure until the working file has been rewritten:
        until then its freed pages may still hold the erased values."""
        return self.root / "compaction.pending"

    @property
    def secret_file(self) -> Path:
        return self.root / "secret.key"

    def ensure(self) -> Home:
        """Create the home's folders and secret if missing."""
        for d in (self.root, self.published_dir, self.errors_dir, self.landing_dir, self.dagster_home):
            d.mkdir(parents=True, exist_ok=True)
        if not self.secret_file.exists():
            tmp = self.secret_file.with_suffix(".tmp")
            tmp.write_bytes(secrets.token_bytes(32))
            tmp.chmod(0o600)
            tmp.replace(self.secret_file)
        dagster_yaml = self.dagster_home / "dagster.yaml"
        if not dagster_yaml.exists():
            dagster_yaml.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
        return self

    def key(self) -> bytes:
        """The home's secret for keyed digests (audit values, GDPR suppressions)."""
        return self.ensure().secret_file.read_bytes()
