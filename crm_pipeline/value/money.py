"""Money in the marts' totals, rounded to the currency's minor unit (cents; none for yen; mils
for dinars).

The models compute in floating point; what the value marts report as totals is money, so their
money columns are rounded to the number of decimals ISO 4217 gives the tenant's base currency
when they are written (2 unless listed here). Per-customer estimates (`marts.customer_ltv`) are
left unrounded: every total is computed from them, and rounding a million of them first would
make the totals drift; nor are the back-test's rows (`marts.forecast_backtest`), which the next
run reads back and reuses as they are. Rounding is monotone, so an interval's low <= expected <= high holds after
it as before; ratios and probabilities are not money and keep their precision.
"""

from __future__ import annotations

import polars as pl

# ISO 4217 currencies whose minor unit is not 1/100.
MINOR_UNIT_DIGITS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX",
                     "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    "CLF": 4, "UYW": 4,
}
MONEY_COLUMNS = (
    "avg_order_value", "historical_revenue", "expected_clv_365d", "mean_clv_365d",
    "expected_revenue", "revenue_low", "revenue_high", "revenue_low_50", "revenue_high_50",
    "from_customers", "from_leads", "from_new_customers", "booked_revenue", "model_revenue",
    "actual_revenue", "error", "from_large_customers", "from_subscriptions",
)


def minor_unit_digits(currency: str) -> int:
    """Decimals of the currency's minor unit (2 for USD, EUR, GBP; 0 for JPY)."""
    return MINOR_UNIT_DIGITS.get(currency.strip().upper(), 2)


def rounded_money(frame: pl.DataFrame, currency: str) -> pl.DataFrame:
    """The frame with its money columns (those of `MONEY_COLUMNS` it has) rounded to the
    currency's minor unit."""
    digits = minor_unit_digits(currency)
    present = [c for c in MONEY_COLUMNS if c in frame.columns]
    return frame.with_columns(pl.col(c).round(digits) for c in present) if present else frame
