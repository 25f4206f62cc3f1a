"""Reading contact CSV files: encodings, delimiters, quoting, ragged rows, footers, refusals."""

import csv
import gzip
import hashlib
import io
import random
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_pipeline.contacts.ingest.files import read_table, unique_headers
from crm_pipeline.errors import RefusedFile

HEADER = "Record ID,First Name,Last Name,Email,Phone Number,Postal Code"


def write(tmp_path, content, name="contacts.csv"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def values(table, column):
    return table.rows[column].to_list()


# --- encodings -------------------------------------------------------------------------------

TEXT = "Record ID,First Name,Last Name,City\n1,Renée,Müller,Straße € 5\n"


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "utf-8-sig"),
        (b"\xff\xfe" + TEXT.encode("utf-16-le"), "utf-16"),
        (b"\xfe\xff" + TEXT.encode("utf-16-be"), "utf-16"),
        (TEXT.encode("cp1252"), "cp1252"),
        (TEXT.encode("utf-16-le"), "utf-16-le"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le-bom", "utf-16-be-bom", "cp1252", "utf-16-no-bom"],
)
def test_each_encoding_is_detected_and_decoded(tmp_path, encoded, encoding):
    table = read_table(write(tmp_path, encoded))
    assert table.encoding == encoding
    assert table.headers == ["Record ID", "First Name", "Last Name", "City"]
    assert table.rows.row(0) == (1, "1", "Renée", "Müller", "Straße € 5")


def test_cp1252_file_keeps_accents_and_euro_sign(tmp_path):
    text = "First Name,Last Name,Notes\r\nJosé,Günther,Preis 5€ für Straße\r\n"
    table = read_table(write(tmp_path, text.encode("cp1252")))
    assert table.encoding == "cp1252"
    assert table.rows.row(0)[1:] == ("José", "Günther", "Preis 5€ für Straße")


def test_sha256_is_of_the_file_bytes(tmp_path):
    content = b"\xef\xbb\xbf" + TEXT.encode("utf-8")
    assert read_table(write(tmp_path, content)).sha256 == hashlib.sha256(content).hexdigest()


# --- delimiters and quoting --------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter_is_detected(tmp_path, delimiter):
    rows = [["Email", "First Name", "Notes"], ["a@x.com", "Ann", "likes, commas; and | pipes"]]
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerows(rows)
    table = read_table(write(tmp_path, buf.getvalue()))
    assert table.delimiter == delimiter
    assert table.headers == rows[0]
    assert table.rows.row(0)[1:] == tuple(rows[1])


def test_quoted_fields_keep_delimiters_newlines_and_doubled_quotes(tmp_path):
    text = (
        'Email,Company,Notes\r\n'
        'a@x.com,"Acme, Inc.","Line one\r\nline ""two"", still"\r\n'
        'b@x.com,Beta,plain\r\n'
    )
    table = read_table(write(tmp_path, text))
    assert values(table, "Company") == ["Acme, Inc.", "Beta"]
    assert values(table, "Notes") == ['Line one\nline "two", still', "plain"]
    assert values(table, "row_number") == [1, 2]
    assert table.unparseable.height == 0


def test_a_megabyte_field_is_read_whole(tmp_path):
    big = "x" * 1_048_576
    text = f'Email,Notes\na@x.com,"{big}"\nb@x.com,short\n'
    table = read_table(write(tmp_path, text))
    assert [len(v) for v in values(table, "Notes")] == [1_048_576, 5]


def test_a_megabyte_field_spanning_lines_is_read_whole(tmp_path):
    big = ("y" * 1023 + "\n") * 1024
    text = f'Email,Notes\na@x.com,"{big}"\nb@x.com,short\n'
    table = read_table(write(tmp_path, text))
    assert values(table, "Notes") == [big, "short"]
    assert values(table, "row_number") == [1, 2]


