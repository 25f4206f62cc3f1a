"""Selecting a tenant's method from its own back-test, and intervals calibrated on its errors."""

import numpy as np

from bench.forecast_simulator import simulate
from crm_pipeline.value.calibration import (
    CONFORMAL,
    POOLED,
    VOLATILITY,
    evaluate_backtest,
    interval_multipliers,
    known_pairs,
    select_method,
)
from crm_pipeline.value.monthly import COMPONENTS, METHODS, rolling_forecasts


def _backtest(tenant):
    return rolling_forecasts(tenant.revenue, tenant.new_customers, tenant.first_revenue,
                             tenant.month_of_year, 12)


def test_a_baseline_that_beats_the_model_is_selected_and_the_model_otherwise():
    actuals = np.full((10, 6), 100.0)
    forecasts = np.full((len(METHODS), 10, 6), 80.0)
    forecasts[METHODS.index("trailing_mean_3")] = 95.0
    mask = np.ones_like(actuals, dtype=bool)
    assert select_method(forecasts, actuals, mask) == (METHODS.index("trailing_mean_3"), True)
    forecasts[METHODS.index(COMPONENTS)] = 99.0
    assert select_method(forecasts, actuals, mask) == (METHODS.index(COMPONENTS), True)
    few = np.zeros_like(mask)
    few[0, :3] = True  # too few months to test: the model, flagged as untested
    assert select_method(forecasts * 0 + 50, actuals, few) == (METHODS.index(COMPONENTS), False)


def test_known_pairs_hold_only_months_before_the_cutoff():
    origins = np.array([3, 4, 5])
    actuals = np.ones((3, 4))
    mask = known_pairs(origins, actuals, 6)
    assert mask.tolist() == [[True, True, True, False], [True, True, False, False],
                             [True, False, False, False]]
    assert known_pairs(origins, actuals, 6, window=1).sum() == 3  # month 5 only


def test_conformal_intervals_cover_their_share_of_new_errors():
    rng = np.random.default_rng(5)
    forecast = np.full((200, 3), 100.0)
    actuals = 100.0 * np.exp(rng.normal(0.05, 0.2 * np.sqrt([1, 2, 3]), (200, 3)))
    mask = np.zeros_like(actuals, dtype=bool)
    mask[:100] = True  # calibrate on half, check on the other half
    factors, basis = interval_multipliers(forecast, actuals, mask, actuals[:, 0], 3)
    assert basis == [CONFORMAL] * 3
    fresh = actuals[100:] / 100.0
    for level, (low, high) in factors.items():
        inside = ((fresh >= low) & (fresh <= high)).mean()
        assert abs(inside - level) < 0.1
    assert factors[0.8][1][2] - factors[0.8][0][2] > factors[0.8][1][0] - factors[0.8][0][0]
    assert np.sqrt(factors[0.8][0][0] * factors[0.8][1][0]) > 1.0  # the bias is carried over


def test_young_tenants_fall_back_to_volatility_then_pooled_errors():
    revenue = np.array([100.0, 120.0, 90.0, 110.0, 105.0, 95.0])
    forecast = np.full((3, 6), 100.0)
    actuals = np.full((3, 6), np.nan)
    actuals[:, 0] = [110.0, 95.0, 104.0]
    mask = np.isfinite(actuals)
    factors, basis = interval_multipliers(forecast, actuals, mask, revenue, 6)
    assert basis == [VOLATILITY] * 6
    low, high = factors[0.8]
    assert (np.diff(high) > 0).all() and (np.diff(low) < 0).all() and (low < 1).all()
    assert (factors[0.5][1] < high).all()
    many = np.full((10, 6), np.nan)
    many[:, 0] = 100.0 * np.exp(np.linspace(-0.2, 0.2, 10))
    _, basis = interval_multipliers(np.full((10, 6), 100.0), many, np.isfinite(many), revenue, 6)
    assert basis == [CONFORMAL] + [POOLED] * 5


def test_backtest_coverage_is_out_of_sample_and_near_its_level():
    inside80, inside50, months = 0, 0, 0
    for seed in range(3):
        tenant = simulate("growing_seasonal", months=40, seed=seed, base=150)
        origins, forecasts, actuals = _backtest(tenant)
        published = evaluate_backtest(origins, forecasts, actuals, tenant.revenue)
        keep = origins >= 24
        a = actuals[keep, :6]
        ok = np.isfinite(a)
        for level in (80, 50):
            low, high = published[f"low_{level}"][keep, :6], published[f"high_{level}"][keep, :6]
            held = ((a >= low) & (a <= high))[ok].sum()
            inside80, inside50 = (inside80 + held, inside50) if level == 80 else (
                inside80, inside50 + held)
        months += ok.sum()
    assert 0.65 <= inside80 / months <= 0.98
    assert 0.3 <= inside50 / months <= 0.8
