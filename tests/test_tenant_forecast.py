"""The tenant's total forecast as written: monthly history from the warehouse, the partial current
month (booked plus what remains), the method its back-test selects, intervals, accuracy rows."""

import datetime

import numpy as np
import polars as pl
import pytest
from test_forecast import add_purchases, insert

from bench.forecast_simulator import purchase_rows, simulate, subscription_rows
from crm_pipeline.value.forecast import forecast_periods
from crm_pipeline.value.tenant_forecast import (
    CUSTOMER_MODEL,
    PUBLISHED,
    MonthlyHistory,
    accuracy_metadata,
    first_month,
    monthly_history,
    tenant_forecast,
    with_tenant_forecast,
    write_forecast_tables,
)
from crm_pipeline.warehouse import frame

AS_OF = datetime.date(2024, 6, 14)  # mid-June: June is the partial current month


def _simulated(con, tenant="t1", months=30, seed=7):
    """A small simulated tenant (Jan 2022 on) written as purchases; its purchases' frame."""
    sim = simulate("growing_seasonal", months=months, seed=seed, base=12, with_events=True)
    rows = purchase_rows(sim)
    purchases = pl.DataFrame(rows, schema=["contact_id", "occurred_at", "amount_base"],
                             orient="row")
    add_purchases(con, tenant, purchases)
    return sim, purchases


def _history(con, purchases, as_of, tenant="t1"):
    """monthly_history with each customer's tenure and first purchase read off the purchases."""
    firsts = purchases.filter(pl.col("occurred_at").dt.date() <= as_of) \
        .sort("contact_id", "occurred_at") \
        .group_by("contact_id", maintain_order=True).agg(  # contact_id order, as the summary
            pl.col("occurred_at").first().dt.date().alias("day"),
            pl.col("amount_base").first().alias("value"))
    tenure = np.array([(as_of - d).days for d in firsts["day"].to_list()])
    return monthly_history(con, tenant, as_of, tenure, firsts["value"].to_numpy())


def test_monthly_history_holds_whole_months_and_the_booked_part_of_the_current_one(con):
    sim, purchases = _simulated(con)
    as_of = datetime.date(2024, 6, 14)  # month 29 of the simulation (June 2024) is partial
    history = _history(con, purchases, as_of)
    assert history.current == datetime.date(2024, 6, 1)
    assert history.months[0] == datetime.date(2022, 1, 1) and len(history.months) == 29
    assert history.revenue == pytest.approx(sim.revenue[:29], rel=1e-3)  # amounts in cents
    assert history.new_customers.tolist() == sim.new_customers[:29].tolist()
    assert history.first_revenue == pytest.approx(sim.first_revenue[:29], rel=1e-3)
    june = purchases.filter((pl.col("occurred_at") >= datetime.datetime(2024, 6, 1))
                            & (pl.col("occurred_at") < datetime.datetime(2024, 6, 15)))
    assert history.booked == pytest.approx(june["amount_base"].sum())
    month_end = _history(con, purchases, datetime.date(2024, 5, 31))
    assert month_end.current == datetime.date(2024, 6, 1) and len(month_end.months) == 29
    assert first_month(datetime.date(2024, 5, 31)) == datetime.date(2024, 6, 1)


