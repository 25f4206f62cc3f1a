"""Assets, grouped by business domain; each is a thin call of a `crm_pipeline` stage per tenant.

Asset keys mirror `schema/table`, so the name in the UI is the name in the warehouse.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import dagster as dg

from crm_pipeline import pipeline
from crm_pipeline.contacts_import import stage_contact_file
from crm_pipeline.errors import CrmError
from crm_pipeline.progress import report
from crm_pipeline.publish import publish_extract, publish_snapshot
from crm_pipeline.resolve.ahead import decisions_ahead
from crm_pipeline.tenants import ensure_tenant
from crm_pipeline.warehouse import run

from .resources import CrmSettings, Warehouse, warehouse

INGEST = "ingest"
CONTACTS = "contacts"
ACTIVITIES = "activities"
MARTS = "marts"
VALUE = "value"
TRUST = "trust"
KINDS = {"duckdb", "polars"}

MART_TABLES = (
    "engagement", "engagement_by_type", "lead_scores", "lifecycle", "lifecycle_history",
    "contact_segments", "segment_history", "data_hygiene", "retention_risk",
)


def _count(con, table: str, tenants: list[str]) -> int:
    return run(
        con,
        f"SELECT count(*) FROM {table} WHERE tenant_id IN (SELECT unnest($t::VARCHAR[]))",
        {"t": tenants},
    )[0][0]


def _per_tenant(context, con, crm: CrmSettings, label: str, fn: Callable[[str], dict]) -> dict:
    """Run a stage for each active tenant; a tenant's failure is recorded and does not stop others."""
    tenants = pipeline.run_tenants(con, crm.tenant or None)
    pipeline.start_run(con, context.run_id, tenants, crm.as_of_date)
    results = {}
    for t in pipeline.active_tenants(con, context.run_id, tenants):
        report(f"{label}: {t}")
        try:
            results[t] = fn(t)
        except CrmError as exc:
            context.log.error(f"{label} failed for tenant {t}: {exc}")
            pipeline.mark_failed(con, context.run_id, t, f"{label}: {exc}")
        except Exception as exc:  # an internal error: recorded, then re-raised to fail the run
            pipeline.mark_failed(con, context.run_id, t, f"{label}: {exc!r}")
            raise
    return results


def _ingest_landing(context, con, crm: CrmSettings, kind: str) -> dict:
    """Stage files dropped in landing/<tenant>/<kind>/; a refused file is renamed *.refused."""
    home = crm.crm_home
    staged: dict[str, int] = {}
    pattern = "*.csv" if kind == "contacts" else "*.jsonl"
    for path in sorted(home.landing_dir.glob(f"*/{kind}/{pattern}")):
        tenant_id = path.parent.parent.name
        if crm.tenant and tenant_id != crm.tenant:
            continue
        ensure_tenant(con, tenant_id)
        at = datetime.now(UTC).replace(tzinfo=None)
        try:
            if kind == "contacts":
                result = stage_contact_file(con, tenant_id=tenant_id, path=path, at=at,
                                            key=home.key())
            else:
                from crm_pipeline.activities import stage_activity_file

                result = stage_activity_file(con, tenant_id=tenant_id, path=path, at=at)
        except CrmError as exc:
            context.log.error(str(exc))
            path.rename(path.with_name(path.name + ".refused"))
            continue
        staged[path.name] = int(result.get("rows_in") or 0)
        path.unlink()  # the rows are kept in raw.*; no copy of the file stays behind
    return staged


@dg.asset(key=["raw", "contact_rows"], group_name=INGEST, kinds=KINDS)
def raw_contact_rows(context, crm: CrmSettings, duckdb: Warehouse) -> dg.MaterializeResult:
    """Every contact row as imported, from files staged by `crm import` or dropped in landing/."""
    with warehouse(duckdb) as con:
        staged = _ingest_landing(context, con, crm, "contacts")
        tenants = pipeline.run_tenants(con, crm.tenant or None)
        pipeline.start_run(con, context.run_id, tenants, crm.as_of_date)
        rows = _count(con, "raw.contact_rows", tenants)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "landing_files": len(staged)})


