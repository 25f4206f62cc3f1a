"""Survivorship (issue 18): which value a golden contact keeps when its source rows disagree.
Each rule on the real import path (stage, normalize, resolve), in a temp warehouse."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from helpers import crm, write_csv

from crm_pipeline.contacts.importer import normalize_import, stage_contact_file
from crm_pipeline.contacts.resolve.apply import resolve_tenant
from crm_pipeline.contacts.resolve.provenance import field_sources
from crm_pipeline.errors import BadArgument
from crm_pipeline.marts.tenant_settings import default_settings, merged_settings
from crm_pipeline.tenants import ensure_tenant
from crm_pipeline.warehouse import run

HEADER = ("Record ID,First Name,Last Name,Email,Phone Number,Company Name,Job Title,"
          "Street Address,City,Postal Code")


def import_rows(con, ctx, folder: Path, name: str, rows: list[str], day: int) -> str:
    """One file of rows for tenant t1, staged, normalized and resolved as a run does."""
    at = datetime(2026, 3, day)
    path = write_csv(folder / name, HEADER, rows)
    staged = stage_contact_file(con, tenant_id="t1", path=path, at=at)
    normalize_import(con, tenant_id="t1", import_id=staged["import_id"], home_region="US",
                     key=ctx.key, run_id=ctx.run_id, at=at)
    resolve_tenant(con, replace(ctx, at=at, run_id=f"run-{day}"))
    return staged["import_id"]


def only_contact(con, *fields: str) -> tuple:
    rows = run(con, f"SELECT {', '.join(fields)} FROM core.contacts WHERE tenant_id = 't1'")
    assert len(rows) == 1, rows
    return rows[0]


def set_survivorship(con, **section) -> None:
    ensure_tenant(con, "t1")
    run(con, "UPDATE core.tenants SET settings = $s WHERE tenant_id = 't1'",
        {"s": json.dumps({"survivorship": section})})


def test_two_sources_agreeing_beat_a_newer_typo(con, ctx, tmp_path):
    row = "{id},{first},Smith,m.smith@acme.com,,Acme Inc,Buyer,,,"
    import_rows(con, ctx, tmp_path, "a.csv", [row.format(id=1, first="Michael")], 1)
    import_rows(con, ctx, tmp_path, "b.csv", [row.format(id=2, first="Michael")], 2)
    import_rows(con, ctx, tmp_path, "c.csv", [row.format(id=3, first="Micheal")], 3)
    contact_id, first = only_contact(con, "contact_id", "first_name")
    assert first == "Michael"
    origin = {e["field"]: e for e in field_sources(con, "t1", contact_id)}
    assert origin["first_name"]["rule"] == "majority"
    assert origin["first_name"]["text"].endswith(
        "(b.csv), seen in 2 of 3 records (1 more with a small difference)")
    assert origin["last_name"]["text"].endswith("seen in 3 of 3 records")


def test_a_newer_value_seen_once_wins_when_nothing_else_decides(con, ctx, tmp_path):
    # One "Michael", one newer "Micheal": no majority, equally complete: the newest.
    row = "{id},{first},Smith,m.smith@acme.com,,,,,,"
    import_rows(con, ctx, tmp_path, "a.csv", [row.format(id=1, first="Michael")], 1)
    import_rows(con, ctx, tmp_path, "b.csv", [row.format(id=2, first="Micheal")], 2)
    assert only_contact(con, "first_name") == ("Micheal",)


def test_names_keep_their_best_formed_spelling(con, ctx, tmp_path):
    row = "{id},{first},{last},ann.lee@acme.com,,,,,,"
    import_rows(con, ctx, tmp_path, "a.csv", [row.format(id=1, first="Ann", last="Lee")], 1)
    import_rows(con, ctx, tmp_path, "b.csv", [row.format(id=2, first="ANN", last="LEE")], 2)
    assert only_contact(con, "first_name", "last_name") == ("Ann", "Lee")


def test_a_swapped_first_and_last_name_is_put_back(con, ctx, tmp_path):
    row = "{id},{first},{last},anna.berg@acme.com,,,,,,"
    import_rows(con, ctx, tmp_path, "a.csv", [row.format(id=1, first="Anna", last="Berg")], 1)
    import_rows(con, ctx, tmp_path, "b.csv", [row.format(id=2, first="Berg", last="Anna")], 2)
    assert only_contact(con, "first_name", "last_name") == ("Anna", "Berg")


def test_an_abbreviated_title_does_not_replace_the_full_one_but_a_new_title_does(
        con, ctx, tmp_path):
    row = "{id},Cara,Diaz,cara@acme.com,,Acme Inc,{title},,,"
    import_rows(con, ctx, tmp_path, "a.csv", [row.format(id=1, title="Chief Revenue Officer")], 1)
    import_rows(con, ctx, tmp_path, "b.csv", [row.format(id=2, title="CRO")], 2)
    assert only_contact(con, "job_title") == ("Chief Revenue Officer",)
    # A different, newer title: job_title changes over time, so it replaces the old one, and
    # the change is an audited update of the contact.
    import_rows(con, ctx, tmp_path, "c.csv", [row.format(id=3, title="VP Sales")], 3)
    assert only_contact(con, "job_title") == ("VP Sales",)
    updates = run(con, "SELECT previous, new FROM audit.changes WHERE tenant_id = 't1' "
                       "AND action = 'update' AND entity = 'contact' AND run_id = 'run-3'")
    assert len(updates) == 1
    previous, new = (json.loads(v) for v in updates[0])
    assert (previous["job_title"], new["job_title"]) == ("Chief Revenue Officer", "VP Sales")


def test_a_field_that_does_not_change_over_time_keeps_the_more_complete_value(
        con, ctx, tmp_path):
    set_survivorship(con, changes_over_time=["company", "street", "city", "postcode"])
    row = "{id},Cara,Diaz,cara@acme.com,,Acme Inc,{title},,,"
    import_rows(con, ctx, tmp_path, "a.csv", [row.format(id=1, title="Chief Revenue Officer")], 1)
    import_rows(con, ctx, tmp_path, "b.csv", [row.format(id=2, title="VP Sales")], 2)
    assert only_contact(con, "job_title") == ("Chief Revenue Officer",)


def test_a_listed_source_wins_over_newer_and_more_frequent_values(con, ctx, tmp_path):
    set_survivorship(con, source_priority={"job_title": ["master.csv"]})
    row = "{id},Dan,Ek,dan@acme.com,,Acme Inc,{title},,,"
    import_rows(con, ctx, tmp_path, "master.csv", [row.format(id=1, title="Head of IT")], 1)
    import_rows(con, ctx, tmp_path, "b.csv", [row.format(id=2, title="IT Manager")], 2)
    import_rows(con, ctx, tmp_path, "c.csv", [row.format(id=3, title="IT Manager")], 3)
    contact_id, title = only_contact(con, "contact_id", "job_title")
    assert title == "Head of IT"
    origin = {e["field"]: e["text"] for e in field_sources(con, "t1", contact_id)}
    assert origin["job_title"].endswith("seen in 1 of 3 records; source priority: master.csv")


def test_other_emails_and_phones_stay_as_secondary_values(con, ctx, tmp_path):
    # The same phone and name link the rows; the most trusted email is the primary (here the
    # one seen in more rows), the other is kept.
    row = "{id},Eva,Fox,{email},+1 415 555 0100,,,,,"
    import_rows(con, ctx, tmp_path, "a.csv", [row.format(id=1, email="eva@work.com")], 1)
    import_rows(con, ctx, tmp_path, "b.csv", [row.format(id=2, email="eva@home.com")], 2)
    import_rows(con, ctx, tmp_path, "c.csv", [row.format(id=3, email="eva@home.com")], 3)
    assert only_contact(con, "email") == ("eva@home.com",)
    assert run(con, "SELECT email, source_rows FROM core.contact_other_emails "
                    "WHERE tenant_id = 't1'") == [("eva@work.com", 1)]
    phone_row = "4,Eva,Fox,eva@home.com,+1 212 555 0199,,,,,"
    import_rows(con, ctx, tmp_path, "d.csv", [phone_row], 4)
    primary = only_contact(con, "phone")[0]
    others = run(con, "SELECT phone FROM core.contact_other_phones WHERE tenant_id = 't1'")
    assert (primary, others) == ("+14155550100", [("+12125550199",)])


def test_survivorship_settings_are_checked():
    defaults = default_settings()
    assert merged_settings(defaults, {"survivorship": {"changes_over_time": []}},
                           "t1")["survivorship"]["changes_over_time"] == []
    for bad in ({"source_priority": {"shoe_size": ["x"]}}, {"changes_over_time": ["nope"]},
                {"review_below_score": 2}, {"source_priority": {"*": []}}):
        with pytest.raises(BadArgument):
            merged_settings(defaults, {"survivorship": bad}, "t1")


def test_a_value_set_by_hand_wins_over_later_imports_and_show_says_who(tmp_path, capsys):
    home = tmp_path / "home"

    def load(name: str, title: str) -> None:
        path = write_csv(tmp_path / name, HEADER, [f"1,Gil,Ho,gil@acme.com,,Acme Inc,{title},,,"])
        code, _, err = crm(home, "import", "contacts", str(path), "--tenant", "t1", "--no-run",
                           capsys=capsys)
        assert code == 0, err
        code, _, err = crm(home, "run", "--as-of", "2026-11-15", capsys=capsys)
        assert code == 0, err

    load("a.csv", "Engineer")
    code, out, err = crm(home, "sql", "--tenant", "t1", "select contact_id from core.contacts",
                         "--format", "json", capsys=capsys)
    assert code == 0, err
    contact_id = json.loads(out)[0]["contact_id"]
    code, _, err = crm(home, "contact", "set", "--tenant", "t1", "--contact", contact_id,
                       "--actor", "cheryl", "job_title=Staff Engineer", capsys=capsys)
    assert code == 0, err
    load("b.csv", "Senior Engineer")
    code, out, err = crm(home, "contact", "show", "--tenant", "t1", contact_id, "--format",
                         "json", capsys=capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["contact"]["job_title"] == "Staff Engineer"
    assert doc["field_sources"]["job_title"].startswith("set by hand by cheryl (agent) on ")
    assert "seen in 2 of 2 records" in doc["field_sources"]["email"]
    code, out, err = crm(home, "contact", "show", "--tenant", "t1", contact_id, capsys=capsys)
    assert code == 0, err
    assert "set by hand by cheryl" in out and "seen in 2 of 2 records" in out


def test_crm_tenant_set_takes_the_survivorship_rules(tmp_path, capsys):
    home = tmp_path / "home"
    path = write_csv(tmp_path / "a.csv", HEADER, ["1,Gil,Ho,gil@acme.com,,,,,,"])
    assert crm(home, "import", "contacts", str(path), "--tenant", "t1", capsys=capsys)[0] == 0
    code, _, err = crm(home, "tenant", "set", "--tenant", "t1", "--actor", "jane",
                       "survivorship.source_priority", '{"*": ["salesforce"]}',
                       "survivorship.changes_over_time", "company,street",
                       "review_below_score", "0.7", capsys=capsys)
    assert code == 0, err
    code, _, err = crm(home, "tenant", "set", "--tenant", "t1", "--actor", "jane",
                       "survivorship.changes_over_time", "shoe_size", capsys=capsys)
    assert code == 2 and "shoe_size" in err and len(err.strip().splitlines()) == 1
    code, _, err = crm(home, "tenant", "set", "--tenant", "t1", "--actor", "jane",
                       "survivorship.source_priority", "salesforce", capsys=capsys)
    assert code == 2 and "JSON object" in err
