"""The tenant's monthly forecast: acquisition with trend and season, existing customers carried
forward, naive baselines, the rolling back-test; on simulated tenants with known truth."""

import numpy as np

from bench.forecast_simulator import SEASON, simulate
from crm_pipeline.value.calibration import wape
from crm_pipeline.value.monthly import (
    BASELINES,
    COMBINED,
    METHODS,
    Carved,
    _retention,
    all_forecasts,
    baseline_forecasts,
    components_forecast,
    large_customers,
    rolling_forecasts,
    seasonal_index,
    subscription_forecast,
    trend_forecast,
)


def _forecast(tenant, history: int, ahead: int):
    return components_forecast(tenant.revenue[:history], tenant.new_customers[:history],
                               tenant.first_revenue[:history], tenant.month_of_year[:history],
                               ahead)


def test_seasonal_index_finds_the_simulated_season_and_none_in_a_short_history():
    tenant = simulate("flat_seasonal", months=48, seed=1, base=400)
    index = seasonal_index(tenant.new_customers, tenant.month_of_year)
    assert np.corrcoef(index, SEASON)[0, 1] > 0.9
    assert index[11] > 1.15 and index[0] < 0.9
    assert (seasonal_index(tenant.new_customers[:12], tenant.month_of_year[:12]) == 1.0).all()


def test_acquisition_trend_follows_growth_and_is_damped():
    months = np.arange(36)
    growing = 100 * np.exp(0.03 * months)
    ahead = trend_forecast(growing, 6)
    assert (np.diff(ahead) > 0).all()
    undamped = 100 * np.exp(0.03 * (35 + np.arange(1, 7)))
    assert (ahead <= undamped * 1.001).all() and ahead[-1] > growing[-1] * 1.1
    short = trend_forecast(growing[:6], 6)  # six months: the growth is shrunk, not dropped
    assert growing[5] < short[-1] < 100 * np.exp(0.03 * 11)


def test_new_customers_component_rises_with_a_growing_tenant_and_peaks_in_season():
    tenant = simulate("growing_seasonal", months=46, seed=2, base=300)
    parts = _forecast(tenant, 46, 6)  # history Jan 2022 .. Oct 2025: forecast Nov .. Apr
    assert parts["new_customers"][1] > parts["new_customers"][3]  # December above February
    assert parts["new_customers"][0] > tenant.new_customers[-12] * 1.2  # a year of growth
    assert np.allclose(parts["expected"], parts["existing"] + parts["new"])
    assert (parts["existing"][1:] < parts["existing"][:-1] * 1.3).all()
    truth = simulate("growing_seasonal", months=52, seed=2, base=300).truth[46:]
    assert np.abs(parts["expected"] - truth).sum() / truth.sum() < 0.12


def test_existing_customers_alone_decay_without_new_ones():
    tenant = simulate("flat", months=36, seed=3, base=200)
    parts = _forecast(tenant, 36, 6)
    assert (np.diff(parts["existing"]) < 0).all() and parts["new"].min() > 0


def test_baselines_are_the_naive_forecasts():
    revenue = np.arange(1.0, 25.0)  # 1 .. 24
    out = baseline_forecasts(revenue, 3)
    assert out["last_month"].tolist() == [24.0] * 3
    assert out["trailing_mean_3"].tolist() == [23.0] * 3
    assert out["drift"].tolist() == [25.0, 26.0, 27.0]
    scale = revenue[-12:].sum() / revenue[-24:-12].sum()
    assert np.allclose(out["seasonal_naive"], revenue[12:15] * scale)
    assert np.isnan(baseline_forecasts(revenue[:6], 3)["seasonal_naive"]).all()


def test_rolling_forecasts_use_only_the_months_before_each_origin():
    tenant = simulate("flat", months=20, seed=4, base=50)
    origins, forecasts, actuals = rolling_forecasts(
        tenant.revenue, tenant.new_customers, tenant.first_revenue, tenant.month_of_year, 6)
    assert forecasts.shape == (len(METHODS), origins.size, 6) and origins[0] == 3
    i = 5
    o = origins[i]
    assert forecasts[METHODS.index("last_month"), i, 0] == tenant.revenue[o - 1]
    assert np.isnan(actuals[-1, 1:]).all() and actuals[-1, 0] == tenant.revenue[-1]
    changed = tenant.revenue.copy()
    changed[o:] *= 10  # the future changes nothing of what was forecast at origin o
    _, again, _ = rolling_forecasts(changed, tenant.new_customers, tenant.first_revenue,
                                    tenant.month_of_year, 6)
    assert np.array_equal(again[:, : i + 1], forecasts[:, : i + 1], equal_nan=True)
    assert set(BASELINES) < set(METHODS)


