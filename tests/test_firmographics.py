"""Firmographic enrichment: company files matched to accounts, every value kept, the account's
value chosen by source priority, values set by hand kept, bad input accounted for."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from helpers import HUBSPOT_HEADER, crm, working, write_csv
from hypothesis import given
from hypothesis import strategies as st

from crm_pipeline.accounts.company_fields import employee_bounds, host_of, revenue_parts

AS_OF = "2026-11-15"
CONTACTS = [
    "1,Ann,Lee,ann@acme.com,,Acme Inc.,CEO,,Boston,US,2024-03-12 09:14",
    "2,Bob,Stone,bob@globex.co.uk,,Globex Ltd,CFO,,London,GB,2024-03-12 09:14",
    "3,Cleo,Brandt,cleo@initech.de,,Initech GmbH,Buyer,,Berlin,DE,2024-03-12 09:14",
    "4,Dan,Roe,dan@initech.com,,Initech Inc,Engineer,,Austin,US,2024-01-02 08:00",
]
HEADER = ("Record ID,Company name,Company Domain Name,Industry,Number of Employees,"
          "Annual Revenue,Country/Region,City")


def _bounds(values: list[str]) -> list[tuple]:
    return list(employee_bounds(pl.Series(values, dtype=pl.String)).iter_rows())


def _revenue(values: list[str], currency: str | None = None) -> list[tuple]:
    return list(revenue_parts(pl.Series(values, dtype=pl.String),
                              pl.Series([currency] * len(values), dtype=pl.String)).iter_rows())


def test_employee_counts_and_ranges_are_read_as_bounds():
    assert _bounds(["251-500", "10,001+", "1,000", "5K", "1-10 employees", "Under 50",
                    "501 to 1,000", "0-1"]) == [
        (251, 500), (10001, None), (1000, 1000), (5000, 5000), (1, 10), (0, 50), (501, 1000),
        (0, 1)]


@pytest.mark.parametrize("value", ["-5", "lots", "12.5", "500-100", "99999999", "", "n/a"])
def test_an_employee_count_that_is_not_one_is_not_read(value):
    assert _bounds([value]) == [(None, None)]


def test_revenues_keep_their_currency_and_ranges():
    assert _revenue(["$10M-$50M", "€5,000,000", "$1B+", "EUR 5m", "5.000.000 €", "Under $1M",
                     "£2.5bn", "10-50 million"]) == [
        (1e7, 5e7, "USD"), (5e6, 5e6, "EUR"), (1e9, None, "USD"), (5e6, 5e6, "EUR"),
        (5e6, 5e6, "EUR"), (0, 1e6, "USD"), (2.5e9, 2.5e9, "GBP"), (1e7, 5e7, None)]
    assert _revenue(["1200000"], "CHF") == [(1.2e6, 1.2e6, "CHF")]


@pytest.mark.parametrize("value", ["-100", "NaN", "1e400", "5M zorkmids", "a lot"])
def test_a_revenue_that_is_not_an_amount_is_not_read(value):
    assert _revenue([value])[0][:2] == (None, None)


@given(st.integers(min_value=0, max_value=9_999_999))
def test_any_whole_count_reads_back_written_with_or_without_grouping(n):
    assert _bounds([str(n), f"{n:,}"]) == [(n, n), (n, n)]


@given(st.integers(min_value=0, max_value=5_000_000), st.integers(min_value=0, max_value=5_000_000))
def test_any_range_reads_back_as_its_ends(a, b):
    lo, hi = min(a, b), max(a, b)
    assert _bounds([f"{lo:,}-{hi:,}", f"{lo} to {hi}", f"{lo:,}+"]) == [
        (lo, hi), (lo, hi), (lo, None)]


def test_hosts_come_from_domains_websites_and_addresses():
    frame = pl.DataFrame({"v": ["https://www.acme.co.uk/about", "info@acme.com", "ACME.COM.",
                                "http://sub.shop.example.de:8080?x=1", "www2.globex.com"]})
    assert frame.select(host_of("v"))["v"].to_list() == [
        "acme.co.uk", "acme.com", "acme.com", "sub.shop.example.de", "globex.com"]


# --- the import, end to end through the CLI -------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("firmographics")
    home = d / "home"
    assert crm(home, "import", "contacts", write_csv(d / "c.csv", HUBSPOT_HEADER, CONTACTS),
               "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    return home


@pytest.fixture
def home(built, tmp_path):
    """A copy of the module's home for each test (one import of the contacts per module)."""
    return Path(shutil.copytree(built, tmp_path / "home"))


