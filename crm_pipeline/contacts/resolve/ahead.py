"""Deciding the next tenant while this one is written.

A tenant's resolution is a decision (reads, then Python and numpy work: mostly one core) followed
by its writes (DuckDB, which releases the GIL). With several tenants, the next tenant's decision is
made on a worker thread, on a cursor of its own, while the current tenant's writes run, so both
cores stay busy. Tenants share no rows, so a decision made while another tenant's transaction is
open is the one that would be made after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

import duckdb

from crm_pipeline.contacts.resolve.decide import Decision, decide
from crm_pipeline.trust.audit import ChangeContext


@contextmanager
def decisions_ahead(
    con: duckdb.DuckDBPyConnection, contexts: dict[str, ChangeContext]
) -> Iterator[Callable[[str], Decision | None]]:
    """A function giving each tenant's decision (raising what deciding raised); asked for a
    tenant, it starts on the tenant after it in `contexts`' order."""
    order = list(contexts)
    cursor = con.cursor()
    pool = ThreadPoolExecutor(1, thread_name_prefix="resolve-ahead")
    futures: dict[str, Future] = {}

    def start(tenant: str) -> None:
        if tenant not in futures:
            futures[tenant] = pool.submit(decide, cursor, contexts[tenant])

    def decision(tenant: str) -> Decision | None:
        start(tenant)
        future = futures.pop(tenant)
        position = order.index(tenant)
        if position + 1 < len(order):
            start(order[position + 1])
        return future.result()

    try:
        yield decision
    finally:
        for future in futures.values():
            future.cancel()
        pool.shutdown(wait=True)
        cursor.close()
