"""Countries to ISO 3166 alpha-2: codes, alpha-3 codes, and names in English, German, French and
Spanish plus common aliases (`UK`, `USA`, `England`, `Deutschland`), from
`data/reference/countries.csv`. Names are compared by their folded key, so case, accents, dots and
spaces do not matter (`U.S.A.`, `usa`, `Österreich`, `osterreich`).
"""

from functools import cache

import polars as pl

from crm_pipeline.contacts.normalize.text import as_text, compact_key, on_distinct
from crm_pipeline.paths import REFERENCE_DIR

COUNTRIES_FILE = REFERENCE_DIR / "countries.csv"
UNKNOWN_COUNTRY = "unknown_country"

OUTPUT_SCHEMA = {"country": pl.String, "country_raw": pl.String, "country_issue": pl.String}


@cache
def _lookup() -> dict[str, str]:
    """Folded name -> alpha-2; every alpha-2 code is also a name of its own country."""
    names = pl.read_csv(COUNTRIES_FILE, schema={"name": pl.String, "alpha2": pl.String})
    lookup = dict(zip(compact_key(names["alpha2"]), names["alpha2"], strict=True))
    for name_key, code in zip(compact_key(names["name"]), names["alpha2"], strict=True):
        lookup.setdefault(name_key, code)
    return lookup


@cache
def country_codes() -> frozenset[str]:
    """Every ISO 3166 alpha-2 code the reference file knows (plus XK, Kosovo)."""
    return frozenset(_lookup().values())


def _codes(raw: pl.Series) -> pl.DataFrame:
    codes = compact_key(raw).replace_strict(_lookup(), default=None, return_dtype=pl.String)
    return codes.to_frame("country")


def to_iso2(raw: pl.Series) -> pl.Series:
    """The alpha-2 code of each country value (null when empty or unknown)."""
    return on_distinct(raw, _codes)["country"]


def normalize(raw: pl.Series) -> pl.DataFrame:
    """`country` (alpha-2 or null), `country_raw` (trimmed), `country_issue` (`unknown_country`)."""
    trimmed = as_text(raw).str.strip_chars().replace("", None)
    frame = pl.DataFrame({"country": to_iso2(trimmed), "country_raw": trimmed})
    return frame.with_columns(
        pl.when(pl.col("country_raw").is_not_null() & pl.col("country").is_null())
        .then(pl.lit(UNKNOWN_COUNTRY))
        .alias("country_issue"),
    ).cast(OUTPUT_SCHEMA)
