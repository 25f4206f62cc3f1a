"""Lifetime value, forecast and back-test in one pass: the rows of the three stages, for less."""

import datetime
import threading
import warnings

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from test_forecast import add_contacts, add_purchases, add_segment, insert, simulated_customers
from value_stages import backtest_stage, forecast_stage, ltv_stage

from crm_pipeline import pipeline
from crm_pipeline.value import refresh as value
from crm_pipeline.value.refresh import refresh_value
from crm_pipeline.warehouse import connect, create_tables, frame, run

AS_OF = datetime.date(2024, 6, 14)
TABLES = {  # each table's rows in a stable order
    "ltv_model": ("run_id",),
    "customer_ltv": ("contact_id",),
    "segment_ltv": ("segment",),
    "revenue_forecast": ("segment", "period_start"),
    "forecast_backtest": ("origin", "segment", "period_start"),
    "forecast_accuracy": ("method", "origin", "horizon"),
    "forecast_accuracy_summary": ("method", "horizon"),
}


def _tenant(con, tenant: str, seed: int) -> None:
    """Simulated customers (one refund), leads, segments at the as-of date and a history
    reaching back before the back-test's origins."""
    purchases = simulated_customers(300, seed=seed)
    add_purchases(con, tenant, purchases)
    customers = sorted(purchases["contact_id"].unique().to_list())
    add_contacts(con, tenant, customers, AS_OF - datetime.timedelta(days=500))
    leads = [f"lead{i}" for i in range(60)]
    add_contacts(con, tenant, leads, AS_OF - datetime.timedelta(days=400))
    add_segment(con, tenant, "existing_customers", customers[:150])
    add_segment(con, tenant, "cold_leads", leads)
    insert(con, "marts.segment_history", pl.DataFrame({
        "tenant_id": tenant, "contact_id": customers[100:220], "segment": "hot_leads",
        "entered_on": AS_OF - datetime.timedelta(days=420), "left_on": None,
    }, schema_overrides={"left_on": pl.Date}))
    run(con, "INSERT INTO core.activities (tenant_id, activity_id, contact_id, type, occurred_at, "
        "amount, currency, amount_base, content_hash, import_id, line_number) VALUES ($t, "
        "'refund1', $c, 'refund', $at, 20, 'USD', 20, 'h', 'imp', 999999)",
        {"t": tenant, "c": customers[0], "at": datetime.datetime(2024, 3, 1, 10)})


@pytest.fixture
def two():
    """Two warehouses holding the same tenant, t1: one for the stages, one for refresh_value."""
    cons = [connect(":memory:") for _ in range(2)]
    for con in cons:
        create_tables(con)
        _tenant(con, "t1", seed=3)
    yield cons
    for con in cons:
        con.close()


def _stages(con, tenant: str, as_of: datetime.date, run_id: str) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {**ltv_stage(con, tenant, as_of, run_id),
                **forecast_stage(con, tenant, as_of, run_id),
                **backtest_stage(con, tenant, as_of)}


def _refresh(con, tenant: str, as_of: datetime.date, run_id: str) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return refresh_value(con, tenant, as_of, run_id)


def _rows(con, table: str, tenant: str = "t1") -> pl.DataFrame:
    return frame(con, f"SELECT * FROM marts.{table} WHERE tenant_id = $t", {"t": tenant}).sort(
        TABLES[table])


# Tables whose money is written rounded to the cent (value.money).
ROUNDED = ("segment_ltv", "revenue_forecast", "forecast_accuracy")


def _assert_same_tables(a, b) -> None:
    for table in TABLES:
        # per-segment sums are added in another order: equal to the last digits, and money
        # rounded to the cent may then round to a neighbouring cent
        assert_frame_equal(_rows(a, table), _rows(b, table), rel_tol=1e-9,
                           abs_tol=0.011 if table in ROUNDED else 0)


