"""Each activity line's outcome: accepted, merged (a harmless re-delivery) or quarantined.

The rules are one SQL model (`sql/models/core/activities_validate.sql`) over the parsed and
linked batch; the reference data it needs (activity types, each distinct actor's kind from the
roles registry, the agents' grants, exchange rates) is handed to it as small frames.

A value a later stage cannot hold is refused here, with these documented bounds: amounts below
`MAX_AMOUNT` in absolute value, in their own currency and in the tenant's base currency (money
is summed as DECIMAL(18, 6), which holds less than 10^12); time zone offsets up to
`MAX_OFFSET_MINUTES` either way (+-14:00, the widest real zones); times from `EARLIEST` to
`LATEST` in UTC (what Python, and so every reader, can hold; earlier than 1900 is a typo);
activity ids a string of at most `MAX_ID_LENGTH` characters.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import duckdb
import polars as pl

from crm_pipeline.activities import currency
from crm_pipeline.sql import sql_text
from crm_pipeline.trust.roles import ACTIVITY_TYPES, Roles
from crm_pipeline.warehouse import frame, run

MAX_AMOUNT = 1e12
MAX_OFFSET_MINUTES = 14 * 60
EARLIEST = datetime(1900, 1, 1)
LATEST = datetime(9999, 12, 31, 23, 59, 59, 999999)
MAX_ID_LENGTH = 256


def future_after(as_of: date) -> datetime:
    """Latest acceptable occurred_at (UTC): one day after the end of the as-of date."""
    return datetime.combine(as_of + timedelta(days=2), time())


def rates_to_base(base_currency: str) -> pl.DataFrame:
    """(currency, to_base): what one unit of each known currency is worth in the base currency."""
    rates = currency.load_rates()
    units = rates.select("currency", pl.lit(1.0).alias("amount"))
    converted = currency.convert(units, base_currency.strip().upper())
    return converted.filter(~pl.col("unknown_currency")).select(
        "currency", pl.col("amount_base").alias("to_base")
    )


def check_batch(
    con: duckdb.DuckDBPyConnection,
    *,
    tenant_id: str,
    import_id: str,
    as_of: date,
    base_currency: str,
    roles: Roles,
) -> None:
    """Build `_act_checked`: the parsed, linked batch with outcome, reason_code, reason_detail."""
    frames = {
        "_act_types": pl.DataFrame({"type": list(ACTIVITY_TYPES)}),
        "_act_actors": roles.actors_frame(
            frame(con, "SELECT DISTINCT actor FROM _act_parsed WHERE actor IS NOT NULL")["actor"]
        ),
        "_act_grants": roles.write_grants(),
        "_act_rates": rates_to_base(base_currency),
    }
    for name, data in frames.items():
        con.register(name, data)
    try:
        run(
            con,
            sql_text("models/core/activities_validate"),
            {
                "tenant_id": tenant_id,
                "import_id": import_id,
                "base_currency": base_currency.strip().upper(),
                "future_after": future_after(as_of),
                "as_of": as_of,
                "max_amount": MAX_AMOUNT,
                "max_offset_minutes": MAX_OFFSET_MINUTES,
                "earliest": EARLIEST,
                "latest": LATEST,
                "max_id_length": MAX_ID_LENGTH,
            },
        )
    finally:
        for name in frames:
            con.unregister(name)
