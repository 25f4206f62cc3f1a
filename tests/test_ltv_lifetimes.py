"""Agreement with lifetimes' maximum-likelihood fits on the same data (test-only dependency)."""

import datetime
import warnings

import numpy as np
import pandas as pd
import pytest

from crm_pipeline.value.ltv.bgnbd import (
    BgNbdParams,
    expected_purchases,
    fit_bgnbd,
    p_alive,
    simulate,
)
from crm_pipeline.value.ltv.gamma_gamma import (
    GammaGammaParams,
    expected_order_value,
    fit_gamma_gamma,
    fit_mask,
    simulate_average_spend,
)
from crm_pipeline.value.ltv.model import ltv_tables
from crm_pipeline.warehouse import connect, create_tables

lifetimes = pytest.importorskip("lifetimes")

RTOL = 5e-3  # the brief: within 0.5%


@pytest.fixture(scope="module")
def customers():
    rng = np.random.default_rng(11)
    T = np.floor(rng.uniform(60, 730, 4000))
    x, tx = simulate(BgNbdParams(0.7, 30.0, 0.8, 3.5), T, rng)
    m = simulate_average_spend(GammaGammaParams(5.0, 3.5, 20.0), x, rng)
    return x, np.floor(tx), T, np.where(x > 0, m, 0.0)


def lifetimes_fits(x, tx, T, m):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bgf = lifetimes.BetaGeoFitter().fit(x, tx, T)
        keep = fit_mask(x, m)
        ggf = lifetimes.GammaGammaFitter().fit(x[keep], m[keep])
    return bgf, ggf


def test_fitted_parameters_and_predictions_match_lifetimes(customers):
    x, tx, T, m = customers
    bgf, ggf = lifetimes_fits(x, tx, T, m)
    ours = fit_bgnbd(x, tx, T).params
    keep = fit_mask(x, m)
    ours_gg = fit_gamma_gamma(x[keep], m[keep]).params
    for name in ("r", "alpha", "a", "b"):
        assert getattr(ours, name) == pytest.approx(bgf.params_[name], rel=RTOL), name
    for name in ("p", "q", "v"):
        assert getattr(ours_gg, name) == pytest.approx(ggf.params_[name], rel=RTOL), name

    np.testing.assert_allclose(
        p_alive(ours, x, tx, T), bgf.conditional_probability_alive(x, tx, T), rtol=RTOL
    )
    for t in (90, 365):
        theirs = bgf.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T)
        np.testing.assert_allclose(expected_purchases(ours, t, x, tx, T), theirs, rtol=RTOL)
    np.testing.assert_allclose(
        expected_order_value(ours_gg, x[keep | (x == 0)], m[keep | (x == 0)]),
        ggf.conditional_expected_average_profit(x[keep | (x == 0)], m[keep | (x == 0)]),
        rtol=RTOL,
    )


def test_standard_errors_match_lifetimes_inverse_hessian(customers):
    x, tx, T, m = customers
    bgf, ggf = lifetimes_fits(x, tx, T, m)
    keep = fit_mask(x, m)
    for fit, theirs, names in (
        (fit_bgnbd(x, tx, T), bgf, ("r", "alpha", "a", "b")),
        (fit_gamma_gamma(x[keep], m[keep]), ggf, ("p", "q", "v")),
    ):
        ours = np.array([getattr(fit.params, n) for n in names]) * np.sqrt(
            np.diag(fit.covariance)
        )
        np.testing.assert_allclose(ours, theirs.standard_errors_[list(names)], rtol=2e-2)


def test_ltv_tables_match_lifetimes_from_the_transaction_log():
    rng = np.random.default_rng(12)
    as_of = datetime.date(2024, 12, 31)
    n = 1500
    T = rng.integers(30, 700, n)
    x, tx = simulate(BgNbdParams(0.8, 25.0, 0.7, 3.0), T.astype(float), rng)
    rows = []
    for i in range(n):
        first = np.datetime64(as_of) - np.timedelta64(int(T[i]), "D")
        times = np.sort(
            np.concatenate(
                [
                    [0.0],
                    rng.uniform(0, tx[i], int(x[i]) - 1) if x[i] > 1 else [],
                    [tx[i]] if x[i] else [],
                ]
            )
        )
        for t in times:
            at = first.astype("datetime64[s]") + np.timedelta64(int(t * 86400), "s")
            rows.append((f"c{i}", pd.Timestamp(at), round(float(rng.gamma(5.0, 4.0)), 2)))
    log = pd.DataFrame(rows, columns=["contact_id", "occurred_at", "amount"])

    con = connect(":memory:")
    create_tables(con)
    frame = log.assign(
        tenant_id="t",
        activity_id=[f"a{i}" for i in range(len(log))],
        type="purchase",
        amount_base=log["amount"],
        content_hash="h",
        import_id="i",
        line_number=range(len(log)),
    )
    con.register("log_rows", frame)
    con.execute("INSERT INTO core.activities BY NAME SELECT * FROM log_rows")
    model_row, ours = ltv_tables(con, "t", as_of, "run-1")

    summary = lifetimes.utils.summary_data_from_transaction_data(
        log,
        "contact_id",
        "occurred_at",
        monetary_value_col="amount",
        observation_period_end=str(as_of),
        freq="D",
    )
    bgf, ggf = lifetimes_fits(
        summary["frequency"].to_numpy(),
        summary["recency"].to_numpy(),
        summary["T"].to_numpy(),
        summary["monetary_value"].to_numpy(),
    )
    row = model_row.row(0, named=True)
    for name in ("r", "alpha", "a", "b"):
        assert row[name] == pytest.approx(bgf.params_[name], rel=RTOL), name
    for name in ("p", "q", "v"):
        assert row[name] == pytest.approx(ggf.params_[name], rel=RTOL), name

    theirs = summary.assign(
        p_alive=bgf.conditional_probability_alive(
            summary["frequency"], summary["recency"], summary["T"]
        ),
        e365=bgf.conditional_expected_number_of_purchases_up_to_time(
            365, summary["frequency"], summary["recency"], summary["T"]
        ),
    )
    theirs["clv"] = theirs["e365"] * ggf.conditional_expected_average_profit(
        theirs["frequency"], theirs["monetary_value"]
    )
    joined = ours.to_pandas().set_index("contact_id").join(theirs.add_suffix("_lt"), how="inner")
    assert len(joined) == len(theirs) == ours.height
    np.testing.assert_array_equal(joined["frequency"], joined["frequency_lt"])
    np.testing.assert_allclose(joined["recency_days"], joined["recency_lt"])
    np.testing.assert_allclose(joined["tenure_days"], joined["T_lt"])
    np.testing.assert_allclose(
        joined["avg_order_value"].fillna(0.0), joined["monetary_value_lt"], rtol=1e-9
    )
    np.testing.assert_allclose(joined["p_alive"], joined["p_alive_lt"], rtol=RTOL)
    np.testing.assert_allclose(joined["expected_purchases_365d"], joined["e365_lt"], rtol=RTOL)
    np.testing.assert_allclose(joined["expected_clv_365d"], joined["clv_lt"], rtol=RTOL)
