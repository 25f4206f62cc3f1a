"""Tenants as a Dagster dynamic partition: runs, retries and backfills are per tenant."""

from __future__ import annotations

import dagster as dg

from crm_pipeline.home import Home

TENANTS = "tenants"
tenant_partitions = dg.DynamicPartitionsDefinition(name=TENANTS)


def register_tenants(instance: dg.DagsterInstance, home: Home) -> list[str]:
    """Add a partition for every tenant of the home that Dagster does not know yet."""
    tenants = home.tenant_ids()
    known = set(instance.get_dynamic_partitions(TENANTS))
    missing = [t for t in tenants if t not in known]
    if missing:
        instance.add_dynamic_partitions(TENANTS, missing)
    return tenants
