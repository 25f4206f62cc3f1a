"""The customer summary computed in DuckDB from core.activities."""

import datetime

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_pipeline.value.ltv.summary import (
    SUMMARY_COLUMNS,
    customer_summaries_query,
    customer_summary,
)
from crm_pipeline.warehouse import connect, create_tables

AS_OF = datetime.date(2024, 6, 30)


def insert_activities(con, rows: list[tuple]) -> None:
    """Rows of (tenant_id, contact_id, type, occurred_at, amount_base) into core.activities."""
    frame = (
        pl.DataFrame(
            rows,
            schema=["tenant_id", "contact_id", "type", "occurred_at", "amount_base"],
            orient="row",
        )
        .with_row_index("line_number")
        .with_columns(
            pl.format("act-{}", "line_number").alias("activity_id"),
            pl.col("occurred_at").str.to_datetime("%Y-%m-%d %H:%M"),
            pl.col("amount_base").alias("amount"),
            pl.lit("USD").alias("currency"),
            pl.lit("h").alias("content_hash"),
            pl.lit("imp").alias("import_id"),
            pl.col("line_number").cast(pl.Int64),
        )
    )
    con.register("new_rows", frame)
    con.execute("INSERT INTO core.activities BY NAME SELECT * FROM new_rows")
    con.unregister("new_rows")


@pytest.fixture
def con():
    con = connect(":memory:")
    create_tables(con)
    yield con
    con.close()


def by_contact(frame: pl.DataFrame) -> dict[str, dict]:
    return {row["contact_id"]: row for row in frame.iter_rows(named=True)}


def test_purchases_on_one_day_count_as_one_and_ages_are_whole_days(con):
    insert_activities(
        con,
        [
            ("t1", "c1", "purchase", "2024-01-10 09:00", 10.0),
            ("t1", "c1", "purchase", "2024-01-10 23:59", 5.0),
            ("t1", "c1", "purchase", "2024-02-09 00:01", 20.0),
            ("t1", "c1", "purchase", "2024-03-10 12:00", 30.0),
            ("t1", "c1", "email", "2024-06-01 12:00", None),
        ],
    )
    row = by_contact(customer_summary(con, "t1", AS_OF))["c1"]
    assert row["frequency"] == 2
    assert row["recency_days"] == 60.0  # 2024-01-10 to 2024-03-10
    assert row["tenure_days"] == 172.0  # 2024-01-10 to 2024-06-30
    assert row["avg_order_value"] == pytest.approx(25.0)  # repeat days only: (20 + 30) / 2
    assert row["historical_revenue"] == pytest.approx(65.0)
    assert row["first_order_value"] == pytest.approx(15.0)


def test_one_purchase_customer_has_no_average_order_value(con):
    insert_activities(con, [("t1", "c1", "purchase", "2024-06-30 18:00", 42.0)])
    row = by_contact(customer_summary(con, "t1", AS_OF))["c1"]
    assert (row["frequency"], row["recency_days"], row["tenure_days"]) == (0, 0.0, 0.0)
    assert row["avg_order_value"] is None
    assert row["historical_revenue"] == 42.0


def test_purchases_and_refunds_after_the_as_of_date_are_ignored(con):
    insert_activities(
        con,
        [
            ("t1", "c1", "purchase", "2024-06-01 10:00", 10.0),
            ("t1", "c1", "purchase", "2024-07-01 00:00", 99.0),
            ("t1", "c1", "refund", "2024-07-02 00:00", 10.0),
            ("t1", "c2", "purchase", "2024-07-01 00:00", 99.0),
        ],
    )
    summary = by_contact(customer_summary(con, "t1", AS_OF))
    assert set(summary) == {"c1"}
    assert summary["c1"]["frequency"] == 0
    assert summary["c1"]["historical_revenue"] == 10.0
    assert (
        by_contact(customer_summary(con, "t1", datetime.date(2024, 7, 2)))["c1"][
            "historical_revenue"
        ]
        == 99.0
    )


