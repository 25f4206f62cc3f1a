"""Running the asset graph as `crm run` does: each tenant partition a run of its own, executed in
process (no daemon, no subprocess per step); several tenants' runs side by side in worker
processes, at most one per core."""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date

import dagster as dg

from crm_pipeline import pipeline
from crm_pipeline.home import Home
from crm_pipeline.trust.locking import short_lock, write_lock
from crm_pipeline.trust.publish import publish_all_tenants
from crm_pipeline.warehouse import connect

from .assets import failure_cause
from .dagster_private import InstanceRef, read_migrations_once
from .definitions import build_definitions
from .partitions import register_tenants
from .storage import in_process_overrides


@dataclass(frozen=True)
class RunOutcome:
    run_ids: dict[str, str] = field(default_factory=dict)  # tenant -> Dagster run id
    failures: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # each failure's full error, for a log file

    @property
    def success(self) -> bool:
        return not self.failures

    @property
    def run_id(self) -> str:
        return ", ".join(self.run_ids.values())


def _root_cause(error) -> str:
    """The innermost error's first line (`ValueError: ...`), not Dagster's wrapper around it."""
    while error.cause is not None:
        error = error.cause
    lines = error.message.strip().splitlines()
    return lines[0] if lines else error.cls_name or "error"


def _instance(home: Home) -> AbstractContextManager[dg.DagsterInstance]:
    """The home's Dagster instance, kept open for the next run of the same home in this process
    (a process that runs often, the side-by-side workers or a test session, builds it once
    instead of at every run: about half a second each). Its storage is created (tables,
    migration stamps) under a lock: two first runs of different tenants started together would
    otherwise both create it."""
    read_migrations_once()
    os.environ["DAGSTER_HOME"] = str(home.dagster_home)
    home.dagster_home.mkdir(parents=True, exist_ok=True)
    key = _storage_identity(home)
    with _OPEN_LOCK:
        instance = _OPEN.pop(key, None)
        if instance is None:
            with short_lock(home.dagster_home / "storage.lock"):
                ref = InstanceRef.from_dir(str(home.dagster_home),
                                           overrides=in_process_overrides(home.dagster_home))
                instance = dg.DagsterInstance.from_ref(ref)
                instance.run_storage  # noqa: B018 (created now, under the lock)
                instance.event_log_storage  # noqa: B018
                instance.schedule_storage  # noqa: B018
            key = _storage_identity(home)  # the files exist now
        _OPEN[key] = instance
        while len(_OPEN) > KEPT_INSTANCES:
            _OPEN.popitem(last=False)[1].dispose()
    return nullcontext(instance)


KEPT_INSTANCES = 4
_OPEN: OrderedDict[tuple, dg.DagsterInstance] = OrderedDict()
_OPEN_LOCK = threading.Lock()


def _storage_identity(home: Home) -> tuple:
    """What makes an open instance still the home's: the same files (a home deleted and made
    again at the same path is another) and the same settings."""
    def stat(path) -> tuple:
        try:
            found = os.stat(path)
        except OSError:
            return ()
        return (found.st_dev, found.st_ino, found.st_mtime_ns)

    root = home.dagster_home
    return (str(root), stat(root)[:2], stat(root / "dagster.yaml"),
            stat(root / "history" / "runs.db")[:2])


@atexit.register
def _close_instances() -> None:
    with _OPEN_LOCK:
        while _OPEN:
            _OPEN.popitem()[1].dispose()


def run_pipeline(home: Home, tenant: str | None = None, as_of: str | None = None,
                 workers: int | None = None, lock: bool = True,
                 report_preview: bool = True) -> RunOutcome:
    """Materialize every asset (and its checks) for the tenant, or for every tenant: one run per
    tenant partition, side by side in worker processes; then the all-tenant snapshot, once.
    `lock`: each run takes its tenant's write lock (False: the caller holds it).
    `report_preview`: whether each run renders its report's PNG thumbnail."""
    home.ensure()
    with _instance(home) as instance:
        tenants = [tenant] if tenant else register_tenants(instance, home)
        if tenant:
            if not instance.has_dynamic_partition("tenants", tenant):
                instance.add_dynamic_partitions("tenants", [tenant])
        if len(tenants) <= 1:  # in this process, on the same instance
            outcomes = [run_tenant(home, t, as_of, True, lock, instance, report_preview)
                        for t in tenants]
    if len(tenants) > 1:
        outcomes = _run_side_by_side(home, tenants, as_of, workers or worker_count(len(tenants)),
                                     report_preview)
        try:
            publish_all_tenants(home)
        except Exception as error:  # each tenant's run did not reach the analysts: it failed
            outcomes.append(_record_publish_failure(home, outcomes, as_of, error))
    run_ids, failures, details = {}, [], []
    for outcome in outcomes:
        run_ids.update(outcome.run_ids)
        failures.extend(outcome.failures)
        details.extend(outcome.details)
    return RunOutcome(run_ids, failures, details)