def test_two_hundred_columns(tmp_path):
    header = ["Email"] + [f"Attribute {i}" for i in range(199)]
    row = ["a@x.com"] + [f"v{i}" for i in range(199)]
    text = ",".join(header) + "\n" + ",".join(row) + "\n" + ",".join(row) + "\n"
    table = read_table(write(tmp_path, text))
    assert table.headers == header
    assert table.rows.width == 201
    assert table.rows.row(1)[1:] == tuple(row)


def test_values_keep_leading_zeros_long_ids_and_dates_as_written(tmp_path):
    text = (
        "Record Id,Phone,Mailing Zip,Created Time,Amount\n"
        '"3652397000000624001","0044 20 7946 0000","01234","03/04/2024 09:14","1.50"\n'
        "0000000000000000007,007,00501,2024-03-12 09:14,1e5\n"
    )
    table = read_table(write(tmp_path, text))
    assert table.rows.row(0)[1:] == (
        "3652397000000624001", "0044 20 7946 0000", "01234", "03/04/2024 09:14", "1.50"
    )
    assert table.rows.row(1)[1:] == (
        "0000000000000000007", "007", "00501", "2024-03-12 09:14", "1e5"
    )


def test_blank_lines_are_skipped_and_not_counted(tmp_path):
    text = "\n\nEmail,First Name\n\na@x.com,Ann\n   \n\nb@x.com,Bob\n\n\n"
    table = read_table(write(tmp_path, text))
    assert table.header_line == 3
    assert values(table, "Email") == ["a@x.com", "b@x.com"]
    assert values(table, "row_number") == [1, 2]
    assert table.unparseable.height == 0


def test_trailing_whitespace_is_stripped_from_headers_but_kept_in_values(tmp_path):
    text = " Email , First Name \t\r\na@x.com  ,Ann \r\n  \r\n\t\r\n"
    table = read_table(write(tmp_path, text))
    assert table.headers == ["Email", "First Name"]
    assert table.rows.row(0)[1:] == ("a@x.com  ", "Ann ")
    assert table.rows.height == 1
    assert table.unparseable.height == 0


def test_repeated_and_blank_header_names_are_made_unique():
    assert unique_headers(["Email", " Email", "", "Email", "row_number"]) == [
        "Email", "Email (2)", "column 3", "Email (3)", "row_number (2)"
    ]


# --- ragged rows, footers, preambles ----------------------------------------------------------


def test_ragged_rows_are_quarantined_never_padded(tmp_path):
    text = (
        f"{HEADER}\n"
        "1,Ann,Lee,ann@x.com,0201,01234\n"
        "2,Bob,Ray\n"  # too few
        "3,Cy,Doe,cy@x.com,0202,01235\n"
        "4,Di,Fox,di@x.com,0203,01236,extra,more\n"  # too many
        '5,"Ed, Jr",Kim,ed@x.com,0204,01237\n'
    )
    table = read_table(write(tmp_path, text))
    assert values(table, "row_number") == [1, 3, 5]
    assert values(table, "Record ID") == ["1", "3", "5"]
    assert table.unparseable.rows() == [
        (2, "2,Bob,Ray", "expected 6 fields, found 3"),
        (4, "4,Di,Fox,di@x.com,0203,01236,extra,more", "expected 6 fields, found 8"),
    ]


def test_ragged_row_spanning_lines_counts_as_one_record(tmp_path):
    text = 'Email,Notes\na@x.com,"two\nlines",surplus\nb@x.com,ok\n'
    table = read_table(write(tmp_path, text))
    assert table.unparseable.rows() == [
        (1, 'a@x.com,"two\nlines",surplus', "expected 2 fields, found 3")
    ]
    assert table.rows.rows() == [(2, "b@x.com", "ok")]


