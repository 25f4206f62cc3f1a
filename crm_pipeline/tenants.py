"""Tenants: registering them and reading their home country, base currency and survivorship
rules (the `survivorship` section of their settings)."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from crm_pipeline.errors import BadArgument
from crm_pipeline.paths import REFERENCE_DIR
from crm_pipeline.warehouse import run
from crm_pipeline.yaml_docs import parsed_yaml

TENANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
CURRENCY_BY_COUNTRY = {
    "US": "USD", "GB": "GBP", "DE": "EUR", "FR": "EUR", "ES": "EUR", "IT": "EUR", "NL": "EUR",
    "IE": "EUR", "AT": "EUR", "BE": "EUR", "PT": "EUR", "FI": "EUR", "CA": "CAD", "AU": "AUD",
    "CH": "CHF", "JP": "JPY", "IN": "INR", "SE": "SEK", "NO": "NOK", "DK": "DKK", "NZ": "NZD",
}
# The golden-record fields survivorship chooses field by field (their companions follow them:
# company_key the company, phone_type the phone, email_status the email).
SURVIVING_FIELDS = ("first_name", "last_name", "email", "phone", "company", "job_title",
                    "industry", "company_size", "street", "city", "postcode", "state", "country",
                    "birthdate", "lifecycle_stage")
SURVIVORSHIP_KEYS = ("source_priority", "changes_over_time", "review_below_score")


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    name: str | None
    home_country: str
    base_currency: str


def checked_tenant_id(tenant_id: str | None) -> str:
    """The tenant id, refused when missing or malformed (a record without a tenant is refused)."""
    if not tenant_id or not tenant_id.strip():
        raise BadArgument("no tenant given: pass --tenant TENANT_ID")
    tenant_id = tenant_id.strip()
    if not TENANT_ID.match(tenant_id):
        raise BadArgument(
            f"tenant id {tenant_id!r} is not valid: use letters, digits, '_', '-' or '.'"
        )
    return tenant_id


def ensure_tenant(
    con: duckdb.DuckDBPyConnection,
    tenant_id: str,
    *,
    home_country: str | None = None,
    base_currency: str | None = None,
    name: str | None = None,
) -> Tenant:
    """The tenant's record, created on first use (home country defaults to US)."""
    existing = get_tenant(con, tenant_id)
    if existing:
        return existing
    country = (home_country or "US").upper()
    currency = (base_currency or CURRENCY_BY_COUNTRY.get(country, "USD")).upper()
    run(
        con,
        "INSERT INTO core.tenants VALUES ($t, $n, $c, $cur, NULL, $at)",
        {"t": tenant_id, "n": name, "c": country, "cur": currency,
         "at": datetime.now(UTC).replace(tzinfo=None)},
    )
    return Tenant(tenant_id, name, country, currency)


def get_tenant(con: duckdb.DuckDBPyConnection, tenant_id: str) -> Tenant | None:
    rows = run(
        con,
        "SELECT tenant_id, name, home_country, base_currency FROM core.tenants WHERE tenant_id = $t",
        {"t": tenant_id},
    )
    return Tenant(*rows[0]) if rows else None


def all_tenants(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in run(con, "SELECT tenant_id FROM core.tenants ORDER BY 1")]


def landing_tenants(landing_dir: Path) -> list[str]:
    """Tenants with files waiting in the landing folder (`landing/<tenant>/<kind>/`); folders
    whose name is not a valid tenant id are left alone."""
    if not landing_dir.is_dir():
        return []
    return sorted(d.name for d in landing_dir.iterdir()
                  if d.is_dir() and TENANT_ID.match(d.name)
                  and any(f.is_file() for f in d.glob("*/*")))


def checked_survivorship(section: object, where: str) -> dict:
    """The `survivorship` settings section, refused (one line naming the key) when a key, a
    field or a value is not one a run can use."""
    if not isinstance(section, dict) or set(section) != set(SURVIVORSHIP_KEYS):
        raise BadArgument(f"{where}.survivorship must give {', '.join(SURVIVORSHIP_KEYS)}")
    priority = section["source_priority"]
    if not isinstance(priority, dict) or not all(
            isinstance(k, str) and isinstance(v, list) and v
            and all(isinstance(s, str) and s.strip() for s in v) for k, v in priority.items()):
        raise BadArgument(f"{where}.survivorship.source_priority must map a field (or *) to a "
                          "non-empty list of source names (vendor, source system or file name)")
    unknown = sorted(set(priority) - {"*", *SURVIVING_FIELDS})
    if unknown:
        raise BadArgument(f"{where}.survivorship.source_priority names unknown fields {unknown}: "
                          f"use * or {', '.join(SURVIVING_FIELDS)}")
    changing = section["changes_over_time"]
    if not isinstance(changing, list) or not all(isinstance(f, str) for f in changing):
        raise BadArgument(f"{where}.survivorship.changes_over_time must be a list of fields")
    unknown = sorted(set(changing) - set(SURVIVING_FIELDS))
    if unknown:
        raise BadArgument(f"{where}.survivorship.changes_over_time names unknown fields "
                          f"{unknown}: use {', '.join(SURVIVING_FIELDS)}")
    below = section["review_below_score"]
    if isinstance(below, bool) or not isinstance(below, int | float) or not (
            math.isfinite(below) and 0 <= below <= 1):
        raise BadArgument(f"{where}.survivorship.review_below_score must be a match score "
                          "between 0 and 1")
    return section


def survivorship_settings(con: duckdb.DuckDBPyConnection, tenant_id: str) -> dict:
    """The tenant's survivorship rules: the defaults file's section, each key the tenant gives
    in `core.tenants.settings` replacing the default's (checked)."""
    defaults = parsed_yaml((REFERENCE_DIR / "tenant_defaults.yaml").read_text("utf-8"))
    section = dict(defaults["survivorship"])
    rows = run(con, "SELECT settings FROM core.tenants WHERE tenant_id = $t", {"t": tenant_id})
    raw = rows[0][0] if rows else None
    overrides = json.loads(raw) if isinstance(raw, str) else raw
    given = (overrides or {}).get("survivorship") if isinstance(overrides, dict) else None
    if isinstance(given, dict):
        section.update(given)
    return checked_survivorship(section, f"tenant {tenant_id}: core.tenants.settings")
