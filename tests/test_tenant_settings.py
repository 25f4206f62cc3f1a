"""Tenant settings: the defaults file, per-tenant overrides, checks and SQL parameters."""

from __future__ import annotations

import datetime
import json
import re

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_pipeline.errors import BadArgument
from crm_pipeline.marts.tenant_settings import (
    default_settings,
    merged_settings,
    query_params,
    sql_params,
    tenant_settings,
)
from crm_pipeline.warehouse import run

DEFAULTS = default_settings()
DAY_THRESHOLDS = ["hot_days", "customer_purchase_days", "support_days", "cold_days",
                  "stale_days", "decline_recent_days", "decline_baseline_days"]


def add_tenant(con, tenant: str, settings) -> None:
    run(con, "INSERT INTO core.tenants VALUES ($t, NULL, 'US', 'USD', $s, $at)",
        {"t": tenant, "s": None if settings is None else json.dumps(settings),
         "at": datetime.datetime(2024, 1, 1)})


def test_defaults_are_the_contract_thresholds_and_weights_adding_up_to_100():
    t = DEFAULTS["thresholds"]
    assert (t["hot_days"], t["hot_percentile"], t["customer_purchase_days"],
            t["enterprise_min_size"], t["support_days"], t["cold_days"], t["stale_days"],
            t["decline_recent_days"], t["decline_baseline_days"], t["decline_ratio"]) == (
        14, 0.8, 365, 100, 14, 60, 90, 30, 180, 0.5)
    assert sum(DEFAULTS["score_weights"].values()) == 100


def test_a_tenant_without_a_row_or_settings_gets_the_defaults(con):
    add_tenant(con, "t2", None)
    assert tenant_settings(con, "t1") == DEFAULTS
    assert tenant_settings(con, "t2") == DEFAULTS


def test_an_override_replaces_only_the_keys_it_names(con):
    add_tenant(con, "t1", {"thresholds": {"hot_days": 7},
                           "target_industries": ["Healthcare"]})
    settings = tenant_settings(con, "t1")
    assert settings["thresholds"] == {**DEFAULTS["thresholds"], "hot_days": 7}
    assert settings["target_industries"] == ["Healthcare"]
    assert settings["score_weights"] == DEFAULTS["score_weights"]
    assert sql_params(settings)["target_industries"] == ["healthcare"]


@given(st.dictionaries(st.sampled_from(DAY_THRESHOLDS), st.integers(1, 1000), max_size=4))
def test_day_overrides_are_taken_and_the_rest_stays_default(overrides):
    merged = merged_settings(DEFAULTS, {"thresholds": overrides}, "t1")
    for key, value in merged["thresholds"].items():
        assert value == overrides.get(key, DEFAULTS["thresholds"][key])


@given(st.lists(st.integers(0, 40), min_size=5, max_size=5).filter(lambda w: sum(w) <= 100))
def test_any_weights_adding_up_to_100_are_accepted(weights):
    names = list(DEFAULTS["score_weights"])
    values = [*weights, 100 - sum(weights)]
    merged = merged_settings(DEFAULTS, {"score_weights": dict(zip(names, values, strict=True))},
                             "t1")
    assert sum(merged["score_weights"].values()) == 100


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"thresholds": {"hot_dayz": 7}}, "unknown keys \\['hot_dayz'\\]"),
        ({"colours": {}}, "unknown key 'colours'"),
        ({"score_weights": {"industry": 20}}, "add up to 100, not 110"),
        ({"thresholds": {"cold_days": 0}}, "whole number of days"),
        ({"thresholds": {"cold_days": 2.5}}, "whole number of days"),
        ({"thresholds": {"hot_percentile": 80}}, "between 0 and 1"),
        ({"thresholds": {"stale_days": "ninety"}}, "must be a number"),
        ({"thresholds": {"stale_days": True}}, "must be a number"),
        ({"thresholds": 14}, "must be a JSON object"),
        ({"target_industries": "software"}, "list of industry names"),
        ({"role_keywords": {"top": []}}, "top, high and mid"),
        ([1, 2], "must be a JSON object"),
    ],
)
def test_bad_overrides_are_refused_with_the_key_named(overrides, message):
    with pytest.raises(BadArgument, match=message) as exc:
        merged_settings(DEFAULTS, overrides, "acme")
    assert "tenant acme: core.tenants.settings" in str(exc.value)


def test_role_patterns_match_whole_words_only():
    params = sql_params(DEFAULTS)
    assert re.search(params["role_mid"], "team lead")
    assert not re.search(params["role_mid"], "leadership coach")
    assert re.search(params["role_top"], "co-founder")
    con = duckdb.connect()
    assert con.execute("SELECT regexp_matches('head of sales', $p)",
                       {"p": params["role_high"]}).fetchone() == (True,)


def test_query_params_gives_only_the_names_a_query_uses():
    params = {"tenant_id": "t1", "hot_days": 14, "cold_days": 60}
    query = "-- uses $cold_days in words only\nSELECT $hot_days WHERE x = $tenant_id"
    assert query_params(query, params) == {"tenant_id": "t1", "hot_days": 14}


def test_query_params_names_a_missing_parameter():
    with pytest.raises(BadArgument, match=r"my.sql uses parameters \['warm_days'\]"):
        query_params("SELECT $warm_days", {"hot_days": 14}, "my.sql")
