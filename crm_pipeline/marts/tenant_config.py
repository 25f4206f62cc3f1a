"""A tenant's settings as `crm tenant show|set` sees them: one flat key per value.

Keys are the tenant's columns (`currency`, `home_country`, `name`) and every setting of
`data/reference/tenant_defaults.yaml`, by section and name (`thresholds.hot_days`,
`score_weights.role`, `role_keywords.top`, `target_industries`); a name that only one section
holds may be given alone (`hot_days`). A value is text as typed, read by the type of its default
(a number, or a list: comma-separated or a JSON array); `default` removes the tenant's override.
The result is checked whole by `tenant_settings.merged_settings` (ranges, weights adding up to 100)
before anything is stored, so a refused change changes nothing. Stored in `core.tenants`, the
settings are read by the next run.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import duckdb

from crm_pipeline.errors import BadArgument
from crm_pipeline.marts.tenant_settings import default_settings, merged_settings
from crm_pipeline.warehouse import run

COLUMNS = {"currency": "base_currency", "home_country": "home_country", "name": "name"}
RESET = "default"


@dataclass
class SettingsChange:
    """What a `set` changes: the new overrides and columns, and each key's old and new value."""

    overrides: dict
    columns: dict[str, str | None] = field(default_factory=dict)
    previous: dict = field(default_factory=dict)
    new: dict = field(default_factory=dict)


def setting_keys() -> list[str]:
    """Every key `crm tenant set` takes, in the defaults file's order."""
    keys = list(COLUMNS)
    for section, value in default_settings().items():
        if isinstance(value, dict):
            keys += [f"{section}.{name}" for name in value]
        else:
            keys.append(section)
    return keys


def resolved_key(key: str) -> str:
    """The full key for what the user typed (a unique bare name is enough)."""
    typed = key.strip().lower()
    keys = setting_keys()
    if typed in keys:
        return typed
    matches = [k for k in keys if k.split(".")[-1] == typed]
    if len(matches) == 1:
        return matches[0]
    sections = sorted({k.split(".")[0] for k in keys if "." in k})
    hint = (f"it is in several sections: {', '.join(matches)}" if matches else
            f"use currency, home_country, name, or SECTION.NAME with a section of "
            f"{', '.join(sections)} (crm tenant show lists them all)")
    raise BadArgument(f"unknown setting {key!r}: {hint}")


def _stored(con: duckdb.DuckDBPyConnection, tenant_id: str) -> tuple[dict, dict]:
    rows = run(con, "SELECT base_currency, home_country, name, settings FROM core.tenants "
                    "WHERE tenant_id = $t", {"t": tenant_id})
    if not rows:
        raise BadArgument(f"tenant {tenant_id!r} is not registered: import a file for it first")
    currency, country, name, raw = rows[0]
    overrides = json.loads(raw) if isinstance(raw, str) else (raw or {})
    return {"currency": currency, "home_country": country, "name": name}, overrides


def settings_rows(con: duckdb.DuckDBPyConnection, tenant_id: str) -> list[tuple[str, str, str]]:
    """(key, value as JSON text, `tenant` or `default`: where the value comes from) of every
    setting of the tenant."""
    columns, overrides = _stored(con, tenant_id)
    merged = merged_settings(default_settings(), overrides, tenant_id)
    rows = [(k, json.dumps(v, ensure_ascii=False), "tenant") for k, v in columns.items()]
    for key in setting_keys()[len(COLUMNS):]:
        section, _, name = key.partition(".")
        value = merged[section][name] if name else merged[section]
        given = section in overrides and (not name or name in overrides[section])
        rows.append((key, json.dumps(value, ensure_ascii=False),
                     "tenant" if given else "default"))
    return rows


def settings_change(con: duckdb.DuckDBPyConnection, tenant_id: str,
                    pairs: list[tuple[str, str]], currencies: set[str],
                    regions: set[str]) -> SettingsChange:
    """The change that setting these (key, text) pairs makes, checked whole; raises
    `BadArgument` with one line for an unknown key or a value of the wrong type or range."""
    columns, overrides = _stored(con, tenant_id)
    change = SettingsChange(overrides=json.loads(json.dumps(overrides)))
    defaults = default_settings()
    merged = merged_settings(defaults, overrides, tenant_id)
    for typed, text in pairs:
        key = resolved_key(typed)
        if key in COLUMNS:
            value = _column_value(key, text, currencies, regions)
            change.previous[key], change.new[key] = columns[key], value
            change.columns[COLUMNS[key]] = value
            continue
        section, _, name = key.partition(".")
        default = defaults[section][name] if name else defaults[section]
        current = merged[section][name] if name else merged[section]
        reset = text.strip().lower() == RESET
        value = default if reset else _typed_value(key, text, default)
        change.previous[key], change.new[key] = current, value
        if name:
            part = change.overrides.setdefault(section, {})
            if reset:
                part.pop(name, None)
            else:
                part[name] = value
            if not part:
                change.overrides.pop(section)
        elif reset:
            change.overrides.pop(section, None)
        else:
            change.overrides[section] = value
    try:
        merged_settings(defaults, change.overrides, tenant_id)
    except BadArgument as exc:
        raise BadArgument(str(exc).replace(": core.tenants.settings.", ": ")) from None
    return change


def _column_value(key: str, text: str, currencies: set[str], regions: set[str]) -> str | None:
    value = text.strip()
    if key == "currency":
        value = value.upper()
        if value not in currencies:
            raise BadArgument(f"currency {text!r} has no exchange rate: use one of "
                              f"{', '.join(sorted(currencies))}")
    elif key == "home_country":
        value = value.upper()
        if value not in regions:
            raise BadArgument(f"home_country {text!r} is not a two-letter country code "
                              "such as US, GB or DE")
    elif not value:
        return None  # an empty name
    return value


def _typed_value(key: str, text: str, default):
    """The text read as the default's type: a number, a list of text, or a JSON object (a map
    such as survivorship.source_priority)."""
    if isinstance(default, dict):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = None
        if not isinstance(value, dict):
            raise BadArgument(f"{key} must be a JSON object, e.g. '{{\"*\": [\"salesforce\"]}}', "
                              f"not {text!r}")
        return value
    if isinstance(default, list):
        stripped = text.strip()
        if stripped.startswith("["):
            try:
                items = json.loads(stripped)
            except json.JSONDecodeError as exc:
                raise BadArgument(f"{key} must be a list: a JSON array or comma-separated "
                                  f"words, not {text!r}") from exc
        else:
            items = [part.strip() for part in stripped.split(",") if part.strip()]
        return items
    try:
        number = float(text)
    except ValueError:
        raise BadArgument(f"{key} must be a number, not {text!r}") from None
    if not math.isfinite(number):
        raise BadArgument(f"{key} must be a finite number, not {text!r}")
    return int(number) if isinstance(default, int) and number == int(number) else number


def store_change(con: duckdb.DuckDBPyConnection, tenant_id: str, change: SettingsChange) -> None:
    """Write the new overrides and columns to `core.tenants` (the caller holds the
    transaction and audits it)."""
    run(con, "UPDATE core.tenants SET settings = $s WHERE tenant_id = $t",
        {"s": json.dumps(change.overrides, sort_keys=True) if change.overrides else None,
         "t": tenant_id})
    for column, value in change.columns.items():
        assert column in COLUMNS.values()  # a fixed name, never a user's text
        run(con, f"UPDATE core.tenants SET {column} = $v WHERE tenant_id = $t",
            {"v": value, "t": tenant_id})
