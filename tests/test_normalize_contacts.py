import datetime as dt

import polars as pl
import pytest

from crm_pipeline.contacts.normalize.contacts import (
    OUTPUT_SCHEMA,
    hygiene_issues,
    identity_expr,
    normalize_contacts,
)
from crm_pipeline.errors import BadArgument


def _frame(**columns):
    height = len(next(iter(columns.values())))
    return pl.DataFrame({"row_number": list(range(1, height + 1)), **columns})


def test_every_output_column_is_present_and_typed_even_for_a_bare_frame():
    out = normalize_contacts(_frame(email=["a@b.com"]), "US")
    assert {name: out.schema[name] for name in OUTPUT_SCHEMA} == OUTPUT_SCHEMA


def test_rows_keep_their_order_and_other_columns_pass_through():
    frame = _frame(first_name=["b", "a", "c"], extra=["x", "y", "z"], full_name=["B B", None, "C"])
    out = normalize_contacts(frame, "DE")
    assert out["row_number"].to_list() == [1, 2, 3]
    assert out["extra"].to_list() == ["x", "y", "z"]
    assert out["full_name"].to_list() == ["B B", None, "C"]
    assert out["first_name"].to_list() == ["B", "A", "C"]


def test_row_country_picks_the_phone_region_before_the_default():
    frame = _frame(
        phone=["030 1234567", "030 1234567", "020 7946 0958"], country=["DE", None, "UK"]
    )
    out = normalize_contacts(frame, "US")
    assert out["phone"].to_list() == ["+49301234567", None, "+442079460958"]
    assert out["country"].to_list() == ["DE", None, "GB"]


def test_invalid_fields_are_emptied_reported_and_do_not_remove_identity():
    frame = _frame(
        first_name=["Ann", None, None],
        email=["john.doe@", "ok@example.com", None],
        phone=["123", None, "n/a"],
        country=["Narnia", None, None],
        birthdate=["31/02/1990", None, None],
        created_at=["2024-03-12 09:14", "yesterday", None],
        company_size=["lots", None, None],
    )
    out = normalize_contacts(frame, "US")
    assert out["has_identity"].to_list() == [True, True, False]
    assert out.select(identity_expr()).to_series().to_list() == [True, True, False]
    assert out["created_at"][0] == dt.datetime(2024, 3, 12, 9, 14)
    assert hygiene_issues(out).rows() == [
        (1, "email", "john.doe@", "invalid_email"),
        (1, "phone", "123", "invalid_phone"),
        (1, "country", "Narnia", "unknown_country"),
        (1, "birthdate", "31/02/1990", "bad_date"),
        (1, "company_size", "lots", "invalid_company_size"),
        (2, "created_at", "yesterday", "bad_date"),
        (3, "phone", "n/a", "invalid_phone"),
    ]


def test_a_name_without_letters_is_no_identity():
    out = normalize_contacts(_frame(last_name=["--", "123", "李"]), "US")
    assert out["has_identity"].to_list() == [False, False, True]


def test_formulas_and_sql_stay_text_in_every_free_text_field():
    values = ['=HYPERLINK("x")', "+cmd", "@SUM(A1)", "'; DROP TABLE x; --"]
    frame = _frame(job_title=values, notes=values, city=values, source_id=values, company=values)
    out = normalize_contacts(frame, "US")
    for column in ("job_title", "notes", "city", "source_id", "company"):
        assert out[column].to_list() == values


def test_bad_region_and_date_order_are_refused():
    with pytest.raises(BadArgument):
        normalize_contacts(_frame(email=["a@b.com"]), "XX")
    with pytest.raises(BadArgument):
        normalize_contacts(_frame(email=["a@b.com"]), "US", "DDMM")


def test_hygiene_of_a_clean_frame_is_empty_and_typed():
    issues = hygiene_issues(normalize_contacts(_frame(email=["a@b.com"]), "US"))
    assert issues.is_empty()
    assert issues.schema == pl.Schema(
        {
            "row_number": pl.Int64,
            "field": pl.String,
            "original_value": pl.String,
            "issue": pl.String,
        }
    )


def test_the_input_frame_is_left_unchanged():
    frame = _frame(
        first_name=["Jo\u0308rg  a", "b"], last_name=[None, None], full_name=[None, "Smith, J"]
    )
    before = frame.clone()
    normalize_contacts(frame, "DE")
    assert frame.equals(before)
    assert [len(v) for v in frame["first_name"]] == [8, 1]
