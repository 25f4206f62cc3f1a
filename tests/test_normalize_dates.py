import datetime as dt

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_pipeline.contacts.normalize import dates
from crm_pipeline.errors import BadArgument


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-12", dt.datetime(2024, 3, 12)),
        ("2024-03-12 09:14", dt.datetime(2024, 3, 12, 9, 14)),
        ("2024-03-12T09:14:00Z", dt.datetime(2024, 3, 12, 9, 14)),
        ("2024-03-12T09:14:00+01:00", dt.datetime(2024, 3, 12, 8, 14)),
        ("2024-03-12T09:14:00.250-0500", dt.datetime(2024, 3, 12, 14, 14, 0, 250_000)),
        ("03/12/2024", dt.datetime(2024, 3, 12)),
        ("12.03.2024", dt.datetime(2024, 3, 12)),
        ("3/12/24", dt.datetime(2024, 3, 12)),
        ("03 Jun 2026", dt.datetime(2026, 6, 3)),
        ("Jun 3, 2026", dt.datetime(2026, 6, 3)),
        ("12-Mar-2024", dt.datetime(2024, 3, 12)),
        ("March 12, 2024", dt.datetime(2024, 3, 12)),
        ("3/12/2024 9:14 PM", dt.datetime(2024, 3, 12, 21, 14)),
    ],
)
def test_vendor_timestamp_formats_become_naive_utc(raw, expected):
    out = dates.parse_timestamps(pl.Series([raw]), "MDY")
    assert out.row(0) == (expected, raw, None)
    assert out.schema["value"] == pl.Datetime("us")


def test_declared_order_settles_ambiguous_dates():
    raw = pl.Series(["03/12/2024", "3/12/24"])
    assert dates.parse_dates(raw, "DMY")["value"].to_list() == [dt.date(2024, 12, 3)] * 2
    assert dates.parse_dates(raw, "MDY")["value"].to_list() == [dt.date(2024, 3, 12)] * 2


def test_a_first_part_above_12_proves_day_first_for_the_whole_column():
    raw = pl.Series(["03/12/1980", "25/12/1980"])
    assert dates.infer_order(raw, "US") == "DMY"
    assert dates.parse_dates(raw, None, "US")["value"].to_list() == [
        dt.date(1980, 12, 3),
        dt.date(1980, 12, 25),
    ]


def test_without_evidence_the_region_decides():
    raw = pl.Series(["03/04/1980"])
    assert dates.parse_dates(raw, None, "US")["value"][0] == dt.date(1980, 3, 4)
    assert dates.parse_dates(raw, None, "DE")["value"][0] == dt.date(1980, 4, 3)


def test_unreadable_or_impossible_dates_are_flagged():
    raw = pl.Series(["n/a", "2024-02-30", "1850-01-01", "2099-01-01", "", None])
    out = dates.parse_dates(raw, "DMY", latest=dt.date(2026, 1, 1))
    assert out["value"].to_list() == [None] * 6
    assert out["issue"].to_list() == ["bad_date"] * 4 + [None, None]


def test_unknown_date_order_is_refused():
    with pytest.raises(BadArgument):
        dates.parse_dates(pl.Series(["2024-01-01"]), "YDM")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("15. März 2024", dt.date(2024, 3, 15)),
        ("15 Mär 2024", dt.date(2024, 3, 15)),
        ("3. Okt. 2023", dt.date(2023, 10, 3)),
        ("1. Mai 2020", dt.date(2020, 5, 1)),
        ("24. Dez. 2019", dt.date(2019, 12, 24)),
        ("3. Nov. 2023", dt.date(2023, 11, 3)),
        ("2. Jänner 2021", dt.date(2021, 1, 2)),
        ("15-mär-2024", dt.date(2024, 3, 15)),
        ("1er févr. 2024", dt.date(2024, 2, 1)),
        ("3 août 2022", dt.date(2022, 8, 3)),
        ("12 décembre 1999", dt.date(1999, 12, 12)),
        ("15 de marzo de 2024", dt.date(2024, 3, 15)),
        ("7 dic 2018", dt.date(2018, 12, 7)),
    ],
)
def test_german_french_and_spanish_month_names_are_read(raw, expected):
    out = dates.parse_dates(pl.Series([raw]), "MDY", latest=dt.date(2030, 1, 1))
    assert out.row(0) == (expected, raw, None)


def test_a_foreign_month_name_keeps_its_time_and_zone():
    out = dates.parse_timestamps(pl.Series(["15. März 2024 14:30 +01:00"]))
    assert out["value"][0] == dt.datetime(2024, 3, 15, 13, 30)


