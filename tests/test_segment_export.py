"""`crm segment export`: a file each tool re-imports as a static list, with its own column names
and the record ids it knows from the source rows, consent honoured as it stands at the export,
audited as an export; unknown segments and formats refused with one line."""

from __future__ import annotations

import csv
import json

import pytest
from helpers import crm, working, write_csv

AS_OF = "2026-11-15"
HUBSPOT = ("Record ID,First Name,Last Name,Email,Phone Number,Company Name,Number of Employees,"
           "Country/Region,Marketing contact status,Lifecycle Stage")
HUBSPOT_ROWS = [
    "51000001,Ann,Lee,ann@example.com,+1 415 555 2671,Acme Inc.,250,US,Marketing contact,lead",
    "51000002,Bo,Chen,bo@example.com,,Beta LLC,500,US,Unsubscribed,lead",
    "51000003,Cy,Diaz,,+1 415 555 0199,Gamma Corp,1000,US,Marketing contact,lead",
    '51000004,Dee,Ng,dee@example.com,,"=HYPERLINK(""http://x"",""y"")",300,US,,lead',
]
SALESFORCE = ('"Contact ID","First Name","Last Name","Email","Account Name","Title",'
              '"Mailing Country","Created Date"')
SALESFORCE_ROWS = [
    '"0035g00000AAAAAAA1","Ann","Lee","ann@example.com","Acme Inc.","CEO","US","3/12/2024"',
    '"0035g00000AAAAAAA2","Eve","Fox","eve@example.com","Tiny Shop","Owner","US","3/12/2024"',
]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export")
    home = tmp / "home"
    hub = write_csv(tmp / "hubspot.csv", HUBSPOT, HUBSPOT_ROWS)
    sf = write_csv(tmp / "salesforce.csv", SALESFORCE, SALESFORCE_ROWS)
    assert crm(home, "import", "contacts", hub, "--tenant", "t1", "--no-run")[0] == 0
    assert crm(home, "import", "contacts", sf, "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    return home


def ids(home) -> dict[str, str]:
    con = working(home)
    try:
        return dict(con.execute("SELECT first_name, contact_id FROM core.contacts").fetchall())
    finally:
        con.close()


def members(home, segment) -> set[str]:
    con = working(home)
    try:
        return {r[0] for r in con.execute(
            "SELECT c.first_name FROM marts.contact_segments s JOIN core.contacts c "
            "USING (tenant_id, contact_id) WHERE s.segment = $s", {"s": segment}).fetchall()}
    finally:
        con.close()


def export(home, tmp_path, capsys, segment, fmt, *more):
    out = tmp_path / f"{segment}-{fmt}.csv"
    code, stdout, err = crm(home, "segment", "export", "--tenant", "t1", segment, "--format", fmt,
                            "--out", out, "--actor", "jane", *more, capsys=capsys)
    assert code == 0, err
    with out.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return reader.fieldnames, list(reader), stdout


def test_the_segments_hold_what_the_exports_are_checked_against(home):
    # Bo's consent is denied: the run leaves him out of the outreach segment already
    assert members(home, "enterprise_prospects") == {"Ann", "Cy", "Dee"}
    assert {"Ann", "Bo", "Cy", "Dee", "Eve"} <= members(home, "stale_records")


def test_hubspot_gets_its_columns_and_its_own_record_ids(home, tmp_path, capsys):
    header, rows, out = export(home, tmp_path, capsys, "enterprise_prospects", "hubspot")
    assert header[:5] == ["Record ID", "First Name", "Last Name", "Email", "Phone Number"]
    by_name = {r["First Name"]: r for r in rows}
    assert set(by_name) == {"Ann", "Cy", "Dee"}
    assert by_name["Ann"]["Record ID"] == "51000001"
    assert by_name["Ann"]["Email"] == "ann@example.com"
    assert by_name["Ann"]["Phone Number"] == "+14155552671"  # E.164, never made "safe"
    assert by_name["Dee"]["Company Name"].startswith("'=HYPERLINK")  # not a formula in Excel
    assert "3 contacts of enterprise_prospects" in out and "3 with its record id" in out


def test_salesforce_gets_its_api_names_and_only_its_own_ids(home, tmp_path, capsys):
    header, rows, _ = export(home, tmp_path, capsys, "stale_records", "salesforce")
    assert header[:4] == ["Id", "FirstName", "LastName", "Email"]
    by_name = {r["FirstName"]: r["Id"] for r in rows}
    assert by_name["Ann"] == "0035g00000AAAAAAA1" and by_name["Eve"] == "0035g00000AAAAAAA2"
    assert by_name["Bo"] == ""  # known to HubSpot only: Salesforce matches him by email
    assert "51000002" not in {r["Id"] for r in rows}


def test_mailchimp_needs_an_email_and_consent_and_tags_the_list(home, tmp_path, capsys):
    header, rows, out = export(home, tmp_path, capsys, "stale_records", "mailchimp")
    assert header[:3] == ["Email Address", "First Name", "Last Name"]
    names = {r["First Name"] for r in rows}
    assert "Bo" not in names  # consent denied: a mailing list is outreach, whatever the segment
    assert "Cy" not in names  # no email
    assert {"Ann", "Dee", "Eve"} <= names
    assert {r["Tags"] for r in rows} == {"stale_records"}
    assert "1 consent denied" in out and "1 no email" in out


def test_plain_csv_carries_contact_ids(home, tmp_path, capsys):
    header, rows, _ = export(home, tmp_path, capsys, "enterprise_prospects", "csv")
    assert header[0] == "contact_id" and "segment" in header and "as_of" in header
    assert {r["contact_id"] for r in rows} >= {ids(home)["Ann"]}
    assert {r["as_of"] for r in rows} == {AS_OF}


def test_consent_denied_after_the_run_is_honoured_at_export(tmp_path, capsys):
    home = tmp_path / "home"
    hub = write_csv(tmp_path / "hubspot.csv", HUBSPOT, HUBSPOT_ROWS)
    assert crm(home, "import", "contacts", hub, "--tenant", "t1", "--as-of", AS_OF)[0] == 0
    ann = ids(home)["Ann"]
    assert crm(home, "contact", "set", "--tenant", "t1", "--contact", ann, "--actor", "dpo",
               "consent_status=denied")[0] == 0
    _, rows, out = export(home, tmp_path, capsys, "enterprise_prospects", "hubspot")
    assert "Ann" not in {r["First Name"] for r in rows} and "1 consent denied" in out
    _, rows, _ = export(home, tmp_path, capsys, "stale_records", "csv")  # not outreach
    assert "Ann" in {r["first_name"] for r in rows}


def test_an_export_is_audited_with_counts_and_the_files_digest_not_values(home, tmp_path, capsys):
    import hashlib

    export(home, tmp_path, capsys, "enterprise_prospects", "hubspot")
    out = tmp_path / "enterprise_prospects-hubspot.csv"
    con = working(home)
    try:
        row = con.execute("SELECT actor, actor_kind, entity, entity_id, new FROM audit.changes "
                          "WHERE action = 'export' ORDER BY change_id DESC LIMIT 1").fetchone()
    finally:
        con.close()
    actor, kind, entity, entity_id, new = row
    new = json.loads(new)
    assert (actor, kind, entity, entity_id) == ("jane", "user", "segment_export",
                                                "enterprise_prospects")
    assert new["rows"] == 3 and new["format"] == "hubspot" and new["file"] == out.name
    assert new["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert "ann@example.com" not in json.dumps(new)
    assert crm(home, "audit", "verify")[0] == 0


@pytest.mark.parametrize("args, problem", [
    (["no_such_segment", "--format", "hubspot"], "unknown segment 'no_such_segment'"),
    (["hot_leads", "--format", "excel"], "unknown export format 'excel'"),
])
def test_unknown_segments_and_formats_are_refused_in_one_line(home, tmp_path, capsys, args,
                                                              problem):
    out = tmp_path / "x.csv"
    code, _, err = crm(home, "segment", "export", "--tenant", "t1", *args, "--out", out,
                       capsys=capsys)
    assert code == 2 and problem in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_an_existing_file_is_kept_unless_forced(home, tmp_path, capsys):
    out = tmp_path / "keep.csv"
    out.write_text("mine\n")
    args = ["segment", "export", "--tenant", "t1", "hot_leads", "--format", "csv", "--out", out,
            "--actor", "jane"]
    code, _, err = crm(home, *args, capsys=capsys)
    assert code == 2 and "--force" in err and out.read_text() == "mine\n"
    assert crm(home, *args, "--force", capsys=capsys)[0] == 0
    assert out.read_text().startswith("contact_id,")


def test_an_agent_without_personal_data_may_not_export(home, tmp_path, capsys):
    code, _, err = crm(home, "segment", "export", "--tenant", "t1", "hot_leads", "--format",
                       "csv", "--out", tmp_path / "x.csv", "--actor", "mercer", capsys=capsys)
    assert code == 2 and "mercer" in err and not (tmp_path / "x.csv").exists()
