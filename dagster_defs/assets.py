"""Assets, grouped by business domain; each is a thin call of a `crm_pipeline` stage.

Every asset is partitioned by tenant: a run materializes one tenant's shard, and one tenant's
failure is its partition's failure. Asset keys mirror `schema/table`, so the name in the UI is the
name in the warehouse.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime

import dagster as dg

from crm_pipeline import pipeline
from crm_pipeline.activities.read import stage_activity_file
from crm_pipeline.contacts.importer import stage_contact_file
from crm_pipeline.errors import CrmError
from crm_pipeline.progress import report
from crm_pipeline.report.files import preview_png
from crm_pipeline.tenants import ensure_tenant
from crm_pipeline.trust.publish import publish_all_tenants, publish_tenant
from crm_pipeline.warehouse import run, table_docs

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
# Who answers for each domain's assets (shown in the UI, filterable): the data platform owns
# getting data in and keeping it trustworthy, revenue operations the marts built on it.
OWNERS = {
    INGEST: ["team:data-platform"], CONTACTS: ["team:data-platform"],
    ACTIVITIES: ["team:data-platform"], ACCOUNTS: ["team:revenue-ops"],
    MARTS: ["team:revenue-ops"], VALUE: ["team:revenue-ops"], TRUST: ["team:data-platform"],
}

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
    suffixes = (".csv", ".xlsx", ".xlsm", ".xls") if kind == "contacts" else (".jsonl",)
    folder = home.landing_dir / tenant_id / kind
    for path in sorted(p for p in folder.glob("*") if p.suffix.lower() in suffixes):
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


def table_metadata(key: list[str]) -> dict:
    """The table's columns (name, type, COMMENT) as Dagster's column schema; none for an asset
    that is not a warehouse table."""
    doc = table_docs().get(tuple(key))
    if doc is None:
        return {}
    columns = [dg.TableColumn(name, dtype.lower(), description=comment or None)
               for name, dtype, comment in doc[1]]
    return {"dagster/column_schema": dg.TableSchema(columns=columns),
            "dagster/table_name": ".".join(key)}


def table_description(key: list[str], fallback: str | None = None) -> str | None:
    """The table's COMMENT (the one description of a table everywhere), else `fallback`."""
    doc = table_docs().get(tuple(key))
    return doc[0] if doc and doc[0] else fallback


def _domain(group: str) -> dict:
    return {"owners": OWNERS[group], "tags": {"domain": group}}


def _asset(key: list[str], group: str, **kwargs):
    def decorate(fn):
        return dg.asset(key=key, group_name=group, kinds=kwargs.pop("kinds", KINDS),
                        partitions_def=tenant_partitions,
                        description=table_description(key, (fn.__doc__ or "").strip() or None),
                        metadata=table_metadata(key), **_domain(group), **kwargs)(fn)
    return decorate


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
                "forecast_accuracy", "forecast_accuracy_summary", "account_value",
                "contact_signals", "revenue_forecast_by_tier")


# What each mart reads (its SQL in sql/models/marts/ and sql/segments/, and crm_pipeline.value),
# so the graph shows the pipeline's story rather than everything hanging off core/activities.
STAGING = ["staging", "contact_rows"]
CONTACT_ROWS = ["core", "contacts"]
ACTIVITY_ROWS = ["core", "activities"]
ACCOUNT_ROWS = ["core", "accounts"]
MART_READS: dict[str, list[list[str]]] = {
    "engagement": [ACTIVITY_ROWS, CONTACT_ROWS],
    "engagement_by_type": [ACTIVITY_ROWS, CONTACT_ROWS],
    "lead_score_model": [ACTIVITY_ROWS, CONTACT_ROWS],
    "lead_scores": [["marts", "engagement"], ["marts", "lead_score_model"], CONTACT_ROWS],
    "lifecycle": [ACTIVITY_ROWS, CONTACT_ROWS],
    "lifecycle_history": [["marts", "lifecycle"]],
    "retention_model": [ACTIVITY_ROWS, CONTACT_ROWS],
    "retention_risk": [["marts", "retention_model"], ["marts", "engagement"], ACTIVITY_ROWS],
    "data_hygiene": [STAGING, CONTACT_ROWS, ["marts", "engagement"]],
    "contact_segments": [["marts", "engagement"], ["marts", "lead_scores"], ["marts", "lifecycle"],
                         ["marts", "retention_risk"], ["marts", "data_hygiene"], CONTACT_ROWS,
                         ACTIVITY_ROWS],
    "segment_history": [["marts", "contact_segments"]],
    "account_engagement": [ACCOUNT_ROWS, ["marts", "engagement"], ["marts", "lifecycle"]],
    "ltv_model": [ACTIVITY_ROWS],
    "customer_ltv": [ACTIVITY_ROWS, ["marts", "ltv_model"]],
    "segment_ltv": [["marts", "customer_ltv"], ["marts", "contact_segments"]],
    "revenue_forecast": [["marts", "customer_ltv"], ["marts", "contact_segments"],
                         ["marts", "segment_history"], ACTIVITY_ROWS],
    "forecast_backtest": [ACTIVITY_ROWS, ["marts", "segment_history"], ["marts", "ltv_model"]],
    "forecast_accuracy": [["marts", "forecast_backtest"]],
    "forecast_accuracy_summary": [["marts", "forecast_accuracy"]],
    "account_value": [["marts", "customer_ltv"], ACCOUNT_ROWS, ACTIVITY_ROWS],
    "contact_signals": [["marts", "account_value"], ACCOUNT_ROWS],
    "revenue_forecast_by_tier": [["marts", "account_value"], ["marts", "customer_ltv"],
                                 ["marts", "ltv_model"], ACCOUNT_ROWS],
}