def test_an_unclosed_quote_quarantines_only_its_line(tmp_path):
    text = 'Email,Notes\na@x.com,"never closed\nb@x.com,fine\nc@x.com,also fine\n'
    table = read_table(write(tmp_path, text))
    assert table.unparseable.rows() == [
        (1, 'a@x.com,"never closed', "a quoted field is never closed")
    ]
    assert values(table, "Email") == ["b@x.com", "c@x.com"]
    assert values(table, "row_number") == [2, 3]


def test_a_stray_quote_inside_a_value_is_kept_as_written(tmp_path):
    text = 'Email,Notes\na@x.com,5" screen\nb@x.com,fine\n'
    table = read_table(write(tmp_path, text))
    assert table.rows.rows() == [(1, "a@x.com", '5" screen'), (2, "b@x.com", "fine")]


@pytest.mark.parametrize("dash", ["-", "\u2013"])
def test_salesforce_report_footer_is_quarantined(tmp_path, dash):
    text = (
        '"First Name","Last Name","Title","Account Name","Email","Created Date"\n'
        '"Ann","Lee","CEO","Acme","ann@x.com","3/12/2024"\n'
        '"Bob","Ray","CTO","Beta","bob@x.com","3/13/2024"\n'
        "\n"
        '"Grand Totals (2 records)"\n'
        f'"Confidential Information {dash} Do Not Distribute"\n'
        '"Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."\n'
    )
    table = read_table(write(tmp_path, text))
    assert values(table, "First Name") == ["Ann", "Bob"]
    assert table.unparseable.rows() == [
        (3, '"Grand Totals (2 records)"', "report footer"),
        (4, f'"Confidential Information {dash} Do Not Distribute"', "report footer"),
        (5, '"Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."',
         "report footer"),
    ]


def test_linkedin_preamble_is_skipped_to_the_header(tmp_path):
    text = (
        "Notes:\n"
        '"When exporting your connection data, you may notice that some of the email '
        'addresses are missing. You will only see email addresses for connections who have '
        'allowed their connections to see or download their email address."\n'
        "\n"
        "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
        "Ann,Lee,https://www.linkedin.com/in/annlee,,Acme,CEO,03 Jun 2026\n"
        "Bob,Ray,https://www.linkedin.com/in/bobray,bob@x.com,Beta,CTO,01 Jan 2020\n"
    )
    table = read_table(write(tmp_path, text))
    assert table.header_line == 4
    assert table.headers[0] == "First Name"
    assert values(table, "Connected On") == ["03 Jun 2026", "01 Jan 2020"]
    assert table.unparseable.height == 0


def test_single_column_file_is_read(tmp_path):
    table = read_table(write(tmp_path, "Email\na@x.com\n\nb@x.com\n"))
    assert table.delimiter == ","
    assert values(table, "Email") == ["a@x.com", "b@x.com"]


# --- refusals --------------------------------------------------------------------------------


def _xlsx_bytes():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    return buf.getvalue()


