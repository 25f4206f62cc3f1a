"""Mapping headers to canonical fields: vendors' exports, overrides, refusals, canonical rows."""

import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_pipeline.contacts.ingest.files import RawTable, read_table
from crm_pipeline.contacts.ingest.headers import (
    CANONICAL_FIELDS,
    MULTI_VALUE_SEPARATOR,
    canonical_rows,
    first_and_others,
    fold,
    is_known_header,
    resolve_mapping,
    synonym_table,
)
from crm_pipeline.errors import BadMapping


def split(headers):
    return [h.strip() for h in headers.split(",")]


HUBSPOT = split(
    "Record ID, First Name, Last Name, Email, Phone Number, Lifecycle Stage, Lead Status, "
    "Contact owner, Create Date, Associated Company, Country/Region, City, State/Region, "
    "Postal Code, Job Title, Company Name, Marketing contact status"
)
SALESFORCE_REPORT = split(
    "Contact Owner, First Name, Last Name, Title, Account Name, Mailing Street, Mailing City, "
    "Mailing State/Province, Mailing Zip/Postal Code, Mailing Country, Phone, Mobile, Email, "
    "Lead Source, Created Date, Email Opt Out"
)
SALESFORCE_API = split("Id, FirstName, LastName, Email, MailingStreet, OwnerId, CreatedDate")
PIPEDRIVE = split(
    "Person - ID, Person - Name, Person - First name, Person - Last name, Person - Organization, "
    "Person - Email - Work, Person - Email - Home, Person - Email - Other, Person - Phone - Work, "
    "Person - Phone - Mobile, Person - Phone - Home, Person - Label, Person - Owner, "
    "Person - Marketing status"
)
ZOHO = split(
    "Record Id, Contact Owner, Salutation, First Name, Last Name, Account Name, Account Name.id, "
    "Email, Phone, Mobile, Title, Lead Source, Mailing Street, Mailing City, Mailing State, "
    "Mailing Zip, Mailing Country, Description, Created Time, Modified Time, Email Opt Out"
)
MAILCHIMP = split(
    "Email Address, First Name, Last Name, Address, Phone Number, MEMBER_RATING, OPTIN_TIME, "
    "OPTIN_IP, CONFIRM_TIME, CONFIRM_IP, LATITUDE, LONGITUDE, GMTOFF, DSTOFF, TIMEZONE, CC, "
    "REGION, LAST_CHANGED, LEID, EUID, NOTES, TAGS"
)
GOOGLE = split(
    "First Name, Middle Name, Last Name, Phonetic First Name, Name Prefix, Name Suffix, "
    "Nickname, File As, Organization Name, Organization Title, Organization Department, "
    "Birthday, Notes, Photo, Labels, E-mail 1 - Label, E-mail 1 - Value, E-mail 2 - Label, "
    "E-mail 2 - Value, Phone 1 - Label, Phone 1 - Value, Address 1 - Label, "
    "Address 1 - Formatted, Address 1 - Street, Address 1 - City, Address 1 - PO Box, "
    "Address 1 - Region, Address 1 - Postal Code, Address 1 - Country"
)
GOOGLE_LEGACY = split(
    "Name, Given Name, Additional Name, Family Name, Yomi Name, Group Membership, "
    "E-mail 1 - Type, E-mail 1 - Value, Phone 1 - Type, Phone 1 - Value, Organization 1 - Type, "
    "Organization 1 - Name, Organization 1 - Title, Website 1 - Type, Website 1 - Value"
)
OUTLOOK = split(
    "Title, First Name, Middle Name, Last Name, Suffix, Company, Department, Job Title, "
    "Business Street, Business City, Business State, Business Postal Code, "
    "Business Country/Region, Home Street, Business Phone, Home Phone, Mobile Phone, Birthday, "
    "E-mail Address, E-mail Type, E-mail Display Name, E-mail 2 Address, E-mail 3 Address, "
    "Notes, Web Page"
)
LINKEDIN = split("First Name, Last Name, URL, Email Address, Company, Position, Connected On")

