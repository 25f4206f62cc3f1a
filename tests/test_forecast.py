"""Monthly revenue forecast per segment: customers from the models, leads from conversion rates."""

import datetime

import numpy as np
import polars as pl
import pytest

from crm_pipeline.value.forecast import (
    LOOKBACK_DAYS,
    forecast_as_of,
    forecast_periods,
    revenue_forecast,
    stored_revenue_forecast,
)
from crm_pipeline.value.ltv.bgnbd import BgNbdParams, simulate
from crm_pipeline.value.ltv.model import LtvFallbackWarning, ltv_tables
from crm_pipeline.warehouse import connect, create_tables

AS_OF = datetime.date(2024, 6, 14)


def insert(con, table: str, frame: pl.DataFrame) -> None:
    con.register("new_rows", frame)
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM new_rows")
    con.unregister("new_rows")


def add_purchases(con, tenant: str, frame: pl.DataFrame) -> None:
    start = con.sql("SELECT count(*) FROM core.activities").fetchall()[0][0]
    insert(
        con,
        "core.activities",
        frame.with_row_index("line_number", offset=start).with_columns(
            pl.lit(tenant).alias("tenant_id"),
            pl.format("a{}", "line_number").alias("activity_id"),
            pl.lit("purchase").alias("type"),
            pl.col("occurred_at").cast(pl.Datetime("us")),
            pl.col("amount_base").alias("amount"),
            pl.lit("h").alias("content_hash"),
            pl.lit("imp").alias("import_id"),
            pl.col("line_number").cast(pl.Int64),
        ),
    )


def add_contacts(con, tenant: str, ids: list[str], known_on: datetime.date) -> None:
    seen = datetime.datetime.combine(known_on, datetime.time(9))
    insert(
        con,
        "core.contacts",
        pl.DataFrame(
            {
                "tenant_id": tenant,
                "contact_id": ids,
                "first_seen_at": seen,
                "updated_at": seen,
            }
        ),
    )


def add_segment(con, tenant: str, segment: str, ids: list[str], as_of=AS_OF) -> None:
    insert(
        con,
        "marts.contact_segments",
        pl.DataFrame(
            {
                "tenant_id": tenant,
                "contact_id": ids,
                "segment": segment,
                "as_of": as_of,
            }
        ),
    )


def simulated_customers(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 500, n).astype(float)
    x, tx = simulate(BgNbdParams(0.8, 25.0, 0.7, 3.0), T, rng)
    rows = []
    for i in range(n):
        first = datetime.datetime.combine(AS_OF, datetime.time(12)) - datetime.timedelta(
            days=int(T[i])
        )
        offsets = [
            0.0,
            *sorted(rng.uniform(0, tx[i], max(int(x[i]) - 1, 0))),
            *([tx[i]] if x[i] else []),
        ]
        rows += [
            (f"c{i}", first + datetime.timedelta(days=float(o)), float(rng.gamma(5.0, 6.0)))
            for o in offsets
        ]
    return pl.DataFrame(rows, schema=["contact_id", "occurred_at", "amount_base"], orient="row")


@pytest.fixture
def con():
    con = connect(":memory:")
    create_tables(con)
    yield con
    con.close()


@pytest.fixture
def tenant(con):
    """600 simulated customers, 200 leads known for a year; segments at AS_OF."""
    purchases = simulated_customers(600, seed=1)
    add_purchases(con, "t1", purchases)
    customers = purchases["contact_id"].unique().to_list()
    add_contacts(con, "t1", customers, AS_OF)  # imported now: known from their first purchase
    leads = [f"lead{i}" for i in range(200)]
    add_contacts(con, "t1", leads, AS_OF - datetime.timedelta(days=400))
    add_segment(con, "t1", "existing_customers", sorted(customers)[:300])
    add_segment(con, "t1", "hot_leads", leads[:50])
    add_segment(con, "t1", "cold_leads", leads[50:])
    return con


