import datetime as dt

import polars as pl
import pytest

from crm_pipeline.errors import BadArgument
from crm_pipeline.normalize import dates


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
