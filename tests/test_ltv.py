"""ltv_tables: the rows of marts.ltv_model and marts.customer_ltv for one tenant."""

import datetime
import json

import numpy as np
import polars as pl
import pytest

from crm_pipeline.value.ltv.bgnbd import BgNbdParams, simulate
from crm_pipeline.value.ltv.model import (
    MODEL_FALLBACK,
    MODEL_FITTED,
    LtvFallbackWarning,
    ltv_tables,
    previous_parameters,
)
from crm_pipeline.value.ltv.segments import ltv_by_segment
from crm_pipeline.warehouse import connect, create_tables

AS_OF = datetime.date(2024, 12, 31)


def purchases_frame(tenant: str, n: int, seed: int, as_of=AS_OF) -> pl.DataFrame:
    """Purchases of n customers simulated from BG/NBD, one row per purchase."""
    rng = np.random.default_rng(seed)
    T = rng.integers(0, 600, n).astype(float)
    x, tx = simulate(BgNbdParams(0.8, 25.0, 0.7, 3.0), T, rng)
    x = x.astype(np.int64)
    owner = np.repeat(np.arange(n), x + 1)
    position = np.arange(owner.size) - (np.cumsum(x + 1) - (x + 1))[owner]
    times = np.where(
        position == 0,
        0.0,
        np.where(position == x[owner], tx[owner], rng.uniform(0, 1, owner.size) * tx[owner]),
    )
    first = np.datetime64(as_of) - T.astype("timedelta64[D]")
    at = first[owner].astype("datetime64[us]") + (times * 86400e6).astype("timedelta64[us]")
    spend = rng.gamma(4.0, 1.0 / rng.gamma(3.0, 1.0 / 20.0, n))[owner]
    return pl.DataFrame(
        {
            "tenant_id": tenant,
            "contact_id": [f"{tenant}-c{i}" for i in owner],
            "type": "purchase",
            "occurred_at": at,
            "amount_base": np.round(rng.gamma(4.0, 1.0, owner.size) * spend / 4.0, 2),
        }
    )


def insert(con, frame: pl.DataFrame) -> None:
    start = con.sql("SELECT count(*) FROM core.activities").fetchall()[0][0]
    rows = frame.with_row_index("line_number", offset=start).with_columns(
        pl.format("a{}", "line_number").alias("activity_id"),
        pl.col("occurred_at").cast(pl.Datetime("us")),
        pl.col("amount_base").alias("amount"),
        pl.lit("h").alias("content_hash"),
        pl.lit("imp").alias("import_id"),
        pl.col("line_number").cast(pl.Int64),
    )
    con.register("new_rows", rows)
    con.execute("INSERT INTO core.activities BY NAME SELECT * FROM new_rows")
    con.unregister("new_rows")


def event(tenant, contact, kind, day, amount):
    return {
        "tenant_id": tenant,
        "contact_id": contact,
        "type": kind,
        "occurred_at": datetime.datetime.fromisoformat(day),
        "amount_base": amount,
    }


@pytest.fixture
def con():
    con = connect(":memory:")
    create_tables(con)
    yield con
    con.close()


def write(con, table: str, frame: pl.DataFrame, tenant: str) -> None:
    """Delete-then-insert of the tenant's slice, as the pipeline writes."""
    con.execute(f"DELETE FROM {table} WHERE tenant_id = $t", {"t": tenant})
    con.register("slice", frame)
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM slice")
    con.unregister("slice")


def test_a_fitted_tenant_gets_model_and_customer_rows_that_fit_the_tables(con):
    insert(con, purchases_frame("t1", 1500, seed=1))
    model_row, customers = ltv_tables(con, "t1", AS_OF, "run-1")
    write(con, "marts.ltv_model", model_row, "t1")
    write(con, "marts.customer_ltv", customers, "t1")

    row = con.sql("SELECT * FROM marts.ltv_model").pl().row(0, named=True)
    assert row["model"] == MODEL_FITTED and row["converged"] is True
    assert row["customers"] == 1500 and row["as_of"] == AS_OF and row["run_id"] == "run-1"
    assert all(row[k] > 0 for k in ("r", "alpha", "a", "b", "p", "q", "v"))
    diagnostics = json.loads(row["diagnostics"])
    assert diagnostics["time_unit"] == "days" and diagnostics["customers"] == 1500

    stored = con.sql("SELECT * FROM marts.customer_ltv").pl()
    assert stored.height == 1500
    assert stored.select(
        (pl.col("p_alive").is_between(0, 1)).all(),
        (pl.col("expected_purchases_90d") <= pl.col("expected_purchases_365d")).all(),
        (pl.col("expected_clv_365d") >= 0).all(),
    ).row(0) == (True, True, True)


