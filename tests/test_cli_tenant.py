"""`crm tenant show|set`: every setting shown with where it comes from; a change is checked whole
(unknown key, wrong type, out of range refused with one line, changing nothing), audited, and
read by the next run, not before."""

from __future__ import annotations

import json

import pytest
from helpers import crm, working, write_csv, write_jsonl

AS_OF = "2026-11-15"
HEADER = "Record ID,First Name,Last Name,Email,Company Name,Number of Employees"
ROWS = ["1,Ann,Lee,ann@example.com,Acme,250", "2,Bo,Chen,bo@example.com,Beta,500"]


def q(home, sql, params=None):
    con = working(home)
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


def _home(tmp_path):
    home = tmp_path / "home"
    contacts = write_csv(tmp_path / "c.csv", HEADER, ROWS)
    assert crm(home, "import", "contacts", contacts, "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    return home


@pytest.fixture
def home(tmp_path):
    return _home(tmp_path)


@pytest.fixture(scope="module")
def unchanged_home(tmp_path_factory):
    """A home the tests using it leave as it was (refusals change nothing)."""
    return _home(tmp_path_factory.mktemp("tenant"))


def members(home, segment="enterprise_prospects"):
    return {r[0] for r in q(home, "SELECT c.first_name FROM marts.contact_segments s "
                                  "JOIN core.contacts c USING (tenant_id, contact_id) "
                                  "WHERE s.segment = $s", {"s": segment})}


def test_show_lists_every_setting_and_where_it_comes_from(home, capsys):
    assert crm(home, "tenant", "set", "--tenant", "t1", "hot_days", "7", "--actor", "jane",
               capsys=capsys)[0] == 0
    code, out, err = crm(home, "tenant", "show", "--tenant", "t1", "--format", "json",
                         capsys=capsys)
    assert code == 0, err
    shown = json.loads(out)
    assert shown["currency"] == "USD" and shown["thresholds.hot_days"] == 7
    assert shown["thresholds.cold_days"] == 60 and shown["score_weights.role"] == 20
    assert shown["target_industries"][0] == "software"
    code, out, _ = crm(home, "tenant", "show", "--tenant", "t1", capsys=capsys)
    line = next(x for x in out.splitlines() if "thresholds.hot_days" in x)
    assert "7" in line and "tenant" in line
    assert "default" in next(x for x in out.splitlines() if "thresholds.cold_days" in x)


REFUSED = {
    "unknown key": (["nope", "3"], "unknown setting 'nope'"),
    "ambiguous-free typo": (["thresholds.hot_dayz", "3"], "unknown setting"),
    "not a number": (["hot_days", "soon"], "must be a number"),
    "not whole days": (["hot_days", "7.5"], "whole number of days"),
    "zero days": (["thresholds.hot_days", "0"], "at least 1"),
    "fraction above 1": (["hot_percentile", "1.5"], "between 0 and 1"),
    "negative": (["--", "enterprise_min_size", "-5"], "at least 0"),
    "not finite": (["enterprise_min_size", "inf"], "finite"),
    "weights off 100": (["score_weights.role", "30"], "add up to 100"),
    "unknown currency": (["currency", "XYZ"], "no exchange rate"),
    "bad country": (["home_country", "Narnia"], "two-letter country code"),
    "empty keyword list": (["role_keywords.top", ","], "non-empty word lists"),
    "key without value": (["hot_days"], "has no value"),
    "tier bound not a number": (["accounts.tiers.key_value", "lots"], "must be a number"),
    "mapping not an object": (["accounts.tiers", "5"], "JSON object"),
    "part of a plain setting": (["accounts.signal_days.x", "1"], "unknown setting"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_bad_setting_is_refused_in_one_line_and_changes_nothing(unchanged_home, capsys,
                                                                   case):
    home = unchanged_home
    args, problem = REFUSED[case]
    before = q(home, "SELECT * FROM core.tenants"), q(home, "SELECT count(*) FROM audit.changes")
    code, _, err = crm(home, "tenant", "set", "--tenant", "t1", "--actor", "jane", *args,
                       capsys=capsys)
    assert code == 2 and problem in err, err
    assert len(err.strip().splitlines()) == 1
    assert (q(home, "SELECT * FROM core.tenants"),
            q(home, "SELECT count(*) FROM audit.changes")) == before


def test_a_change_is_audited_with_old_and_new_values(home, capsys):
    code, out, _ = crm(home, "tenant", "set", "--tenant", "t1", "score_weights.role", "25",
                       "score_weights.industry", "5", "--actor", "jane", capsys=capsys)
    assert code == 0 and "score_weights.role: 20 -> 25 (from the next run)" in out
    [(actor, action, entity, entity_id, previous, new)] = q(
        home, "SELECT actor, action, entity, entity_id, previous, new FROM audit.changes "
              "WHERE entity = 'tenant_settings'")
    assert (actor, action, entity, entity_id) == ("jane", "update", "tenant_settings", "t1")
    assert json.loads(previous) == {"score_weights.role": 20, "score_weights.industry": 10}
    assert json.loads(new) == {"score_weights.role": 25, "score_weights.industry": 5}
    assert crm(home, "audit", "verify")[0] == 0
    # the same values again change nothing and write no audit row
    code, out, _ = crm(home, "tenant", "set", "--tenant", "t1", "score_weights.role", "25",
                       "--actor", "jane", capsys=capsys)
    assert code == 0 and "nothing changed" in out
    assert len(q(home, "SELECT 1 FROM audit.changes WHERE entity = 'tenant_settings'")) == 1


def test_a_threshold_takes_effect_at_the_next_run_not_before(home):
    assert members(home) == {"Ann", "Bo"}  # company sizes 250 and 500, threshold 100
    assert crm(home, "tenant", "set", "--tenant", "t1", "enterprise_min_size", "300",
               "--actor", "jane")[0] == 0
    assert members(home) == {"Ann", "Bo"}  # the marts are the last run's until the next
    assert crm(home, "run", "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    assert members(home) == {"Bo"}
    assert crm(home, "tenant", "set", "--tenant", "t1", "enterprise_min_size", "default",
               "--actor", "jane")[0] == 0
    assert crm(home, "run", "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    assert members(home) == {"Ann", "Bo"}


def test_a_new_currency_converts_stored_amounts_and_the_marts_follow(home, tmp_path):
    purchase = {"activity_id": "p1", "tenant_id": "t1", "type": "purchase",
                "occurred_at": "2026-10-01T10:00:00Z", "source_id": "1", "actor": "pipeline",
                "amount": 103.89, "currency": "USD"}
    log = write_jsonl(tmp_path / "a.jsonl", [purchase])
    assert crm(home, "import", "activities", log, "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    [(usd,)] = q(home, "SELECT historical_revenue FROM marts.customer_ltv")
    assert float(usd) == pytest.approx(103.89)
    assert crm(home, "tenant", "set", "--tenant", "t1", "currency", "eur",
               "--actor", "jane")[0] == 0
    [(amount_base,)] = q(home, "SELECT amount_base FROM core.activities")
    assert float(amount_base) == pytest.approx(100.0, rel=1e-4)  # 1 EUR = 1.0389 USD
    assert crm(home, "run", "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    [(eur,)] = q(home, "SELECT historical_revenue FROM marts.customer_ltv")
    assert float(eur) == pytest.approx(100.0, rel=1e-4)
    assert q(home, "SELECT base_currency FROM core.tenants") == [("EUR",)]


def test_an_agent_may_not_change_settings(unchanged_home, capsys):
    code, _, err = crm(unchanged_home, "tenant", "set", "--tenant", "t1", "hot_days", "7",
                       "--actor",
                       "mercer", capsys=capsys)
    assert code == 2 and "mercer" in err


def test_an_unknown_tenant_is_refused(unchanged_home, capsys):
    code, _, err = crm(unchanged_home, "tenant", "show", "--tenant", "nobody", capsys=capsys)
    assert code == 2 and "nobody" in err


def test_an_entry_of_a_mapping_setting_is_set_shown_and_reset(home, capsys):
    """`accounts.tiers.key_value` sets one bound of the tiers; `accounts.source_priority.FIELD`
    one field's sources; `default` puts the entry back."""
    code, out, err = crm(home, "tenant", "set", "--tenant", "t1", "accounts.tiers.key_value",
                         "30000", "accounts.source_priority.industry", "clearbit,hubspot",
                         "--actor", "jane", capsys=capsys)
    assert code == 0, err
    assert "accounts.tiers.key_value: 20000 -> 30000" in out
    code, out, _ = crm(home, "tenant", "show", "--tenant", "t1", "--format", "json",
                       capsys=capsys)
    shown = json.loads(out)
    assert shown["accounts.tiers"]["key_value"] == 30000
    assert shown["accounts.tiers"]["strategic_value"] == 100000  # the others keep their default
    assert shown["accounts.source_priority"] == {"industry": ["clearbit", "hubspot"]}
    assert crm(home, "tenant", "set", "--tenant", "t1", "accounts.tiers.key_value", "default",
               "--actor", "jane", capsys=capsys)[0] == 0
    shown = json.loads(crm(home, "tenant", "show", "--tenant", "t1", "--format", "json",
                           capsys=capsys)[1])
    assert shown["accounts.tiers"]["key_value"] == 20000
    stored = q(home, "SELECT settings FROM core.tenants WHERE tenant_id = 't1'")[0][0]
    assert json.loads(stored)["accounts"] == {"source_priority": {"industry": ["clearbit",
                                                                                "hubspot"]}}
