"""Accounts: companies found from contacts' e-mail domains, and each contact's link to one."""

from __future__ import annotations

import datetime
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_pipeline.accounts.domains import (
    BUSINESS,
    DISPOSABLE,
    EXCLUDED,
    FREE,
    INVALID,
    classified_domains,
    domain_kind,
    registrable_domain,
)
from crm_pipeline.accounts.link import link_accounts
from crm_pipeline.contacts.store import delete_contacts
from crm_pipeline.errors import BadArgument
from crm_pipeline.tenants import ensure_tenant
from crm_pipeline.trust.audit import ChangeContext, verify_chain
from crm_pipeline.warehouse import connect, create_tables, run

AT = datetime.datetime(2026, 11, 1, 9)
KEY = b"test-key"


@pytest.fixture
def con():
    con = connect(":memory:")
    create_tables(con)
    for tenant in ("t1", "t2"):
        ensure_tenant(con, tenant)
    yield con
    con.close()


def ctx(tenant: str = "t1", run_id: str = "r1", at: datetime.datetime = AT) -> ChangeContext:
    return ChangeContext(tenant, run_id, "pipeline", "system", KEY, at)


def add(con, contact_id: str, email: str | None, company: str | None = None,
        tenant: str = "t1") -> None:
    import polars as pl

    from crm_pipeline.contacts.normalize.companies import match_key

    key = match_key(pl.Series([company], dtype=pl.String))[0] if company else None
    run(con, "INSERT INTO core.contacts (tenant_id, contact_id, email, company, company_key, "
             "first_seen_at, updated_at) VALUES ($t, $c, $e, $co, $k, $at, $at)",
        {"t": tenant, "c": contact_id, "e": email, "co": company, "k": key, "at": AT})


def links(con, tenant: str = "t1") -> dict[str, tuple[str, str]]:
    """contact -> (account name, linked_by)."""
    rows = run(con, "SELECT l.contact_id, a.name, l.linked_by FROM core.contact_accounts l "
                    "JOIN core.accounts a USING (tenant_id, account_id) WHERE l.tenant_id = $t",
               {"t": tenant})
    return {c: (name, by) for c, name, by in rows}


def account_ids(con, tenant: str = "t1") -> dict[str, str]:
    """domain -> account id."""
    return dict(run(con, "SELECT domain, account_id FROM core.account_domains WHERE tenant_id = $t",
                    {"t": tenant}))


def changes(con) -> int:
    return run(con, "SELECT count(*) FROM audit.changes")[0][0]


# --- domains -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("domain", "registrable"), [
    ("acme.com", "acme.com"),
    ("sub.acme.co.uk", "acme.co.uk"),
    ("mail.eu.acme.com.au", "acme.com.au"),
    ("ACME.De.", "acme.de"),
    ("foo.github.io", "github.io"),  # the registry's rules, not the hosts' private suffixes
    ("x0.com", "x0.com"),
    ("co.uk", None),
    ("localhost", None),
    ("", None),
    ("a..b.com", None),
])
def test_the_registrable_domain_is_what_a_company_registered(domain, registrable):
    assert registrable_domain(domain) == registrable


@pytest.mark.parametrize(("domain", "kind"), [
    ("gmail.com", FREE), ("hotmail.co.uk", FREE), ("gmx.de", FREE), ("yahoo.co.jp", FREE),
    ("mailinator.com", DISPOSABLE), ("acme.com", BUSINESS), ("co.uk", INVALID),
    ("reseller.example", EXCLUDED), ("eu.reseller.example", EXCLUDED),
])
def test_free_mail_disposable_and_the_tenants_exclusions_are_no_company(domain, kind):
    excluded = frozenset({"reseller.example"})
    assert domain_kind(domain, registrable_domain(domain), excluded) == kind


LABEL = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)


@settings(max_examples=200)
@given(st.lists(LABEL, min_size=1, max_size=4),
       st.sampled_from(["com", "co.uk", "de", "com.au", "io", "org", "fr", "co.jp"]))
def test_a_registrable_domain_is_a_suffix_of_the_domain_and_its_own(labels, suffix):
    domain = ".".join([*labels, suffix])
    registrable = registrable_domain(domain)
    assert registrable is not None
    assert domain == registrable or domain.endswith("." + registrable)
    assert registrable.endswith("." + suffix)
    assert registrable_domain(registrable) == registrable


