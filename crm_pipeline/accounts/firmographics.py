"""Company values observed per account (core.firmographics), and the account's values chosen
from them.

Every value an enrichment file, a company export or a person gives is kept, with its source and
when it was seen; the account's own columns are then a function of those observations, so they
can always be re-derived, explained and audited. The choice, per field (`choice.sql`): a value
set by hand wins (the newest of them); then, where the tenant lists sources for the field
(`accounts.source_priority`), the best-listed source, newest first; otherwise "fill blanks
only": the first value observed stays until a person changes it. Within one file, the value more
of its rows give wins, then the later row.
"""

from __future__ import annotations

import polars as pl

from crm_pipeline.accounts.company_fields import (
    FIELDS,
    MAX_REVENUE,
    employee_bounds,
    revenue_parts,
)
from crm_pipeline.activities.currency import load_rates
from crm_pipeline.contacts.normalize.companies import match_key
from crm_pipeline.contacts.normalize.countries import to_iso2
from crm_pipeline.errors import BadArgument
from crm_pipeline.marts.tenant_settings import FIRMOGRAPHIC_FIELDS, query_params, tenant_settings
from crm_pipeline.sql import sql_text
from crm_pipeline.trust.audit import ChangeContext, append_changes
from crm_pipeline.warehouse import frame, run

OBSERVED = FIRMOGRAPHIC_FIELDS
# The account columns the observations decide, and what each is made from.
ACCOUNT_COLUMNS = ("name", "name_key", "domain", "website", "industry", "employee_count",
                   "employee_range", "employees_min", "employees_max", "annual_revenue",
                   "revenue_range", "annual_revenue_min", "annual_revenue_max", "country", "city",
                   "naics", "sic", "linkedin_url")
MANUAL = "manual"
# What a person sets by hand (crm account set); a revenue may name its currency (EUR 5m).
HAND_SET = ("name", "website", "industry", "employees", "annual_revenue", "country", "city",
            "naics", "sic", "linkedin_url")
LONG_SCHEMA = {"account_id": pl.String, "field": pl.String, "value": pl.String,
               "value_min": pl.Float64, "value_max": pl.Float64, "unit": pl.String,
               "problem": pl.String, "row_number": pl.Int64}


def parsed_values(rows: pl.DataFrame, base_currency: str) -> pl.DataFrame:
    """`rows` (fields as text, `domain` already registrable) with each observed field's parsed
    bounds and problem: `<field>_min`, `<field>_max`, `<field>_unit`, `<field>_problem`."""
    rates = load_rates()
    known = rates["currency"].to_list()
    base = base_currency.strip().upper()
    rate = dict(zip(known, rates["usd_per_unit"].to_list(), strict=True))
    emp = employee_bounds(rows["employees"])
    rev = revenue_parts(rows["annual_revenue"], rows["currency"])
    out = rows.with_columns(
        emp["lo"].alias("employees_min"), emp["hi"].alias("employees_max"),
        rev["lo"].alias("_rev_lo"), rev["hi"].alias("_rev_hi"), rev["currency"].alias("_cur"),
        to_iso2(rows["country"]).alias("_iso2"),
    )
    currency = pl.col("_cur").fill_null(base)
    to_base = (currency.replace_strict(rate, default=None, return_dtype=pl.Float64)
               / rate.get(base, float("nan")))
    rev_lo = pl.col("_rev_lo") * to_base
    rev_hi = pl.col("_rev_hi") * to_base
    rev_bad = pl.col("_rev_lo").is_null() | (rev_lo > MAX_REVENUE)
    out = out.with_columns(
        pl.when(pl.col("employees").is_not_null() & pl.col("employees_min").is_null())
        .then(pl.lit("bad_employee_count")).alias("employees_problem"),
        rev_lo.round(2).alias("annual_revenue_min"),
        rev_hi.round(2).alias("annual_revenue_max"),
        currency.alias("annual_revenue_unit"),
        pl.when(pl.col("annual_revenue").is_null()).then(None)
        .when(pl.col("_rev_lo").is_not_null() & ~currency.is_in(known))
        .then(pl.lit("unknown_currency"))
        .when(rev_bad).then(pl.lit("bad_revenue")).alias("annual_revenue_problem"),
        pl.when(pl.col("country").is_not_null() & pl.col("_iso2").is_null())
        .then(pl.lit("unknown_country")).alias("country_problem"),
        pl.coalesce("_iso2", "country").alias("country"),
        pl.when(pl.col("naics").is_not_null() & ~pl.col("naics").str.contains(r"^\d{2,6}$"))
        .then(pl.lit("invalid_value")).alias("naics_problem"),
        pl.when(pl.col("sic").is_not_null() & ~pl.col("sic").str.contains(r"^\d{4}$"))
        .then(pl.lit("invalid_value")).alias("sic_problem"),
    )
    return out.drop("_rev_lo", "_rev_hi", "_cur", "_iso2")


