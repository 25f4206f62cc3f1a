"""Excel workbooks as contact files: values arrive as the text a CSV would hold, the first or a
named sheet is read, rows are accounted for as in a CSV import, and a workbook that cannot be
read is refused with one line that changes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import xlsxwriter
from helpers import HUBSPOT_HEADER, crm, has_shards, shard, working, write_csv

from crm_pipeline.contacts.ingest.files import read_table
from crm_pipeline.contacts.ingest.workbooks import read_contact_file, read_workbook
from crm_pipeline.errors import RefusedFile

HEADER = HUBSPOT_HEADER.split(",")
CREATED = dt.datetime(2024, 3, 12, 9, 14)


def write_workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    """A workbook as Excel writes one: numbers as numbers, dates as date-formatted serials."""
    wb = xlsxwriter.Workbook(str(path))
    stamp = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, dt.datetime):
                    ws.write_datetime(r, c, value, stamp)
                elif isinstance(value, dt.date):
                    ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), day)
                elif value is not None:
                    ws.write(r, c, value)
    wb.close()
    return path


def hubspot_rows() -> list[list]:
    return [
        HEADER,
        [104857600001, "Ann", "Lee", "ann@example.com", 14155552671, "Acme", "CEO", 250,
         "Boston", "US", CREATED],
        [104857600002, "Bo", "Chen", "bo@example.com", None, "Beta", None, None, None, "US",
         dt.date(2024, 3, 13)],
        [104857600003, "Ann", "Lee", "ANN@example.com", None, "Acme", None, None, None, "US",
         CREATED],  # the same person again: merged
        [104857600004, None, None, None, None, "Nobody Inc", None, 5, None, "US", CREATED],
    ]


def test_cells_arrive_as_the_text_the_same_csv_would_hold(tmp_path):
    book = write_workbook(tmp_path / "hubspot.xlsx", {"Contacts": hubspot_rows()})
    csv = write_csv(tmp_path / "hubspot.csv", HUBSPOT_HEADER, [
        "104857600001,Ann,Lee,ann@example.com,14155552671,Acme,CEO,250,Boston,US,"
        "2024-03-12T09:14:00",
        "104857600002,Bo,Chen,bo@example.com,,Beta,,,,US,2024-03-13",
        "104857600003,Ann,Lee,ANN@example.com,,Acme,,,,US,2024-03-12T09:14:00",
        "104857600004,,,,,Nobody Inc,,5,,US,2024-03-12T09:14:00",
    ])
    from_book, from_csv = read_workbook(book), read_table(csv)
    assert from_book.headers == from_csv.headers == HEADER
    assert from_book.rows.equals(from_csv.rows)
    ann = from_book.rows.row(0, named=True)
    assert ann["Record ID"] == "104857600001" and ann["Phone Number"] == "14155552671"
    assert "e+" not in "".join(from_book.rows["Phone Number"].to_list())
    assert from_book.sheet == "Contacts" and from_book.header_line == 1


def test_large_and_fractional_numbers_are_never_floatified(tmp_path):
    book = write_workbook(tmp_path / "n.xlsx", {"S": [
        ["Email", "Contact ID", "Score", "Zip"],
        ["a@x.com", 4915123456789012, 0.1, "02134"],
        ["b@x.com", 1e20, 2.5, 2134],
    ]})
    rows = read_workbook(book).rows
    assert rows["Contact ID"].to_list() == ["4915123456789012", "100000000000000000000"]
    assert rows["Score"].to_list() == ["0.1", "2.5"]
    assert rows["Zip"].to_list() == ["02134", "2134"]  # text stays text; a number stays a number


def test_first_sheet_by_default_or_the_named_one(tmp_path):
    other = [["Email", "First Name"], ["x@example.com", "Xi"]]
    book = write_workbook(tmp_path / "two.xlsx", {"Notes": [["just a note"]] + [[None]] * 2,
                                                  "Contacts": other})
    with pytest.raises(RefusedFile, match="no data rows"):
        read_workbook(book)  # the first sheet is a single cell: a header without rows
    assert read_workbook(book, "Contacts").rows["Email"].to_list() == ["x@example.com"]
    assert read_workbook(book, "contacts").sheet == "Contacts"  # case is forgiven
    twin = write_workbook(tmp_path / "twin.xlsx", {"A": other, "B": other})
    assert read_workbook(twin, "A").sha256 != read_workbook(twin, "B").sha256  # two imports


def test_preamble_blank_rows_footer_and_stray_cells_are_handled_as_in_a_csv(tmp_path):
    book = write_workbook(tmp_path / "sf.xlsx", {"Report": [
        ["Contacts report"], [None],
        ["First Name", "Last Name", "Email", "Phone"],
        ["Ann", "Lee", "ann@example.com", None],
        [None, None, None, None],
        ["Bo", "Chen", "bo@example.com", None, "stray"],
        ["First Name", "Last Name", "Email", "Phone"],
        ["Grand Totals (2 records)"],
    ]})
    table = read_workbook(book)
    assert table.header_line == 3  # the sheet's row number, as Excel shows it
    assert table.rows["row_number"].to_list() == [1]
    assert table.unparseable["row_number"].to_list() == [2, 3, 4]
    details = table.unparseable["detail"].to_list()
    assert "right of the header" in details[0] and details[2] == "report footer"
    assert details[1] == "repeated header row"


def _encrypted(tmp_path: Path) -> Path:
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = write_workbook(tmp_path / "plain.xlsx", {"Contacts": hubspot_rows()})
    target = tmp_path / "locked.xlsx"
    with plain.open("rb") as source, target.open("wb") as out:
        OOXMLFile(source).encrypt("secret", out)
    return target


def _refused_cases(tmp_path: Path) -> dict[str, tuple[Path, list[str], str]]:
    corrupt = tmp_path / "corrupt.xlsx"
    corrupt.write_bytes(b"PK\x03\x04" + b"not really a zip" * 20)
    old = tmp_path / "corrupt.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    blank = write_workbook(tmp_path / "blank.xlsx", {"Sheet1": []})
    header_only = write_workbook(tmp_path / "header.xlsx", {"S": [HEADER]})
    good = write_workbook(tmp_path / "good.xlsx", {"Contacts": hubspot_rows()})
    csv = write_csv(tmp_path / "c.csv", HUBSPOT_HEADER, ["1,Ann,,a@x.com,,,,,,,"])
    return {
        "password": (_encrypted(tmp_path), [], "password-protected"),
        "corrupt-xlsx": (corrupt, [], "cannot be opened as an Excel workbook"),
        "corrupt-xls": (old, [], "cannot be opened as an Excel workbook"),
        "empty-file": (empty, [], "empty"),
        "empty-sheet": (blank, [], "sheet 'Sheet1' is empty"),
        "header-only": (header_only, [], "no data rows"),
        "missing-sheet": (good, ["--sheet", "Deals"], "no sheet named 'Deals'"),
        "sheet-on-csv": (csv, ["--sheet", "Contacts"], "--sheet"),
    }


@pytest.mark.parametrize("case", ["password", "corrupt-xlsx", "corrupt-xls", "empty-file",
                                  "empty-sheet", "header-only", "missing-sheet", "sheet-on-csv"])
def test_unreadable_workbooks_are_refused_with_one_line_and_change_nothing(tmp_path, capsys,
                                                                            case):
    home = tmp_path / "home"
    first = write_workbook(tmp_path / "first.xlsx", {"Contacts": hubspot_rows()})
    assert crm(home, "import", "contacts", first, "--tenant", "t1", "--no-run")[0] == 0
    before = shard(home).read_bytes()
    path, options, problem = _refused_cases(tmp_path)[case]
    code, _, err = crm(home, "import", "contacts", path, "--tenant", "t1", *options,
                       capsys=capsys)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and str(path) in err and problem in err, err
    assert shard(home).read_bytes() == before
    with pytest.raises(RefusedFile):
        read_contact_file(path, options[1] if options else None)


def test_a_refused_workbook_in_an_empty_home_creates_nothing(tmp_path, capsys):
    home = tmp_path / "home"
    code, _, err = crm(home, "import", "contacts", _encrypted(tmp_path), "--tenant", "t1",
                       capsys=capsys)
    assert code == 2 and "password-protected" in err
    assert not has_shards(home)


def test_a_workbook_import_accounts_for_every_row(tmp_path, capsys):
    rows = hubspot_rows() + [["Grand Totals (4 records)"]]
    book = write_workbook(tmp_path / "hubspot.xlsx", {"Contacts": rows, "Other": [["x"]]})
    home = tmp_path / "home"
    code, out, err = crm(home, "import", "contacts", book, "--tenant", "t1",
                         "--as-of", "2024-04-01", capsys=capsys)
    assert code == 0, err
    con = working(home)
    rows_in, accepted, merged, quarantined, encoding = con.execute(
        "SELECT rows_in, rows_accepted, rows_merged, rows_quarantined, encoding "
        "FROM raw.imports").fetchone()
    assert (rows_in, accepted, merged, quarantined, encoding) == (5, 2, 1, 2, "xlsx")
    assert rows_in == accepted + merged + quarantined
    reasons = dict(con.execute("SELECT reason_code, count(*) FROM quarantine.rows "
                               "GROUP BY 1").fetchall())
    assert reasons == {"missing_identity": 1, "unparseable_row": 1}
    ann = con.execute("SELECT phone, created_at FROM core.contacts "
                      "WHERE email = 'ann@example.com'").fetchone()
    assert ann[0] == "+14155552671" and str(ann[1]).startswith("2024-03-12 09:14")
    ids = {r[0] for r in con.execute("SELECT source_id FROM core.contact_sources").fetchall()}
    assert {"104857600001", "104857600002", "104857600003"} <= ids
    con.close()
    assert "quarantined missing_identity: 1" in out

    # the same workbook again is the same import; another sheet would be another one
    code, out, _ = crm(home, "import", "contacts", book, "--tenant", "t1", "--no-run",
                       capsys=capsys)
    assert code == 0
    con = working(home)
    assert con.execute("SELECT count(*) FROM raw.imports").fetchone()[0] == 1
    con.close()


def test_dry_run_names_the_sheet(tmp_path, capsys):
    book = write_workbook(tmp_path / "hubspot.xlsx", {"Contacts": hubspot_rows()})
    code, out, err = crm(tmp_path / "home", "import", "contacts", book, "--tenant", "t1",
                         "--dry-run", capsys=capsys)
    assert code == 0, err
    assert "sheet 'Contacts'" in out and "hubspot" in out.lower()
    assert not has_shards(tmp_path / "home")
