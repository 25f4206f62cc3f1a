"""BG/NBD: log-likelihood, fitting and predictions."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import approx_fprime

from crm_pipeline.value.ltv import bgnbd
from crm_pipeline.value.ltv.bgnbd import (
    BgNbdParams,
    expected_purchases,
    expected_purchases_if_alive,
    expected_purchases_new_customer,
    fit_bgnbd,
    log_likelihood,
    p_alive,
    simulate,
)

TRUE = BgNbdParams(r=0.6, alpha=25.0, a=0.9, b=3.0)


def simulated(n: int, seed: int, whole_days: bool = True):
    rng = np.random.default_rng(seed)
    T = np.floor(rng.uniform(200, 730, n))
    x, tx = simulate(TRUE, T, rng)
    return x, (np.floor(tx) if whole_days else tx), T


@pytest.mark.parametrize("whole_days", [True, False])
def test_gradient_matches_finite_differences(whole_days):
    x, tx, T = simulated(3000, seed=1, whole_days=whole_days)
    stats = bgnbd._stats(x, tx, T)
    theta = np.log([0.7, 20.0, 1.2, 2.5])
    _, grad = bgnbd._log_likelihood_and_gradient(theta, stats)
    numeric = approx_fprime(theta, lambda t: bgnbd._log_likelihood_and_gradient(t, stats)[0], 1e-6)
    np.testing.assert_allclose(grad, numeric, rtol=1e-4)


@pytest.mark.parametrize("whole_days", [True, False])
def test_hessian_matches_finite_differences_of_the_gradient(whole_days):
    x, tx, T = simulated(3000, seed=1, whole_days=whole_days)
    stats = bgnbd._stats(x, tx, T)
    theta = np.log([0.7, 20.0, 1.2, 2.5])
    _, grad, hessian = bgnbd._log_likelihood_gradient_hessian(theta, stats)
    step = 1e-5
    numeric = np.column_stack([
        (bgnbd._log_likelihood_and_gradient(theta + e, stats)[1]
         - bgnbd._log_likelihood_and_gradient(theta - e, stats)[1]) / (2 * step)
        for e in np.eye(4) * step
    ])
    np.testing.assert_allclose(hessian, numeric, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(grad, bgnbd._log_likelihood_and_gradient(theta, stats)[1])


def test_newton_and_l_bfgs_b_reach_the_same_optimum_from_any_start():
    x, tx, T = simulated(20_000, seed=6)
    stats = bgnbd._stats(x, tx, T)
    lbfgs = bgnbd._maximize(
        lambda t: bgnbd._log_likelihood_and_gradient(t, stats), stats.customers,
        bgnbd._start(stats), 1000,
    )
    assert lbfgs.converged
    for start in (None, BgNbdParams(0.3, 60.0, 2.0, 9.0), TRUE):
        fit = fit_bgnbd(x, tx, T, start=start)
        assert fit.converged and fit.message.startswith("Newton")
        np.testing.assert_allclose(
            np.log([fit.params.r, fit.params.alpha, fit.params.a, fit.params.b]), lbfgs.theta,
            atol=1e-6,
        )


def test_the_covariance_is_the_inverse_of_the_information_at_the_optimum():
    x, tx, T = simulated(5000, seed=7)
    fit = fit_bgnbd(x, tx, T)
    theta = np.log([fit.params.r, fit.params.alpha, fit.params.a, fit.params.b])
    information = -bgnbd._log_likelihood_gradient_hessian(theta, bgnbd._stats(x, tx, T))[2]
    np.testing.assert_allclose(fit.covariance @ information, np.eye(4), atol=1e-8)


def test_log_likelihood_of_grouped_patterns_equals_the_per_customer_formula():
    x, tx, T = simulated(500, seed=2)
    r, alpha, a, b = TRUE.r, TRUE.alpha, TRUE.a, TRUE.b
    from scipy.special import betaln, gammaln

    per_customer = (
        gammaln(r + x)
        - gammaln(r)
        + r * np.log(alpha)
        + betaln(a, b + x)
        - betaln(a, b)
        + np.log(
            (alpha + T) ** -(r + x)
            + (x > 0) * a / (b + np.maximum(x, 1) - 1) * (alpha + tx) ** -(r + x)
        )
    )
    assert log_likelihood(TRUE, x, tx, T) == pytest.approx(per_customer.sum(), rel=1e-10)


def test_parameters_are_recovered_from_100k_simulated_customers():
    rng = np.random.default_rng(3)
    T = rng.uniform(365, 730, 100_000)
    x, tx = simulate(TRUE, T, rng)
    fit = fit_bgnbd(x, tx, T)
    assert fit.converged
    for name in ("r", "alpha", "a", "b"):
        assert getattr(fit.params, name) == pytest.approx(getattr(TRUE, name), rel=0.05), name


def test_fit_is_refused_without_customers_and_for_recency_beyond_tenure():
    with pytest.raises(ValueError):
        fit_bgnbd([], [], [])
    with pytest.raises(ValueError):
        fit_bgnbd([1, 0], [10.0, 0.0], [5.0, 3.0])


def test_degenerate_data_does_not_report_convergence():
    # nobody ever comes back: the purchase rate runs to zero, a parameter to its bound
    fit = fit_bgnbd(np.zeros(200), np.zeros(200), np.full(200, 300.0))
    assert not fit.converged


def test_customers_without_repeat_purchases_are_alive_and_long_silences_lower_p_alive():
    probabilities = p_alive(TRUE, [0, 5, 5], [0.0, 300.0, 30.0], [365.0, 365.0, 365.0])
    assert probabilities[0] == 1.0
    assert 0 < probabilities[2] < probabilities[1] < 1


@pytest.mark.parametrize("x", [0, 3, 50, 5000])
def test_expected_purchases_if_alive_match_a_monte_carlo_over_the_posterior(x):
    # alive after x repeats in T: rate ~ Gamma(r + x, alpha + T), drop-out ~ Beta(a, b + x),
    # and (1 - exp(-rate p t)) / p purchases are expected within t
    T, t = 3000.0, 365.0
    rng = np.random.default_rng(5)
    rate = rng.gamma(TRUE.r + x, 1.0 / (TRUE.alpha + T), 400_000)
    drop = rng.beta(TRUE.a, TRUE.b + x, 400_000)
    monte_carlo = np.mean(-np.expm1(-rate * drop * t) / drop)
    closed_form = expected_purchases_if_alive(TRUE, t, [x], [T])[0]
    assert np.isfinite(closed_form)
    assert closed_form == pytest.approx(monte_carlo, rel=0.01)


def test_grouped_and_direct_expected_purchases_agree():
    x, tx, T = simulated(5000, seed=4)
    grouped = expected_purchases_if_alive(TRUE, np.array([30.0, 365.0]), x, T)
    direct = np.stack([bgnbd.purchases_if_alive(TRUE, np.asarray(t), x, T) for t in (30.0, 365.0)])
    np.testing.assert_allclose(grouped, direct, rtol=1e-12)


@settings(max_examples=50, deadline=None)
@given(
    x=st.integers(0, 200),
    T=st.floats(1.0, 2000.0),
    fraction=st.floats(0.0, 1.0),
    t1=st.floats(1.0, 400.0),
    t2=st.floats(1.0, 400.0),
)
def test_expected_purchases_grow_with_the_horizon_and_are_at_most_those_if_alive(
    x, T, fraction, t1, t2
):
    tx = T * fraction if x > 0 else 0.0
    short, long = sorted((t1, t2))
    e_short = expected_purchases(TRUE, short, [x], [tx], [T])[0]
    e_long = expected_purchases(TRUE, long, [x], [tx], [T])[0]
    assert 0.0 <= e_short <= e_long + 1e-9
    assert e_long <= expected_purchases_if_alive(TRUE, long, [x], [T])[0] + 1e-9


def test_a_new_customers_expectation_matches_the_conditional_one_at_time_zero():
    assert expected_purchases_new_customer(TRUE, 90.0) == pytest.approx(
        expected_purchases(TRUE, 90.0, [0], [0.0], [0.0])[0], rel=1e-9
    )
