import re

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from crm_pipeline.contacts.normalize import companies


def test_legal_suffixes_and_punctuation_are_removed_from_the_key():
    raw = pl.Series(
        [
            "ACME, Inc",
            "Acme Inc.",
            "Acme",
            "acme l.l.c.",
            "Müller GmbH & Co. KG",
            "Foo S.A. de C.V.",
            "Bar Pty. Ltd.",
            "Volvo AB (publ)",
            "Nokia Oyj",
            "Baz S.p.A.",
        ]
    )
    assert companies.match_key(raw).to_list() == [
        "acme",
        "acme",
        "acme",
        "acme",
        "muller",
        "foo",
        "bar",
        "volvo",
        "nokia",
        "baz",
    ]


def test_display_form_is_kept_as_written():
    out = companies.normalize(pl.Series(["  Yahoo!   Inc. ", '=HYPERLINK("x")', "", None]))
    assert out.rows() == [
        ("Yahoo! Inc.", "yahoo"),
        ('=HYPERLINK("x")', "hyperlink x"),
        (None, None),
        (None, None),
    ]


def test_a_name_that_is_only_a_legal_form_keeps_it():
    assert companies.match_key(pl.Series(["AG", "Co KG"])).to_list() == ["ag", "co"]


company_text = st.lists(
    st.one_of(
        st.sampled_from(
            ["Inc.", "GmbH", "& Co.", "KG", "S.A.", "Ltd", "LLC", ",", "Acme", "Müller"]
        ),
        st.text(max_size=6),
    ),
    max_size=5,
).map(" ".join)


@given(st.lists(company_text, max_size=6))
def test_company_key_is_idempotent_and_never_ends_with_a_legal_suffix(values):
    once = companies.match_key(pl.Series(values, dtype=pl.String))
    assert once.len() == len(values)
    assert companies.match_key(once).to_list() == once.to_list()
    suffixes = "|".join(re.escape(s) for s in companies.legal_suffixes())
    for key in once.drop_nulls():
        assert not re.search(rf"\s(?:{suffixes})$", key)
