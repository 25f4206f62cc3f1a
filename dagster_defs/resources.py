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
        "duckdb": Warehouse(database=str(home.warehouse)),
    }


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse, open once per process for the whole execution.

    Each step gets its own cursor of one database instance: opening the file per step would
    re-read its catalog and checkpoint it at every close, and check its tables every time."""

    database: str
    _database: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)

    def setup_for_execution(self, context) -> None:
        self._database = _open(self.database)
        create_tables(self._database)

    def teardown_after_execution(self, context) -> None:
        if self._database is not None:
            self._database.close()
            self._database = None

    @contextmanager
    def get_connection(self):
        """A connection of its own (a cursor of the open database, or the file opened alone)."""
        con = self._database.cursor() if self._database is not None else _open(self.database)
        try:
            if self._database is None:
                create_tables(con)
            run(con, "SET TimeZone = 'UTC'")
            yield con
        finally:
            con.close()


def _open(database: str) -> duckdb.DuckDBPyConnection:
    for attempt in range(OPEN_ATTEMPTS - 1):
        try:
            return connect(database)
        except duckdb.IOException:  # locked by another process: wait for it, briefly
            time.sleep(0.1 * 2**min(attempt, 5))
    return connect(database)


@contextmanager
def warehouse(resource: Warehouse):
    """A warehouse connection in UTC with every table present."""
    with resource.get_connection() as con:
        yield con
