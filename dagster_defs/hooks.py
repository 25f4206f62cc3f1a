"""Recording a failed run in audit.runs, whichever step failed.

A stage records its own tenant's failure (`pipeline.mark_failed`), and publishing its own; this
hook covers every other step (a blocking check, a stage's internal error, a step that failed
before the run recorded its start), so no run that failed stays `running` or `success`.
"""

from __future__ import annotations

import dagster as dg

from crm_pipeline import pipeline

from .assets import failure_cause
from .dagster_private import PARTITION_NAME_TAG
from .resources import warehouse


@dg.failure_hook(required_resource_keys={"crm", "duckdb"})
def record_failed_run(context: dg.HookContext) -> None:
    """Mark the run's audit.runs rows failed, naming the step and the cause."""
    crm = context.resources.crm
    exc = context.op_exception
    if isinstance(exc, dg.Failure):
        cause = exc.description or "failed"
    else:
        cause = failure_cause(exc) if exc is not None else "failed"
    try:
        run = context.instance.get_run_by_id(context.run_id)
        tenant = run.tags.get(PARTITION_NAME_TAG) if run else None
        if tenant is None:
            return  # not a tenant partition's run: no audit.runs row to close
        with warehouse(context.resources.duckdb, tenant) as con:
            pipeline.mark_run_failed(con, context.run_id, [tenant], crm.as_of_date,
                                     f"{context.step_key}: {cause}")
    except Exception as error:  # the step's own failure is what the run reports
        context.log.error(f"could not record the failed run in audit.runs: {error}")