def _accounts(home) -> dict[str, dict]:
    con = working(home)
    try:
        cur = con.execute("SELECT * FROM core.accounts")
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()
    return {r["domain"]: r for r in rows}


def _query(home, sql: str) -> list[tuple]:
    con = working(home)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _import(home, path, *extra, source="zoominfo", capsys=None):
    return crm(home, "import", "companies", str(path), "--tenant", "t1", "--source", source,
               *extra, capsys=capsys)


def test_rows_match_by_domain_then_name_and_fill_the_accounts(home, tmp_path, capsys):
    path = write_csv(tmp_path / "co.csv", HEADER, [
        "1,Acme,https://www.acme.com/,Software,251-500,$10M-$50M,United States,Boston",
        "2,Globex Limited,sales.globex.co.uk,Manufacturing,1200,GBP 80m,UK,London",
        "3,Initech,,Consulting,40,,,",  # two accounts are named Initech: ambiguous
    ])
    code, out, err = _import(home, path, capsys=capsys)
    assert code == 0, err
    accounts = _accounts(home)
    acme, globex = accounts["acme.com"], accounts["globex.co.uk"]
    assert (acme["industry"], acme["employee_range"], acme["employees_min"],
            acme["employees_max"], acme["employee_count"]) == (
        "Software", "251-500", 251, 500, None)
    assert (float(acme["annual_revenue_min"]), float(acme["annual_revenue_max"]),
            acme["revenue_range"]) == (1e7, 5e7, "$10M-$50M")
    assert (acme["country"], acme["city"]) == ("US", "Boston")
    assert globex["employee_count"] == 1200 and globex["country"] == "GB"
    # GBP converted to the tenant's base currency (USD) with the reference rates
    assert float(globex["annual_revenue"]) == pytest.approx(80e6 * 1.2529, rel=1e-6)
    # a file fills blanks: the name the contacts give stays
    assert acme["name"] == "Acme Inc."
    assert _query(home, "SELECT row_number, reason_code FROM quarantine.rows "
                        "WHERE kind = 'company'") == [(3, "ambiguous_account")]
    assert "quarantined ambiguous_account: 1" in out


def test_bad_input_is_accounted_for_row_by_row(home, tmp_path, capsys):
    path = write_csv(tmp_path / "bad.csv", HEADER, [
        "1,,,,,,,",                                  # no domain, no name
        "2,,not a domain,,,,,",                      # a domain that is not one, no name
        "3,Acme,acme.com,,-5,XYZ 5M,Atlantis,",      # bad values on a good row
        "4,Acme,acme.com,,lots,$2M,,",               # the same account again (merged)
        "5,Unknown Co,unknown-co.com,,10,,,",        # no such account, no --create
        '6,"broken,row',                              # not a record of the header's width
    ])
    code, out, err = _import(home, path, capsys=capsys)
    assert code == 0, err
    (rows_in, accepted, merged, quarantined), = _query(
        home, "SELECT rows_in, rows_accepted, rows_merged, rows_quarantined FROM raw.imports "
              "WHERE kind = 'company'")
    assert rows_in == accepted + merged + quarantined == 6
    assert (accepted, merged) == (1, 1)
    reasons = dict(_query(home, "SELECT row_number, reason_code FROM quarantine.rows "
                                "WHERE kind = 'company'"))
    assert reasons == {1: "missing_identity", 2: "bad_domain", 5: "unknown_account",
                       6: "unparseable_row"}
    problems = _query(home, "SELECT row_number, field, value, problem FROM core.firmographics "
                            "WHERE problem IS NOT NULL ORDER BY 1, 2")
    assert problems == [(3, "annual_revenue", "XYZ 5M", "unknown_currency"),
                        (3, "country", "Atlantis", "unknown_country"),
                        (3, "employees", "-5", "bad_employee_count"),
                        (4, "employees", "lots", "bad_employee_count")]
    acme = _accounts(home)["acme.com"]
    assert acme["employees_min"] is None and float(acme["annual_revenue"]) == 2e6
    assert "bad_employee_count: 2" in out
    # nothing refused is in the accounts: no account for unknown-co.com
    assert "unknown-co.com" not in _accounts(home)