@dg.asset(key=["raw", "activity_events"], group_name=INGEST, kinds=KINDS)
def raw_activity_events(context, crm: CrmSettings, duckdb: Warehouse) -> dg.MaterializeResult:
    """Every activity-log line as imported."""
    with warehouse(duckdb) as con:
        staged = _ingest_landing(context, con, crm, "activities")
        tenants = pipeline.run_tenants(con, crm.tenant or None)
        rows = _count(con, "raw.activity_events", tenants)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "landing_files": len(staged)})


@dg.asset(key=["staging", "contact_rows"], group_name=CONTACTS, kinds=KINDS, deps=[raw_contact_rows])
def staging_contact_rows(context, crm: CrmSettings, duckdb: Warehouse) -> dg.MaterializeResult:
    """Contact rows normalized and validated; rows without tenant or identity quarantined."""
    with warehouse(duckdb) as con:
        home = crm.crm_home
        results = _per_tenant(context, con, crm, "normalize",
                              lambda t: pipeline.normalize_stage(con, home, t, context.run_id))
        tenants = pipeline.run_tenants(con, crm.tenant or None)
        rows = _count(con, "staging.contact_rows", tenants)
    quarantined: dict[str, int] = {}
    for by_reason in results.values():
        for k, v in by_reason.items():
            quarantined[k] = quarantined.get(k, 0) + v
    return dg.MaterializeResult(
        metadata={"dagster/row_count": rows, **{f"quarantined/{k}": v for k, v in quarantined.items()}}
    )


@dg.asset(key=["core", "contacts"], group_name=CONTACTS, kinds=KINDS, deps=[staging_contact_rows])
def core_contacts(context, crm: CrmSettings, duckdb: Warehouse) -> dg.MaterializeResult:
    """Golden contacts: one per person per tenant, with sources, aliases and the audit trail."""
    with warehouse(duckdb) as con:
        home = crm.crm_home
        tenants = pipeline.active_tenants(
            con, context.run_id, pipeline.run_tenants(con, crm.tenant or None))
        contexts = pipeline.resolve_contexts(home, tenants, context.run_id)
        with decisions_ahead(con, contexts) as decided:  # the next tenant decided meanwhile
            results = _per_tenant(
                context, con, crm, "resolve",
                lambda t: pipeline.resolve_stage(con, home, t, context.run_id,
                                                 (contexts[t], decided(t))))
        tenants = pipeline.run_tenants(con, crm.tenant or None)
        rows = _count(con, "core.contacts", tenants)
    totals = {k: sum(r[k] for r in results.values()) for k in ("rows_in", "accepted", "merged",
                                                                  "quarantined")}
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, **totals})


@dg.asset(key=["core", "activities"], group_name=ACTIVITIES, kinds=KINDS,
          deps=[raw_activity_events, core_contacts])
def core_activities(context, crm: CrmSettings, duckdb: Warehouse) -> dg.MaterializeResult:
    """Activities linked to golden contacts, in UTC; bad lines quarantined with reason codes."""
    with warehouse(duckdb) as con:
        home = crm.crm_home
        as_of = crm.as_of_date
        results = _per_tenant(context, con, crm, "activities",
                              lambda t: pipeline.activities_stage(con, home, t, context.run_id, as_of))
        tenants = pipeline.run_tenants(con, crm.tenant or None)
        rows = _count(con, "core.activities", tenants)
    totals = {k: sum(int(r.get(k, 0)) for r in results.values())
              for k in ("rows_in", "accepted", "merged", "quarantined")}
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, **totals})


VALUE_TABLES = ("ltv_model", "customer_ltv", "segment_ltv", "revenue_forecast", "forecast_backtest")


