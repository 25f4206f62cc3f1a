"""The small-tenant lifetime value fallback ranks customers by frequency and recency: a loyal,
recent buyer is worth more than a one-time buyer long gone, and each formula is the documented
one."""

from __future__ import annotations

import datetime

import numpy as np
import polars as pl
import pytest

from crm_pipeline.value.ltv.fallback import (
    LIFETIME_DAYS,
    PRIOR_DAYS,
    PRIOR_PURCHASE_DAYS,
    fallback_predictions,
)
from crm_pipeline.value.ltv.model import MODEL_FALLBACK, LtvFallbackWarning, ltv_tables
from crm_pipeline.warehouse import connect, create_tables

AS_OF = datetime.date(2026, 11, 15)


def purchases(rows: list[tuple[str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "tenant_id": "small",
            "activity_id": [f"a{i}" for i in range(len(rows))],
            "contact_id": [r[0] for r in rows],
            "type": "purchase",
            "occurred_at": [datetime.datetime.fromisoformat(r[1]) for r in rows],
            "actor": "pipeline",
            "amount": [r[2] for r in rows],
            "currency": "USD",
            "amount_base": [r[2] for r in rows],
            "content_hash": "h",
            "import_id": "imp",
            "line_number": list(range(1, len(rows) + 1)),
        }
    )


@pytest.fixture
def con():
    con = connect(":memory:")
    create_tables(con)
    return con


def test_a_loyal_recent_customer_outranks_a_one_time_buyer_long_gone(con):
    day = datetime.date(2026, 11, 10)
    loyal = [("loyal", f"{day - datetime.timedelta(days=30 * k)} 10:00", 50.0) for k in range(12)]
    rows = loyal + [
        ("lapsed", "2025-05-19 10:00", 50.0),  # one purchase, 545 days before the as-of date
        ("newcomer", "2026-11-01 10:00", 50.0),  # one purchase, two weeks ago
        ("gone_regular", "2024-01-05 10:00", 50.0), ("gone_regular", "2024-03-05 10:00", 50.0),
        ("gone_regular", "2024-05-05 10:00", 50.0),  # bought every two months, silent since
    ]
    con.register("_p", purchases(rows))
    con.execute("INSERT INTO core.activities BY NAME SELECT * FROM _p")
    with pytest.warns(LtvFallbackWarning):
        model_row, customers = ltv_tables(con, "small", AS_OF, "run-1")
    assert model_row["model"][0] == MODEL_FALLBACK
    by = {r["contact_id"]: r for r in customers.iter_rows(named=True)}
    clv = {k: v["expected_clv_365d"] for k, v in by.items()}
    assert clv["loyal"] > clv["newcomer"] > clv["lapsed"] > 0
    assert clv["loyal"] > clv["gone_regular"]
    alive = {k: v["p_alive"] for k, v in by.items()}
    assert alive["loyal"] > 0.9 and alive["newcomer"] > alive["lapsed"]
    assert alive["gone_regular"] < alive["lapsed"]  # silent for far longer than their rhythm
    assert len(set(clv.values())) == len(clv)  # no longer one value for everyone


def test_the_formulas_are_the_documented_ones():
    x, tx, T = np.array([0.0, 3.0]), np.array([0.0, 300.0]), np.array([545.0, 330.0])
    revenue = np.array([40.0, 400.0])
    rate, value = 0.004, 60.0
    palive, purchases, order_value = fallback_predictions(x, tx, T, revenue, rate, value,
                                                          (90, 365))
    lam = (x + rate * PRIOR_DAYS) / (T + PRIOR_DAYS)
    mu = 1 / LIFETIME_DAYS
    expected_alive = 1 / (1 + mu / (lam + mu) * (np.exp((lam + mu) * (T - tx)) - 1))
    assert palive == pytest.approx(expected_alive)
    assert purchases[365] == pytest.approx(expected_alive * lam / mu * (1 - np.exp(-mu * 365)))
    assert (purchases[90] < purchases[365]).all()
    assert order_value == pytest.approx((revenue + PRIOR_PURCHASE_DAYS * value)
                                        / (x + 1 + PRIOR_PURCHASE_DAYS))


def test_frequency_raises_and_silence_lowers_the_expectation():
    T = np.full(5, 400.0)
    palive, purchases, _ = fallback_predictions(
        np.array([0.0, 2.0, 8.0, 8.0, 8.0]), np.array([0.0, 390.0, 390.0, 200.0, 0.0]) * 1,
        T, np.full(5, 100.0), 0.003, 50.0, (365,))
    e = purchases[365]
    assert e[0] < e[1] < e[2]  # more repeat purchases, the same recency
    assert palive[2] > palive[3] > palive[4]  # the same frequency, longer silences
    assert np.all((palive > 0) & (palive <= 1)) and np.all(np.isfinite(e))


def test_extreme_silences_stay_finite_and_a_tenant_without_repeats_expects_nothing():
    palive, purchases, value = fallback_predictions(
        np.array([50.0, 0.0]), np.array([0.0, 0.0]), np.array([1e6, 10.0]),
        np.array([1e3, 0.0]), 0.0, 0.0, (365,))
    assert np.all(np.isfinite(palive)) and palive[0] == pytest.approx(0.0, abs=1e-12)
    assert purchases[365][1] == 0.0 and np.all(value >= 0)