def test_create_adds_accounts_that_later_contacts_join(home, tmp_path):
    path = write_csv(tmp_path / "new.csv", HEADER, [
        "1,Hooli,hooli.xyz,Internet,5000,,US,Palo Alto",
        "2,Hooli Inc,www.hooli.xyz,Internet,5000,,US,Palo Alto",
        "3,Pied Piper,,Compression,12,,US,",
    ])
    assert _import(home, path, "--create")[0] == 0
    accounts = _accounts(home)
    assert accounts["hooli.xyz"]["created_by"] == "import"
    assert accounts["hooli.xyz"]["employee_count"] == 5000
    assert [a["name"] for a in accounts.values() if a["domain"] is None] == ["Pied Piper"]
    (rows_in, accepted, merged), = _query(home, "SELECT rows_in, rows_accepted, rows_merged "
                                                "FROM raw.imports WHERE kind = 'company'")
    assert (rows_in, accepted, merged) == (3, 2, 1)
    later = write_csv(tmp_path / "c2.csv", HUBSPOT_HEADER, [
        "9,Gavin,Belson,gavin@hooli.xyz,,Hooli,CEO,,Palo Alto,US,2024-03-12 09:14"])
    assert crm(home, "import", "contacts", str(later), "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    (linked,), = _query(home, "SELECT ca.account_id = a.account_id FROM core.contact_accounts ca "
                              "JOIN core.contacts c USING (tenant_id, contact_id) "
                              "JOIN core.accounts a ON a.domain = 'hooli.xyz' "
                              "WHERE c.email = 'gavin@hooli.xyz'")
    assert linked
    creates = _query(home, "SELECT count(*) FROM audit.changes WHERE entity = 'account' "
                           "AND action = 'create' AND actor = 'import:zoominfo'")
    assert creates == [(2,)]


def test_same_file_again_changes_nothing(home, tmp_path, capsys):
    path = write_csv(tmp_path / "co.csv", HEADER, ["1,Acme,acme.com,Software,300,,,"])
    assert _import(home, path)[0] == 0
    before = _query(home, "SELECT count(*) FROM core.firmographics")
    changes = _query(home, "SELECT count(*) FROM audit.changes")
    code, out, _ = _import(home, path, capsys=capsys)
    assert code == 0 and "already imported: nothing changed" in out
    assert _query(home, "SELECT count(*) FROM core.firmographics") == before
    assert _query(home, "SELECT count(*) FROM audit.changes") == changes


def test_fill_blanks_by_default_priority_when_the_tenant_ranks_sources(home, tmp_path):
    first = write_csv(tmp_path / "a.csv", HEADER, ["1,Acme,acme.com,Software,300,,,"])
    second = write_csv(tmp_path / "b.csv", HEADER, ["1,Acme,acme.com,Fintech,450,,,Denver"])
    assert _import(home, first, source="clearbit")[0] == 0
    assert _import(home, second, source="zoominfo")[0] == 0
    acme = _accounts(home)["acme.com"]
    # fill blanks only: the first values stay, the blank city is filled
    assert (acme["industry"], acme["employee_count"], acme["city"]) == ("Software", 300, "Denver")
    con_settings = {"accounts": {"source_priority": {"employees": ["zoominfo", "clearbit"]}}}
    _set_settings(home, con_settings)
    third = write_csv(tmp_path / "c.csv", HEADER, ["1,Acme,acme.com,,,,,"])
    assert _import(home, third, source="other")[0] == 0  # any import re-applies the choice
    acme = _accounts(home)["acme.com"]
    assert (acme["industry"], acme["employee_count"]) == ("Software", 450)
    updates = _query(home, "SELECT new FROM audit.changes WHERE entity = 'account' "
                           "AND action = 'update' ORDER BY change_id")
    assert json.loads(updates[-1][0]) == {"employee_count": "450", "employees_min": "450",
                                          "employees_max": "450"}