REFUSED = {
    "empty": (b"", "empty"),
    "only-whitespace": (b"  \r\n\n", "empty"),
    "header-only": (b"Email,First Name\r\n\r\n", "header but no data rows"),
    "png": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "PNG image"),
    "jpeg": (b"\xff\xd8\xff\xe0" + bytes(64), "JPEG image"),
    "xlsx-zip": (_xlsx_bytes(), "Excel workbook or zip archive"),
    "gzip": (gzip.compress(b"Email\na@x.com\n"), "gzip"),
    "random-bytes": (random.Random(7).randbytes(4096), "binary data"),
    "html": (b"\n<!DOCTYPE html>\n<html><body>Sign in</body></html>\n", "HTML"),
    "html-no-doctype": (b"<html lang='en'><head></head></html>", "HTML"),
    "json-object": (b'{"email": "a@x.com"}\n{"email": "b@x.com"}\n', "JSON"),
    "json-array": (b'[\n  {"email": "a@x.com"}\n]\n', "JSON"),
    "undecodable": (b"Email,Name\na@x.com,Ren\x81e \x8d\n", "byte 0x81"),
    "control-characters": (b"Email,Name\n" + bytes(range(1, 9)) * 40 + b"\n", "binary data"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_unreadable_files_are_refused_with_one_line_naming_file_and_problem(tmp_path, case):
    content, problem = REFUSED[case]
    path = write(tmp_path, content, name=f"{case}.csv")
    with pytest.raises(RefusedFile) as refused:
        read_table(path)
    message = str(refused.value)
    assert message.startswith(str(path))
    assert problem in message
    assert "\n" not in message


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(RefusedFile, match="cannot be read"):
        read_table(tmp_path / "nope.csv")


# --- properties ------------------------------------------------------------------------------

cell = st.text(
    alphabet=st.sampled_from(list('ab é€0 ,;|\t"\n\'')), max_size=12
)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(cell, min_size=3, max_size=3), min_size=1, max_size=8),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
)
def test_any_table_written_as_csv_reads_back_exactly(tmp_path, rows, delimiter, encoding):
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(["Email", "First Name", "Notes"])
    writer.writerows(rows)
    path = write(tmp_path, buf.getvalue().encode(encoding), name="prop.csv")
    table = read_table(path)
    assert table.delimiter == delimiter
    assert table.unparseable.height == 0
    assert [list(r[1:]) for r in table.rows.rows()] == rows
    assert values(table, "row_number") == list(range(1, len(rows) + 1))


def _not_blank(row):
    return len(row) > 1 or row[0] == "" or row[0].strip(" \t") != ""


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.lists(cell, min_size=1, max_size=5).filter(_not_blank), min_size=1, max_size=10
    ),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
)
def test_rows_of_the_wrong_width_are_set_aside_and_the_rest_read_exactly(
    tmp_path, rows, delimiter
):
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    writer.writerow(["Email", "First Name", "Notes"])
    writer.writerows(rows)
    table = read_table(write(tmp_path, buf.getvalue(), name="ragged.csv"))
    good = [(n, *r) for n, r in enumerate(rows, start=1) if len(r) == 3]
    bad = [(n, f"expected 3 fields, found {len(r)}") for n, r in enumerate(rows, start=1)
           if len(r) != 3]
    assert table.rows.rows() == good
    assert table.unparseable.select("row_number", "detail").rows() == bad


def test_old_mac_line_ends_are_read(tmp_path):
    table = read_table(write(tmp_path, "Email,First Name\ra@x.com,Ann\rb@x.com,Bob\r"))
    assert table.rows.rows() == [(1, "a@x.com", "Ann"), (2, "b@x.com", "Bob")]


def test_utf16_file_with_nul_characters_is_refused_as_binary(tmp_path):
    content = b"\xff\xfe" + "Email,Name\na@x.com,A\x00B\n".encode("utf-16-le")
    with pytest.raises(RefusedFile, match="binary data"):
        read_table(write(tmp_path, content))


def test_header_is_found_even_when_most_rows_are_ragged(tmp_path):
    table = read_table(write(tmp_path, "Email,First Name,Notes\n1,2\n3,4\n5,6,7\n"))
    assert table.header_line == 1
    assert table.rows.rows() == [(3, "5", "6", "7")]
    assert table.unparseable["row_number"].to_list() == [1, 2]


@pytest.mark.parametrize("width", [3, 1200])
def test_width_check_holds_for_narrow_and_very_wide_files(tmp_path, width):
    header = ["Email"] + [f"Attribute {i}" for i in range(width - 1)]
    good = ",".join(['"a,""b"""'] * width)
    text = "\n".join([",".join(header), good, ",".join(["x"] * (width + 1)), good]) + "\n"
    table = read_table(write(tmp_path, text))
    assert table.rows["row_number"].to_list() == [1, 3]
    assert table.rows.row(0)[1:3] == ('a,"b"', 'a,"b"')
    assert table.unparseable["detail"].to_list() == [
        f"expected {width} fields, found {width + 1}"
    ]