def test_the_partial_current_month_is_booked_plus_what_remains_and_tests_whole_months(con):
    _, purchases = _simulated(con)
    history = _history(con, purchases, AS_OF)
    periods = forecast_periods(AS_OF)
    tenant = tenant_forecast("t1", AS_OF, history, periods)
    rows = tenant.rows
    first = rows.row(0, named=True)
    assert first["period_start"] == AS_OF + datetime.timedelta(days=1)
    assert first["booked_revenue"] == pytest.approx(history.booked) and history.booked > 0
    june_forecast = first["expected_revenue"] - first["booked_revenue"]
    assert june_forecast > 0
    assert first["revenue_low"] >= first["booked_revenue"]
    assert first["revenue_low"] <= first["expected_revenue"] <= first["revenue_high"]
    assert rows["booked_revenue"][1:].sum() == 0.0
    if first["method"] == "components":  # the model's June, 16 of its 30 days
        assert first["model_revenue"] == pytest.approx(june_forecast)
    last = rows.row(-1, named=True)  # June 1-14 of 2025: 14 days of a month
    may = rows.row(-2, named=True)  # the whole month before it
    assert 0 < last["model_revenue"] < may["model_revenue"]
    accuracy = tenant.accuracy
    assert accuracy["period_start"].max() < datetime.date(2024, 6, 1)  # never the partial month
    assert set(accuracy["method"]) == {"components", "combined", "last_month", "trailing_mean_3",
                                       "seasonal_naive", "drift", PUBLISHED}
    published = accuracy.filter(pl.col("method") == PUBLISHED)
    assert published["revenue_low"].null_count() == 0
    assert accuracy.filter(pl.col("method") != PUBLISHED)["revenue_low"].null_count() == \
        accuracy.filter(pl.col("method") != PUBLISHED).height


def test_a_young_tenant_gets_volatility_intervals_widening_with_the_horizon():
    rng = np.random.default_rng(1)
    revenue = 1000 * np.exp(rng.normal(0, 0.1, 6))
    months = [datetime.date(2024, m, 1) for m in range(1, 7)]
    history = MonthlyHistory(months, revenue, np.full(6, 10.0), revenue * 0.2,
                             np.arange(6), datetime.date(2024, 7, 1), 0.0)
    as_of = datetime.date(2024, 6, 30)
    tenant = tenant_forecast("t1", as_of, history, forecast_periods(as_of))
    rows = tenant.rows
    assert set(rows["interval_basis"]) == {"volatility"}
    width = (rows["revenue_high"] - rows["revenue_low"]) / rows["expected_revenue"]
    assert (width.diff().drop_nulls() > 0).all()
    assert ((rows["revenue_high_50"] - rows["revenue_low_50"]) < rows["revenue_high"]
            - rows["revenue_low"]).all()
    assert "untested" in rows["method_note"][0] or rows["method"][0] != "components"


