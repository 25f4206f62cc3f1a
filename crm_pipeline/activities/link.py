"""Which golden contact an activity line refers to: by contact_id, source_id, email or phone.

Emails and phones are normalized the way contact imports normalize them, once per distinct value,
so an activity finds the contact under the same key the contact was stored with. The keys of a
tenant's contacts are gathered once per run (`sql/models/core/activities_contact_keys.sql`), and
each slice of an import is matched against them (`sql/models/core/activities_link.sql`).
"""

from __future__ import annotations

import duckdb
import polars as pl

from crm_pipeline.contacts.normalize import emails, phones
from crm_pipeline.sql import sql_text
from crm_pipeline.warehouse import frame, run

# A number already in E.164 form is its own normalization whenever it is valid, and a stored
# phone is always valid, so these can skip phonenumbers without changing any match.
_E164 = r"^\+[1-9][0-9]{6,14}$"


def email_keys(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(email_ref, email_key) for every distinct email reference of the parsed batch."""
    refs = frame(con, "SELECT DISTINCT email_ref FROM _act_parsed WHERE email_ref IS NOT NULL")
    keys = emails.normalize(refs["email_ref"])["email"]
    return pl.DataFrame({"email_ref": refs["email_ref"], "email_key": keys})


def phone_keys(con: duckdb.DuckDBPyConnection, home_region: str) -> pl.DataFrame:
    """(phone_ref, phone_key): each distinct phone reference in E.164, read in the home region."""
    refs = frame(con, "SELECT DISTINCT phone_ref FROM _act_parsed WHERE phone_ref IS NOT NULL")
    ready = refs.filter(pl.col("phone_ref").str.contains(_E164))
    rest = refs.filter(~pl.col("phone_ref").str.contains(_E164))
    parsed = phones.normalize(
        rest["phone_ref"], pl.Series([home_region] * rest.height, dtype=pl.String)
    )["phone"]
    return pl.concat(
        [
            ready.select("phone_ref", pl.col("phone_ref").alias("phone_key")),
            pl.DataFrame({"phone_ref": rest["phone_ref"], "phone_key": parsed}),
        ]
    )


def gather_contact_keys(con: duckdb.DuckDBPyConnection, tenant_id: str) -> None:
    """Build `_act_keys` (kind, key, contact_id): what each reference of this tenant names."""
    run(con, sql_text("models/core/activities_contact_keys"), {"tenant_id": tenant_id})


def link_contacts(con: duckdb.DuckDBPyConnection, home_region: str) -> None:
    """Build `_act_links` (line_number, contact_id, linked_by) for the parsed batch, from the
    keys `gather_contact_keys` gathered."""
    con.register("_act_email_keys", email_keys(con))
    con.register("_act_phone_keys", phone_keys(con, home_region))
    try:
        run(con, sql_text("models/core/activities_link"))
    finally:
        con.unregister("_act_email_keys")
        con.unregister("_act_phone_keys")
