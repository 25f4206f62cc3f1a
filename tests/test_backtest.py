import datetime
import warnings

import polars as pl
import pytest
from value_stages import backtest_stage

from crm_pipeline.value.backtest import forecast_backtest
from crm_pipeline.warehouse import run

AS_OF = datetime.date(2026, 11, 15)


def _purchase(con, i, contact, when, amount, kind="purchase"):
    run(con, "INSERT INTO core.activities (tenant_id, activity_id, contact_id, type, occurred_at, "
        "amount, currency, amount_base, content_hash, import_id, line_number) "
        "VALUES ('t1', $id, $c, $k, $at, $a, 'USD', $a, 'h', 'i', $n)",
        {"id": f"a{i}", "c": contact, "k": kind, "at": when, "a": amount, "n": i})


def test_backtest_compares_each_origin_forecast_with_the_revenue_that_followed(con):
    run(con, "INSERT INTO core.tenants VALUES ('t1', NULL, 'US', 'USD', NULL, now())")
    for c in range(5):
        run(con, "INSERT INTO core.contacts (tenant_id, contact_id, first_seen_at, updated_at) "
            "VALUES ('t1', $c, '2024-01-01', '2024-01-01')", {"c": f"c_{c}"})
    n = 0
    for month in range(1, 23):  # Jan 2025 .. Oct 2026, one purchase per contact per month
        for c in range(5):
            n += 1
            day = datetime.datetime(2025 + (month - 1) // 12, (month - 1) % 12 + 1, 10 + c)
            _purchase(con, n, f"c_{c}", day, 100.0)
    _purchase(con, n + 1, "c_0", datetime.datetime(2026, 10, 20), 50.0, kind="refund")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = forecast_backtest(con, "t1", AS_OF, origins_months=(3, 6, 36))
    assert set(rows["origin"].to_list()) == {datetime.date(2026, 8, 15), datetime.date(2026, 5, 15)}
    overall = rows.filter(pl.col("segment") == "all").sort("origin", "period_start")
    assert (overall["period_end"] <= AS_OF + datetime.timedelta(days=1)).all()
    oct_2026 = overall.filter((pl.col("origin") == datetime.date(2026, 8, 15))
                              & (pl.col("period_start") == datetime.date(2026, 10, 1)))
    assert oct_2026["actual_revenue"].to_list() == [450.0]  # 5 x 100, minus the 50 refund
    assert (overall["error"] == overall["actual_revenue"] - overall["expected_revenue"]).all()
    inside = (overall["actual_revenue"] >= overall["revenue_low"]) & (
        overall["actual_revenue"] <= overall["revenue_high"])
    assert (inside == overall["within_interval"]).all()


def test_no_purchases_before_any_origin_gives_no_rows(con):
    rows = forecast_backtest(con, "t1", AS_OF)
    assert rows.height == 0 and "within_interval" in rows.columns


def _tenant_with_monthly_purchases(con):
    run(con, "INSERT INTO core.tenants VALUES ('t1', NULL, 'US', 'USD', NULL, now())")
    for c in range(5):
        run(con, "INSERT INTO core.contacts (tenant_id, contact_id, first_seen_at, updated_at) "
            "VALUES ('t1', $c, '2024-01-01', '2024-01-01')", {"c": f"c_{c}"})
    n = 0
    for month in range(1, 23):  # Jan 2025 .. Oct 2026
        for c in range(5):
            n += 1
            day = datetime.datetime(2025 + (month - 1) // 12, (month - 1) % 12 + 1, 10 + c)
            _purchase(con, n, f"c_{c}", day, 100.0 + c)
    return n


def _marked_stage(con):
    """Runs the stage, then marks its stored rows, so rows kept by the next run show -1."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        backtest_stage(con, "t1", AS_OF)
    run(con, "UPDATE marts.forecast_backtest SET expected_revenue = -1")


def _recomputed_origins(con) -> set[datetime.date]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        backtest_stage(con, "t1", AS_OF)
    return {o for (o,) in run(con, "SELECT DISTINCT origin FROM marts.forecast_backtest "
                                   "WHERE expected_revenue <> -1")}


THREE, SIX, TWELVE = (datetime.date(2026, 8, 15), datetime.date(2026, 5, 15),
                      datetime.date(2025, 11, 15))


def test_a_rerun_with_unchanged_inputs_keeps_every_origins_rows(con):
    _tenant_with_monthly_purchases(con)
    _marked_stage(con)
    assert _recomputed_origins(con) == set()
    origins = run(con, "SELECT DISTINCT origin FROM marts.forecast_backtest ORDER BY 1")
    assert [o for (o,) in origins] == [TWELVE, SIX, THREE]


@pytest.mark.parametrize(
    ("kind", "when", "recomputed"),
    [
        ("purchase", datetime.datetime(2026, 9, 1, 10), {THREE}),  # within the 3-month horizon
        ("refund", datetime.datetime(2026, 9, 10, 10), {THREE}),
        ("purchase", datetime.datetime(2026, 7, 1, 10), {THREE, SIX}),  # a late arrival
        ("email", datetime.datetime(2025, 12, 1, 10), {THREE, SIX, TWELVE}),
        ("purchase", datetime.datetime(2026, 11, 16, 10), set()),  # after every horizon
    ],
)
def test_an_origin_is_recomputed_when_an_activity_before_its_horizon_ends_arrives(
    con, kind, when, recomputed
):
    n = _tenant_with_monthly_purchases(con)
    _marked_stage(con)
    _purchase(con, n + 1, "c_1", when, 30.0, kind=kind)
    assert _recomputed_origins(con) == recomputed


def test_merging_contacts_or_a_new_contact_recomputes_every_origin(con):
    _tenant_with_monthly_purchases(con)
    _marked_stage(con)
    run(con, "UPDATE core.activities SET contact_id = 'c_0' WHERE contact_id = 'c_1'")
    assert _recomputed_origins(con) == {THREE, SIX, TWELVE}
    _marked_stage(con)
    run(con, "INSERT INTO core.contacts (tenant_id, contact_id, first_seen_at, updated_at) "
        "VALUES ('t1', 'lead_1', '2024-01-01', '2024-01-01')")
    assert _recomputed_origins(con) == {THREE, SIX, TWELVE}


def test_kept_rows_equal_recomputed_ones(con):
    _tenant_with_monthly_purchases(con)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        backtest_stage(con, "t1", AS_OF)
        kept = forecast_backtest(con, "t1", AS_OF)
        run(con, "DELETE FROM marts.forecast_backtest")
        fresh = forecast_backtest(con, "t1", AS_OF)
    assert kept.equals(fresh)