def test_each_distinct_domain_is_classified_once():
    import polars as pl

    got = classified_domains(pl.Series(["a.acme.com", "gmail.com", "a.acme.com", None]), [])
    assert sorted(got.rows()) == [("a.acme.com", "acme.com", BUSINESS),
                                  ("gmail.com", "gmail.com", FREE)]


# --- linking -------------------------------------------------------------------------------------

def test_contacts_of_one_registrable_domain_share_one_account_named_by_most_of_them(con):
    add(con, "c1", "ann@acme.co.uk", "ACME Ltd")
    add(con, "c2", "bob@sales.acme.co.uk", "Acme")
    add(con, "c3", "cy@acme.co.uk", "Acme")
    add(con, "c4", "di@globex.com")
    counts = link_accounts(con, ctx())
    assert (counts["accounts_created"], counts["links_created"]) == (2, 4)
    assert links(con) == {"c1": ("Acme", "email_domain"), "c2": ("Acme", "email_domain"),
                          "c3": ("Acme", "email_domain"), "c4": ("globex.com", "email_domain")}
    assert set(account_ids(con)) == {"acme.co.uk", "globex.com"}


def test_a_free_mail_contact_links_by_a_company_name_that_names_one_account(con):
    add(con, "c1", "ann@acme.com", "Acme GmbH")
    add(con, "c2", "bob@gmail.com", "ACME gmbh.")
    add(con, "c3", "cy@yahoo.com", "Initech")  # no account of that name: unlinked
    add(con, "c4", None, "acme")  # no e-mail at all: by name too
    link_accounts(con, ctx())
    assert links(con) == {"c1": ("Acme GmbH", "email_domain"), "c2": ("Acme GmbH", "company_name"),
                          "c4": ("Acme GmbH", "company_name")}


def test_two_companies_of_one_name_stay_two_and_their_free_mail_contacts_unlinked(con):
    add(con, "c1", "ann@acme.com", "Acme Inc")
    add(con, "c2", "bob@acme-tools.de", "Acme GmbH")
    add(con, "c3", "cy@gmail.com", "Acme")
    link_accounts(con, ctx())
    assert len(set(account_ids(con).values())) == 2
    assert "c3" not in links(con)


def test_a_second_account_of_the_same_name_unlinks_the_guess_it_made_ambiguous(con):
    add(con, "c1", "ann@acme.com", "Acme")
    add(con, "c3", "cy@gmail.com", "Acme")
    link_accounts(con, ctx())
    assert links(con)["c3"] == ("Acme", "company_name")
    add(con, "c2", "bob@acme-tools.de", "Acme")
    counts = link_accounts(con, ctx(run_id="r2"))
    assert "c3" not in links(con)
    assert counts["links_deleted"] == 1


def test_ids_are_stable_and_a_run_with_nothing_new_changes_nothing(con):
    add(con, "c1", "ann@acme.com", "Acme")
    add(con, "c2", "bob@gmail.com", "Acme")
    link_accounts(con, ctx())
    before_ids, before_links, written = account_ids(con), links(con), changes(con)
    counts = link_accounts(con, ctx(run_id="r2", at=AT + datetime.timedelta(days=1)))
    assert account_ids(con) == before_ids and links(con) == before_links
    assert changes(con) == written
    assert counts["accounts_created"] == counts["links_created"] == counts["links_deleted"] == 0
    since = run(con, "SELECT DISTINCT since FROM core.contact_accounts")
    assert since == [(AT,)]


def test_the_same_domain_in_two_tenants_is_two_accounts_and_nothing_crosses(con):
    add(con, "c1", "ann@acme.com", "Acme", tenant="t1")
    add(con, "c9", "zed@acme.com", "Acme", tenant="t2")
    add(con, "c8", "yan@gmail.com", "Acme", tenant="t2")
    link_accounts(con, ctx("t1"))
    assert run(con, "SELECT DISTINCT tenant_id FROM core.accounts") == [("t1",)]
    assert run(con, "SELECT count(*) FROM core.contact_accounts WHERE tenant_id = 't2'") == [(0,)]
    link_accounts(con, ctx("t2"))
    assert account_ids(con, "t1")["acme.com"] != account_ids(con, "t2")["acme.com"]
    assert links(con, "t2") == {"c9": ("Acme", "email_domain"), "c8": ("Acme", "company_name")}


