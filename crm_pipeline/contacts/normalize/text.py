"""Text folding shared by every normalizer: display clean-up, matching keys, and working on
distinct values.

Display forms change only whitespace and Unicode composition, never the characters a person
wrote (a formula or an SQL-looking value stays text, exactly). Matching keys fold what people
write inconsistently: case, accents on Latin letters, optional Arabic and Hebrew vowel marks,
compatibility forms (full-width letters, ligatures) and punctuation.

Speed: Unicode normalization and whitespace regexes cost more than anything else here, so they run
only on the values that need them (non-ASCII, odd whitespace), and whole columns of repeated
values (names, companies, countries) are normalized once per distinct value.
"""

from collections.abc import Callable

import polars as pl

# Latin letters that carry no combining mark to strip, so NFKD leaves them alone.
_LATIN_LETTERS_WITHOUT_DECOMPOSITION = {
    "ß": "ss",
    "æ": "ae",
    "œ": "oe",
    "ø": "o",
    "đ": "d",
    "ð": "d",
    "þ": "th",
    "ł": "l",
    "ı": "i",
    "ħ": "h",
    "ŧ": "t",
    "ŀ": "l",
    "ĸ": "k",
    "ſ": "s",
}
# Invisible characters that are no part of a value at its edges: byte order marks (files pasted
# together), zero-width spaces, joiners and non-joiners, word joiners, direction marks.
INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060\u200e\u200f\u180e"
INVISIBLE_CLASS = r"[\x{FEFF}\x{200B}-\x{200F}\x{2060}\x{180E}]"
INVISIBLE_EDGES = rf"^(?:\s|{INVISIBLE_CLASS})+|(?:\s|{INVISIBLE_CLASS})+$"
_LATIN_MARKS = r"(\p{Latin})\p{Mn}+"
_OPTIONAL_VOWEL_MARKS = r"[\x{0591}-\x{05C7}\x{064B}-\x{065F}\x{0670}]"
_ODD_WHITESPACE = r"\s{2,}|[^\S ]"


def as_text(series: pl.Series) -> pl.Series:
    """Any column as Utf8: empty CSV columns arrive typed Null, ids sometimes as integers."""
    return series.cast(pl.String)


def where(
    series: pl.Series, mask: pl.Series, change: Callable[[pl.Series], pl.Series]
) -> pl.Series:
    """`series` with `change` applied to the rows `mask` selects, and only to those."""
    rows = mask.fill_null(False).arg_true()
    if rows.is_empty():
        return series
    return series.clone().scatter(rows, change(series.gather(rows)))


def non_ascii(series: pl.Series) -> pl.Series:
    """True where a value has a character outside ASCII (the only ones Unicode forms change)."""
    return series.str.len_bytes() != series.str.len_chars()


def nfc(series: pl.Series) -> pl.Series:
    """Unicode NFC, computed only for non-ASCII values."""
    series = as_text(series)
    return where(series, non_ascii(series), lambda s: s.str.normalize("NFC"))


def clean_line(series: pl.Series) -> pl.Series:
    """One-line display text: NFC, whitespace runs folded to one space, trimmed, empty as null."""
    text = nfc(series)
    text = where(text, text.str.contains(_ODD_WHITESPACE), lambda s: s.str.replace_all(r"\s+", " "))
    return text.str.strip_chars().replace("", None)


def clean_block(series: pl.Series) -> pl.Series:
    """Multi-line display text (notes): NFC and trimmed, line breaks and inner spacing kept."""
    return nfc(series).str.strip_chars().replace("", None)


def _fold_unicode(series: pl.Series) -> pl.Series:
    return (
        series.str.normalize("NFKD")
        .str.to_lowercase()
        .str.replace_all(_LATIN_MARKS, "${1}")
        .str.replace_all(_OPTIONAL_VOWEL_MARKS, "")
        .str.normalize("NFC")
        .str.replace_many(_LATIN_LETTERS_WITHOUT_DECOMPOSITION)
    )


def folded(series: pl.Series) -> pl.Series:
    """Lower case with Latin accents and compatibility forms folded; other scripts kept as NFC."""
    text = as_text(series)
    return where(text.str.to_lowercase(), non_ascii(text), _fold_unicode)


def settled(series: pl.Series, step: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """`step` applied, then once more to non-ASCII results: removing a character can leave a
    combining mark next to a Latin letter (`A¯` -> `a` + macron), which a second pass folds."""
    once = step(series)
    return where(once, non_ascii(once), step)


def compact_key(series: pl.Series) -> pl.Series:
    """Folded text with everything but letters, marks and digits removed; empty as null."""
    key = settled(series, lambda s: folded(s).str.replace_all(r"[^\p{L}\p{M}\p{N}]+", ""))
    return key.replace("", None)


def on_distinct(series: pl.Series, compute: Callable[[pl.Series], pl.DataFrame]) -> pl.DataFrame:
    """`compute` run once per distinct value of `series`, its columns returned in row order."""
    distinct = as_text(series).unique().rename("__value")
    computed = compute(distinct).with_columns(distinct)
    return (
        as_text(series)
        .rename("__value")
        .to_frame()
        .join(computed, on="__value", how="left", maintain_order="left", nulls_equal=True)
        .drop("__value")
    )
