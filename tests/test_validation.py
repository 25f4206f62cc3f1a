"""pandera models over the warehouse, and which rows a run's check reads."""

from __future__ import annotations

import dataclasses

import polars as pl

from crm_pipeline.contacts.store import CONTACT_FIELDS, upsert_contacts
from crm_pipeline.contacts.validation import Contact, contacts_written_since, validation_failures
from crm_pipeline.trust.audit import chain_head
from crm_pipeline.warehouse import run

SCHEMA = {f: pl.Utf8 for f in CONTACT_FIELDS} | {
    "contact_id": pl.Utf8, "company_size": pl.Int64, "birthdate": pl.Date,
    "created_at": pl.Datetime("us"), "tags": pl.List(pl.Utf8),
}


STATUSES = {"consent_status": "unknown", "email_status": "valid", "phone_status": "missing"}


def _contacts(*dicts) -> pl.DataFrame:
    rows = [dict.fromkeys(CONTACT_FIELDS) | STATUSES | d for d in dicts]
    return pl.DataFrame(rows, schema=SCHEMA)


def test_a_runs_check_reads_the_contacts_written_since_the_chain_last_verified(con, ctx):
    upsert_contacts(con, ctx, _contacts({"contact_id": "c_1", "email": "a@x.com"},
                                        {"contact_id": "c_2", "email": "b@x.com"}))
    verified = {"t1": chain_head(con, "t1")[1]}
    unmerge = dataclasses.replace(ctx, run_id="unmerge-1")  # a command between two runs
    upsert_contacts(con, unmerge, _contacts({"contact_id": "c_2", "email": "b2@x.com"}))
    later = dataclasses.replace(ctx, run_id="run-2")
    upsert_contacts(con, later, _contacts({"contact_id": "c_3", "email": "c@x.com"}))

    def ids(tenants, heads):
        return sorted(contacts_written_since(con, tenants, heads)["contact_id"].to_list())

    assert ids(["t1"], verified) == ["c_2", "c_3"]
    assert ids(["t1"], {}) == ["c_1", "c_2", "c_3"]  # never verified: every contact
    assert ids(["t1"], {"t1": "f" * 64}) == ["c_1", "c_2", "c_3"]  # a head no row holds
    assert ids(["t2"], verified) == []  # another tenant's contacts are not read
    assert set(contacts_written_since(con, ["t1"], {}).columns) == set(Contact.to_schema().columns)


def test_a_bad_value_written_since_fails_the_model(con, ctx):
    upsert_contacts(con, ctx, _contacts({"contact_id": "c_1", "email": "a@x.com"}))
    run(con, "UPDATE core.contacts SET phone = '555-0100' WHERE contact_id = 'c_1'")
    failures = validation_failures(Contact, contacts_written_since(con, ["t1"], {}))
    assert failures["column"].to_list() == ["phone"]


def test_no_rows_have_no_failures():
    empty = pl.DataFrame(schema={c: pl.Utf8 for c in Contact.to_schema().columns})
    failures = validation_failures(Contact, empty)
    assert failures.height == 0 and failures.columns == ["check", "column", "failure_case"]
