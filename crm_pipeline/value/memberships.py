"""Segment memberships at a date: who is in which segment (`marts.contact_segments`, else rebuilt
from `marts.segment_history`), as positions in a tenant's customer arrays. Lifetime value per
segment, the forecast and its back-test read them the same way."""

from __future__ import annotations

import datetime
from typing import NamedTuple

import duckdb
import numpy as np
import polars as pl

from crm_pipeline.warehouse import frame, run

ALL_SEGMENT = "all"


_SEGMENTS_AT = """
SELECT contact_id, segment FROM marts.contact_segments
WHERE tenant_id = $tenant_id AND as_of = $as_of
"""


_SEGMENTS_FROM_HISTORY = """
SELECT DISTINCT contact_id, segment FROM marts.segment_history
WHERE tenant_id = $tenant_id AND entered_on <= $as_of AND (left_on IS NULL OR left_on > $as_of)
"""


_HAS_SEGMENTS_AT = """
SELECT count(*) FROM marts.contact_segments WHERE tenant_id = $tenant_id AND as_of = $as_of
"""


MEMBER_CUSTOMERS = "forecast_member_customers"  # (contact_id, position), registered


_MEMBER_POSITIONS = """
SELECT CAST(list_position($segments, m.segment) - 1 AS SMALLINT) AS segment, c.position
FROM ({members}) AS m JOIN forecast_member_customers AS c USING (contact_id)
"""


def members_query(con: duckdb.DuckDBPyConnection, tenant_id: str, as_of: datetime.date) -> str:
    """SQL text (parameters $tenant_id, $as_of) of (contact_id, segment) at `as_of`, each pair
    once: `marts.contact_segments` when it holds that date, else rebuilt from the history."""
    params = {"tenant_id": tenant_id, "as_of": as_of}
    return _SEGMENTS_AT if run(con, _HAS_SEGMENTS_AT, params)[0][0] else _SEGMENTS_FROM_HISTORY


def segment_members(
    con: duckdb.DuckDBPyConnection, tenant_id: str, as_of: datetime.date
) -> pl.DataFrame:
    """(contact_id, segment) at `as_of`: `marts.contact_segments`, else rebuilt from the history."""
    params = {"tenant_id": tenant_id, "as_of": as_of}
    members = frame(con, members_query(con, tenant_id, as_of), params)
    return members.cast({"contact_id": pl.String, "segment": pl.String})


def _segment_names(con, members: str, params: dict) -> list[str]:
    names = {r[0] for r in run(con, f"SELECT DISTINCT segment FROM ({members})", params)}
    return [ALL_SEGMENT, *sorted(names - {ALL_SEGMENT})]


class Memberships(NamedTuple):
    """A date's segment names ('all' first, then sorted) and each one's customers as ascending
    positions in the customers' arrays ('all': every customer)."""

    segments: list[str]
    members: list[np.ndarray]


def segment_memberships(
    con: duckdb.DuckDBPyConnection, tenant_id: str, as_of: datetime.date, contact_ids: pl.Series
) -> Memberships:
    """The segments at `as_of` and their members among the customers `contact_ids` (positions
    index `contact_ids`)."""
    params = {"tenant_id": tenant_id, "as_of": as_of}
    members_sql = members_query(con, tenant_id, as_of)
    segments = _segment_names(con, members_sql, params)
    n = len(contact_ids)
    con.register(MEMBER_CUSTOMERS, pl.DataFrame({
        "contact_id": pl.Series(contact_ids, dtype=pl.String),
        "position": np.arange(n, dtype=np.int32),
    }))
    try:
        pairs = frame(con, _MEMBER_POSITIONS.format(members=members_sql),
                      {**params, "segments": segments})
    finally:
        con.unregister(MEMBER_CUSTOMERS)
    member = np.zeros((len(segments), n), dtype=bool)  # sorts the pairs in one pass
    member[pairs["segment"].to_numpy(), pairs["position"].to_numpy()] = True
    return Memberships(
        segments, [np.arange(n), *(np.flatnonzero(member[s]) for s in range(1, len(segments)))]
    )
