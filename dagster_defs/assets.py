"""Assets, grouped by business domain; each is a thin call of a `crm_pipeline` stage.

Every asset is partitioned by tenant: a run materializes one tenant's shard, and one tenant's
failure is its partition's failure. Asset keys mirror `schema/table`, so the name in the UI is the
name in the warehouse.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import dagster as dg

from crm_pipeline import pipeline
from crm_pipeline.activities.read import stage_activity_file
from crm_pipeline.contacts.importer import stage_contact_file
from crm_pipeline.errors import CrmError
from crm_pipeline.progress import report
from crm_pipeline.tenants import ensure_tenant
from crm_pipeline.trust.publish import publish_all_tenants, publish_tenant
from crm_pipeline.warehouse import run

from .partitions import tenant_partitions
from .resources import CrmSettings, Warehouse, warehouse

INGEST = "ingest"
CONTACTS = "contacts"
ACCOUNTS = "accounts"
ACTIVITIES = "activities"
MARTS = "marts"
VALUE = "value"
TRUST = "trust"
KINDS = {"duckdb", "polars"}

MART_TABLES = (
    "engagement", "engagement_by_type", "lead_scores", "lifecycle", "lifecycle_history",
    "contact_segments", "segment_history", "data_hygiene", "retention_risk",
    "lead_score_model", "retention_model", "account_engagement",
)
# The learned models' tables report which score is in use and its held-out AUC as metadata.
MODEL_METADATA = {
    "lead_score_model": "SELECT score_method, auc_learned, auc_rule, retrained",
    "retention_model": "SELECT churn_method, auc_learned, auc_declining, retrained",
}


def _count(con, table: str, tenant_id: str) -> int:
    return run(con, f"SELECT count(*) FROM {table} WHERE tenant_id = $t", {"t": tenant_id})[0][0]


def _stage(context, con, crm: CrmSettings, label: str, fn: Callable[[str], dict]) -> dict:
    """Run a stage for the run's tenant; a refusal (CrmError) is recorded in audit.runs and fails
    the partition with one line, an internal error is recorded and re-raised."""
    t = context.partition_key
    pipeline.start_run(con, context.run_id, [t], crm.as_of_date)
    report(f"{label}: {t}")
    try:
        return fn(t)
    except CrmError as exc:
        pipeline.mark_failed(con, context.run_id, t, f"{label}: {exc}")
        raise dg.Failure(description=f"{label} failed for tenant {t}: {exc}") from None
    except Exception as exc:
        pipeline.mark_failed(con, context.run_id, t, f"{label}: {exc!r}")
        raise


def _ingest_landing(context, con, crm: CrmSettings, kind: str) -> dict:
    """Stage files dropped in landing/<tenant>/<kind>/; a refused file is renamed *.refused."""
    home = crm.crm_home
    tenant_id = context.partition_key
    staged: dict[str, int] = {}
    pattern = "*.csv" if kind == "contacts" else "*.jsonl"
    for path in sorted((home.landing_dir / tenant_id / kind).glob(pattern)):
        ensure_tenant(con, tenant_id)
        at = datetime.now(UTC).replace(tzinfo=None)
        try:
            if kind == "contacts":
                result = stage_contact_file(con, tenant_id=tenant_id, path=path, at=at,
                                            key=home.key())
            else:
                result = stage_activity_file(con, tenant_id=tenant_id, path=path, at=at)
        except CrmError as exc:
            context.log.error(str(exc))
            path.rename(path.with_name(path.name + ".refused"))
            continue
        staged[path.name] = int(result.get("rows_in") or 0)
        path.unlink()  # the rows are kept in raw.*; no copy of the file stays behind
    return staged


def _asset(key: list[str], group: str, **kwargs):
    return dg.asset(key=key, group_name=group, kinds=kwargs.pop("kinds", KINDS),
                    partitions_def=tenant_partitions, **kwargs)


@_asset(["raw", "contact_rows"], INGEST)
def raw_contact_rows(context, crm: CrmSettings, duckdb: Warehouse) -> dg.MaterializeResult:
    """Every contact row as imported, from files staged by `crm import` or dropped in landing/."""
    t = context.partition_key
    with warehouse(duckdb, t) as con:
        staged = _ingest_landing(context, con, crm, "contacts")
        ensure_tenant(con, t)
        pipeline.start_run(con, context.run_id, [t], crm.as_of_date)
        rows = _count(con, "raw.contact_rows", t)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "landing_files": len(staged)})


@_asset(["raw", "activity_events"], INGEST)
def raw_activity_events(context, crm: CrmSettings, duckdb: Warehouse) -> dg.MaterializeResult:
    """Every activity-log line as imported."""
    t = context.partition_key
    with warehouse(duckdb, t) as con:
        staged = _ingest_landing(context, con, crm, "activities")
        rows = _count(con, "raw.activity_events", t)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "landing_files": len(staged)})


@_asset(["staging", "contact_rows"], CONTACTS, deps=[raw_contact_rows])
def staging_contact_rows(context, crm: CrmSettings, duckdb: Warehouse) -> dg.MaterializeResult:
    """Contact rows normalized and validated; rows without tenant or identity quarantined."""
    t = context.partition_key
    with warehouse(duckdb, t) as con:
        home = crm.crm_home
        quarantined = _stage(context, con, crm, "normalize",
                             lambda t: pipeline.normalize_stage(con, home, t, context.run_id))
        rows = _count(con, "staging.contact_rows", t)
    return dg.MaterializeResult(
        metadata={"dagster/row_count": rows, **{f"quarantined/{k}": v for k, v in quarantined.items()}}
    )


@_asset(["core", "contacts"], CONTACTS, deps=[staging_contact_rows])
def core_contacts(context, crm: CrmSettings, duckdb: Warehouse) -> dg.MaterializeResult:
    """Golden contacts: one per person per tenant, with sources, aliases and the audit trail."""
    t = context.partition_key
    with warehouse(duckdb, t) as con:
        home = crm.crm_home
        totals = _stage(context, con, crm, "resolve",
                        lambda t: pipeline.resolve_stage(con, home, t, context.run_id))
        totals |= _stage(context, con, crm, "changes",
                         lambda t: pipeline.landing_changes_stage(con, home, t))
        rows = _count(con, "core.contacts", t)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, **totals})


@_asset(["core", "accounts"], ACCOUNTS, deps=[core_contacts])
def core_accounts(context, crm: CrmSettings, duckdb: Warehouse) -> dg.MaterializeResult:
    """Companies resolved from the contacts' e-mail domains and names, and each contact's link."""
    t = context.partition_key
    with warehouse(duckdb, t) as con:
        home = crm.crm_home
        counts = _stage(context, con, crm, "accounts",
                        lambda t: pipeline.accounts_stage(con, home, t, context.run_id))
    return dg.MaterializeResult(metadata={"dagster/row_count": counts["accounts"], **counts})


@_asset(["core", "activities"], ACTIVITIES, deps=[raw_activity_events, core_contacts])
def core_activities(context, crm: CrmSettings, duckdb: Warehouse) -> dg.MaterializeResult:
    """Activities linked to golden contacts, in UTC; bad lines quarantined with reason codes."""
    t = context.partition_key
    with warehouse(duckdb, t) as con:
        home = crm.crm_home
        as_of = crm.as_of_date
        result = _stage(context, con, crm, "activities",
                        lambda t: pipeline.activities_stage(con, home, t, context.run_id, as_of))
        rows = _count(con, "core.activities", t)
    totals = {k: int(result.get(k, 0)) for k in ("rows_in", "accepted", "merged", "quarantined")}
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, **totals})


VALUE_TABLES = ("ltv_model", "customer_ltv", "segment_ltv", "revenue_forecast", "forecast_backtest",
                "forecast_accuracy", "forecast_accuracy_summary")


@dg.multi_asset(
    specs=[
        *(dg.AssetSpec(["marts", t], group_name=MARTS, kinds=KINDS,
                       deps=[core_activities, core_accounts])
          for t in MART_TABLES),
        *(dg.AssetSpec(["marts", t], group_name=VALUE, kinds=KINDS, deps=[core_activities])
          for t in VALUE_TABLES),
    ],
    name="marts_and_value",
    partitions_def=tenant_partitions,
)
def marts_and_value(context, crm: CrmSettings, duckdb: Warehouse):
    """Engagement, lead scores (learned where the tenant's history allows), lifecycle, segments
    with history, hygiene and retention risk, with the learned models' tables;
    then lifetime value per customer and segment (BG/NBD, Gamma-Gamma), the 12-month revenue
    forecast with 80% bounds, and its back-test. One step: the value computations that do not
    need this run's segments are made while the marts refresh (`pipeline.marts_and_value_stage`)."""
    t = context.partition_key
    with warehouse(duckdb, t) as con:
        as_of = crm.as_of_date
        result = _stage(context, con, crm, "marts and value",
                        lambda t: pipeline.marts_and_value_stage(con, t, as_of, context.run_id))
        share = result["value"].get("within_interval_share")
        for table in (*MART_TABLES, *VALUE_TABLES):
            metadata = {"dagster/row_count": _count(con, f"marts.{table}", t)}
            if table == "forecast_backtest" and share is not None:
                metadata["within_interval_share"] = share
            if table == "forecast_accuracy_summary":  # method, six-month WAPE, coverage
                metadata.update({k: v for k, v in result["value"].get("accuracy", {}).items()
                                 if v is not None})
            if table in MODEL_METADATA:
                metadata.update(_model_metadata(con, table, t, context.run_id))
            yield dg.MaterializeResult(asset_key=["marts", table], metadata=metadata)


def _model_metadata(con, table: str, tenant_id: str, run_id: str) -> dict:
    """The run's method and held-out AUCs of a learned model's table (none: not written)."""
    rows = run(con, f"{MODEL_METADATA[table]} FROM marts.{table} "
                    "WHERE tenant_id = $t AND run_id = $r", {"t": tenant_id, "r": run_id})
    names = MODEL_METADATA[table].removeprefix("SELECT ").split(", ")
    return {k: v for k, v in zip(names, rows[0], strict=True) if v is not None} if rows else {}


WORK_QUEUE_TABLES = ("work_queue", "work_queue_history", "work_queue_steps", "workflow_eligibility",
                     "workflow_performance")


@dg.multi_asset(
    specs=[dg.AssetSpec(["marts", t], group_name=MARTS, kinds=KINDS, deps=[marts_and_value])
           for t in WORK_QUEUE_TABLES],
    name="work_queues",
    partitions_def=tenant_partitions,
)
def work_queues(context, crm: CrmSettings, duckdb: Warehouse):
    """Lead nurture, onboarding and retention as work queues: who is at which step, owned by
    whom, due when; every enrollment with its exit, each step's evidence, and the workflows'
    performance (`pipeline.work_queue_stage`)."""
    t = context.partition_key
    with warehouse(duckdb, t) as con:
        as_of = crm.as_of_date
        result = _stage(context, con, crm, "work queues",
                        lambda t: pipeline.work_queue_stage(con, crm.crm_home, t, as_of))
        for table in WORK_QUEUE_TABLES:
            metadata = {"dagster/row_count": _count(con, f"marts.{table}", t)}
            if table == "work_queue":
                metadata.update({k: v for k, v in result.items() if k.startswith("queue.")})
            yield dg.MaterializeResult(asset_key=["marts", table], metadata=metadata)


@_asset(["audit", "runs"], TRUST, deps=[marts_and_value, work_queues])
def audit_runs(context, crm: CrmSettings, duckdb: Warehouse) -> dg.MaterializeResult:
    """One row per run and tenant: status, as-of date and the row accounting."""
    t = context.partition_key
    with warehouse(duckdb, t) as con:
        pipeline.start_run(con, context.run_id, [t], crm.as_of_date)
        if not pipeline.active_tenants(con, context.run_id, [t]):
            raise dg.Failure(description=f"tenant {t} failed in this run (see audit.runs.message)")
        pipeline.finish_run(con, crm.crm_home, context.run_id, [t])
        rows = _count(con, "audit.runs", t)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})