def long_values(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per (matched row, observed field with a value): the long form core.firmographics
    keeps. `rows` has account_id, row_number, the fields and parsed_values' columns."""
    parts = []
    for name in OBSERVED:
        if name not in rows.columns:
            continue
        cols = rows.columns
        parts.append(rows.filter(pl.col(name).is_not_null()).select(
            "account_id",
            pl.lit(name).alias("field"),
            pl.col(name).alias("value"),
            (pl.col(f"{name}_min") if f"{name}_min" in cols else pl.lit(None)).alias("value_min"),
            (pl.col(f"{name}_max") if f"{name}_max" in cols else pl.lit(None)).alias("value_max"),
            (pl.col(f"{name}_unit") if f"{name}_unit" in cols else pl.lit(None)).alias("unit"),
            (pl.col(f"{name}_problem") if f"{name}_problem" in cols
             else pl.lit(None)).alias("problem"),
            "row_number",
        ).cast(LONG_SCHEMA))
    return pl.concat(parts) if parts else pl.DataFrame(schema=LONG_SCHEMA)


def record_values(con, ctx: ChangeContext, values: pl.DataFrame, source: str,
                  import_id: str | None) -> int:
    """Append observations (long_values' shape) to core.firmographics; rows written."""
    if values.height == 0:
        return 0
    con.register("_firmo_new", values)
    try:
        run(con, """
            INSERT INTO core.firmographics
            SELECT $t, account_id, field, value, value_min, value_max, unit, problem, $source,
                   $import_id, row_number, $at
            FROM _firmo_new""",
            {"t": ctx.tenant_id, "source": source, "import_id": import_id, "at": ctx.at})
    finally:
        con.unregister("_firmo_new")
    return values.height


def _priorities(settings: dict) -> pl.DataFrame:
    """(field, source, rank) from accounts.source_priority; `*` gives fields without a list."""
    lists = settings["accounts"]["source_priority"]
    rows = []
    for name in OBSERVED:
        for rank, source in enumerate(lists.get(name, lists.get("*", []))):
            rows.append((name, source, rank))
    return pl.DataFrame(rows, schema={"field": pl.String, "source": pl.String,
                                      "rank": pl.Int64}, orient="row")


def apply_values(con, ctx: ChangeContext, accounts: list[str] | None = None) -> int:
    """The chosen values written to core.accounts for `accounts` (all of the tenant's when
    None), each changed account audited as an update; accounts changed."""
    settings = tenant_settings(con, ctx.tenant_id)
    con.register("_firmo_priority", _priorities(settings))
    con.register("_firmo_accounts", pl.DataFrame({"account_id": accounts}, schema={
        "account_id": pl.String}) if accounts is not None else frame(
        con, "SELECT account_id FROM core.accounts WHERE tenant_id = $t", {"t": ctx.tenant_id}))
    try:
        text = sql_text("models/accounts/firmographic_choice")
        chosen = frame(con, text, query_params(text, {"tenant_id": ctx.tenant_id},
                                               "sql/models/accounts/firmographic_choice.sql"))
        if chosen.height == 0:
            return 0
        chosen = chosen.with_columns(match_key(chosen["name"]).alias("name_key"))
        con.register("_firmo_chosen", chosen)
        text = sql_text("models/accounts/firmographic_changes")
        run(con, text, query_params(text, {"tenant_id": ctx.tenant_id},
                                    "sql/models/accounts/firmographic_changes.sql"))
        changed = append_changes(con, ctx, """
            SELECT 'update' AS action, 'account' AS entity, account_id AS entity_id,
                   previous, new, account_id AS _ord
            FROM _firmo_changes""")
        sets = ", ".join(f"{c} = n.{c}" for c in ACCOUNT_COLUMNS)
        run(con, f"""
            UPDATE core.accounts AS a SET {sets}, updated_at = $at
            FROM _firmo_changes AS n
            WHERE a.tenant_id = $t AND a.account_id = n.account_id""",
            {"t": ctx.tenant_id, "at": ctx.at})
        return changed
    finally:
        for name in ("_firmo_priority", "_firmo_accounts", "_firmo_chosen"):
            con.unregister(name)
        run(con, "DROP TABLE IF EXISTS _firmo_changes")


def set_by_hand(con, ctx: ChangeContext, account_id: str, fields: dict[str, str],
                base_currency: str) -> int:
    """Values a person or agent sets on an account (source `manual`: they win over every
    import, and no import replaces them); refused whole when a field is unknown or a value
    cannot be read. Accounts changed (0 or 1)."""
    unknown = sorted(set(fields) - set(HAND_SET))
    if unknown:
        raise BadArgument(f"unknown account field(s) {', '.join(unknown)}: "
                          f"use {', '.join(HAND_SET)}")
    row = pl.DataFrame({name: [fields.get(name)] for name in FIELDS}, schema={
        name: pl.String for name in FIELDS}).with_columns(
        pl.lit(1, pl.Int64).alias("row_number"), pl.lit(account_id).alias("account_id"))
    values = long_values(parsed_values(row, base_currency))
    bad = values.filter(pl.col("problem").is_not_null())
    if bad.height:
        field, value, problem = bad.select("field", "value", "problem").row(0)
        raise BadArgument(f"{field}={value!r} cannot be used ({problem})")
    record_values(con, ctx, values.with_columns(pl.lit(None, pl.Int64).alias("row_number")),
                  MANUAL, None)
    return apply_values(con, ctx, [account_id])
