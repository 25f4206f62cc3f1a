"""The merge review queue (issue 18): a source row that joined a contact on weak evidence and
would replace several of its established values is held and queued in marts.merge_review; a
person (or an agent allowed to) accepts it, or crm unmerge splits it off. Real imports, real
temp warehouses and homes."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from helpers import crm, shard, write_csv

from crm_pipeline.contacts.importer import normalize_import, stage_contact_file
from crm_pipeline.contacts.resolve.apply import resolve_tenant
from crm_pipeline.contacts.resolve.review import accept_review
from crm_pipeline.contacts.resolve.unmerge import unmerge_source
from crm_pipeline.errors import BadArgument
from crm_pipeline.warehouse import run

HEADER = ("Record ID,First Name,Last Name,Email,Phone Number,Company Name,Street Address,City,"
          "Postal Code")
VICTIM = "1,Jane,Doe,jane.doe@acme.com,+1 415 555 0100,Acme Inc,1 Main St,San Francisco,94105"
# The same email (an exact match) with another phone, street, city and postcode.
MOVED = "2,Jane,Doe,jane.doe@acme.com,+1 212 555 0199,Acme Inc,66 Evil Rd,New York,10001"
DETAILS = "email, phone, street, city, postcode"
VICTIM_DETAILS = ("jane.doe@acme.com", "+14155550100", "1 Main St", "San Francisco", "94105")
MOVED_DETAILS = ("jane.doe@acme.com", "+12125550199", "66 Evil Rd", "New York", "10001")


def import_file(con, ctx, path: Path, day: int) -> str:
    at = datetime(2026, 3, day)
    staged = stage_contact_file(con, tenant_id="t1", path=path, at=at)
    normalize_import(con, tenant_id="t1", import_id=staged["import_id"], home_region="US",
                     key=ctx.key, run_id=ctx.run_id, at=at)
    resolve_tenant(con, replace(ctx, at=at, run_id=f"run-{day}"))
    return staged["import_id"]


def details(con) -> list[tuple]:
    return run(con, f"SELECT {DETAILS} FROM core.contacts WHERE tenant_id = 't1' "
                    "ORDER BY contact_id")


def reviews(con) -> list[tuple]:
    return run(con, "SELECT source_key, status, reasons, fields, decided_by "
                    "FROM marts.merge_review WHERE tenant_id = 't1' ORDER BY source_key")


@pytest.fixture
def held(con, ctx, tmp_path):
    """The victim, then a row replacing four of its details: (contact id, held row's key)."""
    import_file(con, ctx, write_csv(tmp_path / "v.csv", HEADER, [VICTIM]), 1)
    moved = import_file(con, ctx, write_csv(tmp_path / "m.csv", HEADER, [MOVED]), 2)
    contact_id = run(con, "SELECT contact_id FROM core.contacts WHERE tenant_id = 't1'")[0][0]
    return contact_id, f"{moved}:1"


def test_a_row_replacing_several_details_is_held_and_queued(con, held):
    contact_id, key = held
    assert details(con) == [VICTIM_DETAILS]
    [(source_key, status, reasons, fields, decided_by)] = reviews(con)
    assert (source_key, status, reasons, decided_by) == (key, "open", ["replaces_several_details"],
                                                         None)
    assert set(fields) == {"phone", "street", "city", "postcode"}


def test_accepting_applies_the_held_values_audited_and_a_rerun_does_not_flag_again(
        con, ctx, held, tmp_path):
    contact_id, key = held
    person = replace(ctx, actor="jane", actor_kind="user", run_id="accept-1",
                     at=datetime(2026, 3, 3))
    assert accept_review(con, person, contact_id, None) == [key]
    assert details(con) == [MOVED_DETAILS]
    assert reviews(con)[0][1:] == ("accepted", ["replaces_several_details"],
                                   reviews(con)[0][3], "jane")
    audit = run(con, "SELECT entity, entity_id, actor, new FROM audit.changes "
                     "WHERE run_id = 'accept-1' ORDER BY change_id")
    assert [(a[0], a[1], a[2]) for a in audit] == [("merge_review", key, "jane"),
                                                  ("contact", contact_id, "jane")]
    assert json.loads(audit[1][3])["phone"] == "+12125550199"
    # A later run (another row of the same person, an exact email match) neither re-flags the
    # accepted row nor holds it back again.
    later = "3,Jane,Doe,jane.doe@acme.com,,Acme Inc,,,"
    import_file(con, ctx, write_csv(tmp_path / "l.csv", HEADER, [later]), 4)
    assert [r[:2] for r in reviews(con)] == [(key, "accepted")]
    assert details(con) == [MOVED_DETAILS]
    with pytest.raises(BadArgument, match="no source row waiting"):
        accept_review(con, person, contact_id, None)


def test_accepting_names_the_row_and_refuses_one_not_waiting(con, ctx, held):
    contact_id, key = held
    person = replace(ctx, actor="jane", actor_kind="user")
    with pytest.raises(BadArgument, match="not waiting for review"):
        accept_review(con, person, contact_id, "imp_nope:1")
    assert accept_review(con, person, contact_id, key) == [key]


def test_unmerge_splits_the_held_row_off_and_marks_it_split(con, ctx, held):
    contact_id, key = held
    person = replace(ctx, actor="jane", actor_kind="user", run_id="unmerge-1")
    new_id = unmerge_source(con, person, contact_id, key)
    assert [r[:2] for r in reviews(con)] == [(key, "split")]
    assert dict((r[0], r[1:]) for r in run(
        con, f"SELECT contact_id, {DETAILS} FROM core.contacts WHERE tenant_id = 't1'")) == {
        contact_id: VICTIM_DETAILS, new_id: MOVED_DETAILS}


def test_a_borderline_link_that_would_change_a_detail_is_held(con, ctx, tmp_path):
    # Every probabilistic link counts as borderline here (review_below_score 1): the second row
    # (no email, no phone: only the name, company and address link it) brings another postcode.
    run(con, "INSERT INTO core.tenants VALUES ('t1', NULL, 'US', 'USD', $s, now())",
        {"s": json.dumps({"survivorship": {"review_below_score": 1}})})
    rows = [f"{i},Person{i},Family{i},p{i}@firm{i}.com,,Firm {i},{i} Oak St,Springfield,5{i:04d}"
            for i in range(1, 30)]
    rows.append("100,Jane,Doe,jane.doe@acme.com,,Acme Inc,1 Main St,San Francisco,94105")
    import_file(con, ctx, write_csv(tmp_path / "a.csv", HEADER, rows), 1)
    near = "200,Jane,Doe,,,Acme Inc,1 Main St,San Francisco,94106"
    near_import = import_file(con, ctx, write_csv(tmp_path / "b.csv", HEADER, [near]), 2)
    rule = run(con, "SELECT match_rule, match_score FROM core.contact_sources "
                    "WHERE import_id = $i", {"i": near_import})[0]
    if rule[0] != "probabilistic":
        pytest.skip(f"the row did not link probabilistically ({rule})")
    assert run(con, "SELECT status, reasons, fields FROM marts.merge_review") == [
        ("open", ["borderline_score"], ["postcode"])]
    jane = run(con, "SELECT postcode FROM core.contacts WHERE email = 'jane.doe@acme.com'")
    assert jane == [("94105",)]


def test_merge_accept_and_contact_show_from_the_command_line(tmp_path, capsys):
    home = tmp_path / "home"
    for name, row in (("victim.csv", VICTIM), ("moved.csv", MOVED)):
        path = write_csv(tmp_path / name, HEADER, [row])
        code, _, err = crm(home, "import", "contacts", str(path), "--tenant", "t1", "--no-run",
                           capsys=capsys)
        assert code == 0, err
        code, _, err = crm(home, "run", "--as-of", "2026-11-15", capsys=capsys)
        assert code == 0, err
    con = duckdb.connect(str(shard(home, "t1")), read_only=True)
    try:
        contact_id, key = con.execute("SELECT contact_id, source_key FROM marts.merge_review "
                                      "WHERE status = 'open'").fetchone()
    finally:
        con.close()
    # cheryl (support) may edit phones but may not create contacts: she may not accept merges.
    code, _, err = crm(home, "merge", "accept", "--tenant", "t1", "--actor", "cheryl",
                       contact_id, "--all", capsys=capsys)
    assert code == 2 and "may not accept merges" in err and len(err.strip().splitlines()) == 1
    code, _, err = crm(home, "merge", "accept", "--tenant", "t1", "--actor", "jane",
                       contact_id, capsys=capsys)
    assert code == 2 and "--all" in err
    code, out, err = crm(home, "merge", "accept", "--tenant", "t1", "--actor", "jane",
                         contact_id, key, capsys=capsys)
    assert code == 0, err
    assert key in out
    code, out, err = crm(home, "contact", "show", "--tenant", "t1", contact_id, "--format",
                         "json", capsys=capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["contact"]["phone"] == "+12125550199"
    assert doc["other_phones"] == ["+14155550100"]
    origin = doc["field_sources"]
    # "from Salesforce export 2026-12-08 (moved.csv), seen in 2 of 2 records": these headers
    # read as a Salesforce export
    assert origin["email"].startswith("from Salesforce export ")
    assert origin["email"].endswith("seen in 2 of 2 records")
    assert "moved.csv" in origin["phone"] and "seen in 1 of 2 records" in origin["phone"]
    assert "changes over time" in origin["street"]