def test_refresh_value_writes_what_the_three_stages_write_day_after_day(two):
    stages, one_pass = two
    for as_of, run_id in ((AS_OF, "r1"), (AS_OF, "r2"), (AS_OF + datetime.timedelta(days=1), "r3")):
        expected = _stages(stages, "t1", as_of, run_id)
        got = _refresh(one_pass, "t1", as_of, run_id)
        assert got.keys() == expected.keys()
        assert {k: v for k, v in got.items() if k not in ("model", "accuracy")} == pytest.approx(
            {k: v for k, v in expected.items() if k not in ("model", "accuracy")}, rel=1e-9,
            abs=0.05)
        method = got["accuracy"].pop("forecast_method")
        assert method == expected["accuracy"].pop("forecast_method")
        assert got["accuracy"] == pytest.approx(expected["accuracy"], rel=1e-9)
        assert got["model"] == expected["model"]
        _assert_same_tables(stages, one_pass)
    models = _rows(one_pass, "ltv_model")
    assert models["run_id"].to_list() == ["r1", "r2", "r3"]
    assert (models["model"] == "bgnbd+gamma_gamma").all()
    backtest = _rows(one_pass, "forecast_backtest")
    assert backtest["segment"].unique().sort().to_list() == ["all", "hot_leads"]


def test_a_second_run_on_the_same_day_keeps_the_backtest_rows(two):
    _, con = two
    _refresh(con, "t1", AS_OF, "r1")
    run(con, "UPDATE marts.forecast_backtest SET expected_revenue = -1")
    result = _refresh(con, "t1", AS_OF, "r2")
    kept = _rows(con, "forecast_backtest")
    assert kept.height == result["rows"] > 0
    assert (kept["expected_revenue"] == -1).all()


def test_rerunning_a_run_rewrites_the_same_rows(two):
    _, con = two
    first = _refresh(con, "t1", AS_OF, "r1")
    before = {table: _rows(con, table) for table in TABLES}
    assert _refresh(con, "t1", AS_OF, "r1") == first
    for table, rows in before.items():
        # the refit starts at the optimum now: fewer iterations, the same parameters
        assert_frame_equal(_rows(con, table).drop("iterations", "diagnostics", strict=False),
                           rows.drop("iterations", "diagnostics", strict=False))


def test_another_tenants_rows_are_left_alone(two):
    stages, con = two
    _tenant(con, "t2", seed=4)
    _refresh(con, "t2", AS_OF, "r0")
    theirs = {table: _rows(con, table, "t2") for table in TABLES}
    _refresh(con, "t1", AS_OF, "r1")
    _stages(stages, "t1", AS_OF, "r1")
    _assert_same_tables(stages, con)  # t1 computed from t1's data alone
    for table, rows in theirs.items():
        assert rows.height > 0
        assert_frame_equal(_rows(con, table, "t2"), rows)


class Broken(RuntimeError):
    pass


def _worker_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("value-prepare")]


def test_a_failure_in_the_backtest_is_raised_after_value_and_forecast_are_written(two, monkeypatch):
    stages, con = two
    _refresh(con, "t1", AS_OF, "r1")
    _stages(stages, "t1", AS_OF, "r1")
    backtest_before = _rows(con, "forecast_backtest")
    tomorrow = AS_OF + datetime.timedelta(days=1)

    def broken(*args, **kwargs):
        raise Broken("back-test failed")

    monkeypatch.setattr(value, "recomputed_rows", broken)
    with pytest.raises(Broken):
        _refresh(con, "t1", tomorrow, "r2")
    assert not _worker_threads()
    # as with the stages: lifetime value and the forecast are written, the back-test is not
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ltv_stage(stages, "t1", tomorrow, "r2")
        forecast_stage(stages, "t1", tomorrow, "r2")
    for table in ("ltv_model", "customer_ltv", "segment_ltv", "revenue_forecast",
                  "forecast_accuracy", "forecast_accuracy_summary"):
        assert_frame_equal(_rows(con, table), _rows(stages, table), rel_tol=1e-9, abs_tol=0)
    assert_frame_equal(_rows(con, "forecast_backtest"), backtest_before)


