"""Postal address match keys: the house number and the street name apart, postcodes, regions.

Only keys for matching; the stored values stay as written. The street key folds what varies
between two records of one address: case, accents ("ß" as "ss"), punctuation, common street-type
abbreviations ("Street"/"St"/"St.", "Road"/"Rd", "Straße"/"Strasse"/"Str."), a German street type
written apart or joined ("Linden Straße", "Lindenstr."), OCR confusions inside a word ("0ak" is
"oak", "l2" is "12", "9O" is "90") and word order (the words are sorted). The house number is
the first token that holds a digit ("12", "12a", "12-14"); a flat or unit is not told apart.
"""

from __future__ import annotations

import polars as pl

from crm_pipeline.contacts.normalize.text import folded, on_distinct

# Street-type words and their abbreviations -> one form.
STREET_TYPES = {
    "street": "st", "str": "st", "strasse": "st", "road": "rd", "avenue": "ave", "av": "ave",
    "lane": "ln", "drive": "dr", "court": "ct", "boulevard": "blvd", "close": "cl",
    "gardens": "gdns", "crescent": "cres", "place": "pl", "platz": "pl", "square": "sq",
    "terrace": "ter", "highway": "hwy", "parkway": "pkwy", "way": "way", "gasse": "g",
    "north": "n", "south": "s", "east": "e", "west": "w", "saint": "st",
}  # fmt: skip
# German street types written joined to the name: "lindenstraße" -> "linden st".
_JOINED = r"(\p{L}{3,})(strasse|str|platz|pl|gasse|weg|allee|ring|damm)\b"
_LETTERS_FOR_DIGITS = {"0": "o", "1": "l", "5": "s", "8": "b"}
_DIGITS_FOR_LETTERS = {"o": "0", "l": "1", "i": "1", "s": "5", "b": "8"}
STREET_SCHEMA = {"house_number": pl.String, "street_key": pl.String}


def street_parts(street: pl.Series) -> pl.DataFrame:
    """`house_number` and `street_key` of each street line (null when missing)."""
    return on_distinct(street, _street_parts).cast(STREET_SCHEMA)


def _street_parts(street: pl.Series) -> pl.DataFrame:
    # OCR confusions are undone before a joined street type is split off ("0akstr" is "oak
    # st"): the other way round, a key made again would split what the first pass did not.
    tokens = (
        folded(street)
        .str.replace_all("ß", "ss")
        .str.replace_all(r"[^\p{L}\p{N}]+", " ")
        .str.strip_chars()
        .str.split(" ")
        .list.eval(_fixed_token(pl.element()))
        .list.join(" ")
        .str.replace_all(_JOINED, "${1} ${2}")
        .str.split(" ")
    )
    frame = pl.DataFrame({"t": tokens})
    has_digit = pl.element().str.contains(r"\d")
    number = pl.col("t").list.eval(pl.element().filter(has_digit)).list.first()
    words = (
        pl.col("t")
        .list.eval(pl.element().filter(~has_digit & (pl.element() != "")))
        .list.eval(pl.element().replace(STREET_TYPES))
        .list.sort()
        .list.join(" ")
    )
    return frame.select(
        number.replace("", None).alias("house_number"),
        words.replace("", None).alias("street_key"),
    )


def _fixed_token(token: pl.Expr) -> pl.Expr:
    """OCR confusions undone: a token of mostly letters gets letters for stray digits, one of
    mostly digits digits for letters that look like them ("9O" is "90", "12a" stays; "12b" reads
    "128", on both records alike)."""
    digits = token.str.count_matches(r"\d")
    letters = token.str.count_matches(r"\p{L}")
    as_word = token.str.replace_many(_LETTERS_FOR_DIGITS)
    as_number = token.str.replace_many(_DIGITS_FOR_LETTERS)
    return (
        pl.when((digits > 0) & (letters > digits))
        .then(as_word)
        .when((digits > 0) & (letters > 0))
        .then(as_number)
        .otherwise(token)
    )


def postcode_key(postcode: pl.Series) -> pl.Series:
    """Upper case, letters and digits only ("sw1a 1aa" = "SW1A1AA"); a 5-character all-digit
    code with one OCR letter ("9O210") gets its digit back."""
    key = postcode.str.to_uppercase().str.replace_all(r"[^\p{L}\p{N}]+", "")
    mostly_digits = key.str.count_matches(r"\d") >= key.str.len_chars() - 1
    fixed = key.str.replace_many({"O": "0", "I": "1", "L": "1", "S": "5", "B": "8"})
    numeric = mostly_digits & fixed.str.contains(r"^\d+$")
    out = pl.select(pl.when(numeric).then(fixed).otherwise(key)).to_series()
    return out.replace("", None).alias("postcode_key")


def region_key(state: pl.Series) -> pl.Series:
    """A state or region folded for comparison (case, accents, punctuation)."""
    key = folded(state).str.replace_all(r"[^\p{L}\p{N}]+", "")
    return key.replace("", None).alias("state_key")