def test_a_refund_reduces_the_latest_purchase_day_before_it(con):
    insert_activities(
        con,
        [
            ("t1", "c1", "purchase", "2024-01-01 10:00", 100.0),
            ("t1", "c1", "purchase", "2024-02-01 10:00", 50.0),
            ("t1", "c1", "refund", "2024-02-15 10:00", 50.0),  # returns the February order
            ("t1", "c1", "purchase", "2024-03-01 10:00", 30.0),
        ],
    )
    row = by_contact(customer_summary(con, "t1", AS_OF))["c1"]
    assert row["frequency"] == 2  # a refund does not undo a purchase day
    assert row["avg_order_value"] == pytest.approx((0.0 + 30.0) / 2)
    assert row["historical_revenue"] == pytest.approx(130.0)


def test_refunds_can_make_net_spend_negative_and_refunds_alone_make_no_customer(con):
    insert_activities(
        con,
        [
            ("t1", "c1", "purchase", "2024-01-01 10:00", 20.0),
            ("t1", "c1", "purchase", "2024-02-01 10:00", 20.0),
            ("t1", "c1", "refund", "2024-02-02 10:00", 45.0),
            ("t1", "c2", "refund", "2024-02-02 10:00", 5.0),
            (
                "t1",
                "c3",
                "refund",
                "2023-12-01 10:00",
                5.0,
            ),  # before any purchase: first purchase day
            ("t1", "c3", "purchase", "2024-01-01 10:00", 20.0),
            ("t1", "c3", "purchase", "2024-01-05 10:00", 20.0),
        ],
    )
    summary = by_contact(customer_summary(con, "t1", AS_OF))
    assert set(summary) == {"c1", "c3"}
    assert summary["c1"]["avg_order_value"] == pytest.approx(-25.0)
    assert summary["c1"]["historical_revenue"] == pytest.approx(-5.0)
    assert summary["c3"]["first_order_value"] == pytest.approx(15.0)
    assert summary["c3"]["avg_order_value"] == pytest.approx(20.0)


def test_only_the_named_tenants_purchases_count(con):
    insert_activities(
        con,
        [
            ("t1", "c1", "purchase", "2024-01-01 10:00", 20.0),
            ("t2", "c1", "purchase", "2024-02-01 10:00", 20.0),
            ("t2", "c9", "purchase", "2024-02-01 10:00", 20.0),
        ],
    )
    summary = customer_summary(con, "t1", AS_OF)
    assert summary["contact_id"].to_list() == ["c1"]
    assert summary["frequency"].to_list() == [0]


def test_a_tenant_without_purchases_has_an_empty_summary_with_the_columns(con):
    summary = customer_summary(con, "nobody", AS_OF)
    assert summary.height == 0
    assert "avg_order_value" in summary.columns


TIME = "%Y-%m-%d %H:%M"
activity = st.tuples(
    st.sampled_from(["c1", "c2", "c3"]),
    st.sampled_from(["purchase", "purchase", "refund"]),
    st.integers(0, 60),  # day, from 2024-01-01
    st.integers(0, 23),  # hour
    st.sampled_from([None, 0.0, 5.0, 12.5, 40.0]),
)


@pytest.fixture(scope="module")
def shared_con():
    con = connect(":memory:")
    create_tables(con)
    yield con
    con.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(activity, max_size=25),
       days=st.lists(st.integers(0, 70), min_size=1, max_size=4))
def test_summaries_at_several_dates_equal_the_summary_at_each(shared_con, rows, days):
    con = shared_con
    con.execute("DELETE FROM core.activities").fetchall()
    start = datetime.datetime(2024, 1, 1)
    if rows:
        insert_activities(con, [
            ("t1", c, kind, (start + datetime.timedelta(days=d, hours=h)).strftime(TIME), amount)
            for c, kind, d, h, amount in rows
        ])
    dates = [datetime.date(2024, 1, 1) + datetime.timedelta(days=d) for d in days]
    query, params = customer_summaries_query(dates)
    wide = con.sql(query, params={"tenant_id": "t1", **params}).pl()
    for i, day in enumerate(dates):
        single = customer_summary(con, "t1", day)
        at = wide.filter(pl.col("first_purchase_on") <= day).select(
            "contact_id", *(pl.col(f"{c}_{i}").alias(c) for c in SUMMARY_COLUMNS),
            "first_purchase_on",
        )
        expected = single.select("contact_id", *SUMMARY_COLUMNS, "first_purchase_on")
        assert at.cast(expected.schema).equals(expected), day