def _record_publish_failure(home: Home, outcomes: list[RunOutcome], as_of: str | None,
                            error: Exception) -> RunOutcome:
    """Each tenant's run recorded as failed when the all-tenant snapshot could not be written
    (its rows are in its own extract, not where the analysts read them)."""
    cause = f"publish: {failure_cause(error)}"
    day = date.fromisoformat(as_of) if as_of else date.today()
    for outcome in outcomes:
        for tenant, run_id in outcome.run_ids.items():
            with write_lock(home, tenant):
                con = connect(home.shard(tenant))
                try:
                    pipeline.mark_run_failed(con, run_id, [tenant], day, cause)
                finally:
                    con.close()
    return RunOutcome(failures=[cause], details=[f"all-tenant snapshot failed: {error!r}"])


def worker_count(tenants: int) -> int:
    """One worker per core (DuckDB uses more than one core per run only in parts), at most one per
    tenant."""
    return max(1, min(tenants, os.cpu_count() or 1))


def _run_side_by_side(home: Home, tenants: list[str], as_of: str | None,
                      workers: int, report_preview: bool = True) -> list[RunOutcome]:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["dagster_defs.launch"])
    env = {"CRM_DUCKDB_MEMORY_LIMIT": os.environ.get("CRM_DUCKDB_MEMORY_LIMIT")
           or _share_of_memory(workers)}
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_set_environment,
                             initargs=(env,)) as pool:
        futures = [pool.submit(run_tenant, home, t, as_of, False, True, None, report_preview)
                   for t in tenants]
        return [f.result() for f in futures]


def _set_environment(env: dict[str, str]) -> None:
    os.environ.update(env)


def _share_of_memory(workers: int) -> str:
    """DuckDB's default cap is 80% of the machine per process: side by side, each worker gets
    its share of that, so that together they never ask for more than one run alone would."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return "4GB"
    return f"{max(256, int(total * 0.8 / workers / 2**20))}MiB"


def run_tenant(home: Home, tenant: str, as_of: str | None = None, publish_all: bool = True,
               lock: bool = True, instance: dg.DagsterInstance | None = None,
               report_preview: bool = True) -> RunOutcome:
    """One tenant partition's run, in this process, holding the tenant's write lock (unless the
    caller holds it), on the given Dagster instance (or the home's, opened for it)."""
    if lock:
        with write_lock(home, tenant):
            return run_tenant(home, tenant, as_of, publish_all, False, instance, report_preview)
    if instance is None:
        with _instance(home) as opened:
            return run_tenant(home, tenant, as_of, publish_all, False, opened, report_preview)
    defs = build_definitions(home, as_of, publish_all, report_preview)
    job = defs.resolve_job_def("refresh_everything")
    result = job.execute_in_process(
        instance=instance, raise_on_error=False, partition_key=tenant,
        # failures are returned (one line each, details apart): nothing on the console
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
    )
    failures, details = [], []
    for event in result.all_events:
        if event.is_step_failure:
            data = event.step_failure_data
            error = data.error if data else None
            failures.append(f"{tenant}: {event.step_key}: "
                            f"{_root_cause(error) if error else 'step failed'}")
            if error:
                details.append(f"tenant {tenant}, step {event.step_key} failed:\n"
                               f"{error.to_string()}")
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                failures.append(f"{tenant}: check {evaluation.check_name} failed on "
                                f"{evaluation.asset_key.to_user_string()}")
    if not result.success and not failures:
        failures.append(f"{tenant}: run {result.run_id} failed")
    return RunOutcome({tenant: result.run_id}, failures, details)
