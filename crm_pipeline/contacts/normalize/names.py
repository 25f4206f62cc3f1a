"""Person names: display forms as written (case repaired only when shouting or all lower case),
matching keys, and a single "Name" column split into first and last name.

Splitting rules, chosen for matching rather than for etiquette:
- "Smith, John A." is last name first: John / Smith.
- "John A. Smith": the first token is the first name, the last token (with particles such as
  "van", "de la", "bin") the last name; middle names are dropped, so that the first-name key of
  "John A. Smith" equals that of "John Smith". The raw `full_name` column is kept unchanged.
- A single token ("Madonna", "山田太郎") is the last name: most CRMs require a last name and
  treat a lone name as one; CJK names written without a space cannot be split safely.
- CJK or Hangul written with a space ("山田 太郎") is family name first: 太郎 / 山田.
- Salutations (Dr., Mr., Mrs., Prof., Herr, Frau, Mme, ...) and trailing suffixes (Jr., III,
  PhD, ...) are dropped from the split parts.
"""

import polars as pl

from crm_pipeline.contacts.normalize.text import clean_line, compact_key, on_distinct, where

_PARTICLES = (
    "van|von|de|der|den|du|da|di|del|della|des|la|le|ten|ter|dos|das|do|zu|bin|ibn|al|el"
    "|abu|abd|st|st\\.|عبد|بن|ابن|أبو|ابو|آل"
)
_WESTERN = rf"(?i)^(\S+)\s+(?:.*?\s+)??((?:(?:{_PARTICLES})\s+)*\S+)$"
_TITLES = (
    r"(?i)^(?:(?:dr|mr|mrs|ms|mx|miss|prof|sir|dame|rev|herr|frau|mme|mlle|mister)\.?\s+"
    r"|(?:m|hr|fr|sra|srta|dott|ing|mag|dipl)\.\s*)+"
)
_SUFFIXES = r"(?i)(?:,?\s+(?:jr|sr|ii|iii|iv|phd|ph\.d|md|m\.d|esq|mba|dds|cpa)\.?)+$"
_EAST_ASIAN = r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]"

OUTPUT_SCHEMA = {
    "first_name": pl.String,
    "last_name": pl.String,
    "first_name_key": pl.String,
    "last_name_key": pl.String,
}

# Only text that looks like a name is re-cased; "@SUM(A1)" or "=HYPERLINK(...)" stays as written.
_NAME_LIKE = r"^[\p{L}\p{M}\s'’.\-]+$"
# Lower-case particles inside a name we re-cased ourselves ("LUDWIG VAN BEETHOVEN").
_PARTICLE_CASE = {
    f" {p.title()} ": f" {p} "
    for p in "van von de der den du da di del della des la le ten ter dos das do zu y".split()
}


def display(series: pl.Series) -> pl.Series:
    """A name as written, re-cased only when it has letters of a single case."""
    text = clean_line(series)
    recased = _fix_case(text)
    # Keep a re-casing only if it is stable: letters like "ŉ" title-case into something that
    # would be re-cased again.
    stable = _fix_case(recased) == recased
    return pl.select(pl.when(stable.fill_null(True)).then(recased).otherwise(text)).to_series()


def _fix_case(text: pl.Series) -> pl.Series:
    single_case = text.str.contains(r"\p{Lu}") ^ text.str.contains(r"\p{Ll}")
    return where(text, single_case & text.str.contains(_NAME_LIKE), _recased)


def _recased(text: pl.Series) -> pl.Series:
    titled = text.str.to_titlecase().str.replace_many(_PARTICLE_CASE)
    titled = titled.str.replace_many(_PARTICLE_CASE)  # "De La": the shared space is used once
    return where(
        titled,
        titled.str.contains(r"^Mc\p{Ll}"),
        lambda s: "Mc" + s.str.slice(2).str.to_titlecase(),
    )


def key(series: pl.Series) -> pl.Series:
    """A name's matching key: lower case, Latin accents folded, punctuation and spaces removed."""
    return compact_key(series)


