"""The report as one HTML page: Jinja2 templates (templates/), the sections' charts drawn by
the embedded Vega bundle, every number also in a table."""

from __future__ import annotations

from datetime import date

import duckdb
import jinja2

from crm_pipeline.errors import BadArgument
from crm_pipeline.report.bundle import vega_bundle
from crm_pipeline.report.sections import all_sections, overview, rows
from crm_pipeline.tenants import get_tenant
from crm_pipeline.warehouse import utc_now

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("crm_pipeline.report", "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
)


def data_as_of(con: duckdb.DuckDBPyConnection, tenant_id: str) -> date | None:
    """The as-of date of the tenant's latest successful run (None: no run finished yet)."""
    found = rows(con, "as_of", {"t": tenant_id})
    return found[0]["as_of"] if found else None


def report_html(con: duckdb.DuckDBPyConnection, tenant_id: str,
                as_of: date | None = None) -> str:
    """The tenant's report. `as_of` (default: the latest run's) cuts the histories there; it
    may not be after the data's own as-of date, which the current-state sections show."""
    tenant = get_tenant(con, tenant_id)
    latest = data_as_of(con, tenant_id)
    if tenant is None or latest is None:
        raise BadArgument(f"tenant {tenant_id!r} has no finished run to report on: "
                          f"run `crm run --tenant {tenant_id}` first")
    if as_of is not None and as_of > latest:
        raise BadArgument(f"--as-of {as_of} is after tenant {tenant_id!r}'s latest run "
                          f"({latest}): run `crm run --tenant {tenant_id} --as-of {as_of}` first")
    as_of = as_of or latest
    currency = tenant.base_currency
    return _env.get_template("report.html.j2").render(
        tenant_id=tenant_id, tenant_name=tenant.name or tenant_id, as_of=as_of, latest=latest,
        currency=currency, overview=overview(con, tenant_id),
        sections=all_sections(con, tenant_id, as_of, currency),
        generated_at=utc_now().strftime("%Y-%m-%d %H:%M UTC"), vega_bundle=vega_bundle(),
    )
