"""Resources: the warehouse (one DuckDBResource) and the run's settings, declared once."""

from __future__ import annotations

from contextlib import contextmanager

import dagster as dg
from dagster_duckdb import DuckDBResource

from crm_pipeline.home import Home
from crm_pipeline.pipeline import parse_as_of
from crm_pipeline.warehouse import create_tables, run


class CrmSettings(dg.ConfigurableResource):
    """Which CRM home, tenant (empty: all) and as-of date (empty: today) a run works on."""

    home: str
    tenant: str = ""
    as_of: str = ""

    @property
    def crm_home(self) -> Home:
        return Home.resolve(self.home)

    @property
    def as_of_date(self):
        return parse_as_of(self.as_of or None)


def resources_for(home: Home, tenant: str | None = None, as_of: str | None = None) -> dict:
    """The resource set of a run: every definition and the CLI build it here."""
    return {
        "crm": CrmSettings(home=str(home.root), tenant=tenant or "", as_of=as_of or ""),
        "duckdb": DuckDBResource(database=str(home.warehouse)),
    }


@contextmanager
def warehouse(resource: DuckDBResource):
    """A warehouse connection in UTC with every table present."""
    with resource.get_connection() as con:
        run(con, "SET TimeZone = 'UTC'")
        create_tables(con)
        yield con
