import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_pipeline.contacts.normalize import names


@pytest.mark.parametrize(
    ("full", "first", "last"),
    [
        ("Smith, John", "John", "Smith"),
        ("John A. Smith", "John", "Smith"),
        ("Dr. Jane Doe", "Jane", "Doe"),
        ("Prof. Dr. Hans Müller", "Hans", "Müller"),
        ("John Smith, Jr.", "John", "Smith"),
        ("Anna Maria di Stefano", "Anna", "di Stefano"),
        ("juan de la cruz", "Juan", "De la Cruz"),
        ("Madonna", None, "Madonna"),
        ("山田太郎", None, "山田太郎"),
        ("山田 太郎", "太郎", "山田"),
        ("محمد عبد الله", "محمد", "عبد الله"),
    ],
)
def test_split_full_name(full, first, last):
    assert names.split_full_name(pl.Series([full])).row(0) == (first, last)


def test_case_is_repaired_only_for_single_case_names():
    first = pl.Series(["JOSÉ", "mary-jane", "McKenzie", "DeShawn", "李", "ÖMER"])
    last = pl.Series(["GARCÍA-LÓPEZ", "o'neil", "mcdonald", "van der Berg", "小龙", "yılmaz"])
    out = names.normalize(first, last)
    assert out["first_name"].to_list() == ["José", "Mary-Jane", "McKenzie", "DeShawn", "李", "Ömer"]
    assert out["last_name"].to_list() == [
        "García-López",
        "O'Neil",
        "McDonald",
        "van der Berg",
        "小龙",
        "Yılmaz",
    ]


def test_keys_fold_accents_and_punctuation_but_keep_scripts():
    out = names.normalize(
        pl.Series(["Zoë", "Jürgen", "أحمد", "Ærø"]), pl.Series(["O'Brien", "Groß", "李", "x"])
    )
    assert out["first_name_key"].to_list() == ["zoe", "jurgen", "احمد", "aero"]
    assert out["last_name_key"].to_list() == ["obrien", "gross", "李", "x"]


def test_full_name_is_split_only_when_first_and_last_are_empty():
    out = names.normalize(
        pl.Series(["Ann", None, ""]),
        pl.Series([None, None, " "]),
        pl.Series(["Smith, John", "Smith, John", "Dr. Jane Doe"]),
    )
    assert out.select("first_name", "last_name").rows() == [
        ("Ann", None),
        ("John", "Smith"),
        ("Jane", "Doe"),
    ]


def test_formula_looking_names_stay_as_written():
    out = names.normalize(pl.Series(['=HYPERLINK("x")']), pl.Series(["@SUM(A1)"]))
    assert out.row(0)[:2] == ('=HYPERLINK("x")', "@SUM(A1)")


name_text = st.text(alphabet=st.characters(categories=["L", "M", "Zs", "Pd", "Po"]), max_size=20)


@given(st.lists(name_text, max_size=6), st.lists(name_text, max_size=6))
def test_normalizing_names_twice_changes_nothing(first, last):
    n = min(len(first), len(last))
    once = names.normalize(
        pl.Series(first[:n], dtype=pl.String), pl.Series(last[:n], dtype=pl.String)
    )
    assert once.height == n
    twice = names.normalize(once["first_name"], once["last_name"])
    assert twice.equals(once)


def test_nickname_reference_holds_well_known_pairs_once():
    from crm_pipeline.paths import REFERENCE_DIR

    pairs = pl.read_csv(REFERENCE_DIR / "nicknames.csv")
    assert pairs.columns == ["name", "nickname"]
    assert pairs.height >= 300
    assert not pairs.is_duplicated().any()
    assert pairs.filter(pl.col("name") == pl.col("nickname")).is_empty()
    for pair in [
        ("robert", "bob"),
        ("william", "bill"),
        ("katherine", "kate"),
        ("johannes", "hans"),
    ]:
        assert pair in pairs.rows()
