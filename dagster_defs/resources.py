"""Resources: the warehouse and the run's settings, declared once."""

from __future__ import annotations

import time
from contextlib import contextmanager

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from crm_pipeline.home import Home
from crm_pipeline.pipeline import parse_as_of
from crm_pipeline.warehouse import connect, create_tables, run

OPEN_ATTEMPTS = 10  # another process may hold DuckDB's write lock for a moment (a `crm` command)


class CrmSettings(dg.ConfigurableResource):
    """Which CRM home and as-of date (empty: today) a run works on; the tenant is the run's
    partition. `publish_all`: whether the run also refreshes the all-tenant snapshot (a run of
    every tenant at once refreshes it once, after the last tenant). `report_preview`: whether the
    report's PNG thumbnail is rendered for the asset's page (a browser start, seconds: runs
    launched by Dagster render it, where it is shown; `crm import`'s runs do not)."""

    home: str
    as_of: str = ""
    publish_all: bool = True
    report_preview: bool = True

    @property
    def crm_home(self) -> Home:
        return Home.resolve(self.home)

    @property
    def as_of_date(self):
        return parse_as_of(self.as_of or None)


def resources_for(home: Home, as_of: str | None = None, publish_all: bool = True,
                  report_preview: bool = True) -> dict:
    """The resource set of a run: every definition and the CLI build it here."""
    return {
        "crm": CrmSettings(home=str(home.root), as_of=as_of or "", publish_all=publish_all,
                           report_preview=report_preview),
        "duckdb": Warehouse(home=str(home.root)),
    }


class Warehouse(dg.ConfigurableResource):
    """The tenants' working shards, each opened once per process for the whole execution.

    Each step gets its own cursor of one database instance: opening the file per step would
    re-read its catalog and checkpoint it at every close, and check its tables every time."""

    home: str
    _databases: dict = PrivateAttr(default_factory=dict)

    def teardown_after_execution(self, context) -> None:
        for database in self._databases.values():
            database.close()
        self._databases.clear()

    def shard(self, tenant_id: str) -> duckdb.DuckDBPyConnection:
        """The tenant's shard, opened (and its tables created) on first use."""
        if tenant_id not in self._databases:
            path = Home.resolve(self.home).shard(tenant_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            database = _open(str(path))
            create_tables(database)
            self._databases[tenant_id] = database
        return self._databases[tenant_id]

    @contextmanager
    def get_connection(self, tenant_id: str):
        """A cursor of the tenant's shard, in UTC."""
        con = self.shard(tenant_id).cursor()
        try:
            run(con, "SET TimeZone = 'UTC'")
            yield con
        finally:
            con.close()


def _open(database: str) -> duckdb.DuckDBPyConnection:
    for attempt in range(OPEN_ATTEMPTS - 1):
        try:
            return connect(database)
        except duckdb.IOException as error:  # locked by another process: wait for it, briefly
            if "lock" not in str(error).lower():
                raise  # not a valid database, unreadable...: waiting will not help
            time.sleep(0.1 * 2**min(attempt, 5))
    return connect(database)


@contextmanager
def warehouse(resource: Warehouse, tenant_id: str):
    """A connection to the tenant's shard in UTC with every table present."""
    with resource.get_connection(tenant_id) as con:
        yield con