def test_a_model_beaten_by_a_naive_forecast_is_flagged_and_not_used():
    n = 30
    revenue = np.full(n, 1000.0)  # flat revenue, while new customers seem to boom
    new = 10.0 * np.exp(0.15 * np.arange(n))
    months = [datetime.date(2022 + m // 12, m % 12 + 1, 1) for m in range(n)]
    history = MonthlyHistory(months, revenue, new, new * 5.0, np.arange(n) % 12,
                             datetime.date(2024, 7, 1), 0.0)
    as_of = datetime.date(2024, 6, 30)
    tenant = tenant_forecast("t1", as_of, history, forecast_periods(as_of))
    assert tenant.rows["method"][0] != "components"
    assert "so its numbers are used" in tenant.rows["method_note"][0]
    assert tenant.rows["expected_revenue"].to_list() == pytest.approx([1000.0] * 12)
    summary = tenant.summary.filter(pl.col("horizon") == 0)
    used = summary.filter(pl.col("used") & (pl.col("method") != PUBLISHED))
    assert used["method"].to_list() == [tenant.rows["method"][0]]
    wapes = dict(zip(summary["method"], summary["wape"], strict=True))
    assert wapes[used["method"][0]] < wapes["components"]


def test_only_the_all_rows_take_the_tenant_forecast_and_tenants_never_mix(con):
    _, purchases = _simulated(con, "t1")
    _simulated(con, "t2", seed=8)
    history = _history(con, purchases, AS_OF)
    periods = forecast_periods(AS_OF)
    tenant = tenant_forecast("t1", AS_OF, history, periods)
    customer_level = pl.DataFrame({
        "tenant_id": "t1", "segment": [s for s in ("all", "hot_leads") for _ in periods],
        "period_start": [p[0] for p in periods] * 2, "expected_revenue": 1.0,
        "revenue_low": 0.5, "revenue_high": 2.0, "from_customers": 1.0, "from_leads": 0.0,
        "as_of": AS_OF,
    })
    rows = write_forecast_tables(con, "t1", customer_level, tenant)
    hot = rows.filter(pl.col("segment") == "hot_leads")
    assert hot["expected_revenue"].to_list() == [1.0] * len(periods)
    assert set(hot["method"]) == {CUSTOMER_MODEL}
    assert hot["booked_revenue"].null_count() == len(periods)
    everyone = rows.filter(pl.col("segment") == "all")
    assert everyone["expected_revenue"].to_list() == [  # money: to the cent (value.money)
        round(v, 2) for v in tenant.rows["expected_revenue"].to_list()]
    assert everyone["from_customers"].to_list() == [1.0] * len(periods)
    stored = frame(con, "SELECT DISTINCT tenant_id FROM marts.forecast_accuracy")
    assert stored["tenant_id"].to_list() == ["t1"]
    assert frame(con, "SELECT count(*) AS n FROM marts.forecast_accuracy_summary "
                      "WHERE horizon = 0 AND method = 'forecast'")["n"][0] == 1
    assert with_tenant_forecast(customer_level, None)["method"].unique().to_list() == [
        CUSTOMER_MODEL]


def test_accuracy_rows_of_baselines_carry_no_interval(con):
    _, purchases = _simulated(con)
    tenant = tenant_forecast("t1", AS_OF, _history(con, purchases, AS_OF), forecast_periods(AS_OF))
    baselines = tenant.accuracy.filter(pl.col("method") != PUBLISHED)
    assert baselines["within_interval"].null_count() == baselines.height
    summary = tenant.summary.filter(pl.col("method") != PUBLISHED)
    assert summary["coverage_80"].null_count() == summary.height
    published = tenant.summary.filter((pl.col("method") == PUBLISHED) & (pl.col("horizon") == 0))
    assert 0.0 < published["coverage_80"][0] <= 1.0


def test_the_same_as_of_date_gives_the_same_rows_whatever_comes_after(con):
    _, purchases = _simulated(con)
    first = tenant_forecast("t1", AS_OF, _history(con, purchases, AS_OF), forecast_periods(AS_OF))
    add_purchases(con, "t1", pl.DataFrame({  # bought after the as-of date: not seen
        "contact_id": ["late"], "occurred_at": [datetime.datetime(2024, 6, 20, 12)],
        "amount_base": [1e6]}))
    again = tenant_forecast("t1", AS_OF, _history(con, purchases, AS_OF), forecast_periods(AS_OF))
    for a, b in zip(first, again, strict=True):
        assert a.equals(b)


def test_the_run_metadata_names_the_method_and_its_six_month_accuracy(con):
    _, purchases = _simulated(con)
    tenant = tenant_forecast("t1", AS_OF, _history(con, purchases, AS_OF), forecast_periods(AS_OF))
    meta = accuracy_metadata(tenant)
    assert meta["forecast_method"] == tenant.rows["method"][0]
    assert 0 < meta["six_month_wape"] < 1 and 0 < meta["best_naive_six_month_wape"] < 1
    assert 0 <= meta["coverage_80"] <= 1 and accuracy_metadata(None) == {}


def _add_activities(con, tenant: str, rows: list[tuple]) -> None:
    """(contact_id, type, time, amount) rows into core.activities (amount only for purchases)."""
    start = con.sql("SELECT count(*) FROM core.activities").fetchall()[0][0]
    activities = pl.DataFrame(rows, schema=["contact_id", "type", "occurred_at", "amount_base"],
                              orient="row")
    insert(con, "core.activities", activities.with_row_index("line_number", offset=start)
           .with_columns(
               pl.lit(tenant).alias("tenant_id"),
               pl.format("s{}", "line_number").alias("activity_id"),
               pl.col("occurred_at").cast(pl.Datetime("us")),
               pl.when(pl.col("type") == "purchase").then(pl.col("amount_base"))
               .alias("amount_base"),
               pl.when(pl.col("type") == "purchase").then(pl.col("amount_base")).alias("amount"),
               pl.lit("h").alias("content_hash"), pl.lit("imp").alias("import_id"),
               pl.col("line_number").cast(pl.Int64)))


def _summary_history(con, rows, as_of, tenant="t1"):
    """monthly_history with every customer's tenure, first purchase, revenue and id."""
    purchases = pl.DataFrame([(c, w, a) for c, t, w, a in rows if t == "purchase"],
                             schema=["contact_id", "occurred_at", "amount_base"], orient="row")
    customers = purchases.filter(pl.col("occurred_at").dt.date() <= as_of) \
        .sort("contact_id", "occurred_at").group_by("contact_id", maintain_order=True).agg(
            pl.col("occurred_at").first().dt.date().alias("day"),
            pl.col("amount_base").first().alias("value"),
            pl.col("amount_base").sum().alias("revenue"))
    tenure = np.array([(as_of - d).days for d in customers["day"].to_list()])
    return monthly_history(con, tenant, as_of, tenure, customers["value"].to_numpy(),
                           customers["revenue"].to_numpy(), customers["contact_id"].to_list())


def test_subscriptions_are_carved_out_with_their_churn_and_forecast_as_their_own_part(con):
    sim = simulate("subscriptions", months=30, seed=3, base=10, subscribers=15,
                   with_events=True)
    rows = [(c, "purchase", w, a) for c, w, a in purchase_rows(sim)] + subscription_rows(sim)
    _add_activities(con, "t1", rows)
    history = _summary_history(con, rows, AS_OF)
    carved = history.carved
    assert carved.subscription == pytest.approx(sim.subscription_revenue[:29])
    assert carved.starts.tolist() == sim.subscription_starts[:29].tolist()
    assert carved.ends.tolist() == sim.subscription_ends[:29].tolist()
    assert carved.subscription_new.tolist() == sim.subscription_starts[:29].tolist()
    assert not carved.large.any()  # no customer holds 2% of the revenue
    tenant = tenant_forecast("t1", AS_OF, history, forecast_periods(AS_OF))
    july = tenant.rows.row(1, named=True)
    assert july["from_subscriptions"] > 0 and july["expected_subscribers"] > 0
    assert 0.01 < july["subscription_churn"] < 0.08  # simulated: 4% a month
    assert july["from_subscriptions"] < july["model_revenue"]
    assert july["from_large_customers"] == 0.0


def test_large_customers_are_read_from_the_warehouse_and_forecast_apart(con):
    sim = simulate("whales", months=30, seed=4, base=12, with_events=True)
    rows = [(c, "purchase", w, a) for c, w, a in purchase_rows(sim)]
    _add_activities(con, "t1", rows)
    history = _summary_history(con, rows, AS_OF)
    large = history.carved.large  # the whales with 2% of the revenue or more (3 of the 4 here)
    assert (large <= sim.large_revenue[:29] + 0.01).all()
    assert large.sum() > 0.6 * sim.large_revenue[:29].sum()
    assert not history.carved.subscription.any()
    # large customers are not counted as new ones (the whale not singled out is)
    assert sim.new_customers[:29].sum() < history.new_customers.sum() < sim.new_customers[
        :29].sum() + 4
    tenant = tenant_forecast("t1", AS_OF, history, forecast_periods(AS_OF))
    july = tenant.rows.row(1, named=True)
    assert july["from_large_customers"] == pytest.approx(large[-12:].mean())
    assert july["from_subscriptions"] == 0.0


def test_subscriptions_started_before_the_history_count_from_its_first_month():
    from crm_pipeline.value.tenant_forecast import _by_month

    rows = pl.DataFrame({"month": [datetime.date(2021, 10, 1), datetime.date(2022, 2, 1)],
                         "starts": [5, 2]})
    start = (2022 - 1970) * 12  # January 2022
    assert _by_month(rows, "starts", start, 3, earlier=True).tolist() == [5.0, 2.0, 0.0]
    assert _by_month(rows, "starts", start, 3).tolist() == [0.0, 2.0, 0.0]
