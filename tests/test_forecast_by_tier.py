"""marts.revenue_forecast_by_tier: the customers' part of the revenue forecast by the tier of their
account, from a whole `crm run` (accounts linked, valued and tiered from this run's lifetime
value)."""

from __future__ import annotations

import pytest
from helpers import HUBSPOT_HEADER, crm, working, write_csv, write_jsonl
from test_account_value import PURCHASES, _settings

AS_OF = "2026-11-15"
CONTACTS = [
    "1,Ann,Lee,ann@acme.com,,Acme Inc.,CEO,,Boston,US,2024-03-12 09:14",
    "2,Bob,Stone,bob@acme.com,,Acme Inc.,CFO,,Boston,US,2024-03-12 09:14",
    "3,Cleo,Brandt,cleo@initech.de,,Initech GmbH,Buyer,,Berlin,DE,2024-03-12 09:14",
    "4,Dan,Roe,dan@globex.com,,Globex,Engineer,,Austin,US,2024-01-02 08:00",
    "5,Eve,Park,eve.park@gmail.com,,,,,Denver,US,2024-02-01 08:00",
]
EVE = {"activity_id": "p9", "tenant_id": "t1", "type": "purchase", "email": "eve.park@gmail.com",
       "occurred_at": "2026-06-01T10:00:00Z", "amount": 700, "currency": "USD", "actor": "shop"}


def _rows(home, sql: str) -> list[dict]:
    con = working(home)
    try:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    d = tmp_path_factory.mktemp("by_tier")
    home = d / "home"
    assert crm(home, "import", "contacts", write_csv(d / "c.csv", HUBSPOT_HEADER, CONTACTS),
               "--tenant", "t1", "--no-run")[0] == 0
    assert crm(home, "import", "activities", write_jsonl(d / "a.jsonl", [*PURCHASES, EVE]),
               "--tenant", "t1", "--no-run")[0] == 0
    _settings(home, {"accounts": {"tiers": {"strategic_value": 40000, "key_value": 2000,
                                            "key_employees": 50}}})
    assert crm(home, "run", "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    return home


def test_each_tier_holds_its_accounts_customers_and_the_unlinked_ones_stand_apart(home):
    rows = _rows(home, "SELECT tier, min(customers) AS customers, min(accounts) AS accounts, "
                       "count(*) AS months FROM marts.revenue_forecast_by_tier GROUP BY tier")
    by_tier = {r.pop("tier"): r for r in rows}
    # acme (Ann, Bob) is strategic, initech (Cleo) key; globex has no customer; Eve no account
    assert by_tier == {"strategic": {"customers": 2, "accounts": 1, "months": 13},
                       "key": {"customers": 1, "accounts": 1, "months": 13},
                       "no_account": {"customers": 1, "accounts": 0, "months": 13}}


def test_the_tiers_add_up_to_the_customers_part_of_the_forecast(home):
    rows = _rows(home, """
        SELECT f.period_start, f.from_customers, sum(t.expected_revenue) AS tiers,
               bool_and(t.revenue_low <= t.expected_revenue
                        AND t.expected_revenue <= t.revenue_high) AS ordered,
               bool_and(t.as_of = f.as_of) AS same_date
        FROM marts.revenue_forecast AS f
        JOIN marts.revenue_forecast_by_tier AS t USING (tenant_id, period_start)
        WHERE f.segment = 'all' GROUP BY ALL ORDER BY 1""")
    assert len(rows) == 13
    for r in rows:
        assert r["tiers"] == pytest.approx(r["from_customers"], abs=0.05)
        assert r["ordered"] and r["same_date"]
    assert sum(r["tiers"] for r in rows) > 0


def test_a_rerun_gives_the_same_rows(home):
    before = _rows(home, "SELECT * FROM marts.revenue_forecast_by_tier ORDER BY tier, period_start")
    assert crm(home, "run", "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    after = _rows(home, "SELECT * FROM marts.revenue_forecast_by_tier ORDER BY tier, period_start")
    assert before == after