EXPECTED = {
    "hubspot": (HUBSPOT, {
        "source_id": ["Record ID"], "first_name": ["First Name"], "last_name": ["Last Name"],
        "email": ["Email"], "phone": ["Phone Number"], "company": ["Company Name"],
        "job_title": ["Job Title"], "street": None, "city": ["City"],
        "postcode": ["Postal Code"], "state": ["State/Region"], "country": ["Country/Region"],
        "lifecycle_stage": ["Lifecycle Stage"], "consent_status": ["Marketing contact status"],
        "created_at": ["Create Date"],
    }),
    "salesforce": (SALESFORCE_REPORT, {
        "first_name": ["First Name"], "last_name": ["Last Name"], "job_title": ["Title"],
        "company": ["Account Name"], "street": ["Mailing Street"], "city": ["Mailing City"],
        "state": ["Mailing State/Province"], "postcode": ["Mailing Zip/Postal Code"],
        "country": ["Mailing Country"], "phone": ["Phone", "Mobile"], "email": ["Email"],
        "created_at": ["Created Date"], "consent_status": ["Email Opt Out"],
    }),
    "salesforce-api": (SALESFORCE_API, {
        "source_id": ["Id"], "first_name": ["FirstName"], "last_name": ["LastName"],
        "email": ["Email"], "street": ["MailingStreet"], "created_at": ["CreatedDate"],
    }),
    "pipedrive": (PIPEDRIVE, {
        "source_id": ["Person - ID"], "full_name": ["Person - Name"],
        "first_name": ["Person - First name"], "last_name": ["Person - Last name"],
        "company": ["Person - Organization"],
        "email": ["Person - Email - Work", "Person - Email - Home", "Person - Email - Other"],
        "phone": ["Person - Phone - Work", "Person - Phone - Mobile", "Person - Phone - Home"],
        "tags": ["Person - Label"], "consent_status": ["Person - Marketing status"],
    }),
    "zoho": (ZOHO, {
        "source_id": ["Record Id"], "first_name": ["First Name"], "last_name": ["Last Name"],
        "company": ["Account Name"], "email": ["Email"], "phone": ["Phone", "Mobile"],
        "job_title": ["Title"], "street": ["Mailing Street"], "city": ["Mailing City"],
        "state": ["Mailing State"], "postcode": ["Mailing Zip"], "country": ["Mailing Country"],
        "notes": ["Description"], "created_at": ["Created Time"],
        "consent_status": ["Email Opt Out"],
    }),
    "mailchimp": (MAILCHIMP, {
        "email": ["Email Address"], "first_name": ["First Name"], "last_name": ["Last Name"],
        "phone": ["Phone Number"], "source_id": ["LEID"], "country": ["CC"],
        "state": ["REGION"], "notes": ["NOTES"], "tags": ["TAGS"],
        "created_at": ["OPTIN_TIME"], "street": None,
    }),
    "google": (GOOGLE, {
        "first_name": ["First Name"], "last_name": ["Last Name"],
        "company": ["Organization Name"], "job_title": ["Organization Title"],
        "birthdate": ["Birthday"], "notes": ["Notes"], "tags": ["Labels"],
        "email": ["E-mail 1 - Value", "E-mail 2 - Value"], "phone": ["Phone 1 - Value"],
        "street": ["Address 1 - Street"], "city": ["Address 1 - City"],
        "state": ["Address 1 - Region"], "postcode": ["Address 1 - Postal Code"],
        "country": ["Address 1 - Country"],
    }),
    "google-legacy": (GOOGLE_LEGACY, {
        "full_name": ["Name"], "first_name": ["Given Name"], "last_name": ["Family Name"],
        "tags": ["Group Membership"], "email": ["E-mail 1 - Value"],
        "phone": ["Phone 1 - Value"], "company": ["Organization 1 - Name"],
        "job_title": ["Organization 1 - Title"],
    }),
    "outlook": (OUTLOOK, {
        "first_name": ["First Name"], "last_name": ["Last Name"], "company": ["Company"],
        "job_title": ["Job Title"], "street": ["Business Street"], "city": ["Business City"],
        "state": ["Business State"], "postcode": ["Business Postal Code"],
        "country": ["Business Country/Region"],
        "phone": ["Business Phone", "Mobile Phone", "Home Phone"], "birthdate": ["Birthday"],
        "email": ["E-mail Address", "E-mail 2 Address", "E-mail 3 Address"],
        "notes": ["Notes"],
    }),
    "linkedin": (LINKEDIN, {
        "first_name": ["First Name"], "last_name": ["Last Name"], "email": ["Email Address"],
        "company": ["Company"], "job_title": ["Position"], "created_at": ["Connected On"],
    }),
}


