import re

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_pipeline.contacts.normalize import phones


def _one(raw, region):
    return phones.normalize(pl.Series([raw]), pl.Series([region])).row(0, named=True)


@pytest.mark.parametrize(
    ("raw", "region", "e164", "kind"),
    [
        ("0044 20 7946 0958", "GB", "+442079460958", "fixed_line"),
        ("+1 (415) 555-2671", "DE", "+14155552671", "fixed_line_or_mobile"),
        ("(030) 1234567", "DE", "+49301234567", "fixed_line"),
        ("+44 (0) 20 7946 0958", "US", "+442079460958", "fixed_line"),
        ("0171 1234567", "DE", "+491711234567", "mobile"),
        ("+49 30 1234567 ext. 12", "DE", "+49301234567", "fixed_line"),
    ],
)
def test_valid_numbers_become_e164_with_line_type(raw, region, e164, kind):
    assert _one(raw, region) == {
        "phone": e164,
        "phone_raw": raw,
        "phone_type": kind,
        "phone_issue": None,
    }


@pytest.mark.parametrize("raw", ["n/a", "123", "+1 555", '=HYPERLINK("x")', "+49 30"])
def test_non_numbers_and_invalid_numbers_are_flagged(raw):
    assert _one(raw, "DE") == {
        "phone": None,
        "phone_raw": raw,
        "phone_type": "unknown",
        "phone_issue": "invalid_phone",
    }


def test_missing_values_have_no_issue():
    out = phones.normalize(pl.Series(["", None, "  "]), pl.Series(["DE", None, "US"]))
    assert out.rows() == [(None, None, None, None)] * 3


def test_region_decides_numbers_without_country_code():
    out = phones.normalize(pl.Series(["030 1234567", "030 1234567"]), pl.Series(["DE", "GB"]))
    assert out["phone"].to_list() == ["+49301234567", None]


def test_worker_processes_give_the_same_result_as_one_process():
    # With an extension, so that phonenumbers parses them (digit strings take the fast path).
    raw = pl.Series([f"+49 30 {n} ext. 1" for n in range(1_000_000, 1_000_000 + 9_000)] + ["x"])
    region = pl.Series(["DE"] * raw.len())
    phones.parse_phone.cache_clear()
    parallel = phones.normalize(raw, region, parallel=True)
    phones.parse_phone.cache_clear()
    assert parallel.equals(phones.normalize(raw, region, parallel=False))


MIXED = [  # digit strings (fast path) and other shapes (phonenumbers per value)
    ("(415) 555-2671", "US"),
    ("1 415 555 2671", "US"),
    ("001 415 555 2671", "DE"),
    ("+1 415-555-2671", "DE"),
    ("0171 1234567", "DE"),
    ("+49 (0)30 1234567", "US"),
    ("030 1234567 x12", "DE"),
    ("tel:+49-30-1234567", "DE"),
    ("0800 FLOWERS", "GB"),
    ("+0 123", "FR"),
    ("07700 900123", "GB"),
    ("0049 30 1234567", "GB"),
    ("+44 7624 123456", None),
    ("4930 1234567", "DE"),
    ("5", "US"),
    ("n/a", "DE"),
]


def test_fast_and_per_value_paths_together_give_what_phonenumbers_gives(monkeypatch):
    monkeypatch.setattr(phones, "FAST_MIN_DISTINCT", 1)
    raw, region = (list(column) for column in zip(*MIXED, strict=True))
    out = phones.normalize(pl.Series(raw), pl.Series(region, dtype=pl.String))
    keys = phones._lookup_keys(pl.DataFrame({"phone_raw": raw, "region": region}))
    expected = [phones.parse_phone(v, r) for v, r in keys.select("value", "region_key").rows()]
    assert list(zip(out["phone"], out["phone_type"], strict=True)) == expected
    assert out["phone"].null_count() < len(raw) // 2  # not a comparison of invalid numbers only


phone_text = st.text(alphabet="0123456789 +-()./", max_size=18)


@settings(max_examples=60)
@given(st.lists(phone_text, max_size=6), st.sampled_from(["US", "DE", "GB", "FR", "JP"]))
def test_phone_output_is_e164_or_null_and_stable(values, region):
    regions = pl.Series([region] * len(values))
    once = phones.normalize(pl.Series(values, dtype=pl.String), regions)
    assert once.height == len(values)
    for phone in once["phone"].drop_nulls():
        assert re.fullmatch(r"\+[1-9]\d{1,14}", phone)
    twice = phones.normalize(once["phone"], regions)
    assert twice["phone"].to_list() == once["phone"].to_list()


def test_a_number_longer_than_e164_allows_is_invalid_though_the_library_accepts_it():
    """phonenumbers' metadata accepts this 14-digit German national number (16 digits in all)."""
    many = pl.Series(["20100000000000"] + [f"030 {i:07d}" for i in range(phones.FAST_MIN_DISTINCT)])
    for raw in (many[:1], many):  # one value (the library), many (the vectorised rules)
        out = phones.normalize(raw, pl.Series(["DE"] * len(raw)))
        assert out.row(0) == (None, "20100000000000", "unknown", phones.INVALID_PHONE)
    assert phones.parse_phone("20100000000000", "DE") == (None, "unknown")
