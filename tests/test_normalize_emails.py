import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from crm_pipeline.contacts.normalize import emails


def test_email_is_trimmed_lowercased_and_split():
    out = emails.normalize(pl.Series(["John.Doe+news@Gmail.com "]))
    assert out.row(0, named=True) == {
        "email": "john.doe+news@gmail.com",
        "email_raw": "John.Doe+news@Gmail.com",
        "email_local": "john.doe+news",
        "email_domain": "gmail.com",
        "email_local_base": "johndoe",
        "email_issue": None,
    }


def test_plus_tag_is_dropped_from_base_but_dots_only_for_gmail():
    out = emails.normalize(pl.Series(["a.b+x@firma.de", "a.b+x@googlemail.com", "+x@firma.de"]))
    assert out["email_local_base"].to_list() == ["a.b", "ab", "+x"]


def test_invalid_email_is_emptied_and_flagged_with_its_original():
    raw = pl.Series(["john.doe@", "n/a", "a@b", "x@foo.test", '=HYPERLINK("x")', "", None])
    out = emails.normalize(raw)
    assert out["email"].to_list() == [None] * 7
    assert out["email_issue"].to_list() == ["invalid_email"] * 5 + [None, None]
    assert out["email_raw"].to_list()[:5] == raw.to_list()[:5]


def test_internationalized_and_display_name_forms_are_accepted():
    out = emails.normalize(
        pl.Series(["Jörg@Bücher.de", "a@xn--mnchen-3ya.de", "Jane <JANE@x.com>"])
    )
    assert out["email"].to_list() == ["jörg@bücher.de", "a@münchen.de", "jane@x.com"]


@given(st.emails())
def test_fast_path_accepts_only_what_email_validator_accepts(address):
    fast = emails._plain_valid(pl.Series([address]))[0]
    if fast:
        assert emails.validated(address) == address.lower()


@given(st.lists(st.one_of(st.emails(), st.text(max_size=20)), max_size=8))
def test_email_normalization_is_idempotent_and_lower_case(values):
    once = emails.normalize(pl.Series(values, dtype=pl.String))
    assert once.height == len(values)
    for email in once["email"].drop_nulls():
        assert email == email.lower()
    twice = emails.normalize(once["email"])
    assert twice["email"].to_list() == once["email"].to_list()
