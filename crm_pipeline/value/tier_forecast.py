"""Revenue forecast by account tier (`marts.revenue_forecast_by_tier`): the customer-level forecast
of `marts.revenue_forecast` (BG/NBD x Gamma-Gamma, `value.forecast`), its customers grouped by
the tier of their account (`marts.account_value` of the same as-of date, through
`core.contact_accounts`) instead of by segment, so a CRO can see what each tier is expected to
bring in month by month.

It runs once the run's accounts are valued (they are tiered from this run's lifetime value), from
this run's `marts.customer_ltv` and `marts.ltv_model` row. Customers without an account are the
row `NO_ACCOUNT`, so the tiers and that row add up to the customers' part of the forecast
(`from_customers` of segment `all`). Leads are left out: a lead's account may have a tier, but
lead conversion is forecast by segment only. The 80% interval counts chance (the Poisson and
Gamma noise of each customer's purchases, `value.forecast.customer_moments`), not the fitted
parameters' uncertainty, so it is narrower than the segment rows' interval.
"""

from __future__ import annotations

import datetime

import duckdb
import numpy as np
import polars as pl

from crm_pipeline.marts.refresh import replace_slice
from crm_pipeline.value.forecast import (
    Z_80,
    customer_moments,
    load_customers,
    forecast_periods,
)
from crm_pipeline.value.money import rounded_money
from crm_pipeline.warehouse import frame

NO_ACCOUNT = "no_account"
TIERS = ("strategic", "key", "standard")  # the accounts' tiers, highest first

BY_TIER_SCHEMA = {
    "tenant_id": pl.String, "tier": pl.String, "period_start": pl.Date,
    "expected_revenue": pl.Float64, "revenue_low": pl.Float64, "revenue_high": pl.Float64,
    "customers": pl.Int64, "accounts": pl.Int64, "as_of": pl.Date,
}

_TIER_OF_CUSTOMERS = """
SELECT l.contact_id, v.tier, v.account_id
FROM core.contact_accounts AS l
JOIN marts.account_value AS v
  ON v.tenant_id = l.tenant_id AND v.account_id = l.account_id AND v.as_of = $as_of
WHERE l.tenant_id = $tenant_id
"""


def tier_forecast_rows(
    con: duckdb.DuckDBPyConnection, tenant_id: str, as_of: datetime.date, run_id: str,
    months: int = 12,
) -> pl.DataFrame:
    """Rows of `marts.revenue_forecast_by_tier` for the run `run_id` at `as_of` (none without
    its `marts.ltv_model` row)."""
    model = frame(con, "SELECT * FROM marts.ltv_model WHERE tenant_id = $t AND run_id = $r",
                  {"t": tenant_id, "r": run_id})
    if model.height == 0:
        return pl.DataFrame(schema=BY_TIER_SCHEMA)
    customers = load_customers(
        con, "(SELECT * FROM marts.customer_ltv WHERE tenant_id = $tenant_id)",
        {"tenant_id": tenant_id})
    links = frame(con, _TIER_OF_CUSTOMERS, {"tenant_id": tenant_id, "as_of": as_of})
    ids = pl.DataFrame({"contact_id": pl.Series(customers["contact_id"], dtype=pl.String)}) \
        .with_row_index("position")
    joined = ids.join(links.cast({"contact_id": pl.String}), on="contact_id", how="left")
    tier = joined["tier"].fill_null(NO_ACCOUNT).to_numpy()
    present = [t for t in (*TIERS, *sorted(set(tier) - {*TIERS, NO_ACCOUNT}), NO_ACCOUNT)
               if (tier == t).any()]
    if not present:
        return pl.DataFrame(schema=BY_TIER_SCHEMA)
    members = [np.flatnonzero(tier == t) for t in present]
    periods = forecast_periods(as_of, months)
    t_ends = np.array([(end - as_of).days - 1 for _, end in periods], dtype=float)
    mean, variance = customer_moments(customers, model.row(0, named=True), t_ends, members)
    sigma = np.sqrt(np.maximum(variance, 0.0))
    accounts = joined.group_by("tier").agg(pl.col("account_id").n_unique().alias("n"))
    account_counts = dict(zip(accounts["tier"].to_list(), accounts["n"].to_list(), strict=True))
    blocks = []
    for j, name in enumerate(present):
        blocks.append(pl.DataFrame({
            "tier": name,
            "period_start": [start for start, _ in periods],
            "expected_revenue": mean[:, j],
            "revenue_low": np.maximum(mean[:, j] - Z_80 * sigma[:, j], 0.0),
            "revenue_high": mean[:, j] + Z_80 * sigma[:, j],
            "customers": members[j].size,
            "accounts": 0 if name == NO_ACCOUNT else account_counts.get(name, 0),
        }))
    return pl.concat(blocks).with_columns(
        pl.lit(tenant_id).alias("tenant_id"), pl.lit(as_of).alias("as_of"),
    ).select(list(BY_TIER_SCHEMA)).cast(BY_TIER_SCHEMA)


def write_tier_forecast(
    con: duckdb.DuckDBPyConnection, tenant_id: str, as_of: datetime.date, run_id: str,
    currency: str,
) -> int:
    """The tenant's `marts.revenue_forecast_by_tier` (money rounded to `currency`'s minor unit);
    the rows written, in the caller's transaction."""
    rows = rounded_money(tier_forecast_rows(con, tenant_id, as_of, run_id), currency)
    replace_slice(con, "marts.revenue_forecast_by_tier", tenant_id, rows)
    return rows.height