@pytest.mark.parametrize("export", sorted(EXPECTED))
def test_each_vendors_export_headers_are_recognised(export):
    headers, expected = EXPECTED[export]
    mapping = resolve_mapping(headers)
    assert mapping.vendor == export.split("-")[0]
    for field, columns in expected.items():
        assert mapping.columns(field) == (columns or []), field
    mapped = {c for sources in mapping.fields.values() for c in (s.column for s in sources)}
    assert set(mapping.extras) == set(headers) - mapped


def test_headers_are_compared_without_case_spacing_or_punctuation():
    assert fold("E-mail Address") == fold("email address") == fold("EmailAddress")
    mapping = resolve_mapping(["E-MAIL ADDRESS", "first_name", " Phone-Number "])
    assert mapping.columns("email") == ["E-MAIL ADDRESS"]
    assert mapping.columns("first_name") == ["first_name"]
    assert mapping.columns("phone") == [" Phone-Number "]


def test_best_company_column_wins_and_the_other_stays_an_extra():
    mapping = resolve_mapping(["Associated Company", "Email", "Company Name"])
    assert mapping.columns("company") == ["Company Name"]
    assert mapping.extras == ("Associated Company",)


def test_outlook_title_is_a_name_prefix_not_a_job_title():
    mapping = resolve_mapping(["Title", "First Name", "E-mail Address", "E-mail 2 Address",
                               "Business Phone"])
    assert mapping.vendor == "outlook"
    assert mapping.columns("job_title") == []
    assert "Title" in mapping.extras


def test_unknown_headers_give_unknown_vendor_and_extras():
    mapping = resolve_mapping(["Kundennummer", "Lieblingsfarbe"])
    assert mapping.vendor == "unknown"
    assert mapping.fields == {}
    assert mapping.extras == ("Kundennummer", "Lieblingsfarbe")


def test_synonym_table_names_only_canonical_fields():
    table = synonym_table()
    assert {s.field for s in table.synonyms.values()} == set(CANONICAL_FIELDS)
    assert is_known_header("Mailing Zip/Postal Code") and not is_known_header("Lieblingsfarbe")


# --- canonical rows ---------------------------------------------------------------------------


