"""The tenant's monthly forecast: acquisition with trend and season, existing customers carried
forward, naive baselines, the rolling back-test; on simulated tenants with known truth."""

import numpy as np

from bench.forecast_simulator import SEASON, simulate
from crm_pipeline.value.monthly import (
    BASELINES,
    METHODS,
    baseline_forecasts,
    components_forecast,
    rolling_forecasts,
    seasonal_index,
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
