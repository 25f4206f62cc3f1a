import polars as pl

from crm_pipeline.contacts.normalize.contacts import normalize_contacts
from crm_pipeline.contacts.normalize.identifiers import other_identifiers, split_first


def test_a_cell_with_several_values_keeps_the_first_and_moves_the_rest():
    rows = pl.DataFrame({"row_number": [1, 2], "email": ["a@x.com ::: b@y.com", "c@z.com"],
                         "other_emails": ["d@w.com", None]})
    out = split_first(rows, "email")
    assert out["email"].to_list() == ["a@x.com", "c@z.com"]
    assert out["other_emails"].to_list() == ["b@y.com ::: d@w.com", None]


def test_other_phones_and_emails_are_normalized_deduplicated_and_exclude_the_primary():
    rows = pl.DataFrame({
        "row_number": [1, 2, 3],
        "first_name": ["Ann", "Bo", "Cy"],
        "email": ["ann@x.com", None, "cy@x.com"],
        "phone": ["020 7946 0958", None, None],
        "country": ["GB", "US", None],
        "other_emails": ["ANN@x.com ::: ann@home.org", "not an email", None],
        "other_phones": ["(07521) 591987 ::: 020 7946 0958", "+1 415 555 2671", None],
    })
    norm = normalize_contacts(rows, default_region="GB")
    other = other_identifiers(rows, norm, "GB")
    assert other["other_emails"].to_list() == [["ann@home.org"], [], []]
    assert other["other_phones"].to_list() == [["+447521591987"], ["+14155552671"], []]


def test_rows_without_other_columns_get_empty_lists():
    rows = pl.DataFrame({"row_number": [1], "email": ["a@x.com"]})
    other = other_identifiers(rows, normalize_contacts(rows, default_region="US"), "US")
    assert other.to_dicts() == [{"other_emails": [], "other_phones": []}]