def test_a_link_made_by_hand_is_never_undone_by_a_run(con):
    add(con, "c1", "ann@acme.com", "Acme")
    add(con, "c2", "bob@globex.com", "Globex")
    link_accounts(con, ctx())
    acme = account_ids(con)["acme.com"]
    run(con, "UPDATE core.contact_accounts SET account_id = $a, linked_by = 'manual', "
             "confidence = 1.0 WHERE contact_id = 'c2'", {"a": acme})
    link_accounts(con, ctx(run_id="r2"))
    assert links(con)["c2"] == ("Acme", "manual")


def test_a_contact_that_is_gone_loses_its_link_audited(con):
    add(con, "c1", "ann@acme.com", "Acme")
    add(con, "c2", "bob@acme.com", "Acme")
    link_accounts(con, ctx())
    delete_contacts(con, ctx(), ["c2"])
    counts = link_accounts(con, ctx(run_id="r2"))
    assert counts["links_deleted"] == 1 and set(links(con)) == {"c1"}
    previous = run(con, "SELECT previous FROM audit.changes WHERE entity = 'contact_account' "
                        "AND action = 'delete' AND entity_id = 'c2'")
    assert json.loads(previous[0][0])["linked_by"] == "email_domain"


def test_a_contact_who_moves_company_moves_account(con):
    add(con, "c1", "ann@acme.com", "Acme")
    link_accounts(con, ctx())
    run(con, "UPDATE core.contacts SET email = 'ann@globex.com' WHERE contact_id = 'c1'")
    counts = link_accounts(con, ctx(run_id="r2"))
    assert counts["links_updated"] == 1
    assert links(con)["c1"] == ("Acme", "email_domain")  # the globex account took her company name
    previous, new = run(con, "SELECT previous, new FROM audit.changes "
                             "WHERE entity = 'contact_account' AND action = 'update'")[0]
    assert set(json.loads(previous)) == set(json.loads(new)) == {"account_id"}  # what changed
    assert run(con, "SELECT domain FROM core.accounts a JOIN core.contact_accounts l "
                    "USING (tenant_id, account_id)") == [("globex.com",)]


def test_the_tenants_excluded_domains_link_by_name_only(con):
    run(con, "UPDATE core.tenants SET settings = $s WHERE tenant_id = 't1'",
        {"s": json.dumps({"accounts": {"excluded_domains": ["agency.example"]}})})
    add(con, "c1", "ann@acme.com", "Acme")
    add(con, "c2", "me@agency.example", "Acme")
    add(con, "c3", "you@eu.agency.example", "Someone Else")
    link_accounts(con, ctx())
    assert "agency.example" not in account_ids(con)
    assert links(con) == {"c1": ("Acme", "email_domain"), "c2": ("Acme", "company_name")}


def test_an_exclusion_list_that_is_not_a_list_of_domains_is_refused(con):
    run(con, "UPDATE core.tenants SET settings = $s WHERE tenant_id = 't1'",
        {"s": json.dumps({"accounts": {"excluded_domains": "agency.example"}})})
    with pytest.raises(BadArgument, match="excluded_domains"):
        link_accounts(con, ctx())


def test_every_account_and_link_change_is_in_the_audit_chain(con):
    add(con, "c1", "ann@acme.com")
    add(con, "c2", "bob@gmail.com", "Acme")
    link_accounts(con, ctx())
    add(con, "c3", "cy@acme.com", "Acme")
    link_accounts(con, ctx(run_id="r2"))
    rows = run(con, "SELECT run_id, action, entity, entity_id FROM audit.changes "
                    "ORDER BY change_id")
    account = account_ids(con)["acme.com"]
    assert rows == [
        ("r1", "create", "account", account),
        ("r1", "create", "contact_account", "c1"),
        ("r2", "update", "account", account),  # named once a contact gave the company's name
        ("r2", "create", "contact_account", "c2"),  # ... which the free-mail contact gives too
        ("r2", "create", "contact_account", "c3"),
    ]
    assert verify_chain(con, KEY) == []


