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
    forecast_periods,
    load_customers,
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

# Each customer's tier (1-based position in $tiers; 0: no account), in contact_id order as the
# customers are loaded (`load_customers`); and the accounts with customers per tier.
_CODES = """
SELECT coalesce(list_position($tiers, v.tier), 0) AS tier
FROM marts.customer_ltv AS c
LEFT JOIN core.contact_accounts AS l USING (tenant_id, contact_id)
LEFT JOIN marts.account_value AS v
  ON v.tenant_id = l.tenant_id AND v.account_id = l.account_id AND v.as_of = $as_of
WHERE c.tenant_id = $tenant_id
ORDER BY c.contact_id
"""
_ACCOUNTS = """
SELECT coalesce(list_position($tiers, v.tier), 0) AS tier,
       count(DISTINCT v.account_id) AS accounts
FROM marts.customer_ltv AS c
JOIN core.contact_accounts AS l USING (tenant_id, contact_id)
JOIN marts.account_value AS v
  ON v.tenant_id = l.tenant_id AND v.account_id = l.account_id AND v.as_of = $as_of
WHERE c.tenant_id = $tenant_id
GROUP BY 1
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
    params = {"tenant_id": tenant_id, "as_of": as_of, "tiers": list(TIERS)}
    codes = frame(con, _CODES, params)["tier"].to_numpy()
    accounts = dict(frame(con, _ACCOUNTS, params).iter_rows())
    names = [*TIERS, NO_ACCOUNT]
    present = [k for k in (1, 2, 3, 0) if (codes == k).any()]
    if not present:
        return pl.DataFrame(schema=BY_TIER_SCHEMA)
    members = [np.flatnonzero(codes == k) for k in present]
    periods = forecast_periods(as_of, months)
    t_ends = np.array([(end - as_of).days - 1 for _, end in periods], dtype=float)
    mean, variance = customer_moments(customers, model.row(0, named=True), t_ends, members)
    sigma = np.sqrt(np.maximum(variance, 0.0))
    blocks = [pl.DataFrame({
        "tier": names[k - 1] if k else NO_ACCOUNT,
        "period_start": [start for start, _ in periods],
        "expected_revenue": mean[:, j],
        "revenue_low": np.maximum(mean[:, j] - Z_80 * sigma[:, j], 0.0),
        "revenue_high": mean[:, j] + Z_80 * sigma[:, j],
        "customers": members[j].size,
        "accounts": accounts.get(k, 0) if k else 0,
    }) for j, k in enumerate(present)]
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