def test_one_purchase_customers_are_valued_at_the_population_mean_order(con):
    insert(con, purchases_frame("t1", 800, seed=2))
    model_row, customers = ltv_tables(con, "t1", AS_OF, "run-1")
    row = model_row.row(0, named=True)
    once = customers.filter(pl.col("frequency") == 0)
    assert once.height > 0
    assert once["avg_order_value"].null_count() == once.height
    ratio = once["expected_clv_365d"] / once["expected_purchases_365d"]
    assert ratio.to_numpy() == pytest.approx(row["p"] * row["v"] / (row["q"] - 1), rel=1e-9)


def test_refunds_reduce_revenue_and_customers_without_positive_spend_are_worth_nothing(con):
    insert(con, purchases_frame("t1", 800, seed=3))
    insert(
        con,
        pl.DataFrame(
            [
                event("t1", "r1", "purchase", "2024-03-01 10:00", 50.0),
                event("t1", "r1", "purchase", "2024-04-01 10:00", 60.0),
                event("t1", "r1", "refund", "2024-04-03 10:00", 60.0),  # the repeat order returned
                event("t1", "r2", "purchase", "2024-05-01 10:00", 80.0),
                event("t1", "r2", "refund", "2024-05-02 10:00", 80.0),  # the only order returned
            ]
        ),
    )
    model_row, customers = ltv_tables(con, "t1", AS_OF, "run-1")
    assert model_row["model"][0] == MODEL_FITTED
    rows = {
        r["contact_id"]: r
        for r in customers.filter(pl.col("contact_id").is_in(["r1", "r2"])).iter_rows(named=True)
    }
    assert rows["r1"]["historical_revenue"] == pytest.approx(50.0)
    assert rows["r1"]["avg_order_value"] == pytest.approx(0.0)
    assert rows["r2"]["historical_revenue"] == pytest.approx(0.0)
    assert rows["r1"]["expected_clv_365d"] == 0.0 and rows["r2"]["expected_clv_365d"] == 0.0
    assert rows["r1"]["expected_purchases_365d"] > 0  # still expected to buy, for nothing
    assert json.loads(model_row["diagnostics"][0])["nonpositive_spend_customers"] >= 2


def test_a_tenant_with_too_few_customers_falls_back_to_historical_averages(con):
    insert(
        con,
        pl.DataFrame(
            [
                event("small", "c1", "purchase", "2024-01-01 10:00", 10.0),
                event("small", "c1", "purchase", "2024-07-01 10:00", 30.0),
                event("small", "c2", "purchase", "2024-10-01 10:00", 20.0),
            ]
        ),
    )
    with pytest.warns(LtvFallbackWarning, match="small"):
        model_row, customers = ltv_tables(con, "small", AS_OF, "run-1")
    row = model_row.row(0, named=True)
    assert row["model"] == MODEL_FALLBACK
    assert row["r"] is None and row["log_likelihood"] is None and row["converged"] is None
    diagnostics = json.loads(row["diagnostics"])
    assert "minimum 50" in diagnostics["fallback_reason"]
    # one repeat purchase day in 365 + 91 days of tenure; 60 net over 3 purchase days: the
    # priors of the recency- and frequency-aware fallback (tests/test_ltv_fallback.py)
    assert diagnostics["historical_repeat_rate_per_day"] == pytest.approx(1 / (365 + 91))
    assert diagnostics["historical_value_per_purchase_day"] == pytest.approx(20.0)
    by_id = {r["contact_id"]: r for r in customers.iter_rows(named=True)}
    assert 0 < by_id["c1"]["p_alive"] < 1 and 0 < by_id["c2"]["p_alive"] < 1
    assert by_id["c1"]["expected_clv_365d"] > 0 and by_id["c2"]["expected_clv_365d"] > 0


def test_a_tenant_without_purchases_gets_a_fallback_row_and_no_customers(con):
    with pytest.warns(LtvFallbackWarning):
        model_row, customers = ltv_tables(con, "empty", AS_OF, "run-1")
    assert model_row["customers"][0] == 0 and customers.height == 0
    write(con, "marts.ltv_model", model_row, "empty")


def test_the_as_of_date_hides_later_purchases_and_ages_the_customers(con):
    frame = purchases_frame("t1", 1000, seed=4)
    insert(con, frame)
    earlier = AS_OF - datetime.timedelta(days=100)
    _, now = ltv_tables(con, "t1", AS_OF, "run-1")
    _, then = ltv_tables(con, "t1", earlier, "run-0")
    cutoff = datetime.datetime.combine(earlier + datetime.timedelta(days=1), datetime.time())
    assert then.height == frame.filter(pl.col("occurred_at") < cutoff)["contact_id"].n_unique()
    assert (then["as_of"] == earlier).all()
    both = then.join(now, on="contact_id", suffix="_now")
    assert (both["tenure_days_now"] - both["tenure_days"] == 100).all()
    assert (both["frequency_now"] >= both["frequency"]).all()


def test_tenants_are_fitted_apart(con):
    insert(con, purchases_frame("t1", 600, seed=5))
    insert(con, purchases_frame("t2", 600, seed=6))
    _, one = ltv_tables(con, "t1", AS_OF, "run-1")
    assert one.height == 600 and one["contact_id"].str.starts_with("t1-").all()


