"""Company names: a display form as written, and a matching key without legal form or punctuation.

`ACME, Inc`, `Acme Inc.` and `Acme` all give the key `acme`; `Müller GmbH & Co. KG` gives
`muller`. The legal forms are reference data (`data/reference/company_suffixes.txt`).
"""

import re
from functools import cache

import polars as pl

from crm_pipeline.contacts.normalize.text import clean_line, folded, on_distinct, settled
from crm_pipeline.paths import REFERENCE_DIR

SUFFIXES_FILE = REFERENCE_DIR / "company_suffixes.txt"

OUTPUT_SCHEMA = {"company": pl.String, "company_key": pl.String}


def _spaced_key(series: pl.Series) -> pl.Series:
    """Folded text with dots and apostrophes dropped (S.A. -> sa) and other punctuation as space."""
    return settled(
        series,
        lambda s: (
            folded(s)
            .str.replace_all(r"[.'’`´]", "")
            .str.replace_all(r"[^\p{L}\p{M}\p{N}]+", " ")
            .str.strip_chars()
        ),
    )


@cache
def legal_suffixes() -> tuple[str, ...]:
    """The legal-form suffixes, folded as keys are, longest first."""
    written = [
        line.strip()
        for line in SUFFIXES_FILE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    unique = {form for form in _spaced_key(pl.Series(written, dtype=pl.String)) if form}
    return tuple(sorted(unique, key=lambda form: (-len(form), form)))


@cache
def _suffix_pattern() -> str:
    alternatives = "|".join(re.escape(form).replace(r"\ ", r"\s+") for form in legal_suffixes())
    return rf"(?:\s+(?:{alternatives}))+$"


def _key(names: pl.Series) -> pl.Series:
    return _spaced_key(names).str.replace(_suffix_pattern(), "").replace("", None)


def match_key(series: pl.Series) -> pl.Series:
    """`company_key` per company name: lower case, ASCII-folded, legal suffixes and punctuation
    removed, spaces folded (null when nothing is left)."""
    return on_distinct(series, lambda names: _key(names).to_frame("company_key"))["company_key"]


def _display_and_key(names: pl.Series) -> pl.DataFrame:
    shown = clean_line(names)
    return pl.DataFrame({"company": shown, "company_key": _key(shown)})


def normalize(series: pl.Series) -> pl.DataFrame:
    """`company` (trimmed, whitespace folded, otherwise as written) and `company_key`."""
    return on_distinct(series, _display_and_key).cast(OUTPUT_SCHEMA)
