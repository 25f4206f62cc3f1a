import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from crm_pipeline.contacts.normalize import text


def test_clean_line_folds_whitespace_and_composes_unicode():
    raw = pl.Series(["  Jo\u0308rg \t  Meier \n", "", None, "plain"])
    assert text.clean_line(raw).to_list() == ["Jörg Meier", None, None, "plain"]


def test_clean_block_keeps_line_breaks():
    assert text.clean_block(pl.Series(["  a\n  b  \n"])).to_list() == ["a\n  b"]


def test_compact_key_folds_latin_but_keeps_other_scripts():
    raw = pl.Series(["Müller", "Straße", "Łódź", "ＡＢＣ", "山田", "مُحَمَّد", "Иван", "--"])
    assert text.compact_key(raw).to_list() == [
        "muller",
        "strasse",
        "lodz",
        "abc",
        "山田",
        "محمد",
        "иван",
        None,
    ]


def test_on_distinct_returns_rows_in_order_including_nulls():
    raw = pl.Series(["b", None, "a", "b"])
    out = text.on_distinct(raw, lambda v: v.str.to_uppercase().to_frame("up"))
    assert out["up"].to_list() == ["B", None, "A", "B"]


@given(st.lists(st.text(max_size=12), max_size=8))
def test_compact_key_is_idempotent(values):
    once = text.compact_key(pl.Series(values, dtype=pl.String))
    assert text.compact_key(once).to_list() == once.to_list()


def test_where_changes_a_copy_and_leaves_its_input_alone():
    raw = pl.Series(["a", "b"])
    changed = text.where(raw, pl.Series([True, False]), lambda s: s.str.to_uppercase())
    assert changed.to_list() == ["A", "b"]
    assert raw.to_list() == ["a", "b"]
