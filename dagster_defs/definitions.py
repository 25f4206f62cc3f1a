"""The one `Definitions` object: assets, checks, resources, schedule and sensor."""

from __future__ import annotations

import dagster as dg

from crm_pipeline.home import Home

from .assets import ALL_ASSETS
from .automation import daily_refresh_for, everything_job, landing_sensor_for
from .checks import ALL_CHECKS
from .resources import resources_for


def build_definitions(home: Home | None = None, as_of: str | None = None,
                      publish_all: bool = True, report_preview: bool = True) -> dg.Definitions:
    """Definitions bound to a CRM home (default: --home/$CRM_HOME/./crm_home)."""
    home = home or Home.resolve()
    return dg.Definitions(
        assets=ALL_ASSETS,
        asset_checks=ALL_CHECKS,
        jobs=[everything_job],
        schedules=[daily_refresh_for(home)],
        sensors=[landing_sensor_for(home)],
        resources=resources_for(home, as_of, publish_all, report_preview),
        executor=dg.in_process_executor,  # also for assets materialized from the UI: see automation
    )


defs = build_definitions()