def table_of(tmp_path, text, name="contacts.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_table(path)


def test_pipedrive_first_non_empty_email_wins_and_the_others_become_extras(tmp_path):
    text = (
        "Person - ID,Person - Name,Person - Email - Work,Person - Email - Home,"
        "Person - Email - Other,Person - Owner\n"
        "1,Ann Lee,ann@work.com,ann@home.com,,Sam\n"
        "2,Bob Ray,,bob@home.com,bob@other.com,\n"
        "3,Cy Doe,,,,\n"
    )
    table = table_of(tmp_path, text)
    rows = canonical_rows(table, resolve_mapping(table.headers))
    assert rows["email"].to_list() == ["ann@work.com", "bob@home.com", None]
    assert [json.loads(e) if e else None for e in rows["extra"].to_list()] == [
        {"Person - Email - Home": "ann@home.com", "Person - Owner": "Sam"},
        {"Person - Email - Other": "bob@other.com"},
        None,
    ]


def test_canonical_rows_keep_values_as_written_and_raw_keeps_every_cell(tmp_path):
    text = (
        "Record ID,First Name,Email,Phone Number,Postal Code,Favourite Colour,Lead Source\n"
        '0012,"Ann ""Annie""", ann@x.com ,0044 20 7946 0000,01234,"red, mostly",\n'
    )
    table = table_of(tmp_path, text)
    rows = canonical_rows(table, resolve_mapping(table.headers))
    assert rows.columns == ["row_number", "source_id", "first_name", "email", "phone",
                            "postcode", "extra", "raw"]
    assert rows.row(0)[:6] == (1, "0012", 'Ann "Annie"', " ann@x.com ", "0044 20 7946 0000",
                               "01234")
    assert json.loads(rows["extra"][0]) == {"Favourite Colour": "red, mostly"}
    assert json.loads(rows["raw"][0]) == dict(zip(table.headers, table.rows.row(0)[1:],
                                                  strict=True))
    assert rows.schema["extra"] == pl.Utf8 and rows.schema["raw"] == pl.Utf8


GOOGLE_SEVERAL = (
    "First Name,Organization Name,Organization Title,Labels,E-mail 1 - Value,Phone 1 - Value,"
    "Address 1 - City,Address 1 - Country,Website 1 - Value,Notes\n"
    "Ann,Acme Inc ::: Beta GmbH ::: Gamma SA,CEO ::: Advisor,* myContacts ::: Friends,"
    "ann@acme.com ::: ann@beta.de,+1 415 555 2671 ::: +1 415 555 0100,Boston ::: Berlin,"
    "US ::: DE,https://a.example ::: https://b.example,tea ::: cake\n"
    "Bo,Solo Ltd,,* myContacts,bo@x.com,,,,,\n"
)


def test_google_cells_with_several_values_give_one_value_fields_their_first(tmp_path):
    table = table_of(tmp_path, GOOGLE_SEVERAL)
    rows = canonical_rows(table, resolve_mapping(table.headers))
    ann, bo = rows.drop("raw").to_dicts()
    assert (ann["company"], ann["job_title"], ann["city"], ann["country"]) == (
        "Acme Inc", "CEO", "Boston", "US")
    assert json.loads(ann["extra"]) == {
        "Organization Name": "Beta GmbH ::: Gamma SA",
        "Organization Title": "Advisor",
        "Address 1 - City": "Berlin",
        "Address 1 - Country": "DE",
        "Website 1 - Value": "https://a.example ::: https://b.example",  # no field: kept whole
    }
    # Emails and phones keep their others for matching, tags are split later, notes stay whole.
    assert ann["email"] == "ann@acme.com ::: ann@beta.de"
    assert ann["phone"] == "+1 415 555 2671 ::: +1 415 555 0100"
    assert ann["tags"] == "* myContacts ::: Friends" and ann["notes"] == "tea ::: cake"
    assert (bo["company"], bo["extra"]) == ("Solo Ltd", None)


def test_a_file_without_joined_cells_is_read_as_before(tmp_path):
    table = table_of(tmp_path, "Email,Company,City\na@x.com,Acme ::Beta,Rome:::Paris\n")
    rows = canonical_rows(table, resolve_mapping(table.headers))
    assert rows.row(0)[1:4] == ("a@x.com", "Acme ::Beta", "Rome:::Paris")
    assert rows["extra"][0] is None


def test_first_and_others_of_a_cell():
    frame = pl.DataFrame({"c": ["a ::: b ::: c", "a", "a ::: ", None]})
    first, others = first_and_others("c")
    assert frame.select(first, others.alias("o")).rows() == [
        ("a", "b ::: c"), ("a", None), ("a", ""), (None, None)]


_VALUE = st.text(st.characters(codec="utf-8", exclude_characters="\x00\r\n"), min_size=1,
                 max_size=12).filter(lambda v: v.strip() and ":::" not in v and v == v.strip())


@given(st.lists(_VALUE, min_size=1, max_size=4))
def test_a_one_value_field_keeps_its_first_value_and_loses_none(cities):
    cell = MULTI_VALUE_SEPARATOR.join(cities)
    headers = ["Email", "Address 1 - City"]
    table = RawTable(Path("x.csv"), "utf-8", ",", 1, headers,
                     pl.DataFrame({"row_number": [1], "Email": ["a@x.com"],
                                   "Address 1 - City": [cell]}),
                     pl.DataFrame(), "")
    row = canonical_rows(table, resolve_mapping(headers)).row(0, named=True)
    assert row["city"] == cities[0]
    kept = json.loads(row["extra"])["Address 1 - City"] if row["extra"] else None
    assert kept == (MULTI_VALUE_SEPARATOR.join(cities[1:]) or None)
    assert MULTI_VALUE_SEPARATOR.join([row["city"], *([kept] if kept else [])]) == cell


def test_extras_can_be_queried_as_json(tmp_path):
    table = table_of(tmp_path, "Email,Shoe Size\na@x.com,42\nb@x.com,\n")
    rows = canonical_rows(table, resolve_mapping(table.headers))
    sizes = rows.select(pl.col("extra").str.json_path_match("$['Shoe Size']"))
    assert sizes.to_series().to_list() == ["42", None]


def test_email_opt_out_is_inverted_into_consent(tmp_path):
    text = "Email,Email Opt Out\na@x.com,true\nb@x.com,0\nc@x.com,Yes\nd@x.com,\ne@x.com,maybe\n"
    table = table_of(tmp_path, text)
    mapping = resolve_mapping(table.headers)
    assert mapping.describe()["fields"]["consent_status"] == [
        {"column": "Email Opt Out", "invert": True}
    ]
    rows = canonical_rows(table, mapping)
    assert rows["consent_status"].to_list() == [
        "opted out", "opted in", "opted out", None, "maybe"
    ]


def test_ignored_columns_leave_extras_but_stay_in_raw(tmp_path):
    table = table_of(tmp_path, "Email,Internal Note\na@x.com,secret\n")
    mapping_file = tmp_path / "map.yaml"
    mapping_file.write_text("ignore: [Internal Note]\n")
    rows = canonical_rows(table, resolve_mapping(table.headers, mapping_file))
    assert rows["extra"].to_list() == [None]
    assert json.loads(rows["raw"][0])["Internal Note"] == "secret"


# --- mapping files ----------------------------------------------------------------------------

GERMAN = ["Kundennummer", "Vorname", "E-Mail geschäftlich", "E-Mail privat", "Firma",
          "Abgemeldet", "Title", "Email", "Notiz"]


def mapping_file(tmp_path, text):
    path = tmp_path / "map.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_mapping_file_overrides_and_adds_to_the_synonyms(tmp_path):
    path = mapping_file(tmp_path, """
columns:
  Kundennummer: source_id
  vorname: first_name
  Firma: company
  Abgemeldet: {field: consent_status, invert: true}
  Title: extra
email: [E-Mail geschäftlich, E-Mail privat]
ignore: [Notiz]
date_order: dmy
""")
    mapping = resolve_mapping(GERMAN, path)
    assert mapping.columns("source_id") == ["Kundennummer"]
    assert mapping.columns("first_name") == ["Vorname"]
    assert mapping.columns("company") == ["Firma"]
    assert mapping.columns("email") == ["E-Mail geschäftlich", "E-Mail privat"]
    assert mapping.fields["consent_status"][0].invert
    assert mapping.columns("job_title") == []
    assert mapping.extras == ("Title", "Email")
    assert mapping.ignored == ("Notiz",)
    assert mapping.date_order == "DMY"
    assert mapping.describe()["date_order"] == "DMY"


def test_mapping_file_can_take_over_a_field_a_synonym_would_fill(tmp_path):
    path = mapping_file(tmp_path, "columns:\n  E-Mail privat: email\n")
    mapping = resolve_mapping(GERMAN, path)
    assert mapping.columns("email") == ["E-Mail privat"]
    assert "Email" in mapping.extras


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("columns:\n  Kundenummer: source_id\n", "names column 'Kundenummer'"),
        ("columns:\n  Vorname: first_name\n  Firma: first_name\n",
         "maps both 'Vorname' and 'Firma' to first_name"),
        ("columns:\n  E-Mail privat: email\n  Email: email\n", "email: [E-Mail privat, Email]"),
        ("columns:\n  Firma: employer\n", "unknown field 'employer'"),
        ("email: [Email, Nope]\n", "names column 'Nope'"),
        ("ignore: [Missing]\n", "names column 'Missing'"),
        ("date_order: DDMM\n", "date_order"),
        ("colums:\n  Firma: company\n", "unknown key 'colums'"),
        ("columns: [Firma]\n", "`columns` must map headers to fields"),
        ("columns:\n  Firma: company\nignore: [Firma]\n", "uses column 'Firma' twice"),
        ("columns: {Firma: company\n", "is not valid YAML"),
    ],
)
def test_bad_mapping_files_are_refused_naming_the_file_and_problem(tmp_path, text, problem):
    path = mapping_file(tmp_path, text)
    with pytest.raises(BadMapping) as refused:
        resolve_mapping(GERMAN, path)
    message = str(refused.value)
    assert message.startswith(str(path))
    assert problem in message
    assert "\n" not in message


def test_missing_mapping_file_is_refused(tmp_path):
    with pytest.raises(BadMapping, match="cannot be read"):
        resolve_mapping(GERMAN, tmp_path / "absent.yaml")
