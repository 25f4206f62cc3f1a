"""Tenants as a Dagster dynamic partition: runs, retries and backfills are per tenant."""

from __future__ import annotations

import dagster as dg

from crm_pipeline.home import Home
from crm_pipeline.tenants import landing_tenants

TENANTS = "tenants"
tenant_partitions = dg.DynamicPartitionsDefinition(name=TENANTS)


def register_tenants(instance: dg.DagsterInstance, home: Home) -> list[str]:
    """Add a partition for every tenant of the home (or waiting in its landing folder) that
    Dagster does not know yet; the home's tenants."""
    tenants = sorted(set(home.tenant_ids()) | set(landing_tenants(home.landing_dir)))
    known = set(instance.get_dynamic_partitions(TENANTS))
    missing = [t for t in tenants if t not in known]
    if missing:
        instance.add_dynamic_partitions(TENANTS, missing)
    return tenants