def _in_reading_order(tables: list[str]) -> list[str]:
    """The marts ordered so each comes after the marts it reads (Dagster wants a multi-asset's
    results in that order)."""
    done: list[str] = []

    def visit(table: str) -> None:
        if table in done:
            return
        for key in MART_READS[table]:
            if key[0] == "marts":
                visit(key[1])
        done.append(table)

    for table in tables:
        visit(table)
    return done


def _mart_spec(table: str, group: str) -> dg.AssetSpec:
    key = ["marts", table]
    return dg.AssetSpec(key, group_name=group, kinds=KINDS, deps=MART_READS[table],
                        description=table_description(key), metadata=table_metadata(key),
                        **_domain(group))


@dg.multi_asset(
    specs=[*(_mart_spec(t, MARTS) for t in MART_TABLES),
           *(_mart_spec(t, VALUE) for t in VALUE_TABLES)],
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
        _stage(context, con, crm, "account value", lambda t: pipeline.account_value_stage(
            con, crm.crm_home, t, context.run_id, as_of))
        share = result["value"].get("within_interval_share")
        for table in _in_reading_order([*MART_TABLES, *VALUE_TABLES]):
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
    """One row per run and tenant: status, as-of date and the row accounting; before it closes,
    the tenant's data retention removes the values of old imports (`pipeline.retention_stage`)."""
    t = context.partition_key
    with warehouse(duckdb, t) as con:
        pipeline.start_run(con, context.run_id, [t], crm.as_of_date)
        if not pipeline.active_tenants(con, context.run_id, [t]):
            raise dg.Failure(description=f"tenant {t} failed in this run (see audit.runs.message)")
        retention = _stage(context, con, crm, "retention", lambda t: pipeline.retention_stage(
            con, crm.crm_home, t, context.run_id, crm.as_of_date))
        pipeline.finish_run(con, crm.crm_home, context.run_id, [t])
        rows = _count(con, "audit.runs", t)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, **retention})


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


@_asset(["published", "report"], TRUST, kinds={"html"}, deps=[published_snapshot])
def published_report(context, crm: CrmSettings, duckdb: Warehouse) -> dg.MaterializeResult:
    """The tenant's self-contained HTML report (published/reports/<T>.html): imports, hygiene,
    segments, lifecycle, engagement, lifetime value, forecast and accounts, charts and tables."""
    t = context.partition_key
    home = crm.crm_home
    with warehouse(duckdb, t) as con:
        try:
            report(f"report: {t}")
            path = pipeline.report_stage(con, home, t)
        except Exception as exc:
            pipeline.mark_run_failed(con, context.run_id, [t], crm.as_of_date,
                                     f"report: {failure_cause(exc)}")
            raise
    metadata = {"path": dg.MetadataValue.path(str(path)), "size_bytes": path.stat().st_size}
    preview = None  # None without a browser (no failure), or when the run renders none
    if crm.report_preview:
        preview = preview_png(path, path.with_suffix(".png"))
    if preview is not None:
        picture = base64.b64encode(preview.read_bytes()).decode("ascii")
        metadata["preview_path"] = dg.MetadataValue.path(str(preview))
        metadata["preview"] = dg.MetadataValue.md(
            f"![The report's first screen](data:image/png;base64,{picture})")
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
    marts_and_value, work_queues, audit_runs, published_snapshot, published_report,
]
