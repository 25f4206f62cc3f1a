"""Gamma-Gamma: log-likelihood, fitting and expected order values."""

import numpy as np
import pytest
from scipy.optimize import approx_fprime
from scipy.special import gammaln

from crm_pipeline.value.ltv import gamma_gamma
from crm_pipeline.value.ltv.gamma_gamma import (
    GammaGammaParams,
    expected_order_value,
    fit_gamma_gamma,
    fit_mask,
    log_likelihood,
    simulate_average_spend,
)

TRUE = GammaGammaParams(p=6.0, q=4.0, v=15.0)


def simulated(n: int, seed: int):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 12, n).astype(float)
    return x, simulate_average_spend(TRUE, x, rng)


def test_gradient_matches_finite_differences():
    x, m = simulated(2000, seed=1)
    stats = gamma_gamma._stats(x, m)
    theta = np.log([3.0, 2.5, 10.0])
    _, grad = gamma_gamma._log_likelihood_and_gradient(theta, stats)
    numeric = approx_fprime(
        theta, lambda t: gamma_gamma._log_likelihood_and_gradient(t, stats)[0], 1e-6
    )
    np.testing.assert_allclose(grad, numeric, rtol=1e-4)


def test_hessian_matches_finite_differences_of_the_gradient():
    x, m = simulated(2000, seed=1)
    stats = gamma_gamma._stats(x, m)
    theta = np.log([3.0, 2.5, 10.0])
    _, _, hessian = gamma_gamma._log_likelihood_gradient_hessian(theta, stats)
    step = 1e-5
    numeric = np.column_stack([
        (gamma_gamma._log_likelihood_and_gradient(theta + e, stats)[1]
         - gamma_gamma._log_likelihood_and_gradient(theta - e, stats)[1]) / (2 * step)
        for e in np.eye(3) * step
    ])
    np.testing.assert_allclose(hessian, numeric, rtol=1e-5, atol=1e-3)


def test_a_start_near_or_far_gives_the_same_fit():
    x, m = simulated(20_000, seed=4)
    plain = fit_gamma_gamma(x, m)
    for start in (TRUE, GammaGammaParams(1.0, 1.5, 200.0)):
        fit = fit_gamma_gamma(x, m, start=start)
        assert fit.converged
        for name in ("p", "q", "v"):
            assert getattr(fit.params, name) == pytest.approx(getattr(plain.params, name),
                                                              rel=1e-7), name


def test_log_likelihood_equals_the_per_customer_formula():
    x, m = simulated(300, seed=2)
    p, q, v = TRUE.p, TRUE.q, TRUE.v
    per_customer = (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(x * m + v)
    )
    assert log_likelihood(TRUE, x, m) == pytest.approx(per_customer.sum(), rel=1e-10)


def test_parameters_are_recovered_from_100k_simulated_customers():
    x, m = simulated(100_000, seed=3)
    fit = fit_gamma_gamma(x, m)
    assert fit.converged
    for name in ("p", "q", "v"):
        assert getattr(fit.params, name) == pytest.approx(getattr(TRUE, name), rel=0.05), name


def test_the_fit_does_not_depend_on_the_currency_unit():
    x, m = simulated(3000, seed=4)
    in_units = fit_gamma_gamma(x, m).params
    in_cents = fit_gamma_gamma(x, m * 100).params
    assert in_cents.p == pytest.approx(in_units.p, rel=1e-5)
    assert in_cents.q == pytest.approx(in_units.q, rel=1e-5)
    assert in_cents.v == pytest.approx(in_units.v * 100, rel=1e-5)


def test_non_positive_spend_is_refused_by_the_fit_and_worth_nothing():
    x = np.array([0.0, 2.0, 3.0, 1.0])
    m = np.array([np.nan, 40.0, -5.0, 0.0])
    assert fit_mask(x, m).tolist() == [False, True, False, False]
    with pytest.raises(ValueError):
        fit_gamma_gamma(x, m)
    values = expected_order_value(TRUE, x, m)
    assert values[0] == pytest.approx(TRUE.mean_order_value)  # one purchase: population mean
    assert TRUE.mean_order_value < values[1] < 40.0  # shrunk towards the mean
    assert values[2] == 0.0 and values[3] == 0.0


def test_a_fit_with_undefined_mean_spend_is_not_converged():
    # heavy-tailed spend across customers drives q below 1
    rng = np.random.default_rng(5)
    x = rng.integers(1, 5, 3000).astype(float)
    m = np.exp(rng.normal(3, 3.0, 3000))
    fit = fit_gamma_gamma(x, m)
    assert fit.params.q <= 1.0
    assert not fit.converged and "q <= 1" in fit.message