def _set_settings(home, settings: dict) -> None:
    from crm_pipeline.home import Home
    from crm_pipeline.warehouse import connect

    con = connect(Home.resolve(str(home)).shard("t1"))
    try:
        con.execute("UPDATE core.tenants SET settings = $s WHERE tenant_id = 't1'",
                    {"s": json.dumps(settings)})
    finally:
        con.close()


def test_a_value_set_by_hand_is_never_replaced_by_an_import(home, tmp_path, capsys):
    acme = _accounts(home)["acme.com"]["account_id"]
    code, _, err = crm(home, "account", "set", "--tenant", "t1", "--account", acme,
                       "--actor", "jane", "employees=42", "name=ACME Corporation", capsys=capsys)
    assert code == 0, err
    _set_settings(home, {"accounts": {"source_priority": {"*": ["zoominfo"]}}})
    path = write_csv(tmp_path / "co.csv", HEADER, ["1,Acme Inc,acme.com,Software,5000,,,"])
    assert _import(home, path)[0] == 0
    row = _accounts(home)["acme.com"]
    assert (row["employee_count"], row["name"], row["industry"]) == (42, "ACME Corporation",
                                                                     "Software")
    code, _, err = crm(home, "account", "set", "--tenant", "t1", "--account", acme,
                       "--actor", "jane", "employees=lots", capsys=capsys)
    assert code == 2 and "employees='lots' cannot be used" in err
    code, _, err = crm(home, "account", "set", "--tenant", "t1", "--account", acme,
                       "--actor", "jane", "colour=red", capsys=capsys)
    assert code == 2 and "unknown account field" in err


def test_enterprise_prospects_use_the_accounts_size(home, tmp_path):
    path = write_csv(tmp_path / "co.csv", HEADER, ["1,Globex,globex.co.uk,,1001-5000,,,"])
    assert _import(home, path)[0] == 0
    assert crm(home, "run", "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    members = _query(home, "SELECT c.email FROM marts.contact_segments s JOIN core.contacts c "
                           "USING (tenant_id, contact_id) WHERE s.segment = 'enterprise_prospects'")
    assert members == [("bob@globex.co.uk",)]


@pytest.mark.parametrize("content, problem", [
    (b"", "empty"),
    (b"Foo,Bar\n1,2\n", "no column gives a company"),
    (b"\x89PNG\r\n\x1a\n....", "PNG"),
])
def test_a_file_that_cannot_be_imported_is_refused_whole(home, tmp_path, capsys, content, problem):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    before = _query(home, "SELECT count(*) FROM raw.imports")
    code, _, err = _import(home, path, capsys=capsys)
    assert code == 2 and problem in err and "x.csv" in err
    assert len(err.strip().splitlines()) == 1
    assert _query(home, "SELECT count(*) FROM raw.imports") == before


def test_source_names_are_checked(home, tmp_path, capsys):
    path = write_csv(tmp_path / "co.csv", HEADER, ["1,Acme,acme.com,,,,,"])
    for bad in ("manual", "a b", "x;drop"):
        code, _, err = _import(home, path, source=bad, capsys=capsys)
        assert code == 2, bad


def test_a_workbook_imports_like_a_csv(home, tmp_path):
    import xlsxwriter

    path = tmp_path / "companies.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Companies")
    for r, row in enumerate([HEADER.split(","),
                             ["1", "Acme", "acme.com", "Software", 250, 12000000, "US", "Boston"]]):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.close()
    assert _import(home, path, "--sheet", "Companies")[0] == 0
    acme = _accounts(home)["acme.com"]
    assert (acme["employee_count"], float(acme["annual_revenue"])) == (250, 12e6)
