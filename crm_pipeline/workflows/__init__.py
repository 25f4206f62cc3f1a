"""Workflows as work queues: lead nurture, customer onboarding and retention, with steps,
owners, deadlines and exits, computed from the marts and the activity log (docs/warehouse.md,
"Workflows"). `refresh.refresh_work_queues` writes them; `queue.queue_rows` reads them."""