def test_periods_run_from_the_day_after_the_as_of_date_for_twelve_months():
    periods = forecast_periods(datetime.date(2024, 6, 14))
    assert periods[0] == (datetime.date(2024, 6, 15), datetime.date(2024, 7, 1))
    assert periods[1][0] == datetime.date(2024, 7, 1)
    assert periods[-1] == (datetime.date(2025, 6, 1), datetime.date(2025, 6, 15))
    assert len(periods) == 13
    assert sum((end - start).days for start, end in periods) == 365
    month_end = forecast_periods(datetime.date(2024, 1, 31))
    assert len(month_end) == 12 and month_end[0][0] == datetime.date(2024, 2, 1)
    assert month_end[-1][1] == datetime.date(2025, 2, 1)


def test_forecast_has_every_segment_and_all_with_bounds_around_the_expectation(tenant):
    model_row, customer_ltv = ltv_tables(tenant, "t1", AS_OF, "run-1")
    forecast = revenue_forecast(tenant, "t1", AS_OF, customer_ltv, model_row)
    assert set(forecast["segment"]) == {"all", "existing_customers", "hot_leads", "cold_leads"}
    assert forecast.filter(pl.col("segment") == "all").height == 13
    assert (forecast["revenue_low"] <= forecast["expected_revenue"]).all()
    assert (forecast["expected_revenue"] <= forecast["revenue_high"]).all()
    uncertain = forecast.filter(pl.col("expected_revenue") > 0)
    assert (
        uncertain.height >= 2 * 13 and (uncertain["revenue_low"] < uncertain["revenue_high"]).all()
    )
    parts = forecast["from_customers"] + forecast["from_leads"]
    assert ((parts - forecast["expected_revenue"]).abs() < 1e-6).all()
    assert (forecast["as_of"] == AS_OF).all()
    # the months add up to the customers' expected 365-day value
    everyone = forecast.filter(pl.col("segment") == "all")
    assert everyone["from_customers"].sum() == pytest.approx(
        customer_ltv["expected_clv_365d"].sum(), rel=1e-6
    )
    existing = customer_ltv.join(
        tenant.sql(
            "SELECT contact_id FROM marts.contact_segments WHERE segment = 'existing_customers'"
        ).pl(),
        on="contact_id",
    )
    in_segment = forecast.filter(pl.col("segment") == "existing_customers")
    assert in_segment["from_customers"].sum() == pytest.approx(
        existing["expected_clv_365d"].sum(), rel=1e-6
    )
    assert in_segment["from_leads"].sum() == 0.0


def test_forecast_rows_fit_the_table(tenant):
    model_row, customer_ltv = ltv_tables(tenant, "t1", AS_OF, "run-1")
    insert(
        tenant,
        "marts.revenue_forecast",
        revenue_forecast(tenant, "t1", AS_OF, customer_ltv, model_row),
    )
    assert tenant.sql("SELECT count(*) FROM marts.revenue_forecast").fetchall()[0][0] == 4 * 13


def test_leads_convert_at_their_segments_historical_rate(tenant):
    # 40 former hot leads bought in the last year, 20 days after entering the segment
    converts = [f"conv{i}" for i in range(40)]
    entered = AS_OF - datetime.timedelta(days=200)
    add_contacts(tenant, "t1", converts, entered - datetime.timedelta(days=30))
    insert(
        tenant,
        "marts.segment_history",
        pl.DataFrame(
            {
                "tenant_id": "t1",
                "contact_id": converts,
                "segment": "hot_leads",
                "entered_on": entered,
                "left_on": entered + datetime.timedelta(days=21),
            }
        ),
    )
    bought = datetime.datetime.combine(entered + datetime.timedelta(days=20), datetime.time(10))
    add_purchases(
        tenant,
        "t1",
        pl.DataFrame({"contact_id": converts, "occurred_at": bought, "amount_base": 100.0}),
    )

    model_row, customer_ltv = ltv_tables(tenant, "t1", AS_OF, "run-1")
    forecast = revenue_forecast(tenant, "t1", AS_OF, customer_ltv, model_row)
    leads = forecast.group_by("segment").agg(pl.col("from_leads").sum())
    per_lead = {s: v for s, v in leads.iter_rows()}
    hot, cold = per_lead["hot_leads"] / 50, per_lead["cold_leads"] / 150
    assert hot > 5 * cold > 0
    assert per_lead["all"] > 0
    # 40 conversions over 40 x 20 lead-days in the segment, shrunk by two pseudo-conversions
    assert forecast.filter(pl.col("segment") == "hot_leads")["from_leads"][0] < 50 * 100.0