def test_a_month_without_a_day_or_year_stays_unreadable():
    out = dates.parse_dates(pl.Series(["Mai", "Dez.", "März 2024"]), "DMY")
    assert out["issue"].to_list() == ["bad_date"] * 3


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("45123", dt.datetime(2023, 7, 16)),
        ("45123.5", dt.datetime(2023, 7, 16, 12)),
        ("45123,25", dt.datetime(2023, 7, 16, 6)),
        ("45123.4166666667", dt.datetime(2023, 7, 16, 10)),  # as Excel writes 10:00
        ("10000", dt.datetime(1927, 5, 18)),
        ("99999", dt.datetime(2173, 10, 13)),
    ],
)
def test_five_digit_numbers_are_excel_serial_dates(raw, expected):
    assert dates.parse_timestamps(pl.Series([raw]))["value"][0] == expected


def test_years_and_numbers_outside_the_serial_range_are_not_serial_dates():
    raw = pl.Series(["2024", "1980", "9999", "100000", "-45123", "45123.5.1"])
    assert dates.parse_timestamps(raw)["issue"].to_list() == ["bad_date"] * 6
    assert dates.parse_dates(raw, latest=dt.date(2030, 1, 1))["issue"].to_list() == ["bad_date"] * 6
    assert dates.parse_dates(pl.Series(["20240315"]))["value"][0] == dt.date(2024, 3, 15)


def test_a_serial_birthdate_after_the_latest_date_is_flagged():
    out = dates.parse_dates(pl.Series(["45123", "29221"]), latest=dt.date(2020, 1, 1))
    assert out["value"].to_list() == [None, dt.date(1980, 1, 1)]
    assert out["issue"].to_list() == ["bad_date", None]


def test_declared_order_still_settles_numeric_dates_beside_foreign_and_serial_ones():
    raw = pl.Series(["03/04/2024", "15. März 2024", "45123"])
    late = dt.date(2030, 1, 1)
    assert dates.parse_dates(raw, "DMY", latest=late)["value"].to_list() == [
        dt.date(2024, 4, 3), dt.date(2024, 3, 15), dt.date(2023, 7, 16)]
    assert dates.parse_dates(raw, "MDY", latest=late)["value"][0] == dt.date(2024, 3, 4)


_NAMES = {  # month -> (German, German abbreviation, French, French abbreviation, Spanish)
    1: ("Januar", "Jan.", "janvier", "janv.", "enero"),
    2: ("Februar", "Feb.", "février", "févr.", "febrero"),
    3: ("März", "Mär", "mars", "mars", "marzo"),
    4: ("April", "Apr.", "avril", "avr.", "abril"),
    5: ("Mai", "Mai", "mai", "mai", "mayo"),
    6: ("Juni", "Jun.", "juin", "juin", "junio"),
    7: ("Juli", "Jul.", "juillet", "juil.", "julio"),
    8: ("August", "Aug.", "août", "août", "agosto"),
    9: ("September", "Sept.", "septembre", "sept.", "septiembre"),
    10: ("Oktober", "Okt.", "octobre", "oct.", "octubre"),
    11: ("November", "Nov.", "novembre", "nov.", "noviembre"),
    12: ("Dezember", "Dez.", "décembre", "déc.", "diciembre"),
}
_STYLES = (
    lambda d, n: f"{d.day}. {n[0]} {d.year}",
    lambda d, n: f"{d.day:02d}. {n[1]} {d.year}",
    lambda d, n: f"{d.day} {n[1].rstrip('.')} {d.year}",
    lambda d, n: f"{'1er' if d.day == 1 else d.day} {n[2]} {d.year}",
    lambda d, n: f"{d.day} {n[3]} {d.year}",
    lambda d, n: f"{d.day} de {n[4]} de {d.year}",
    lambda d, n: f"{d.day}. {n[0].upper()} {d.year}",
)


@given(st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)), st.sampled_from(_STYLES))
def test_a_date_written_with_a_foreign_month_name_reads_back(day, style):
    written = style(day, _NAMES[day.month])
    out = dates.parse_dates(pl.Series([written]), latest=dt.date(2100, 12, 31))
    assert out["value"][0] == day, written


@given(st.datetimes(dt.datetime(1927, 5, 18), dt.datetime(2173, 10, 13, 23, 59, 59)),
       st.sampled_from([".", ","]))
def test_an_excel_serial_reads_back_to_the_second(moment, comma):
    moment = moment.replace(microsecond=0)
    days = (moment - dates.EXCEL_EPOCH) / dt.timedelta(days=1)
    written = f"{days:.10f}".replace(".", comma) if moment.time() else str(int(days))
    assert dates.parse_timestamps(pl.Series([written]))["value"][0] == moment, written
