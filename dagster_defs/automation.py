"""Schedules and sensors: a daily refresh of every tenant, and a run of a tenant whenever files
land in its landing folder. Each run is one tenant partition.

Defaults (docs/dagster.md says why): the landing sensor is on, because a file dropped in
landing/<T>/ is a request to import it and nothing else would pick it up; it does nothing while
no file lands. The daily schedule is off until turned on (UI, or `dagster schedule start
daily_refresh`), because each tick moves every tenant's as-of date to the day it runs, which a
demo or a back-dated home must not have done to it behind its owner's back."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import dagster as dg

from crm_pipeline.home import Home
from crm_pipeline.tenants import TENANT_ID

from .hooks import record_failed_run
from .partitions import TENANTS, tenant_partitions

# In one process, one step after another: a run's steps write the same shard, which admits one
# writing process (and the shard is opened once per run). Runs of different tenants go in
# parallel, in processes of their own (the run queue in `deploy/`, or `crm run`'s workers).
everything_job = dg.define_asset_job("refresh_everything", selection=dg.AssetSelection.all(),
                                     executor_def=dg.in_process_executor,
                                     partitions_def=tenant_partitions,
                                     hooks={record_failed_run})


def daily_refresh_for(home: Home) -> dg.ScheduleDefinition:
    """Every tenant's marts recomputed for today's as-of date (activity windows move with time)."""

    @dg.schedule(name="daily_refresh", job=everything_job, cron_schedule="0 2 * * *",
                 execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.STOPPED)
    def daily_refresh(context: dg.ScheduleEvaluationContext):
        tenants = home.tenant_ids()
        day = (context.scheduled_execution_time or datetime.now(UTC)).strftime("%Y-%m-%d")
        if not tenants:
            return dg.SkipReason(f"no tenants in {home.root}")
        known = set(context.instance.get_dynamic_partitions(TENANTS))  # the sensor adds new ones
        return [dg.RunRequest(run_key=f"{t}:{day}", partition_key=t) for t in tenants if t in known]

    return daily_refresh


def landing_sensor_for(home: Home) -> dg.SensorDefinition:
    """A sensor that registers new tenants and requests a run of each tenant with new files."""

    @dg.sensor(job=everything_job, minimum_interval_seconds=60, name="landing_files",
               default_status=dg.DefaultSensorStatus.RUNNING)
    def landing_files(context: dg.SensorEvaluationContext):
        by_tenant: dict[str, list] = {}
        for p in home.landing_dir.glob("*/*/*"):
            if p.is_file() and p.suffix.lower() in (".csv", ".xlsx", ".xlsm", ".xls", ".jsonl", ".json", ".txt"):
                tenant = p.parent.parent.name
                if TENANT_ID.match(tenant):
                    by_tenant.setdefault(tenant, []).append(p)
                else:
                    context.log.warning(f"{p}: {tenant!r} is not a valid tenant id; left alone")
        known = set(context.instance.get_dynamic_partitions(TENANTS))
        tenants = set(home.tenant_ids()) | set(by_tenant)
        new = sorted(t for t in tenants if t not in known)
        requests = []
        for t, files in sorted(by_tenant.items()):
            stamp = "|".join(f"{p}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in sorted(files))
            requests.append(dg.RunRequest(run_key=hashlib.sha256(stamp.encode()).hexdigest()[:16],
                                          partition_key=t))
        if not requests and not new:
            return dg.SkipReason(f"no files in {home.landing_dir}")
        return dg.SensorResult(
            run_requests=requests,
            dynamic_partitions_requests=[tenant_partitions.build_add_request(new)] if new else [],
        )

    return landing_files
