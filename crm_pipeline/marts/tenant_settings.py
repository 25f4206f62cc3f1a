"""Segment thresholds and score weights: the defaults file, overridden per tenant.

Defaults live in `data/reference/tenant_defaults.yaml`; a tenant overrides any key with the same
shape in `core.tenants.settings` (JSON). SQL models receive the result as bound parameters
(`$hot_days`, `$w_recency`, ...), never as text spliced into the query.
"""

from __future__ import annotations

import copy
import json
import math
import re
from functools import cache

import duckdb

from crm_pipeline.errors import BadArgument
from crm_pipeline.paths import REFERENCE_DIR
from crm_pipeline.tenants import checked_survivorship
from crm_pipeline.warehouse import run
from crm_pipeline.yaml_docs import parsed_yaml

DEFAULTS_FILE = REFERENCE_DIR / "tenant_defaults.yaml"
NUMBER_SECTIONS = ("thresholds", "score_weights", "scoring", "learned_scores")
DAY_KEYS = frozenset({
    "hot_days", "customer_purchase_days", "support_days", "cold_days", "stale_days",
    "decline_recent_days", "decline_baseline_days", "recency_zero_at_days", "retrain_days",
})
FRACTION_KEYS = frozenset({"hot_percentile", "decline_ratio", "trend_band", "min_auc_gain"})
ROLE_LEVELS = ("top", "high", "mid")
TIER_KEYS = ("strategic_value", "key_value", "strategic_employees", "key_employees")
# The company fields crm import companies observes (crm_pipeline.accounts.firmographics).
FIRMOGRAPHIC_FIELDS = ("name", "domain", "website", "industry", "employees", "annual_revenue",
                       "country", "city", "naics", "sic", "linkedin_url")
PARAM_NAME = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
LINE_COMMENT = re.compile(r"--[^\n]*")


@cache
def _defaults_text() -> str:
    return DEFAULTS_FILE.read_text(encoding="utf-8")


def default_settings() -> dict:
    """The defaults file as a fresh dict (callers may change their copy)."""
    return parsed_yaml(_defaults_text())


def merged_settings(defaults: dict, overrides: dict | None, tenant_id: str) -> dict:
    """Defaults with a tenant's overrides applied and the result checked."""
    settings = copy.deepcopy(defaults)
    where = f"tenant {tenant_id}: core.tenants.settings"
    if overrides is None:
        overrides = {}
    if not isinstance(overrides, dict):
        raise BadArgument(f"{where} must be a JSON object like {{\"thresholds\": {{...}}}}")
    for section, value in overrides.items():
        if section not in settings:
            raise BadArgument(
                f"{where} has an unknown key {section!r}: use one of {sorted(settings)}"
            )
        if isinstance(settings[section], dict):
            if not isinstance(value, dict):
                raise BadArgument(f"{where}.{section} must be a JSON object")
            unknown = sorted(set(value) - set(settings[section]))
            if unknown:
                raise BadArgument(
                    f"{where}.{section} has unknown keys {unknown}: "
                    f"use keys of {sorted(settings[section])}"
                )
            for key, given in value.items():
                default = settings[section][key]
                if isinstance(default, dict) and default and isinstance(given, dict):
                    # a group of named values (accounts.tiers): the keys given replace theirs
                    unknown = sorted(set(given) - set(default))
                    if unknown:
                        raise BadArgument(f"{where}.{section}.{key} has unknown keys {unknown}: "
                                          f"use keys of {sorted(default)}")
                    default.update(given)
                else:
                    settings[section][key] = given
        else:
            settings[section] = value
    _check(settings, where)
    return settings