def test_a_failure_in_lifetime_value_writes_nothing(two, monkeypatch):
    _, con = two

    def broken(*args, **kwargs):
        raise Broken("fit failed")

    monkeypatch.setattr(value, "fitted_values", broken)
    with pytest.raises(Broken):
        _refresh(con, "t1", AS_OF, "r1")
    assert not _worker_threads()
    for table in TABLES:
        assert _rows(con, table).height == 0


def test_a_tenant_without_purchases_gets_the_fallback_and_no_backtest():
    con = connect(":memory:")
    create_tables(con)
    add_contacts(con, "t1", ["lead1", "lead2"], AS_OF - datetime.timedelta(days=30))
    other = connect(":memory:")
    create_tables(other)
    add_contacts(other, "t1", ["lead1", "lead2"], AS_OF - datetime.timedelta(days=30))
    got = _refresh(con, "t1", AS_OF, "r1")
    assert got == _stages(other, "t1", AS_OF, "r1")
    assert got["model"] == "historical_average" and got["customers"] == 0 and got["rows"] == 0
    _assert_same_tables(other, con)


MART_TABLES = ("engagement", "lead_scores", "lifecycle", "contact_segments", "segment_history")


def _sorted(con, table: str) -> pl.DataFrame:
    rows = frame(con, f"SELECT * FROM marts.{table} WHERE tenant_id = 't1'")
    return rows.sort(rows.columns)


def test_marts_and_value_side_by_side_equal_the_marts_then_value(two):
    one_after_other, side_by_side = two
    for day, run_id in ((AS_OF, "r1"), (AS_OF, "r2"), (AS_OF + datetime.timedelta(days=1), "r3")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pipeline.marts_stage(one_after_other, "t1", day)
            expected = pipeline.value_stage(one_after_other, "t1", day, run_id)
            got = pipeline.marts_and_value_stage(side_by_side, "t1", day, run_id)
        assert got["value"] == expected
        assert not _worker_threads()
        _assert_same_tables(one_after_other, side_by_side)
        for table in MART_TABLES:
            assert_frame_equal(_sorted(side_by_side, table), _sorted(one_after_other, table))


def test_a_marts_failure_waits_for_the_value_work_and_writes_no_value(two, monkeypatch):
    _, con = two

    def broken(*args, **kwargs):
        raise Broken("marts failed")

    monkeypatch.setattr(pipeline, "marts_stage", broken)
    with pytest.raises(Broken):
        pipeline.marts_and_value_stage(con, "t1", AS_OF, "r1")
    assert not _worker_threads()
    for table in TABLES:
        assert _rows(con, table).height == 0


def test_the_value_work_beside_the_marts_sees_the_warehouse_as_before_the_refresh(two, monkeypatch):
    _, con = two
    refreshed = threading.Event()
    seen = []
    marts_stage, prepare_value = pipeline.marts_stage, value.prepare_value

    def marts_then_signal(*args, **kwargs):
        result = marts_stage(*args, **kwargs)
        refreshed.set()
        return result

    def prepare_after_the_refresh(cursor, *args, **kwargs):
        assert refreshed.wait(60)  # the refresh has committed before this reads anything
        seen.append(run(cursor, "SELECT count(*) FROM marts.engagement")[0][0])
        return prepare_value(cursor, *args, **kwargs)

    monkeypatch.setattr(pipeline, "marts_stage", marts_then_signal)
    monkeypatch.setattr(pipeline, "prepare_value", prepare_after_the_refresh)  # the name it calls
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline.marts_and_value_stage(con, "t1", AS_OF, "r1")
    assert seen == [0]  # no engagement rows before this first refresh
    assert run(con, "SELECT count(*) FROM marts.engagement")[0][0] > 0
