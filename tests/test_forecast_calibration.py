"""Selecting a tenant's method from its own back-test, and intervals calibrated on its errors."""

import numpy as np

from bench.forecast_simulator import simulate
from crm_pipeline.value.calibration import (
    CONFORMAL,
    POOLED,
    SELECTION_HORIZON,
    SELECTION_MONTHS,
    VOLATILITY,
    evaluate_backtest,
    interval_multipliers,
    known_pairs,
    select_method,
    selection_pairs,
)
from crm_pipeline.value.monthly import COMBINED, COMPONENTS, METHODS, rolling_forecasts


def _backtest(tenant):
    return rolling_forecasts(tenant.revenue, tenant.new_customers, tenant.first_revenue,
                             tenant.month_of_year, 12)


def test_the_combination_is_the_default_and_other_candidates_need_their_lead():
    actuals = np.full((10, 6), 100.0)
    forecasts = np.full((len(METHODS), 10, 6), 70.0)
    combined, model = METHODS.index(COMBINED), METHODS.index(COMPONENTS)
    forecasts[combined] = 90.0
    mask = np.ones_like(actuals, dtype=bool)
    assert select_method(forecasts, actuals, mask) == (combined, True)
    forecasts[model] = 91.0  # the component model alone needs no margin: any lead replaces it
    assert select_method(forecasts, actuals, mask) == (model, True)
    forecasts[model] = 70.0
    forecasts[METHODS.index("trailing_mean_3")] = 91.0  # a baseline needs a 20% lower WAPE
    assert select_method(forecasts, actuals, mask) == (combined, True)
    forecasts[METHODS.index("trailing_mean_3")] = 97.0  # WAPE 0.03 against 0.10: it is used
    assert select_method(forecasts, actuals, mask) == (METHODS.index("trailing_mean_3"), True)
    few = np.zeros_like(mask)
    few[0, :3] = True  # too few months to test: the default, flagged as untested
    assert select_method(forecasts * 0 + 50, actuals, few) == (combined, False)


def test_selection_compares_recent_short_horizon_forecasts_only():
    origins = np.arange(3, 40)
    actuals = np.ones((origins.size, 12))
    mask = selection_pairs(origins, actuals, 40)
    months = origins[:, None] + np.arange(12)[None, :]
    assert mask.any()
    assert (np.argwhere(mask)[:, 1] < SELECTION_HORIZON).all()
    assert (months[mask] >= 40 - SELECTION_MONTHS).all() and (months[mask] < 40).all()


def test_a_model_worse_on_old_long_horizons_but_better_recently_is_kept():
    """Long-horizon months in the window are forecasts made long ago (from a short history): a
    baseline ahead there but behind on the recent short horizons does not replace the model."""
    origins = np.arange(3, 40)
    actuals = np.full((origins.size, 12), 100.0)
    forecasts = np.full((len(METHODS), origins.size, 12), 70.0)
    forecasts[METHODS.index(COMBINED)] = 96.0
    forecasts[METHODS.index(COMPONENTS)] = 99.0
    forecasts[METHODS.index(COMPONENTS), :, 3:] = 50.0  # poor far ahead
    forecasts[METHODS.index("seasonal_naive")] = 94.0
    mask = selection_pairs(origins, actuals, 40)
    assert select_method(forecasts, actuals, mask) == (METHODS.index(COMPONENTS), True)


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
    # small tenant, early origins: ten residuals per horizon, the order statistics conservative
    assert 0.3 <= inside50 / months <= 0.9
