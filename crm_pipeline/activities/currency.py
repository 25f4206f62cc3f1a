"""Converting purchase and refund amounts to a tenant's base currency.

Rates come from `data/reference/currency_rates.csv` (`currency,usd_per_unit,as_of`: US dollars per
unit, one row per ISO 4217 code and date; the latest date of each code is used). Conversion goes
through US dollars. An amount without a currency is taken to be in the base currency; an amount in
a currency with no rate gets no `amount_base` and `unknown_currency = true`, for the activities
stage to quarantine as `unknown_currency`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl

from crm_pipeline.errors import CrmError, RefusedFile
from crm_pipeline.paths import REFERENCE_DIR

RATES_FILE = REFERENCE_DIR / "currency_rates.csv"

RATES_SCHEMA = {"currency": pl.String, "usd_per_unit": pl.Float64, "as_of": pl.Date}


class UnknownBaseCurrency(CrmError):
    """A tenant's base currency has no rate, so nothing can be converted to it."""


@cache
def _read_rates(path: Path) -> pl.DataFrame:
    try:
        raw = pl.read_csv(path, schema_overrides={"currency": pl.String, "as_of": pl.String})
        rates = raw.select(
            pl.col("currency").str.strip_chars().str.to_uppercase(),
            pl.col("usd_per_unit").cast(pl.Float64),
            pl.col("as_of").str.to_date("%Y-%m-%d"),
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise RefusedFile(
            path, f"not a rates file with columns currency,usd_per_unit,as_of ({exc})"
        ) from exc
    bad = rates.filter(
        ~pl.col("currency").str.contains(r"^[A-Z]{3}$")
        | pl.col("usd_per_unit").is_null()
        | ~(pl.col("usd_per_unit") > 0)
        | pl.col("usd_per_unit").is_infinite()
        | pl.col("as_of").is_null()
    )
    if bad.height:
        raise RefusedFile(
            path,
            f"row for {bad['currency'][0]!r} needs a 3-letter code, a positive rate and a date",
        )
    return rates.sort("currency", "as_of").unique("currency", keep="last", maintain_order=True)


def load_rates(path: Path | str | None = None) -> pl.DataFrame:
    """One row per currency: `currency, usd_per_unit, as_of` (the latest rate of each code)."""
    return _read_rates(Path(path) if path is not None else RATES_FILE)


def _rate_of(code: pl.Expr, rates: pl.DataFrame) -> pl.Expr:
    mapping = dict(zip(rates["currency"].to_list(), rates["usd_per_unit"].to_list(), strict=True))
    return code.replace_strict(mapping, default=None, return_dtype=pl.Float64)


def _code(column: str | pl.Expr) -> pl.Expr:
    """Trimmed, upper-case currency code; blank means none."""
    expr = pl.col(column) if isinstance(column, str) else column
    code = expr.cast(pl.String).str.strip_chars().str.to_uppercase()
    return pl.when(code == "").then(None).otherwise(code)


def unknown_currency_expr(currency: str = "currency", rates: pl.DataFrame | None = None) -> pl.Expr:
    """True where a currency is given but has no rate."""
    rates = load_rates() if rates is None else rates
    code = _code(currency)
    return (code.is_not_null() & ~code.is_in(rates["currency"].implode())).alias("unknown_currency")


def amount_base_expr(
    base_currency: str | pl.Expr,
    amount: str = "amount",
    currency: str = "currency",
    rates: pl.DataFrame | None = None,
) -> pl.Expr:
    """`amount` in the base currency (a code, or an expression such as a per-row tenant column)."""
    rates = load_rates() if rates is None else rates
    code = _code(currency)
    base = _code(pl.lit(base_currency) if isinstance(base_currency, str) else base_currency)
    value = pl.col(amount).cast(pl.Float64)
    converted = value * _rate_of(code, rates) / _rate_of(base, rates)
    return (
        pl.when(code.is_null() | (code == base))
        .then(value)
        .otherwise(converted)
        .alias("amount_base")
    )


def convert(
    frame: pl.DataFrame,
    base_currency: str | pl.Expr,
    *,
    amount: str = "amount",
    currency: str = "currency",
    rates: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """`frame` plus `amount_base` (NULL for an unknown currency) and `unknown_currency`."""
    rates = load_rates() if rates is None else rates
    known = set(rates["currency"].to_list())
    if isinstance(base_currency, str):
        bases = [base_currency.strip().upper() or None]
    else:
        bases = frame.select(_code(base_currency).unique().alias("base"))["base"].to_list()
    missing = sorted({b for b in bases if b is None or b not in known}, key=str)
    if missing:
        raise UnknownBaseCurrency(
            f"base currency {missing[0]} has no rate in {RATES_FILE.name}; add it there or set the "
            "tenant's base_currency to a listed ISO 4217 code"
        )
    return frame.with_columns(
        amount_base_expr(base_currency, amount, currency, rates),
        unknown_currency_expr(currency, rates),
    )
