"""Converting amounts to a tenant's base currency with the reference rates."""

import polars as pl
import pytest

from crm_pipeline.activities.currency import (
    UnknownBaseCurrency,
    amount_base_expr,
    convert,
    load_rates,
    unknown_currency_expr,
)
from crm_pipeline.errors import CrmError, RefusedFile


def test_the_reference_file_has_about_thirty_major_currencies_with_positive_rates():
    rates = load_rates()
    assert rates.columns == ["currency", "usd_per_unit", "as_of"]
    assert rates.height >= 30 and rates["currency"].is_unique().all()
    assert {"USD", "EUR", "GBP", "JPY", "CHF", "CNY", "INR", "BRL"} <= set(rates["currency"])
    assert (rates["usd_per_unit"] > 0).all()
    assert rates.filter(pl.col("currency") == "USD")["usd_per_unit"][0] == 1.0


def test_amounts_are_converted_through_dollars_and_unknown_currencies_flagged():
    rates = pl.DataFrame(
        {"currency": ["USD", "EUR", "JPY"], "usd_per_unit": [1.0, 1.1, 0.0065], "as_of": None}
    )
    frame = pl.DataFrame(
        {
            "amount": [10.0, 1000.0, 5.0, 7.0, 3.0, None],
            "currency": ["eur ", "JPY", "EUR", "XYZ", None, "EUR"],
        }
    )
    out = convert(frame, "EUR", rates=rates)
    assert out["amount_base"].to_list()[:3] == pytest.approx([10.0, 1000 * 0.0065 / 1.1, 5.0])
    assert out["amount_base"][3] is None and out["amount_base"][5] is None
    assert out["amount_base"][4] == 3.0  # no currency: already in the base currency
    assert out["unknown_currency"].to_list() == [False, False, False, True, False, False]


def test_each_row_can_have_its_own_base_currency():
    frame = pl.DataFrame(
        {"amount": [100.0, 100.0], "currency": ["USD", "USD"], "base": ["USD", "GBP"]}
    )
    out = convert(frame, pl.col("base"))
    gbp = load_rates().filter(pl.col("currency") == "GBP")["usd_per_unit"][0]
    assert out["amount_base"].to_list() == pytest.approx([100.0, 100.0 / gbp])


def test_the_expressions_work_in_a_lazy_query():
    out = (
        pl.LazyFrame({"amount": [2.0], "currency": ["CHF"]})
        .with_columns(amount_base_expr("CHF"), unknown_currency_expr())
        .collect()
    )
    assert out.row(0) == (2.0, "CHF", 2.0, False)


def test_a_base_currency_without_a_rate_is_refused_with_the_fix():
    with pytest.raises(UnknownBaseCurrency, match="base currency ABC") as raised:
        convert(pl.DataFrame({"amount": [1.0], "currency": ["USD"]}), "ABC")
    assert isinstance(raised.value, CrmError)


def test_a_broken_rates_file_is_refused(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text("currency,usd_per_unit,as_of\nEURO,-1,2024-12-31\n")
    with pytest.raises(RefusedFile, match="rates.csv"):
        load_rates(path)


def test_the_latest_rate_of_a_currency_wins(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text(
        "currency,usd_per_unit,as_of\nEUR,1.2,2023-12-31\neur,1.1,2024-12-31\nUSD,1,2024-12-31\n"
    )
    rates = load_rates(path)
    assert rates.filter(pl.col("currency") == "EUR")["usd_per_unit"].to_list() == [1.1]
