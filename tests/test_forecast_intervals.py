"""The forecast's 80% interval: process noise plus the uncertainty of the fitted parameters."""

import json

import numpy as np
import polars as pl
import pytest
from test_forecast import AS_OF, add_contacts, add_purchases, add_segment, simulated_customers

from crm_pipeline.value.forecast import revenue_forecast
from crm_pipeline.value.ltv.model import (
    MODEL_FALLBACK,
    MODEL_FITTED,
    LtvFallbackWarning,
    ltv_tables,
)
from crm_pipeline.warehouse import connect, create_tables


def forecasts(n: int, seed: int = 1) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(model row, forecast with parameter uncertainty, forecast without) for n customers."""
    con = connect(":memory:")
    create_tables(con)
    purchases = simulated_customers(n, seed=seed)
    add_purchases(con, "t1", purchases)
    customers = sorted(purchases["contact_id"].unique().to_list())
    add_contacts(con, "t1", customers, AS_OF)
    add_segment(con, "t1", "existing_customers", customers[: n // 2])
    model_row, customer_ltv = ltv_tables(con, "t1", AS_OF, "run-1")
    both = revenue_forecast(con, "t1", AS_OF, customer_ltv, model_row)
    process = revenue_forecast(con, "t1", AS_OF, customer_ltv, model_row, parameter_draws=0)
    con.close()
    return model_row, both, process


@pytest.fixture(scope="module")
def small():
    return forecasts(300)


@pytest.fixture(scope="module")
def large():
    return forecasts(3000)


def relative_width(forecast: pl.DataFrame) -> np.ndarray:
    everyone = forecast.filter(pl.col("segment") == "all").sort("period_start")
    width = everyone["revenue_high"] - everyone["revenue_low"]
    return (width / everyone["expected_revenue"]).to_numpy()


def test_the_model_row_carries_standard_errors_and_the_log_covariance(small):
    model_row, _, _ = small
    assert model_row["model"][0] == MODEL_FITTED
    diagnostics = json.loads(model_row["diagnostics"][0])
    for fit, names in (("bgnbd", ["r", "alpha", "a", "b"]), ("gamma_gamma", ["p", "q", "v"])):
        errors = diagnostics[fit]["standard_errors"]
        assert sorted(errors) == sorted(names) and all(e > 0 for e in errors.values())
        covariance = np.array(diagnostics[fit]["log_parameter_covariance"]["matrix"])
        assert diagnostics[fit]["log_parameter_covariance"]["parameters"] == names
        np.testing.assert_allclose(covariance, covariance.T)
        assert np.all(np.linalg.eigvalsh(covariance) > 0)


def test_the_interval_contains_the_point_forecast(small, large):
    for _, forecast, _ in (small, large):
        assert (forecast["revenue_low"] <= forecast["expected_revenue"]).all()
        assert (forecast["expected_revenue"] <= forecast["revenue_high"]).all()
        assert (forecast["revenue_low"] >= 0).all()


def test_parameter_uncertainty_widens_the_interval_beyond_process_noise(small):
    _, both, process = small
    assert (relative_width(both) >= relative_width(process) - 1e-12).all()
    # the parameters matter more the further out: the last full months gain the most
    gain = relative_width(both) / relative_width(process)
    assert gain[-2] > gain[0] > 1.0


def test_the_interval_widens_as_the_number_of_customers_shrinks(small, large):
    assert (relative_width(small[1]) > relative_width(large[1])).all()


def test_without_parameter_draws_the_interval_is_the_normal_one(small):
    _, _, process = small
    everyone = process.filter(pl.col("segment") == "all")
    half = (everyone["revenue_high"] - everyone["revenue_low"]) / 2
    centre = (everyone["revenue_high"] + everyone["revenue_low"]) / 2
    off_centre = (centre - everyone["expected_revenue"]).abs()
    assert (off_centre < 1e-6 * everyone["expected_revenue"]).all()
    assert (half > 0).all()


def test_the_fallback_model_widens_its_interval_by_the_uncertainty_of_its_rates():
    con = connect(":memory:")
    create_tables(con)
    purchases = simulated_customers(40, seed=3)  # too few repeat buyers to fit the models
    add_purchases(con, "t1", purchases)
    with pytest.warns(LtvFallbackWarning):
        model_row, customer_ltv = ltv_tables(con, "t1", AS_OF, "run-1")
    assert model_row["model"][0] == MODEL_FALLBACK
    both = revenue_forecast(con, "t1", AS_OF, customer_ltv, model_row)
    process = revenue_forecast(con, "t1", AS_OF, customer_ltv, model_row, parameter_draws=0)
    # where the process-only interval is clipped at 0 (the short last period) only its upper end
    # is left to compare, and a skewed mixture need not reach further there
    unclipped = (process.filter(pl.col("segment") == "all").sort("period_start")["revenue_low"]
                 > 0).to_numpy()
    assert unclipped.sum() >= 10
    assert (relative_width(both) > relative_width(process))[unclipped].all()
    assert (both["revenue_low"] <= both["expected_revenue"]).all()
    assert (both["expected_revenue"] <= both["revenue_high"]).all()
