"""Tenants: registering them and reading their home country and base currency."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from crm_pipeline.errors import BadArgument
from crm_pipeline.warehouse import run

TENANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
CURRENCY_BY_COUNTRY = {
    "US": "USD", "GB": "GBP", "DE": "EUR", "FR": "EUR", "ES": "EUR", "IT": "EUR", "NL": "EUR",
    "IE": "EUR", "AT": "EUR", "BE": "EUR", "PT": "EUR", "FI": "EUR", "CA": "CAD", "AU": "AUD",
    "CH": "CHF", "JP": "JPY", "IN": "INR", "SE": "SEK", "NO": "NOK", "DK": "DKK", "NZ": "NZD",
}


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