@_asset(["published", "snapshot"], TRUST, kinds={"duckdb"}, deps=[audit_runs])
def published_snapshot(context, crm: CrmSettings, duckdb: Warehouse) -> dg.MaterializeResult:
    """The tenant's read-only snapshot (its extract, for agents), and the analysts' all-tenant
    snapshot refreshed with it."""
    t = context.partition_key
    home = crm.crm_home
    with warehouse(duckdb, t) as con:
        try:
            report(f"publish: {t}")
            metadata = {"path": str(publish_tenant(con, home, t))}
            if crm.publish_all:
                metadata["all_tenants"] = str(publish_all_tenants(home))
        except Exception as exc:  # the run committed, but readers do not see it: it failed
            pipeline.mark_run_failed(con, context.run_id, [t], crm.as_of_date,
                                     f"publish: {failure_cause(exc)}")
            raise
    return dg.MaterializeResult(metadata=metadata)


def failure_cause(exc: BaseException) -> str:
    """One line saying what went wrong, for audit.runs.message."""
    if isinstance(exc, CrmError):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        name = exc.filename2 or exc.filename  # a rename's target, not the temporary file
        return f"{exc.strerror}: {name}" if name else exc.strerror
    return f"{type(exc).__name__}: {exc}"


ALL_ASSETS = [
    raw_contact_rows, raw_activity_events, staging_contact_rows, core_contacts, core_accounts,
    core_activities,
    marts_and_value, work_queues, audit_runs, published_snapshot,
]