def test_leads_without_any_conversions_in_the_lookback_add_nothing(tenant):
    model_row, customer_ltv = ltv_tables(tenant, "t1", AS_OF, "run-1")
    forecast = revenue_forecast(tenant, "t1", AS_OF, customer_ltv, model_row)
    # the simulated customers bought at first sight, which is not a lead's conversion
    assert forecast["from_leads"].sum() == 0.0
    assert LOOKBACK_DAYS == 365


def test_a_fallback_model_is_forecast_linearly(con):
    add_purchases(
        con,
        "small",
        pl.DataFrame(
            {
                "contact_id": ["c1", "c1", "c2"],
                "occurred_at": [
                    datetime.datetime(2024, 1, 1),
                    datetime.datetime(2024, 4, 1),
                    datetime.datetime(2024, 5, 1),
                ],
                "amount_base": [10.0, 20.0, 30.0],
            }
        ),
    )
    with pytest.warns(LtvFallbackWarning):
        model_row, customer_ltv = ltv_tables(con, "small", AS_OF, "run-1")
    forecast = revenue_forecast(con, "small", AS_OF, customer_ltv, model_row)
    assert forecast["segment"].unique().to_list() == ["all"]
    assert forecast["from_customers"].sum() == pytest.approx(
        customer_ltv["expected_clv_365d"].sum(), rel=1e-9
    )
    first, second = forecast["from_customers"][0], forecast["from_customers"][1]
    assert first / 16 == pytest.approx(second / 31)  # 16 days of June, 31 of July
    assert (forecast["revenue_low"] <= forecast["expected_revenue"]).all()


def test_a_back_test_forecast_ignores_what_happened_after_its_date(tenant):
    earlier = AS_OF - datetime.timedelta(days=90)
    before = forecast_as_of(tenant, "t1", earlier)
    add_purchases(
        tenant,
        "t1",
        pl.DataFrame(
            {
                "contact_id": ["c1", "lead1"],
                "occurred_at": datetime.datetime.combine(
                    earlier + datetime.timedelta(days=3), datetime.time(10)
                ),
                "amount_base": 1000.0,
            }
        ),
    )
    after = forecast_as_of(tenant, "t1", earlier)
    assert before["period_start"][0] == earlier + datetime.timedelta(days=1)
    assert (before["as_of"] == earlier).all()
    assert before.equals(after)


def test_the_stored_forecast_equals_the_one_from_frames_whatever_the_row_order(tenant):
    model_row, customer_ltv = ltv_tables(tenant, "t1", AS_OF, "run-1")
    insert(tenant, "marts.ltv_model", model_row)
    insert(tenant, "marts.customer_ltv", customer_ltv.sample(fraction=1.0, shuffle=True, seed=3))
    stored = stored_revenue_forecast(tenant, "t1", AS_OF, "run-1")
    from_frames = revenue_forecast(tenant, "t1", AS_OF, customer_ltv.reverse(), model_row)
    assert stored.height == 4 * 13
    for column in ("expected_revenue", "revenue_low", "revenue_high", "from_leads"):
        np.testing.assert_allclose(stored[column], from_frames[column], rtol=1e-9)
