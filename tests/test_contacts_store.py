import json

import polars as pl

from crm_pipeline.contacts.store import (
    CONTACT_FIELDS,
    delete_contacts,
    merge_contacts,
    set_contact_fields,
    upsert_contacts,
)
from crm_pipeline.trust.audit import verify_chain
from crm_pipeline.warehouse import run

SCHEMA = {f: pl.Utf8 for f in CONTACT_FIELDS} | {
    "contact_id": pl.Utf8, "company_size": pl.Int64, "birthdate": pl.Date,
    "created_at": pl.Datetime("us"), "tags": pl.List(pl.Utf8),
}


def rows(*dicts):
    full = []
    for d in dicts:
        r = dict.fromkeys(CONTACT_FIELDS)
        r.update(d)
        full.append(r)
    return pl.DataFrame(full, schema=SCHEMA)


def audit(con):
    return run(con, "SELECT action, entity_id, previous, new FROM audit.changes ORDER BY change_id")


def test_create_then_identical_upsert_changes_nothing(con, ctx):
    df = rows({"contact_id": "c_1", "email": "a@x.com", "tags": ["vip"]})
    assert upsert_contacts(con, ctx, df)["created"] == 1
    assert upsert_contacts(con, ctx, df) == {"created": 0, "updated": 0, "unchanged": 1}
    assert len(audit(con)) == 1


def test_update_records_previous_and_new_of_changed_fields_only(con, ctx):
    upsert_contacts(con, ctx, rows({"contact_id": "c_1", "email": "a@x.com", "city": "Bath"}))
    upsert_contacts(con, ctx, rows({"contact_id": "c_1", "email": "b@x.com", "city": "Bath"}))
    action, entity_id, previous, new = audit(con)[-1]
    assert (action, entity_id) == ("update", "c_1")
    assert json.loads(previous) == {"email": "a@x.com"}
    assert json.loads(new) == {"email": "b@x.com"}
    assert run(con, "SELECT email FROM core.contacts")[0][0] == "b@x.com"


def test_set_fields_merge_and_delete_are_audited(con, ctx):
    upsert_contacts(con, ctx, rows({"contact_id": "c_1", "email": "a@x.com"},
                                   {"contact_id": "c_2", "email": "b@x.com"}))
    set_contact_fields(con, ctx, pl.DataFrame({"contact_id": ["c_2"], "email_status": ["bounced"]}))
    merge_contacts(con, ctx, pl.DataFrame({"alias_id": ["c_2"], "contact_id": ["c_1"]}))
    delete_contacts(con, ctx, ["c_1"])
    assert [a[0] for a in audit(con)] == ["create", "create", "update", "merge", "delete"]
    assert run(con, "SELECT count(*) FROM core.contacts")[0][0] == 0
    assert run(con, "SELECT alias_id, contact_id FROM core.contact_aliases") == [("c_2", "c_1")]
    assert verify_chain(con, ctx.key) == []


def test_merge_repoints_existing_aliases_and_activities(con, ctx):
    upsert_contacts(con, ctx, rows({"contact_id": "c_1"}, {"contact_id": "c_2"}, {"contact_id": "c_3"}))
    merge_contacts(con, ctx, pl.DataFrame({"alias_id": ["c_3"], "contact_id": ["c_2"]}))
    run(con, "INSERT INTO core.activities (tenant_id, activity_id, contact_id, type, occurred_at, "
        "content_hash, import_id, line_number) VALUES ('t1', 'a1', 'c_2', 'call', now(), 'h', 'i', 1)")
    merge_contacts(con, ctx, pl.DataFrame({"alias_id": ["c_2"], "contact_id": ["c_1"]}))
    assert sorted(run(con, "SELECT alias_id, contact_id FROM core.contact_aliases")) == [
        ("c_2", "c_1"), ("c_3", "c_1")]
    assert run(con, "SELECT contact_id FROM core.activities")[0][0] == "c_1"
