"""Money in the value marts' totals is rounded to the tenant currency's minor unit: cents for
dollars, whole yen for yen; probabilities, counts and per-customer estimates keep their
precision."""

from __future__ import annotations

import polars as pl
from helpers import crm, working, write_csv, write_jsonl

from crm_pipeline.value.money import minor_unit_digits, rounded_money

AS_OF = "2026-11-15"


def test_minor_units_follow_iso_4217():
    assert [minor_unit_digits(c) for c in ("USD", "eur", "JPY", "KRW", "KWD")] == [2, 2, 0, 0, 3]


def test_only_money_columns_are_rounded():
    frame = pl.DataFrame({"expected_clv_365d": [12.3456, 0.004], "p_alive": [0.123456, 0.5],
                          "expected_purchases_365d": [1.23456, 2.0]})
    usd, yen = rounded_money(frame, "USD"), rounded_money(frame, "JPY")
    assert usd["expected_clv_365d"].to_list() == [12.35, 0.0]
    assert yen["expected_clv_365d"].to_list() == [12.0, 0.0]
    assert usd["p_alive"].equals(frame["p_alive"])
    assert yen["expected_purchases_365d"].equals(frame["expected_purchases_365d"])


def test_a_yen_tenants_marts_hold_whole_yen(tmp_path):
    home = tmp_path / "home"
    contacts = write_csv(tmp_path / "c.csv", "Record ID,First Name,Last Name,Email",
                         ["1,Aiko,Sato,aiko@example.jp", "2,Ken,Ito,ken@example.jp"])
    assert crm(home, "import", "contacts", contacts, "--tenant", "jp", "--region", "JP",
               "--no-run")[0] == 0
    lines = [{"activity_id": f"p{i}", "tenant_id": "jp", "type": "purchase",
              "occurred_at": f"2026-{m:02d}-03T10:00:00+09:00", "source_id": sid,
              "actor": "pipeline", "amount": amount}
             for i, (sid, m, amount) in enumerate([("1", 3, 1234.5), ("1", 7, 999.9),
                                                   ("1", 10, 3333.3), ("2", 9, 5000.7)])]
    log = write_jsonl(tmp_path / "a.jsonl", lines)
    assert crm(home, "import", "activities", log, "--tenant", "jp", "--as-of", AS_OF)[0] == 0
    con = working(home)
    try:
        assert con.execute("SELECT base_currency FROM core.tenants").fetchone() == ("JPY",)
        segments = con.execute("SELECT historical_revenue, expected_clv_365d, mean_clv_365d, "
                               "mean_p_alive FROM marts.segment_ltv").fetchall()
        forecast = con.execute("SELECT expected_revenue, revenue_low, revenue_high "
                               "FROM marts.revenue_forecast").fetchall()
        per_customer = con.execute("SELECT expected_clv_365d FROM marts.customer_ltv").fetchall()
    finally:
        con.close()
    money = [v for r in segments for v in r[:3] if v is not None]
    money += [v for r in forecast for v in r]
    assert money and all(float(v) == round(float(v)) for v in money)
    assert any(0 < r[3] < 1 and r[3] != round(r[3], 2) for r in segments)  # not money
    # per customer, estimates keep their precision: sums of rounded values would drift
    assert any(float(v) != round(float(v)) for (v,) in per_customer)
