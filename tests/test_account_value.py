"""marts.account_value and account tiers: the accounts' contacts' value rolled up from this
run's lifetime value, tiers by the tenant's thresholds, tier changes audited, re-runs idempotent."""

from __future__ import annotations

import json

import pytest
from helpers import HUBSPOT_HEADER, crm, working, write_csv, write_jsonl

AS_OF = "2026-11-15"
CONTACTS = [
    "1,Ann,Lee,ann@acme.com,,Acme Inc.,CEO,,Boston,US,2024-03-12 09:14",
    "2,Bob,Stone,bob@acme.com,,Acme Inc.,CFO,,Boston,US,2024-03-12 09:14",
    "3,Cleo,Brandt,cleo@initech.de,,Initech GmbH,Buyer,,Berlin,DE,2024-03-12 09:14",
    "4,Dan,Roe,dan@globex.com,,Globex,Engineer,,Austin,US,2024-01-02 08:00",
]


def _purchase(n: int, email: str, day: str, amount: float, kind: str = "purchase") -> dict:
    return {"activity_id": f"p{n}", "tenant_id": "t1", "type": kind, "email": email,
            "occurred_at": f"{day}T10:00:00Z", "amount": amount, "currency": "USD",
            "actor": "shop"}


PURCHASES = [
    _purchase(1, "ann@acme.com", "2026-10-01", 30000),
    _purchase(2, "bob@acme.com", "2026-09-01", 15000),
    _purchase(3, "bob@acme.com", "2025-01-01", 99000),  # more than 365 days ago
    _purchase(4, "bob@acme.com", "2026-10-02", 5000, "refund"),
    _purchase(5, "cleo@initech.de", "2026-11-01", 2500),
]


def _rows(home, sql: str) -> list[dict]:
    con = working(home)
    try:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def _settings(home, settings: dict) -> None:
    from crm_pipeline.home import Home
    from crm_pipeline.warehouse import connect

    con = connect(Home.resolve(str(home)).shard("t1"))
    try:
        con.execute("UPDATE core.tenants SET settings = $s", {"s": json.dumps(settings)})
    finally:
        con.close()


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    d = tmp_path_factory.mktemp("account_value")
    home = d / "home"
    assert crm(home, "import", "contacts", write_csv(d / "c.csv", HUBSPOT_HEADER, CONTACTS),
               "--tenant", "t1", "--no-run")[0] == 0
    assert crm(home, "import", "activities", write_jsonl(d / "a.jsonl", PURCHASES),
               "--tenant", "t1", "--no-run")[0] == 0
    _settings(home, {"accounts": {"tiers": {"strategic_value": 40000, "key_value": 2000,
                                            "key_employees": 50}}})
    assert crm(home, "run", "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    return home


def _by_domain(home) -> dict[str, dict]:
    return {r.pop("domain"): r for r in _rows(home, """
        SELECT a.domain, v.*, a.tier AS account_tier FROM marts.account_value v
        JOIN core.accounts a USING (tenant_id, account_id)""")}


def test_value_rolls_up_the_contacts_lifetime_value(home):
    values = _by_domain(home)
    acme = values["acme.com"]
    ltv = _rows(home, """
        SELECT sum(l.historical_revenue) AS hist, sum(l.expected_clv_365d) AS clv
        FROM marts.customer_ltv l JOIN core.contacts c USING (tenant_id, contact_id)
        WHERE c.email LIKE '%@acme.com'""")[0]
    assert (acme["contacts"], acme["customers"]) == (2, 2)
    assert float(acme["historical_revenue"]) == pytest.approx(float(ltv["hist"]), abs=0.01)
    assert float(acme["expected_clv_365d"]) == pytest.approx(float(ltv["clv"]), abs=0.01)
    # the last 365 days: 30000 + 15000 - 5000 refunded; the purchase of 2025-01-01 is older
    assert float(acme["revenue_365d"]) == 40000
    total = _rows(home, "SELECT sum(expected_clv_365d) AS s FROM marts.customer_ltv")[0]["s"]
    assert acme["forecast_share"] == pytest.approx(float(ltv["clv"]) / float(total))
    assert sum(v["forecast_share"] for v in values.values()) == pytest.approx(1.0)
    assert (values["globex.com"]["customers"], float(values["globex.com"]["revenue_365d"])) == (
        0, 0)


def test_tiers_follow_the_tenants_thresholds_and_are_kept_on_the_account(home):
    values = _by_domain(home)
    assert {d: v["tier"] for d, v in values.items()} == {
        "acme.com": "strategic", "initech.de": "key", "globex.com": "standard"}
    assert values["acme.com"]["tier_reason"] == "365-day value 40000 >= 40000"
    assert all(v["tier"] == v["account_tier"] for v in values.values())


def test_tier_changes_are_audited_and_a_rerun_changes_nothing(home, tmp_path):
    def tier_changes():
        return _rows(home, "SELECT entity_id, new FROM audit.changes WHERE entity = 'account' "
                           "AND action = 'update' AND new LIKE '%tier%' ORDER BY change_id")

    before = tier_changes()
    assert len(before) == 3  # each account got its first tier
    assert crm(home, "run", "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    assert tier_changes() == before
    # the size threshold: Globex given 60 employees becomes key
    companies = write_csv(tmp_path / "co.csv", "Company Domain Name,Number of Employees",
                          ["globex.com,60"])
    assert crm(home, "import", "companies", companies, "--tenant", "t1",
               "--source", "zoominfo")[0] == 0
    assert crm(home, "run", "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    globex = _by_domain(home)["globex.com"]
    assert (globex["tier"], globex["tier_reason"]) == ("key", "60 employees >= 50")
    assert json.loads(tier_changes()[-1]["new"]) == {"tier": "key"}


def test_a_run_for_an_earlier_date_leaves_the_accounts_tiers_alone(home):
    before = {d: v["account_tier"] for d, v in _by_domain(home).items()}
    assert crm(home, "run", "--tenant", "t1", "--as-of", "2025-06-01")[0] == 0
    then = _by_domain(home)
    # on 2025-06-01 Initech had bought nothing yet: standard that day, still key today
    assert then["initech.de"]["tier"] == "standard"
    assert {d: v["account_tier"] for d, v in then.items()} == before


@pytest.mark.parametrize("tiers, problem", [
    ({"key_value": -1}, "at least 0"),
    ({"key_value": 10**9}, "key threshold above the strategic one"),
    ({"gold": 5}, "unknown keys"),
])
def test_bad_tier_settings_are_refused(tiers, problem):
    from crm_pipeline.errors import BadArgument
    from crm_pipeline.marts.tenant_settings import default_settings, merged_settings

    with pytest.raises(BadArgument, match=problem):
        merged_settings(default_settings(), {"accounts": {"tiers": tiers}}, "t1")