def _check(settings: dict, where: str) -> None:
    for section in NUMBER_SECTIONS:
        for key, value in settings[section].items():
            name = f"{where}.{section}.{key}"
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
                value
            ) or value < 0:
                raise BadArgument(f"{name} must be a number of at least 0, not {value!r}")
            if key in DAY_KEYS and (value != int(value) or value < 1):
                raise BadArgument(f"{name} must be a whole number of days of at least 1")
            if key in FRACTION_KEYS and value > 1:
                raise BadArgument(f"{name} must be between 0 and 1, not {value!r}")
    for key in ("frequency_full_at", "depth_full_at"):
        if settings["scoring"][key] <= 0:
            raise BadArgument(f"{where}.scoring.{key} must be more than 0")
    total = sum(settings["score_weights"].values())
    if abs(total - 100) > 1e-9:
        raise BadArgument(f"{where}.score_weights must add up to 100, not {total:g}")
    excluded = settings["accounts"]["excluded_domains"]
    if not isinstance(excluded, list) or not all(isinstance(d, str) and d.strip() for d in excluded):
        raise BadArgument(f"{where}.accounts.excluded_domains must be a list of domain names")
    priority = settings["accounts"]["source_priority"]
    if not isinstance(priority, dict) or not all(
            isinstance(k, str) and isinstance(v, list) and v
            and all(isinstance(s, str) and s.strip() for s in v) for k, v in priority.items()):
        raise BadArgument(f"{where}.accounts.source_priority must map a field (or *) to a "
                          "non-empty list of source names")
    days = settings["accounts"]["signal_days"]
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3660:
        raise BadArgument(f"{where}.accounts.signal_days must be a whole number of days, 1 to 3660")
    tiers = settings["accounts"]["tiers"]
    if not isinstance(tiers, dict) or set(tiers) != set(TIER_KEYS) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
            for v in tiers.values()):
        raise BadArgument(f"{where}.accounts.tiers must give numbers of at least 0 for "
                          f"{', '.join(TIER_KEYS)}")
    if tiers["key_value"] > tiers["strategic_value"] or (
            tiers["key_employees"] > tiers["strategic_employees"]):
        raise BadArgument(f"{where}.accounts.tiers: a key threshold above the strategic one")
    unknown = sorted(set(priority) - {"*", *FIRMOGRAPHIC_FIELDS})
    if unknown:
        raise BadArgument(f"{where}.accounts.source_priority names unknown fields {unknown}: "
                          f"use * or {', '.join(FIRMOGRAPHIC_FIELDS)}")
    checked_survivorship(settings["survivorship"], where)
    for key, days in settings["retention"].items():
        if days is not None and (isinstance(days, bool) or not isinstance(days, int | float)
                                 or days != int(days) or not 0 <= days <= 36600):
            raise BadArgument(f"{where}.retention.{key} must be a whole number of days from 0 "
                              f"(keep for ever) to 36600, not {days!r}")
    industries = settings["target_industries"]
    if not isinstance(industries, list) or not all(isinstance(i, str) for i in industries):
        raise BadArgument(f"{where}.target_industries must be a list of industry names")
    roles = settings["role_keywords"]
    if not isinstance(roles, dict) or set(roles) != set(ROLE_LEVELS) or not all(
        isinstance(words, list) and words and all(isinstance(w, str) and w.strip() for w in words)
        for words in roles.values()
    ):
        raise BadArgument(
            f"{where}.role_keywords must give non-empty word lists for top, high and mid"
        )


def tenant_settings(con: duckdb.DuckDBPyConnection, tenant_id: str) -> dict:
    """The tenant's settings: defaults, overridden by its `core.tenants.settings` JSON."""
    rows = run(con, "SELECT settings FROM core.tenants WHERE tenant_id = $t", {"t": tenant_id})
    raw = rows[0][0] if rows else None
    overrides = json.loads(raw) if isinstance(raw, str) else raw
    return merged_settings(default_settings(), overrides, tenant_id)


def _keyword_pattern(words: list[str]) -> str:
    """An RE2 pattern matching any of the words as a whole word."""
    alternatives = "|".join(re.escape(w.strip().lower()) for w in words)
    return rf"\b({alternatives})\b"


def sql_params(settings: dict) -> dict:
    """Settings flattened to the parameter names the SQL models bind."""
    params: dict = {}
    params.update(settings["thresholds"])
    params.update(settings["scoring"])
    params.update({f"w_{k}": v for k, v in settings["score_weights"].items()})
    params["target_industries"] = [i.strip().lower() for i in settings["target_industries"]]
    for level in ROLE_LEVELS:
        params[f"role_{level}"] = _keyword_pattern(settings["role_keywords"][level])
    return params


def query_params(query: str, params: dict, source: str = "query") -> dict:
    """The parameters a query names (DuckDB refuses parameters a query does not use)."""
    names = set(PARAM_NAME.findall(LINE_COMMENT.sub("", query)))
    missing = names - set(params)
    if missing:
        raise BadArgument(
            f"{source} uses parameters {sorted(missing)} that no setting provides: "
            f"use one of {sorted(params)}"
        )
    return {k: v for k, v in params.items() if k in names}