def test_an_accounts_engagement_adds_up_its_contacts(con):
    from crm_pipeline.pipeline import marts_stage

    add(con, "c1", "ann@acme.com", "Acme")
    add(con, "c2", "bob@acme.com", "Acme")
    add(con, "c3", "cy@globex.com", "Globex")
    link_accounts(con, ctx())
    for n, (contact, day) in enumerate((("c1", 3), ("c1", 40), ("c2", 10), ("c2", 200))):
        run(con, "INSERT INTO core.activities (tenant_id, activity_id, contact_id, type, "
                 "occurred_at, content_hash, import_id, line_number) VALUES ('t1', $a, $c, "
                 "'call', $at, 'h', 'imp', $n)",
            {"a": f"a{n}", "c": contact, "n": n,
             "at": datetime.datetime(2026, 11, 15, 12) - datetime.timedelta(days=day)})
    marts_stage(con, "t1", datetime.date(2026, 11, 15))
    rows = run(con, """
        SELECT a.name, e.contacts, e.engaged_contacts_90d, e.activities_30d, e.activities_90d,
               e.days_since_last_activity, e.trend
        FROM marts.account_engagement e JOIN core.accounts a USING (tenant_id, account_id)
        ORDER BY 1""")
    assert rows == [("Acme", 2, 2, 2, 3, 3, "rising"), ("Globex", 1, 0, 0, 0, None, "none")]


def test_a_merge_moves_contacts_and_domains_and_the_run_keeps_it(con):
    from crm_pipeline.accounts.manage import merge_accounts, resolved_account

    add(con, "c1", "ann@acme.com", "Acme")
    add(con, "c2", "bob@acme.de", "Acme Deutschland")
    add(con, "c3", "cy@gmail.com", "Acme Deutschland")
    link_accounts(con, ctx())
    ids = account_ids(con)
    user = ChangeContext("t1", "merge-1", "jane", "user", KEY, AT)
    assert merge_accounts(con, user, ids["acme.de"], ids["acme.com"]) == 2
    assert links(con) == {"c1": ("Acme", "email_domain"), "c2": ("Acme", "email_domain"),
                          "c3": ("Acme", "company_name")}
    assert resolved_account(con, "t1", ids["acme.de"]) == ids["acme.com"]
    add(con, "c4", "di@shop.acme.de", None)
    link_accounts(con, ctx(run_id="r2"))  # the merged domain's new contact joins the survivor
    assert links(con)["c4"] == ("Acme", "email_domain")
    assert run(con, "SELECT count(*) FROM core.accounts") == [(1,)]
    assert verify_chain(con, KEY) == []


def test_an_unmerge_restores_the_account_and_the_next_run_its_contacts(con):
    from crm_pipeline.accounts.manage import merge_accounts, unmerge_account

    add(con, "c1", "ann@acme.com", "Acme")
    add(con, "c2", "bob@acme.de", "Acme Deutschland")
    link_accounts(con, ctx())
    ids = account_ids(con)
    user = ChangeContext("t1", "merge-1", "jane", "user", KEY, AT)
    merge_accounts(con, user, ids["acme.de"], ids["acme.com"])
    assert unmerge_account(con, user, ids["acme.de"]) == ids["acme.com"]
    assert account_ids(con) == ids
    link_accounts(con, ctx(run_id="r2"))
    assert links(con) == {"c1": ("Acme", "email_domain"),
                          "c2": ("Acme Deutschland", "email_domain")}
    actions = run(con, "SELECT action FROM audit.changes WHERE entity = 'account' "
                       "AND entity_id = $a ORDER BY change_id", {"a": ids["acme.de"]})
    assert actions == [("create",), ("merge",), ("unmerge",)]


def test_merging_an_account_into_itself_or_an_unknown_one_is_refused(con):
    from crm_pipeline.accounts.manage import merge_accounts, unmerge_account

    add(con, "c1", "ann@acme.com", "Acme")
    link_accounts(con, ctx())
    acme = account_ids(con)["acme.com"]
    with pytest.raises(BadArgument, match="already one account"):
        merge_accounts(con, ctx(), acme, acme)
    with pytest.raises(BadArgument, match="no account 'a_nope'"):
        merge_accounts(con, ctx(), "a_nope", acme)
    with pytest.raises(BadArgument, match="was not merged"):
        unmerge_account(con, ctx(), acme)
