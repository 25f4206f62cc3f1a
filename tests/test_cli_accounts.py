"""`crm account show|merge|unmerge` through the CLI, on a home built by an import."""

from __future__ import annotations

import json

import pytest
from helpers import HUBSPOT_HEADER, crm, working, write_csv

AS_OF = "2026-11-15"
ROWS = [
    "1,Ann,Lee,ann@acme.com,,Acme Inc.,CEO,250,Boston,US,2024-03-12 09:14",
    "2,Bob,Stone,bob@sales.acme.com,,Acme,CFO,250,Boston,US,2024-03-12 09:14",
    "3,Cleo,Brandt,cleo@acme.de,,Acme GmbH,Buyer,40,Berlin,DE,2024-03-12 09:14",
    "4,Dan,Roe,dan.roe@gmail.com,,Globex,Engineer,12,Austin,US,2024-01-02 08:00",
]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    d = tmp_path_factory.mktemp("accounts")
    home = d / "home"
    assert crm(home, "import", "contacts", write_csv(d / "c.csv", HUBSPOT_HEADER, ROWS),
               "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    return home


def ids(home) -> dict[str, str]:
    con = working(home)
    try:
        return dict(con.execute("SELECT domain, account_id FROM core.account_domains").fetchall())
    finally:
        con.close()


def show(home, account: str, capsys) -> dict:
    code, out, err = crm(home, "account", "show", account, "--tenant", "t1", "--format", "json",
                         capsys=capsys)
    assert code == 0, err
    assert out.startswith("{"), (out, err)
    return json.loads(out)


def test_show_names_the_account_its_domains_and_contacts(home, capsys):
    acme = ids(home)["acme.com"]
    doc = show(home, acme, capsys)
    assert doc["account"]["name"] in ("Acme", "Acme Inc.")
    assert [d["domain"] for d in doc["domains"]] == ["acme.com"]
    assert sorted(c["email"] for c in doc["contacts"]) == ["ann@acme.com", "bob@sales.acme.com"]
    assert doc["engagement"]["contacts"] == 2
    code, out, _ = crm(home, "account", "show", acme, "--tenant", "t1", capsys=capsys)
    assert code == 0 and "acme.com" in out and "Bob Stone" in out
    code, out, _ = crm(home, "contact", "show", doc["contacts"][0]["contact_id"], "--tenant", "t1",
                       capsys=capsys)
    assert code == 0 and f"account: {doc['account']['name']} ({acme}, email_domain)" in out


def test_an_unknown_account_or_tenant_is_one_line_and_exit_2(home, capsys):
    code, _, err = crm(home, "account", "show", "a_nope", "--tenant", "t1", capsys=capsys)
    assert code == 2 and "no account 'a_nope'" in err and len(err.strip().splitlines()) == 1
    code, _, err = crm(home, "account", "merge", "--tenant", "t9", "--account", "a_1",
                       "--into", "a_2", "--actor", "jane", capsys=capsys)
    assert code == 2 and "unknown tenant" in err


def test_merge_then_unmerge_through_the_cli(home, capsys):
    acme, acme_de = ids(home)["acme.com"], ids(home)["acme.de"]
    code, out, err = crm(home, "account", "merge", "--tenant", "t1", "--account", acme_de,
                         "--into", acme, "--actor", "jane", capsys=capsys)
    assert code == 0, err
    assert "1 contacts moved" in out
    doc = show(home, acme_de, capsys)  # the merged id answers with the account it is part of now
    assert doc["account"]["account_id"] == acme and doc["resolved_from_alias"] == acme_de
    assert sorted(d["domain"] for d in doc["domains"]) == ["acme.com", "acme.de"]
    assert len(doc["contacts"]) == 3
    assert crm(home, "run", "--tenant", "t1", "--as-of", AS_OF, capsys=capsys)[0] == 0
    assert len(show(home, acme, capsys)["contacts"]) == 3  # the run keeps the merge
    code, out, err = crm(home, "account", "unmerge", "--tenant", "t1", "--account", acme_de,
                         "--actor", "jane", capsys=capsys)
    assert code == 0, err
    assert crm(home, "run", "--tenant", "t1", "--as-of", AS_OF, capsys=capsys)[0] == 0
    assert [c["email"] for c in show(home, acme_de, capsys)["contacts"]] == ["cleo@acme.de"]
    code, out, _ = crm(home, "audit", "verify", capsys=capsys)
    assert code == 0


def test_a_merge_without_an_actor_is_refused(home, capsys):
    acme, acme_de = ids(home)["acme.com"], ids(home)["acme.de"]
    code, _, err = crm(home, "account", "merge", "--tenant", "t1", "--account", acme_de,
                       "--into", acme, "--actor", " ", capsys=capsys)
    assert code == 2 and "--actor" in err
