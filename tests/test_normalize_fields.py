import polars as pl
import pytest

from crm_pipeline.contacts.normalize import fields

VERBATIM = ['=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "@SUM(A1)", "'; DROP TABLE x; --"]


@pytest.mark.parametrize(
    ("raw", "size"),
    [
        ("250", 250),
        ("1,000", 1000),
        ("1.000", 1000),
        ("1 000", 1000),
        ("100-499", 100),
        ("5000+", 5000),
        ("10k", 10000),
        ("1.5k", 1500),
        ("10,001+", 10001),
        ("50 - 200 employees", 50),
    ],
)
def test_company_size_reads_vendor_forms(raw, size):
    assert fields.company_size(pl.Series([raw])).row(0) == (size, raw, None)


def test_unreadable_company_size_is_flagged():
    out = fields.company_size(pl.Series(["lots", None]))
    assert out.rows() == [(None, "lots", "invalid_company_size"), (None, None, None)]


def test_tags_are_split_trimmed_and_deduplicated_in_order():
    raw = pl.Series(["vip; lead,vip | b2b", "Friends ::: Work", "", None, " ,, "])
    assert fields.tags(raw).to_list() == [
        ["vip", "lead", "b2b"],
        ["Friends", "Work"],
        [],
        [],
        [],
    ]


def test_google_default_group_is_dropped_and_system_groups_lose_their_mark():
    raw = pl.Series([
        "* myContacts ::: Friends ::: * starred",
        "* My Contacts ::: * Starred ::: Starred ::: * Coworkers",  # legacy export
        "* myContacts",
        "myContacts ::: *",  # a user's own label named so, and a lone star, are kept
    ])
    assert fields.tags(raw).to_list() == [
        ["Friends", "starred"],
        ["Starred", "Coworkers"],
        [],
        ["myContacts", "*"],
    ]


def test_consent_words_map_to_three_states():
    raw = pl.Series(
        [
            "Subscribed",
            "opted in",
            "YES",
            "Marketing contact",
            "unsubscribed",
            "Opt-Out",
            "cleaned",
            "Non-marketing contact",
            "no_consent",
            "pending",
            "",
            None,
        ]
    )
    assert fields.consent_status(raw).to_list() == (
        ["granted"] * 4 + ["denied"] * 5 + ["unknown"] * 3
    )


def test_text_fields_are_cleaned_but_never_rewritten():
    raw = pl.Series([f"  {v}  " for v in VERBATIM])
    assert fields.one_line(raw).to_list() == VERBATIM
    assert fields.multi_line(pl.Series([" line 1\n  line 2 ", ""])).to_list() == [
        "line 1\n  line 2",
        None,
    ]
