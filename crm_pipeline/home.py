"""A CRM home: the folder holding one warehouse shard per tenant, the published snapshots, error
files and the secret.

Layout: `tenants/<T>/warehouse.duckdb` is tenant T's working shard (every table of the warehouse,
holding T's rows only) with its write lock; `published/` holds what readers open; the home keeps
what tenants share (the secret, the audit heads, Dagster's run history). A home written before
shards had one `warehouse.duckdb` for every tenant: `crm_pipeline.trust.migrate` splits it.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = "crm_home"
# The home's Dagster instance (the UI, the daemon, the schedule and the sensor): each run in a
# process of its own, queued; runs of different tenants side by side, one per core; never two
# runs of one tenant (one writer per shard). `crm run` executes in its own processes instead.
DAGSTER_YAML = """telemetry:
  enabled: false
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: {cores}
    tag_concurrency_limits:
      - key: dagster/partition
        value:
          applyLimitPerUniqueValue: true
        limit: 1
"""


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
    def legacy_warehouse(self) -> Path:
        """The one file of every tenant in a home written before shards (migrated on first use)."""
        return self.root / "warehouse.duckdb"

    @property
    def tenants_dir(self) -> Path:
        return self.root / "tenants"

    def shard_dir(self, tenant_id: str) -> Path:
        return self.tenants_dir / tenant_id

    def shard(self, tenant_id: str) -> Path:
        """Tenant T's working warehouse: readers open its published snapshot instead."""
        return self.shard_dir(tenant_id) / "warehouse.duckdb"

    def tenant_lock_file(self, tenant_id: str) -> Path:
        return self.shard_dir(tenant_id) / "write.lock"

    def tenant_ids(self) -> list[str]:
        """The tenants of the home: those with a working shard (the registry is the folder)."""
        if not self.tenants_dir.is_dir():
            return []
        return sorted(d.name for d in self.tenants_dir.iterdir()
                      if (d / "warehouse.duckdb").is_file())

    @property
    def published_dir(self) -> Path:
        return self.root / "published"

    @property
    def snapshot(self) -> Path:
        """The read-only snapshot readers open (never the working file)."""
        return self.published_dir / "warehouse.duckdb"

    def extract(self, tenant_id: str) -> Path:
        """The per-tenant extract agents open: the snapshot of the tenant's shard."""
        return self.published_dir / "tenants" / f"{tenant_id}.duckdb"

    @property
    def reports_dir(self) -> Path:
        return self.published_dir / "reports"

    def report_file(self, tenant_id: str) -> Path:
        """The tenant's HTML report, rewritten after every run (`crm report`)."""
        return self.reports_dir / f"{tenant_id}.html"

    def agents_dir(self, tenant_id: str) -> Path:
        """One file per agent of the tenant: what that agent may read, and nothing else."""
        return self.published_dir / "tenants" / tenant_id / "agents"

    def agent_file(self, tenant_id: str, agent: str) -> Path:
        return self.agents_dir(tenant_id) / f"{agent}.duckdb"

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

    def compaction_pending(self, tenant_id: str) -> Path:
        """Present from the start of an erasure until the tenant's shard has been rewritten:
        until then its freed pages may still hold the erased values."""
        return self.shard_dir(tenant_id) / "compaction.pending"

    @property
    def heads_lock_file(self) -> Path:
        """Held while the audit head files are read and rewritten (tenants run in parallel)."""
        return self.root / "heads.lock"

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
            dagster_yaml.write_text(DAGSTER_YAML.format(cores=os.cpu_count() or 1),
                                    encoding="utf-8")
        return self

    def key(self) -> bytes:
        """The home's secret for keyed digests (audit values, GDPR suppressions)."""
        return self.ensure().secret_file.read_bytes()
