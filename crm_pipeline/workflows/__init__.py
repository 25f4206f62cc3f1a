"""Workflows as work queues: lead nurture, customer onboarding and retention, with steps,
owners, deadlines and exits, computed from the marts and the activity log (docs/warehouse.md,
"Workflows")."""

from crm_pipeline.workflows.definitions import WORKFLOWS, workflow_definitions
from crm_pipeline.workflows.queue import queue_rows
from crm_pipeline.workflows.refresh import refresh_work_queues

__all__ = ["WORKFLOWS", "queue_rows", "refresh_work_queues", "workflow_definitions"]
