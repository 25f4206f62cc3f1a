"""One company, several domains: accounts joined by website evidence when their names agree."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from test_accounts import KEY, account_ids, add, ctx, links

from crm_pipeline.accounts.companies_file import import_companies_file
from crm_pipeline.accounts.link import link_accounts
from crm_pipeline.accounts.manage import unmerge_account
from crm_pipeline.accounts.websites import website_decisions
from crm_pipeline.tenants import ensure_tenant
from crm_pipeline.trust.audit import ChangeContext, verify_chain
from crm_pipeline.warehouse import connect, create_tables, run

AT = datetime.datetime(2026, 11, 1, 9)


@pytest.fixture
def con():
    con = connect(":memory:")
    create_tables(con)
    ensure_tenant(con, "t1")
    yield con
    con.close()


def accounts(con) -> int:
    return run(con, "SELECT count(*) FROM core.accounts WHERE tenant_id = 't1'")[0][0]


def website(con, domain: str, url: str) -> None:
    """The account of `domain` known by website `url` (as set by hand or chosen from a file)."""
    run(con, "UPDATE core.accounts SET website = $w WHERE tenant_id = 't1' AND account_id = "
             "(SELECT account_id FROM core.account_domains WHERE tenant_id = 't1' AND domain = $d)",
        {"w": url, "d": domain})


def companies(con, tmp_path: Path, text: str, run_id: str = "imp1") -> dict:
    path = tmp_path / f"{run_id}.csv"
    path.write_text(text)
    return import_companies_file(con, ctx(run_id=run_id), path, "zoominfo", False,
                                 lambda i: tmp_path / f"{i}.errors.csv")


def test_a_website_on_a_same_name_accounts_domain_makes_them_one(con):
    add(con, "c1", "ann@acme.com", "Acme Inc.")
    add(con, "c2", "bob@acme.de", "ACME GmbH")
    add(con, "c3", "cy@gmail.com", "Acme")
    link_accounts(con, ctx())
    ids = account_ids(con)
    website(con, "acme.de", "https://www.acme.com/de")
    counts = link_accounts(con, ctx(run_id="r2"))
    assert counts["website_merges"] == 1 and accounts(con) == 1
    assert account_ids(con) == {"acme.com": ids["acme.com"], "acme.de": ids["acme.com"]}
    assert {c: by for c, (_, by) in links(con).items()} == {
        "c1": "email_domain", "c2": "email_domain", "c3": "company_name"}
    assert run(con, "SELECT alias_id, account_id FROM core.account_aliases") == [
        (ids["acme.de"], ids["acme.com"])]
    merge = run(con, "SELECT actor, new FROM audit.changes WHERE action = 'merge'")
    assert len(merge) == 1 and merge[0][0] == "pipeline"
    before = run(con, "SELECT count(*) FROM audit.changes")[0][0]
    again = link_accounts(con, ctx(run_id="r3"))  # idempotent: nothing left to say
    assert again["website_merges"] == again["website_domains_added"] == 0
    assert run(con, "SELECT count(*) FROM audit.changes")[0][0] == before
    assert verify_chain(con, KEY) == []


def test_same_name_with_websites_of_their_own_stays_two(con):
    add(con, "c1", "ann@delta.com", "Delta")       # the airline
    add(con, "c2", "bob@deltafaucet.com", "Delta")  # the taps
    link_accounts(con, ctx())
    website(con, "delta.com", "https://delta.com")
    website(con, "deltafaucet.com", "https://www.deltafaucet.com")
    assert link_accounts(con, ctx(run_id="r2"))["website_merges"] == 0
    assert accounts(con) == 2


def test_a_shared_website_never_joins_different_names(con):
    add(con, "c1", "ann@acme.com", "Acme")
    add(con, "c2", "bob@acmerobotics.com", "Acme Robotics")  # a subsidiary pointing at its parent
    link_accounts(con, ctx())
    website(con, "acmerobotics.com", "https://acme.com/robotics")
    counts = link_accounts(con, ctx(run_id="r2"))
    assert counts["website_merges"] == 0 and counts["website_name_differs"] == 1
    assert accounts(con) == 2


def test_a_website_on_a_new_domain_becomes_the_accounts_and_its_contacts_join(con):
    add(con, "c1", "bob@acme.de", "Acme GmbH")
    link_accounts(con, ctx())
    website(con, "acme.de", "acme.com")
    assert link_accounts(con, ctx(run_id="r2"))["website_domains_added"] == 1
    assert run(con, "SELECT linked_by FROM core.account_domains WHERE domain = 'acme.com'") == [
        ("website",)]
    assert run(con, "SELECT action, new FROM audit.changes WHERE run_id = 'r2'") == [
        ("update", '{"domain_added":"acme.com","linked_by":"website"}')]
    add(con, "c2", "ann@acme.com", "Acme")
    link_accounts(con, ctx(run_id="r3"))
    assert accounts(con) == 1 and links(con)["c2"] == ("Acme GmbH", "email_domain")


def test_a_free_mail_website_says_nothing(con):
    add(con, "c1", "bob@acme.de", "Acme")
    link_accounts(con, ctx())
    website(con, "acme.de", "https://gmail.com")
    assert website_decisions(con, "t1").height == 0


def test_a_company_file_row_with_domain_and_website_joins_the_accounts(con, tmp_path):
    add(con, "c1", "ann@acme.com", "Acme")
    add(con, "c2", "bob@acme.de", "Acme GmbH")
    add(con, "c3", "eve@globex.de", "Globex")
    add(con, "c4", "max@globex.com", "Globex Corporation")
    add(con, "c5", "joe@initech.com", "Initech")
    link_accounts(con, ctx())
    ids = account_ids(con)
    result = companies(con, tmp_path, "Company Name,Domain,Website\n"
                                      "ACME GmbH,acme.de,https://www.acme.com\n"
                                      "Globex,globex.de,globex.com\n"
                                      "Other Name,initech.com,https://acme.com\n")
    assert result["website_merges"] == 2 and accounts(con) == 3
    mapped = account_ids(con)
    assert mapped["acme.de"] == mapped["acme.com"] == ids["acme.com"]
    assert mapped["globex.de"] == mapped["globex.com"] == ids["globex.com"]
    assert mapped["initech.com"] == ids["initech.com"]  # other name: its website is no evidence
    link_accounts(con, ctx(run_id="r2"))
    assert len({a for a, _ in links(con).values()}) == 3
    assert verify_chain(con, KEY) == []


def test_a_manual_unmerge_is_never_undone_by_a_run_or_an_import(con, tmp_path):
    add(con, "c1", "ann@acme.com", "Acme")
    add(con, "c2", "bob@acme.de", "Acme")
    link_accounts(con, ctx())
    ids = account_ids(con)
    website(con, "acme.de", "https://acme.com")
    link_accounts(con, ctx(run_id="r2"))
    assert accounts(con) == 1
    user = ChangeContext("t1", "unmerge-1", "jane", "user", KEY, AT)
    unmerge_account(con, user, ids["acme.de"])
    counts = link_accounts(con, ctx(run_id="r3"))
    assert counts["website_merges"] == 0 and counts["website_unmerged"] == 1
    assert accounts(con) == 2 and account_ids(con) == ids
    assert links(con)["c2"][0] == "Acme" and run(
        con, "SELECT account_id FROM core.contact_accounts WHERE contact_id = 'c2'") == [
        (ids["acme.de"],)]
    result = companies(con, tmp_path, "Company Name,Domain,Website\nAcme,acme.de,acme.com\n")
    assert result["website_merges"] == 0
    link_accounts(con, ctx(run_id="r4"))
    assert accounts(con) == 2 and account_ids(con) == ids


# --- through the commands ------------------------------------------------------------------------

def test_the_companies_import_merges_and_a_cli_unmerge_holds(tmp_path, capsys):
    from helpers import HUBSPOT_HEADER, crm, working, write_csv

    home = tmp_path / "home"
    people = write_csv(tmp_path / "c.csv", HUBSPOT_HEADER, [
        "1,Ann,Lee,ann@acme.com,,Acme Inc.,CEO,,Boston,US,2024-03-12 09:14",
        "2,Bob,Stone,bob@acme.de,,ACME GmbH,CFO,,Berlin,DE,2024-03-12 09:14",
    ])
    assert crm(home, "import", "contacts", people, "--tenant", "t1",
               "--as-of", "2026-11-15")[0] == 0

    def accounts_now() -> list[tuple]:
        con = working(home)
        try:
            return con.execute("SELECT domain, account_id FROM core.account_domains "
                               "ORDER BY 1").fetchall()
        finally:
            con.close()

    before = dict(accounts_now())
    header = "Company name,Company Domain Name,Website"
    file = write_csv(tmp_path / "co.csv", header, ["ACME GmbH,acme.de,https://www.acme.com/de"])
    code, out, err = crm(home, "import", "companies", file, "--tenant", "t1", "--source", "zi",
                         capsys=capsys)
    assert code == 0, err
    assert "websites: 1 account(s) merged" in out
    assert {a for _, a in accounts_now()} == {before["acme.com"]}
    code, out, err = crm(home, "account", "unmerge", "--tenant", "t1", "--account",
                         before["acme.de"], "--actor", "jane", capsys=capsys)
    assert code == 0, err
    again = write_csv(tmp_path / "co2.csv", header, ["Acme,acme.de,acme.com"])
    assert crm(home, "import", "companies", again, "--tenant", "t1", "--source", "other")[0] == 0
    assert dict(accounts_now()) == before


def test_chains_and_cycles_of_websites_end_on_one_account(con):
    add(con, "c1", "ann@acme.com", "Acme")
    add(con, "c2", "bob@acme.de", "Acme GmbH")
    add(con, "c3", "cy@acme.fr", "Acme SA")
    add(con, "c4", "di@zeta.com", "Zeta")
    add(con, "c5", "ed@zeta.de", "Zeta AG")
    link_accounts(con, ctx())
    ids = account_ids(con)
    website(con, "acme.de", "acme.fr")   # de -> fr -> com
    website(con, "acme.fr", "acme.com")
    website(con, "zeta.com", "zeta.de")  # each names the other
    website(con, "zeta.de", "zeta.com")
    assert link_accounts(con, ctx(run_id="r2"))["website_merges"] == 3
    mapped = account_ids(con)
    assert {mapped[d] for d in ("acme.com", "acme.de", "acme.fr")} == {ids["acme.com"]}
    assert {mapped["zeta.com"], mapped["zeta.de"]} == {min(ids["zeta.com"], ids["zeta.de"])}
    assert accounts(con) == 2 and len({a for a, _ in links(con).values()}) == 2
    assert verify_chain(con, KEY) == []


def test_an_unmerge_holds_after_the_survivor_is_merged_into_a_third(con):
    from crm_pipeline.accounts.manage import merge_accounts

    add(con, "c1", "ann@acme.com", "Acme")
    add(con, "c2", "bob@acme.de", "Acme")
    add(con, "c3", "cy@acme-holding.com", "Acme Holding")
    link_accounts(con, ctx())
    ids = account_ids(con)
    website(con, "acme.de", "https://acme.com")
    link_accounts(con, ctx(run_id="r2"))
    user = ChangeContext("t1", "by-hand", "jane", "user", KEY, AT)
    unmerge_account(con, user, ids["acme.de"])
    merge_accounts(con, user, ids["acme.com"], ids["acme-holding.com"])
    run(con, "UPDATE core.accounts SET name_key = 'acme' WHERE account_id = $a",
        {"a": ids["acme-holding.com"]})  # the survivor now has the same name key
    website(con, "acme.de", "https://acme.com")
    counts = link_accounts(con, ctx(run_id="r3"))
    assert counts["website_merges"] == 0 and counts["website_unmerged"] == 1
    assert accounts(con) == 2
