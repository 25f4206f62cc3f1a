"""Running the asset graph in process, as `crm run` does: no daemon, no subprocess per step."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import dagster as dg
from dagster._core.instance.ref import InstanceRef

from crm_pipeline.home import Home

from .definitions import build_definitions
from .storage import in_process_overrides


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    success: bool
    failures: list[str]
    details: list[str] = field(default_factory=list)  # each failure's full error, for a log file


def _root_cause(error) -> str:
    """The innermost error's first line (`ValueError: ...`), not Dagster's wrapper around it."""
    while error.cause is not None:
        error = error.cause
    lines = error.message.strip().splitlines()
    return lines[0] if lines else error.cls_name or "error"


def run_pipeline(home: Home, tenant: str | None = None, as_of: str | None = None) -> RunOutcome:
    """Materialize every asset (and its checks) for the tenant or all tenants, in this process."""
    home.ensure()
    os.environ["DAGSTER_HOME"] = str(home.dagster_home)
    defs = build_definitions(home, tenant, as_of)
    job = defs.resolve_job_def("refresh_everything")
    ref = InstanceRef.from_dir(str(home.dagster_home),
                               overrides=in_process_overrides(home.dagster_home))
    with dg.DagsterInstance.from_ref(ref) as instance:
        result = job.execute_in_process(
            instance=instance, raise_on_error=False,
            # failures are returned (one line each, details apart): nothing on the console
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        )
        failures, details = [], []
        for event in result.all_events:
            if event.is_step_failure:
                data = event.step_failure_data
                error = data.error if data else None
                failures.append(f"{event.step_key}: "
                                f"{_root_cause(error) if error else 'step failed'}")
                if error:
                    details.append(f"step {event.step_key} failed:\n{error.to_string()}")
            elif event.event_type_value == "ASSET_CHECK_EVALUATION":
                evaluation = event.event_specific_data
                if not evaluation.passed:
                    failures.append(f"check {evaluation.check_name} failed on "
                                    f"{evaluation.asset_key.to_user_string()}")
    return RunOutcome(result.run_id, result.success and not failures, failures, details)