def _split(full: pl.Series) -> pl.DataFrame:
    """First and last name, as written (not yet re-cased), from cleaned single-name values."""
    frame = pl.DataFrame({"name": full.str.replace(_SUFFIXES, "")})
    frame = frame.with_columns(
        pl.col("name").str.contains(",").alias("has_comma"),
        pl.col("name").str.replace(_TITLES, "").str.strip_chars().alias("plain"),
        pl.col("name")
        .str.extract(r"^[^,]*,(.*)$", 1)
        .str.replace_all(",", " ")
        .str.strip_chars()
        .str.replace(_TITLES, "")
        .alias("given"),
    )
    plain = pl.col("plain")
    single = ~plain.str.contains(r"\s")
    east_asian = plain.str.contains(_EAST_ASIAN) & ~plain.str.contains(r"\p{Latin}")
    first = (
        pl.when(pl.col("has_comma"))
        .then(pl.col("given").str.extract(r"^(\S+)", 1))
        .when(single)
        .then(None)
        .when(east_asian)
        .then(plain.str.extract(r"^\S+\s+(.+)$", 1))
        .otherwise(plain.str.extract(_WESTERN, 1))
    )
    last = (
        pl.when(pl.col("has_comma"))
        .then(pl.col("name").str.extract(r"^([^,]*),", 1).str.strip_chars())
        .when(single)
        .then(plain)
        .when(east_asian)
        .then(plain.str.extract(r"^(\S+)\s", 1))
        .otherwise(plain.str.extract(_WESTERN, 2))
    )
    return frame.select(
        first.replace("", None).alias("first_name"), last.replace("", None).alias("last_name")
    )


def split_full_name(full: pl.Series) -> pl.DataFrame:
    """`first_name`, `last_name` display forms split from a single "Name" column."""
    parts = on_distinct(clean_line(full), _split)
    return parts.select(
        display(parts["first_name"]).alias("first_name"),
        display(parts["last_name"]).alias("last_name"),
    )


def _display_and_key(names: pl.Series) -> pl.DataFrame:
    shown = display(names)
    return pl.DataFrame({"display": shown, "key": key(shown)})


def normalize(first: pl.Series, last: pl.Series, full: pl.Series | None = None) -> pl.DataFrame:
    """`first_name`, `last_name`, `first_name_key`, `last_name_key`; `full` (a single "Name"
    column) is split only where both first and last name are empty."""
    first, last = clean_line(first), clean_line(last)
    if full is not None:
        needs_split = first.is_null() & last.is_null()
        rows = needs_split.arg_true()
        if not rows.is_empty():
            parts = on_distinct(clean_line(full.gather(rows)), _split)
            first = first.scatter(rows, parts["first_name"])
            last = last.scatter(rows, parts["last_name"])
    first_out = on_distinct(first, _display_and_key)
    last_out = on_distinct(last, _display_and_key)
    return pl.DataFrame(
        {
            "first_name": first_out["display"],
            "last_name": last_out["display"],
            "first_name_key": first_out["key"],
            "last_name_key": last_out["key"],
        },
        schema=OUTPUT_SCHEMA,
    )


# Soundex codes of the letters a name key may hold (vowels, y, h and w: "0" separates, "" not).
_SOUNDEX = {
    **dict.fromkeys("aeiouy", "0"), **dict.fromkeys("hw", ""), **dict.fromkeys("bfpv", "1"),
    **dict.fromkeys("cgjkqsxz", "2"), **dict.fromkeys("dt", "3"), "l": "4",
    **dict.fromkeys("mn", "5"), "r": "6",
}  # fmt: skip


def soundex(keys: pl.Series) -> pl.Series:
    """American Soundex of name keys (`Robert`, `Rupert` -> `r163`), vectorised; null for a key
    that does not start with a Latin letter. A phonetic blocking key: "Meyer" and "Maier" meet."""
    letters = keys.str.replace_all(r"[^a-z]", "")
    codes = letters.str.replace_many(_SOUNDEX)
    for digit in "0123456":
        codes = codes.str.replace_all(f"{digit}+", digit)
    code = codes.str.slice(1).str.replace_all("0", "")
    # A leading h or w has no code of its own: the first code is then the next letter's.
    code = pl.select(
        pl.when(letters.str.contains("^[hw]")).then(codes.str.replace_all("0", "")).otherwise(code)
    ).to_series()
    out = letters.str.slice(0, 1) + (code + "000").str.slice(0, 3)
    return pl.select(pl.when(letters.str.contains("^[a-z]")).then(out)).to_series().alias("soundex")