def test_retention_is_not_shrunk_by_noisy_months():
    """Least squares on noisy months underestimates retention (errors in the regressor); the
    instrumented fit recovers it, and a steady part (customers who never leave) when there is
    one."""
    rng = np.random.default_rng(3)
    n = 48
    first = np.full(n, 1000.0)
    existing = np.empty(n)
    level = 8000.0
    for t in range(n):
        existing[t] = level
        level = 0.85 * level + 0.5 * first[t] + 800.0
    noisy = existing * np.exp(rng.normal(0.0, 0.08, n))
    fit = _retention(noisy, first + rng.normal(0.0, 100.0, n))
    assert abs(fit.retention + fit.carry * 1000.0 / 8000.0 + fit.steady / 8000.0 - 1.0) < 0.1
    steady_state = (fit.carry * 1000.0 + fit.steady) / (1.0 - fit.retention)
    assert abs(steady_state / existing[-1] - 1.0) < 0.1


def test_large_customers_are_few_with_a_large_share_of_a_large_tenant():
    values = np.r_[np.full(996, 100.0), [9000.0, 8000.0, 1500.0, 500.0]]
    mask = large_customers(values)
    assert mask.tolist()[-4:] == [True, True, False, False] and mask.sum() == 2
    assert not large_customers(values[-150:]).any()  # a small tenant: nobody singled out
    assert not large_customers(np.full(500, 10.0)).any()


def test_large_customers_forecast_on_their_own_beats_the_model_that_mixes_them_in():
    errors = {"mixed": [0.0, 0.0], "carved": [0.0, 0.0]}
    for seed in range(4):
        tenant = simulate("whales", seed=40 + seed)
        carved = tenant.carved()
        assert carved.large.sum() > 0.05 * tenant.revenue.sum()
        for origin in range(24, 42, 3):
            args = (tenant.revenue[:origin], tenant.new_customers[:origin],
                    tenant.first_revenue[:origin], tenant.month_of_year[:origin], 6)
            actual = tenant.revenue[origin:origin + 6]
            for name, c in (("mixed", None), ("carved", carved.head(origin))):
                forecast = components_forecast(*args, c)
                errors[name][0] += np.abs(actual - forecast["expected"]).sum()
                errors[name][1] += actual.sum()
            parts = components_forecast(*args, carved.head(origin))
            assert parts["large"][0] == carved.large[origin - 12:origin].mean()
    assert errors["carved"][0] / errors["carved"][1] < errors["mixed"][0] / errors["mixed"][1]


def test_subscriptions_are_recurring_revenue_decaying_with_the_churn_learned():
    months = 36
    starts = np.full(months, 20.0)
    at_start = np.zeros(months)
    ends = np.zeros(months)
    for t in range(1, months):  # 5% of subscribers end each month
        ends[t - 1] = 0.05 * (at_start[t - 1] + starts[t - 1] / 2)
        at_start[t] = at_start[t - 1] + starts[t - 1] - ends[t - 1]
    ends[-1] = 0.05 * (at_start[-1] + starts[-1] / 2)
    revenue = 50.0 * (at_start + starts / 2)  # 50 a subscriber-month
    carved = Carved.none(months, subscription=revenue, starts=starts, ends=ends)
    ahead = subscription_forecast(carved, 12)
    assert abs(ahead["churn"][0] - 0.05) < 1e-9
    assert np.allclose(ahead["expected"], 50.0 * ahead["subscribers"])
    no_new = subscription_forecast(carved._replace(starts=np.r_[starts[:-1], 0.0]), 12)
    assert no_new["subscribers"][-1] < no_new["subscribers"][0]  # only churn left: it decays
    quiet = Carved.none(months)
    assert not subscription_forecast(quiet, 6)["expected"].any()


def test_the_subscription_tenant_is_forecast_by_its_parts_closer_than_by_its_total():
    errors = {"whole": 0.0, "parts": 0.0}
    for seed in range(8):
        tenant = simulate("subscriptions", seed=seed)
        carved = tenant.carved()
        assert carved.subscription.sum() > 0.1 * tenant.revenue.sum()
        for origin in range(24, 43):
            args = (tenant.revenue[:origin], tenant.new_customers[:origin],
                    tenant.first_revenue[:origin], tenant.month_of_year[:origin], 6)
            actual = tenant.revenue[origin:origin + 6]
            parts = components_forecast(*args, carved.head(origin))
            assert (parts["subscriptions"] > 0).all()
            assert 0.02 < parts["churn"][0] < 0.06  # simulated: 4% a month
            errors["parts"] += np.abs(actual - parts["expected"]).sum()
            errors["whole"] += np.abs(actual - components_forecast(*args)["expected"]).sum()
    assert errors["parts"] < errors["whole"]


def test_the_combination_is_the_mean_of_the_model_and_the_trailing_mean():
    tenant = simulate("flat", months=30, seed=2)
    forecasts, parts = all_forecasts(tenant.revenue, tenant.new_customers, tenant.first_revenue,
                                     tenant.month_of_year, 6)
    combined = forecasts[METHODS.index(COMBINED)]
    assert np.allclose(combined, (parts["expected"] + tenant.revenue[-3:].mean()) / 2.0)
    assert wape(combined[None], tenant.revenue[-6:][None], np.ones((1, 6), bool)) < 1.0