@dg.multi_asset(
    specs=[
        *(dg.AssetSpec(["marts", t], group_name=MARTS, kinds=KINDS, deps=[core_activities])
          for t in MART_TABLES),
        *(dg.AssetSpec(["marts", t], group_name=VALUE, kinds=KINDS, deps=[core_activities])
          for t in VALUE_TABLES),
    ],
    name="marts_and_value",
)
def marts_and_value(context, crm: CrmSettings, duckdb: Warehouse):
    """Engagement, lead scores, lifecycle, segments with history, hygiene and retention risk;
    then lifetime value per customer and segment (BG/NBD, Gamma-Gamma), the 12-month revenue
    forecast with 80% bounds, and its back-test. One step: the value computations that do not
    need this run's segments are made while the marts refresh (`pipeline.marts_and_value_stage`)."""
    with warehouse(duckdb) as con:
        as_of = crm.as_of_date
        results = _per_tenant(
            context, con, crm, "marts and value",
            lambda t: pipeline.marts_and_value_stage(con, t, as_of, context.run_id))
        tenants = pipeline.run_tenants(con, crm.tenant or None)
        shares = {f"within_interval/{t}": r["value"]["within_interval_share"]
                  for t, r in results.items()
                  if r["value"].get("within_interval_share") is not None}
        for table in (*MART_TABLES, *VALUE_TABLES):
            metadata = {"dagster/row_count": _count(con, f"marts.{table}", tenants)}
            yield dg.MaterializeResult(
                asset_key=["marts", table],
                metadata={**metadata, **(shares if table == "forecast_backtest" else {})},
            )


@dg.asset(key=["audit", "runs"], group_name=TRUST, kinds=KINDS, deps=[marts_and_value])
def audit_runs(context, crm: CrmSettings, duckdb: Warehouse) -> dg.MaterializeResult:
    """One row per run and tenant: status, as-of date and the row accounting."""
    with warehouse(duckdb) as con:
        home = crm.crm_home
        tenants = pipeline.run_tenants(con, crm.tenant or None)
        pipeline.start_run(con, context.run_id, tenants, crm.as_of_date)
        good = pipeline.active_tenants(con, context.run_id, tenants)
        pipeline.finish_run(con, home, context.run_id, good)
        failed = sorted(set(tenants) - set(good))
        rows = run(con, "SELECT count(*) FROM audit.runs")[0][0]
    if failed:
        raise dg.Failure(description=f"tenants failed in this run: {', '.join(failed)} "
                         "(see audit.runs.message)")
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "tenants": len(good)})


@dg.asset(key=["published", "snapshot"], group_name=TRUST, kinds={"duckdb"}, deps=[audit_runs])
def published_snapshot(context, crm: CrmSettings, duckdb: Warehouse) -> dg.MaterializeResult:
    """The read-only copy analysts query, and one extract per tenant for agents."""
    with warehouse(duckdb) as con:
        home = crm.crm_home
        tenants = pipeline.run_tenants(con, crm.tenant or None)
        try:
            report("publish: snapshot")
            path = publish_snapshot(con, home)
            for t in tenants:
                publish_extract(con, home, t)
        except Exception as exc:  # the run committed, but readers do not see it: it failed
            pipeline.mark_run_failed(con, context.run_id, tenants, crm.as_of_date,
                                     f"publish: {failure_cause(exc)}")
            raise
    return dg.MaterializeResult(metadata={"path": str(path), "extracts": len(tenants)})


def failure_cause(exc: BaseException) -> str:
    """One line saying what went wrong, for audit.runs.message."""
    if isinstance(exc, CrmError):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        name = exc.filename2 or exc.filename  # a rename's target, not the temporary file
        return f"{exc.strerror}: {name}" if name else exc.strerror
    return f"{type(exc).__name__}: {exc}"


ALL_ASSETS = [
    raw_contact_rows, raw_activity_events, staging_contact_rows, core_contacts, core_activities,
    marts_and_value, audit_runs, published_snapshot,
]