def test_value_per_segment_sums_its_customers_and_all_sums_everyone(con):
    insert(con, purchases_frame("t1", 300, seed=7))
    _, customers = ltv_tables(con, "t1", AS_OF, "run-1")
    members = customers["contact_id"].head(100).to_list()
    con.register(
        "seg",
        pl.DataFrame(
            {
                "tenant_id": "t1",
                "contact_id": [*members, "lead-1"],
                "segment": "vip",
                "as_of": AS_OF,
            }
        ),
    )
    con.execute("INSERT INTO marts.contact_segments SELECT * FROM seg")
    by_segment = {
        r["segment"]: r for r in ltv_by_segment(con, "t1", AS_OF, customers).iter_rows(named=True)
    }
    assert by_segment["vip"]["customers"] == 100
    assert by_segment["vip"]["expected_clv_365d"] == pytest.approx(
        customers.head(100)["expected_clv_365d"].sum()
    )
    assert by_segment["all"]["customers"] == 300
    assert by_segment["all"]["historical_revenue"] == pytest.approx(
        customers["historical_revenue"].sum()
    )


def test_the_ltv_stage_writes_one_row_per_segment_with_all_and_leads_segments(con):
    from value_stages import ltv_stage

    insert(con, purchases_frame("t1", 300, seed=8))
    _, customers = ltv_tables(con, "t1", AS_OF, "run-0")
    members = customers["contact_id"].head(120).to_list()
    con.register(
        "seg",
        pl.DataFrame(
            {
                "tenant_id": "t1",
                "contact_id": [*members, "lead-1", "lead-2"],
                "segment": ["vip"] * 120 + ["cold_leads"] * 2,
                "as_of": AS_OF,
            }
        ),
    )
    con.execute("INSERT INTO marts.contact_segments SELECT * FROM seg")
    ltv_stage(con, "t1", AS_OF, "run-1")
    ltv_stage(con, "t1", AS_OF, "run-2")  # a re-run replaces the tenant's rows
    stored_segments = con.sql("SELECT * FROM marts.segment_ltv").pl()
    rows = {r["segment"]: r for r in stored_segments.iter_rows(named=True)}
    assert sorted(rows) == ["all", "cold_leads", "vip"]
    stored = con.sql("SELECT * FROM marts.customer_ltv").pl()
    assert rows["all"]["customers"] == 300
    # segment totals are money rounded to the cent (value.money); customers' values are not
    assert rows["all"]["expected_clv_365d"] == pytest.approx(stored["expected_clv_365d"].sum(),
                                                             abs=0.005)
    assert rows["all"]["expected_active_customers"] == pytest.approx(stored["p_alive"].sum())
    assert rows["vip"]["customers"] == 120
    assert rows["vip"]["mean_clv_365d"] == pytest.approx(
        stored.filter(pl.col("contact_id").is_in(members))["expected_clv_365d"].mean(), abs=0.005
    )
    leads = rows["cold_leads"]
    assert leads["customers"] == 0 and leads["expected_clv_365d"] == 0.0
    assert leads["mean_clv_365d"] is None and leads["mean_p_alive"] is None
    assert {r["run_id"] for r in rows.values()} == {"run-2"}
    assert {r["model"] for r in rows.values()} == {MODEL_FITTED}


def test_segment_value_under_the_fallback_counts_the_customers_likely_active(con):
    insert(
        con,
        pl.DataFrame(
            [
                event("small", "c1", "purchase", "2024-01-01 10:00", 10.0),
                event("small", "c1", "purchase", "2024-07-01 10:00", 30.0),
            ]
        ),
    )
    with pytest.warns(LtvFallbackWarning):
        model_row, customers = ltv_tables(con, "small", AS_OF, "run-1")
    (row,) = ltv_by_segment(con, "small", AS_OF, customers, model_row).iter_rows(named=True)
    assert row["segment"] == "all" and row["customers"] == 1 and row["model"] == MODEL_FALLBACK
    assert 0 < row["expected_active_customers"] <= 1 and 0 < row["mean_p_alive"] <= 1
    assert row["expected_clv_365d"] > 0


def test_the_next_fit_starts_from_the_tenants_latest_fitted_parameters(con):
    from value_stages import ltv_stage

    assert previous_parameters(con, "t1") is None
    insert(con, purchases_frame("t1", 300, seed=8))
    ltv_stage(con, "t1", AS_OF, "run-1")
    model = con.sql("SELECT * FROM marts.ltv_model WHERE run_id = 'run-1'").pl().row(0, named=True)
    start = previous_parameters(con, "t1")
    assert start == {k: model[k] for k in ("r", "alpha", "a", "b", "p", "q", "v")}
    again, _ = ltv_tables(con, "t1", AS_OF, "run-2", start=start)
    for name in ("r", "alpha", "a", "b", "p", "q", "v"):
        assert again[name][0] == pytest.approx(model[name], rel=1e-7), name
