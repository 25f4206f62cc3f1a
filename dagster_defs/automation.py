"""Schedules and sensors: a daily refresh, and a run whenever files land in the landing folder."""

from __future__ import annotations

import hashlib

import dagster as dg

from crm_pipeline.home import Home

from .hooks import record_failed_run

# In one process, one step after another: DuckDB admits one writing process per file, so steps in
# processes of their own would queue on its lock (and the warehouse is opened once per run).
everything_job = dg.define_asset_job("refresh_everything", selection=dg.AssetSelection.all(),
                                     executor_def=dg.in_process_executor,
                                     hooks={record_failed_run})

daily_refresh = dg.ScheduleDefinition(
    name="daily_refresh",
    job=everything_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    description="Recompute every mart for today's as-of date (activity windows move with time).",
)


def landing_sensor_for(home: Home) -> dg.SensorDefinition:
    """A sensor that requests a run when new contact or activity files land for any tenant."""

    @dg.sensor(job=everything_job, minimum_interval_seconds=60, name="landing_files")
    def landing_files(context: dg.SensorEvaluationContext):
        files = sorted(
            p for p in home.landing_dir.glob("*/*/*")
            if p.is_file() and p.suffix in (".csv", ".jsonl", ".json", ".txt")
        )
        if not files:
            return dg.SkipReason(f"no files in {home.landing_dir}")
        stamp = "|".join(f"{p}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files)
        yield dg.RunRequest(run_key=hashlib.sha256(stamp.encode()).hexdigest()[:16])

    return landing_files
