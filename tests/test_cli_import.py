"""`crm import contacts`: dry run, mapping files, refusals that change nothing, and a Google
Contacts export with several values in one cell, imported end to end."""

from __future__ import annotations

import json

import pytest
from helpers import HUBSPOT_HEADER, crm, has_shards, shard, working, write_csv

ROWS = ["1,Ann,Lee,ann@example.com,+1 415 555 2671,Acme,CEO,250,Boston,US,2024-03-12 09:14",
        "2,Bo,Chen,bo@example.com,,Beta,,,,US,2024-03-12 09:14"]


def test_dry_run_shows_detection_and_prediction_and_changes_nothing(tmp_path, capsys):
    f = write_csv(tmp_path / "c.csv", HUBSPOT_HEADER.replace(",", ";"),
                  [r.replace(",", ";") for r in ROWS], encoding="cp1252")
    home = tmp_path / "home"
    code, out, _ = crm(home, "import", "contacts", f, "--tenant", "t1", "--dry-run", capsys=capsys)
    assert code == 0
    assert "cp1252" in out or "utf-8" in out
    assert "';'" in out and "dry run" in out and "ann@example.com" in out
    assert "2 to accept or merge" in out
    assert not has_shards(home)


def test_mapping_file_maps_unknown_headers(tmp_path, capsys):
    f = write_csv(tmp_path / "c.csv", "Kundennummer,Vorname,Nachname,Mail,Sonstiges",
                  ["K1,Jürgen,Weiß,jw@example.de,x", "K2,Anna,Schmidt,as@example.de,"])
    mapping = tmp_path / "map.yaml"
    mapping.write_text('columns:\n  Kundennummer: source_id\n  Vorname: first_name\n'
                       '  Nachname: last_name\n  Mail: email\n', encoding="utf-8")
    home = tmp_path / "home"
    code, out, err = crm(home, "import", "contacts", f, "--tenant", "de1", "--mapping", mapping,
                         "--region", "DE", "--no-run", capsys=capsys)
    assert code == 0, err
    assert "rows read 2" in out


def test_mapping_naming_a_missing_column_is_refused_and_changes_nothing(tmp_path, capsys):
    f = write_csv(tmp_path / "c.csv", HUBSPOT_HEADER, ROWS)
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  Nope: email\n", encoding="utf-8")
    home = tmp_path / "home"
    code, _, err = crm(home, "import", "contacts", f, "--tenant", "t1", "--mapping", mapping,
                       capsys=capsys)
    assert code == 2 and "Nope" in err and len(err.strip().splitlines()) == 1
    assert not has_shards(home)


def test_unrecognised_headers_are_refused_with_a_hint(tmp_path, capsys):
    f = write_csv(tmp_path / "c.csv", "foo,bar,baz", ["1,2,3"])
    code, _, err = crm(tmp_path / "home", "import", "contacts", f, "--tenant", "t1", capsys=capsys)
    assert code == 2 and "--mapping" in err


def test_refused_file_after_a_good_import_leaves_the_warehouse_unchanged(tmp_path, capsys):

    home = tmp_path / "home"
    good = write_csv(tmp_path / "good.csv", HUBSPOT_HEADER, ROWS)
    assert crm(home, "import", "contacts", good, "--tenant", "t1", "--no-run")[0] == 0
    before = shard(home).read_bytes()
    for name, content in (("img.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
                          ("page.csv", b"<!DOCTYPE html><html><body>hi</body></html>"),
                          ("data.csv", b'[{"a": 1}]'),
                          ("header_only.csv", (HUBSPOT_HEADER + "\n").encode())):
        bad = tmp_path / name
        bad.write_bytes(content)
        code, _, err = crm(home, "import", "contacts", bad, "--tenant", "t1", capsys=capsys)
        assert code == 2 and name in err, (name, err)
    con = working(home)
    assert con.execute("SELECT count(*) FROM raw.imports").fetchone()[0] == 1
    con.close()
    assert shard(home).read_bytes() == before


GOOGLE_HEADER = ("First Name,Last Name,Organization Name,Organization Title,Birthday,Labels,"
                 "E-mail 1 - Label,E-mail 1 - Value,Phone 1 - Label,Phone 1 - Value,"
                 "Address 1 - City,Address 1 - Country,Website 1 - Value")
GOOGLE_ROWS = [
    "Ann,Lee,Acme Inc ::: Beta GmbH,CEO ::: Advisor,15. März 1980,"
    "* myContacts ::: Friends ::: * starred,* Work,ann@acme.com ::: ann@beta.de,Mobile,"
    "+1 415 555 2671 ::: +1 415 555 0100,Boston ::: Berlin,US ::: DE,https://a.example",
    "Bo,Chen,Solo Ltd,,29221,* myContacts,,bo@example.com,,,,,",
]


@pytest.mark.slow
def test_google_export_with_several_values_per_cell_imports_end_to_end(tmp_path, capsys):
    f = write_csv(tmp_path / "google.csv", GOOGLE_HEADER, GOOGLE_ROWS)
    home = tmp_path / "home"
    code, out, err = crm(home, "import", "contacts", f, "--tenant", "g1", "--as-of", "2026-01-15",
                         capsys=capsys)
    assert code == 0, err
    con = working(home)
    try:
        rows = con.execute(
            "SELECT c.first_name, c.company, c.job_title, c.city, c.country, c.tags, c.birthdate,"
            " c.email, c.phone, c.extra, s.other_emails, s.other_phones FROM core.contacts c"
            " JOIN core.contact_sources cs USING (tenant_id, contact_id)"
            " JOIN staging.contact_rows s USING (tenant_id, import_id, row_number)"
            " WHERE c.tenant_id = 'g1' ORDER BY c.first_name"
        ).fetchall()
    finally:
        con.close()
    (ann_name, company, title, city, country, tags, born, email, phone, extra, other_emails,
     other_phones), bo = rows
    assert (ann_name, company, title, city, country) == ("Ann", "Acme Inc", "CEO", "Boston", "US")
    assert sorted(tags) == ["Friends", "starred"] and bo[5] == []
    kept = json.loads(extra)
    assert kept["Organization Name"] == "Beta GmbH" and kept["Organization Title"] == "Advisor"
    assert kept["Address 1 - City"] == "Berlin" and kept["Address 1 - Country"] == "DE"
    assert (email, phone) == ("ann@acme.com", "+14155552671")
    assert (other_emails, other_phones) == (["ann@beta.de"], ["+14155550100"])
    assert str(born) == "1980-03-15" and str(bo[6]) == "1980-01-01"  # German month; Excel serial
    assert (bo[1], bo[9]) == ("Solo Ltd", None)
