"""Matching people known by name, postal address and birth date only (no email, no phone):
each comparison's levels, the blocking of email-less rows, the traps (twins, a parent and a
child of one name, neighbours), the evidence in words, the labelled generator and a CSV through
the CLI."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl
import pytest
from helpers import crm, working, write_csv

from bench.people_generator import generate
from crm_pipeline.contacts.imports import register_import
from crm_pipeline.contacts.normalize.contacts import normalize_contacts
from crm_pipeline.contacts.resolve import train
from crm_pipeline.contacts.resolve.apply import resolve_tenant
from crm_pipeline.contacts.resolve.blocking import MAX_BLOCK, candidate_pairs
from crm_pipeline.contacts.resolve.compare import FIELDS, compare_pairs, match_rows
from crm_pipeline.contacts.resolve.explain import describe_similarities, explanation
from crm_pipeline.warehouse import run

COLUMNS = ("source_id", "first_name", "last_name", "street", "city", "postcode", "state",
           "birthdate")  # fmt: skip
AT = datetime(2026, 1, 1, 12)


def normalized(records: list[tuple], country: str = "US") -> pl.DataFrame:
    frame = pl.DataFrame(
        [dict(zip(COLUMNS, r, strict=False)) for r in records],
        schema=dict.fromkeys(COLUMNS, pl.Utf8),
    )
    frame = frame.with_columns(pl.lit(country).alias("country"))
    frame = frame.with_row_index("row_number", offset=1)
    return normalize_contacts(frame, country, date_order="YMD" if country == "US" else None)


def rows_of(records: list[tuple], country: str = "US") -> pl.DataFrame:
    """match_rows of the records, as staged rows are read (no email, phone or company)."""
    norm = normalized(records, country)
    none = [pl.lit(None, pl.Utf8).alias(c) for c in ("email", "email_local_base", "email_domain",
                                                    "phone", "company_key", "job_title")]
    staged = norm.select(
        pl.exclude("email", "email_local_base", "email_domain", "phone", "company_key", "job_title")
    ).with_columns(none)
    return match_rows(staged.with_row_index("idx").with_columns(pl.col("idx").cast(pl.Int64)))


def level(first: tuple, second: tuple, field: str, country: str = "US") -> int:
    rows = rows_of([first, second], country)
    levels, _ = compare_pairs(rows, np.array([0]), np.array([1]))
    return int(levels[0, FIELDS.index(field)])


BASE = ("1", "Robert", "Quimby", "12 Oak Street", "Springfield", "62704", "IL", "1980-03-04")


def variant(**changes) -> tuple:
    values = dict(zip(COLUMNS, BASE, strict=True)) | changes
    return tuple(values[c] for c in COLUMNS)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, 1),
        ({"street": "12 oak st."}, 1),
        ({"street": "l2 0ak St"}, 1),  # OCR errors undone
        ({"street": "12 Oka Street"}, 2),  # a typo in the street name
        ({"street": "Oak Street"}, 2),  # the number missing on one side
        ({"street": "14 Oak Street"}, 3),  # a neighbour
        ({"street": "12 Church Road"}, 4),
        ({"street": None}, 0),
    ],
)
def test_street_levels(changes, expected):
    assert level(BASE, variant(**changes), "street") == expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [({}, 1), ({"postcode": "62705"}, 2), ({"postcode": "62794"}, 2), ({"postcode": "10115"}, 3),
     ({"postcode": None}, 0)],
)  # fmt: skip
def test_postcode_levels_one_digit_off_is_weaker(changes, expected):
    assert level(BASE, variant(**changes), "postcode") == expected


def test_city_counts_when_the_postcode_cannot_and_a_typo_still_agrees():
    no_postcode = {"postcode": None}
    assert level(BASE, variant(), "city") == 0  # the same postcode names the city already
    assert level(variant(**no_postcode), variant(**no_postcode), "city") == 1
    assert level(variant(**no_postcode), variant(city="Springfeld", postcode=None), "city") == 2
    assert level(variant(**no_postcode), variant(city="Chicago", postcode=None), "city") == 3


def test_state_counts_only_without_postcode_and_city():
    bare = {"postcode": None, "city": None}
    assert level(BASE, variant(), "state") == 0
    assert level(variant(**bare), variant(**bare), "state") == 1
    assert level(variant(**bare), variant(state="TX", **bare), "state") == 2


@pytest.mark.parametrize(
    ("birthdate", "expected"),
    [
        ("1980-03-04", 1),
        ("1980-04-03", 2),  # day and month swapped
        ("1981-03-04", 3),  # one digit off
        ("1980-03-14", 3),
        ("1980", 4),  # the year only
        ("1975-11-20", 5),
        (None, 0),
    ],
)
def test_birthdate_levels(birthdate, expected):
    assert level(BASE, variant(birthdate=birthdate), "birthdate") == expected


def test_a_year_alone_against_another_year_is_a_different_birth_date():
    assert level(variant(birthdate="1980"), variant(birthdate="1979"), "birthdate") == 5
    assert level(variant(birthdate="1980"), variant(birthdate="1980"), "birthdate") == 4


@pytest.mark.parametrize(
    ("first", "last", "fn_level", "ln_level"),
    [
        ("Robert", "Quimby", 1, 1),
        ("Bob", "Quimby", 2, 1),  # nickname
        ("R.", "Quimby", 4, 1),  # initial
        ("Robret", "Quimbey", 3, 2),  # typos
        ("Quimby", "Robert", 1, 1),  # swapped
        ("Quimby", "Bob", 3, 1),  # swapped and a nickname
        ("Quimby", "R", 3, 1),  # swapped and an initial
        ("Gilbert", "Quimby", 5, 1),  # another first letter: another name
    ],
)
def test_names_with_typos_nicknames_initials_and_swaps(first, last, fn_level, ln_level):
    other = variant(first_name=first, last_name=last)
    assert (level(BASE, other, "first_name"), level(BASE, other, "last_name")) == (
        fn_level, ln_level,
    )  # fmt: skip


def test_email_less_rows_are_blocked_by_postcode_birthdate_sound_and_street():
    rows = rows_of(
        [
            ("a", "Jon", "Smyth", "4 Mill Lane", "Leeds", "10001", None, "1970-05-06"),
            ("b", "Jhon", "Smiht", "4 Mill Ln", None, None, None, None),  # street only
            ("c", "Jhon", "Smiht", None, None, None, None, "1970-05-06"),  # birth date only
            ("d", "J", "Smith", None, None, "10001", None, None),  # sounds alike, same postcode
            ("e", "Zed", "Zorro", "9 Oak Road", "York", "99999", None, "1999-01-01"),
        ]
    )
    assert rows["email"].null_count() == rows.height and rows["phone"].null_count() == rows.height
    pairs = set(candidate_pairs(rows, np.arange(rows.height)).iter_rows())
    assert {(0, 1), (0, 2), (0, 3)} <= pairs
    assert not any(4 in p for p in pairs)


def test_a_common_postcode_and_surname_do_not_explode_into_every_pair():
    n = 3 * MAX_BLOCK
    letters = "abcdefghijklmnopqrstuvwxyz"
    records = [
        (str(i), letters[i % 26] + letters[(i // 26) % 26] + "x", "Smith", None, None, "10001",
         None, None)
        for i in range(n)
    ]  # fmt: skip
    pairs = candidate_pairs(rows_of(records), np.arange(n))
    assert pairs.height < n * (n - 1) // 2 // 10


# One person four ways, and the traps: twins, a parent and a child of one name at one address,
# neighbours of one name on one street.
PEOPLE = [
    ("p1", "Robert", "Quimby", "12 Oak Street", "Springfield", "62704", "IL", "1980-03-04"),
    ("p2", "Bob", "Quimby", "12 Oak St.", "Springfeld", "62704", "IL", "1980-04-03"),
    ("p3", "Quimby", "Robert", "12 Oak Str", None, "62705", None, "1980"),
    ("p4", "ROBERT", "QUIMBEY", None, "Springfield", "62704", "IL", "1980-03-04"),
    ("t1", "Anna", "Zeller", "7 Mill Lane", "Springfield", "62701", "IL", "1990-06-15"),
    ("t2", "Marta", "Zeller", "7 Mill Lane", "Springfield", "62701", "IL", "1990-06-15"),
    ("t3", "Marta", "Zeller", "7 Mill Ln", "Springfield", "62701", "IL", "1990-06-15"),
    ("j1", "John", "Carter", "3 Elm Road", "Springfield", "62702", "IL", "1955-06-01"),
    ("j2", "John", "Carter Jr", "3 Elm Road", "Springfield", "62702", "IL", "1985-09-12"),
    ("j3", "John", "Carter", "3 Elm Rd", "Springfield", "62702", "IL", "1985-09-12"),
    ("n1", "Mary", "Stone", "20 Park Avenue", "Springfield", "62703", "IL", "1970-01-01"),
    ("n2", "Mary", "Stone", "22 Park Avenue", "Springfield", "62703", "IL", None),
]


def stage(con, tenant: str, records: list[tuple]) -> None:
    norm = normalized(records)
    staged = norm.select(
        pl.lit(tenant).alias("tenant_id"), pl.lit("imp1").alias("import_id"),
        pl.col("row_number").cast(pl.Int64), "source_id", pl.lit("test").alias("source_system"),
        "first_name", "last_name", "first_name_key", "last_name_key", "street", "city",
        "postcode", "state", "country", "birthdate", "birth_year",
        pl.lit("pending").alias("status"),
    )  # fmt: skip
    con.register("_s", staged)
    run(con, "INSERT INTO staging.contact_rows BY NAME SELECT * FROM _s")
    con.unregister("_s")
    register_import(con, tenant_id=tenant, import_id="imp1", kind="contact", file_name="imp1",
                    file_sha256="imp1", rows_in=len(records), at=AT)  # fmt: skip


def contacts_of(con, tenant: str = "t1") -> dict[str, str]:
    return dict(
        run(
            con,
            "SELECT s.source_id, cs.contact_id FROM core.contact_sources cs "
            "JOIN staging.contact_rows s USING (tenant_id, import_id, row_number) "
            "WHERE cs.tenant_id = $t",
            {"t": tenant},
        )
    )


def test_one_person_merges_and_the_traps_stay_apart(con, ctx):
    stage(con, "t1", PEOPLE)
    resolve_tenant(con, ctx)
    c = contacts_of(con)
    assert c["p1"] == c["p2"] == c["p3"] == c["p4"]
    assert c["t2"] == c["t3"] != c["t1"]  # twins: one address and birth date, two first names
    assert c["j2"] == c["j3"] != c["j1"]  # parent and child: one name, two birth dates
    assert c["n1"] != c["n2"]  # neighbours: one name, another house number
    assert len(set(c.values())) == 7


def test_explain_names_the_address_and_birth_date_evidence(con, ctx):
    stage(con, "t1", PEOPLE)
    resolve_tenant(con, ctx)
    why = " | ".join(s["why"] for s in explanation(con, "t1", contacts_of(con)["p1"])["sources"])
    assert "same street and house number" in why
    assert "birth date with day and month swapped" in why or "same birth date" in why
    assert "postcode differs by one digit" in why or "same postcode" in why


def test_address_words_for_each_kind_of_evidence():
    words = describe_similarities(
        {"first_name": 1.0, "last_name": 1.0, "street": 1.0, "house_number": 1.0,
         "postcode": 0.0, "postcode_near": True, "birthdate": "same"}
    )  # fmt: skip
    assert "same street and house number, postcode differs by one digit, same birth date" in words
    assert "same street but another house number" in describe_similarities(
        {"street": 1.0, "house_number": 0.0, "birthdate": "one_digit_off"}
    )
    assert "same birth year (one side gives only the year)" in describe_similarities(
        {"birthdate": "same_year"}
    )
    # A contact list without addresses reads as before.
    assert "street" not in describe_similarities({"first_name": 1.0, "email_local": 1.0})


def test_people_anchors_teach_m_of_the_address_and_birth_date_fields():
    """Lists without emails or phones still learn m: pairs with the same full name and birth
    date show how often a person's street agrees."""
    n = 400
    levels = np.zeros((n, len(FIELDS)), dtype=np.int8)
    for f in ("first_name", "last_name", "birthdate", "postcode"):
        levels[:, FIELDS.index(f)] = 1
    levels[:, FIELDS.index("street")] = np.where(np.arange(n) < n // 2, 1, 2)
    none = np.zeros(n, dtype=bool)
    m = train.estimate_m_from_anchors(levels, none, none, train.default_model())
    assert 0.4 < m["street"][0] < 0.6 and 0.4 < m["street"][1] < 0.6


def test_generator_is_deterministic_labelled_and_has_the_traps():
    rows = generate(3000, seed=3)
    assert rows.equals(generate(3000, seed=3))
    assert {"email", "phone", "company"}.isdisjoint(rows.columns)
    per_tenant = rows.group_by("tenant_id").agg(
        (1 - pl.col("person_id").n_unique() / pl.len()).alias("dup_share")
    )
    assert per_tenant["dup_share"].is_between(0.05, 0.45).all()
    assert {"twin", "parent_child", "neighbour"} <= set(rows["trap"].unique().to_list())
    assert set(rows["country"].unique().to_list()) == {"US", "GB", "DE"}


PEOPLE_HEADER = "First Name,Last Name,Street,City,Postal Code,State,Country,Date of Birth"


@pytest.mark.slow
def test_an_address_only_csv_merges_the_right_rows_through_the_cli(tmp_path, capsys):
    rows = [
        "Robert,Quimby,12 Oak Street,Springfield,62704,IL,US,1980-03-04",
        "Bob,Quimby,12 Oak St.,Springfield,62704,IL,US,1980-03-04",
        "Quimby,Robert,12 Oak Str,,62705,,US,1980",
        "Anna,Zeller,7 Mill Lane,Springfield,62701,IL,US,1990-06-15",
        "Marta,Zeller,7 Mill Lane,Springfield,62701,IL,US,1990-06-15",
        "John,Carter,3 Elm Road,Springfield,62702,IL,US,1955-06-01",
        "John,Carter,3 Elm Rd,Springfield,62702,IL,US,1985-09-12",
        "Mary,Stone,20 Park Avenue,Springfield,62703,IL,US,1970-01-01",
        "Mary,Stone,22 Park Avenue,Springfield,62703,IL,US,",
    ]
    f = write_csv(tmp_path / "members.csv", PEOPLE_HEADER, rows)
    home = tmp_path / "home"
    code, _, err = crm(home, "import", "contacts", f, "--tenant", "m1", "--as-of", "2026-01-15",
                       capsys=capsys)  # fmt: skip
    assert code == 0, err
    con = working(home)
    try:
        placed = dict(
            con.execute(
                "SELECT row_number, contact_id FROM core.contact_sources WHERE tenant_id = 'm1'"
            ).fetchall()
        )
    finally:
        con.close()
    assert placed[1] == placed[2] == placed[3]
    assert len({placed[r] for r in range(4, 10)} | {placed[1]}) == 7
    code, out, _ = crm(home, "contact", "explain", "--tenant", "m1", placed[1], capsys=capsys)
    assert code == 0 and "same street and house number" in out and "same birth date" in out
