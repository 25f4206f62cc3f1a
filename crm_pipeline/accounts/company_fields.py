"""Company files read into fields: which column is which, and the values parsed.

A company or enrichment export names its columns after its vendor (`Company Domain Name`,
`Account Name`, `# Employees`); `data/reference/company_headers.yaml` lists them by field.
Values are parsed as polars expressions over the whole file (no per-row Python): sizes and
revenues given as a number, a range (`251-500`, `$10M-$50M`), an open range (`10,001+`,
`Under $1M`) or with a multiplier (`5K`, `1.2bn`) become a minimum and a maximum; domains come
from the domain column, else the website (`https://www.acme.co.uk/about` -> `acme.co.uk`). A
value that cannot be read is kept with a problem code, never guessed.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from crm_pipeline.contacts.ingest.headers import fold
from crm_pipeline.contacts.ingest.table import RawTable
from crm_pipeline.paths import REFERENCE_DIR
from crm_pipeline.yaml_docs import parsed_yaml

HEADERS_FILE = REFERENCE_DIR / "company_headers.yaml"
FIELDS = ("source_id", "name", "domain", "website", "industry", "employees", "annual_revenue",
          "currency", "country", "city", "naics", "sic", "linkedin_url")
MAX_EMPLOYEES = 10_000_000  # more than any employer has
MAX_REVENUE = 1e13  # tenant currency: beyond any company, and within DECIMAL(18, 2)
MULTIPLIERS = {"k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}
# Words folded before parsing (after lower-casing): multipliers to one letter, open ranges to
# `<`, `>` and `+`, range words to `-`; what is left is numbers, multipliers and currencies.
_FOLDS = (
    (r"\s+", " "),
    (r"^(?:approx\.?|approximately|about|around|ca\.?|circa|~)\s*", ""),
    (r"\s*(?:per year|/ ?year|/ ?yr|p\.? ?a\.?|annually|a year)$", ""),
    (r"(^|[^a-z])(?:thousands?|tsd\.?)($|[^a-z])", "${1}k${2}"),
    (r"(^|[^a-z])(?:millions?|mio\.?|mill?\.?|mm|mn)($|[^a-z])", "${1}m${2}"),
    (r"(^|[^a-z])(?:billions?|bn|mrd\.?)($|[^a-z])", "${1}b${2}"),
    (r"(^|[^a-z])(?:trillions?)($|[^a-z])", "${1}t${2}"),
    (r"\s*(?:\+|or more|and more|and above|and over|plus)$", "+"),
    (r"^(?:over|more than|at least|above|from|>=?)\s*", ">"),
    (r"^(?:under|less than|fewer than|below|up to|<=?)\s*", "<"),
    (r"\s*(?:-|–|—|\bto\b|\bbis\b)\s*", "-"),
)
SYMBOLS = {"us$": "USD", "usd$": "USD", "ca$": "CAD", "c$": "CAD", "au$": "AUD", "a$": "AUD",
           "$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "fr.": "CHF"}
_NUM = r"\d[\d,.' ]*?"
_TOKEN = rf"(?:{_NUM} ?[kmbt]?)"



@cache
def _header_fields() -> dict[str, tuple[str, int]]:
    """Folded header -> (field, rank)."""
    doc = parsed_yaml(HEADERS_FILE.read_text(encoding="utf-8"))
    out: dict[str, tuple[str, int]] = {}
    for name, headers in doc["fields"].items():
        if name not in FIELDS:
            raise ValueError(f"{HEADERS_FILE}: unknown field {name!r}")
        for rank, header in enumerate(headers):
            key = fold(str(header))
            if key in out:
                raise ValueError(f"{HEADERS_FILE}: header {header!r} is listed twice")
            out[key] = (name, rank)
    return out


def field_columns(headers: list[str]) -> dict[str, list[str]]:
    """The file's columns feeding each field, best-ranked first (fields with none left out)."""
    known = _header_fields()
    found: dict[str, list[tuple[int, str]]] = {}
    for header in headers:
        hit = known.get(fold(header))
        if hit:
            found.setdefault(hit[0], []).append((hit[1], header))
    return {name: [h for _, h in sorted(cols)] for name, cols in found.items()}


def _text(column: str) -> pl.Expr:
    value = pl.col(column).cast(pl.String).str.strip_chars()
    return pl.when(value == "").then(None).otherwise(value)


def company_rows(table: RawTable) -> tuple[pl.DataFrame, dict[str, list[str]]]:
    """One row per readable record: row_number, every field as text (the first non-empty of
    the field's columns, null when none) and `raw` (the record as JSON, for quarantine); and
    the columns used per field."""
    columns = field_columns(table.headers)
    raw = pl.struct([pl.col(h) for h in table.headers]).struct.json_encode()
    rows = table.rows.select(
        pl.col("row_number"),
        *[(pl.coalesce([_text(c) for c in columns[f]]) if f in columns
           else pl.lit(None, pl.String)).alias(f) for f in FIELDS],
        raw.alias("raw"),
    )
    return rows, columns


def _folded(frame: pl.DataFrame, src: str, dst: str) -> pl.DataFrame:
    """`dst`: `src` lower case with _FOLDS applied, one column step per fold (a step per column
    keeps polars' expression trees small: nesting them made a plan of thousands of nodes)."""
    frame = frame.with_columns(pl.col(src).str.to_lowercase().str.strip_chars().alias(dst))
    for pattern, replacement in _FOLDS:
        frame = frame.with_columns(pl.col(dst).str.replace_all(pattern, replacement))
    return frame.with_columns(pl.col(dst).str.strip_chars())


def _number(frame: pl.DataFrame, src: str, dst: str) -> pl.DataFrame:
    """`dst`: the number `src` writes with an optional multiplier letter (`1,000`, `1.000`,
    `1.000,5`, `2.5m`)."""
    frame = frame.with_columns(
        pl.col(src).str.extract(r"^(\d[\d,.' ]*?) ?[kmbt]?$").str.replace_all(r"[' ]", "")
        .alias("_digits"),
        pl.col(src).str.extract(r"([kmbt])$").alias("_letter"),
    )
    digits = pl.col("_digits")
    grouped = digits.str.contains(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$|^\d{1,3}(?:\.\d{3}){2,}$")
    european = digits.str.contains(r"^\d{1,3}(?:\.\d{3})+,\d+$")
    plain = (pl.when(european).then(digits.str.replace_all(r"\.", "").str.replace(",", "."))
             .when(grouped & digits.str.contains(",")).then(digits.str.replace_all(",", ""))
             .when(grouped).then(digits.str.replace_all(r"\.", ""))
             .otherwise(digits.str.replace(",", ".")))
    factor = pl.when(pl.col("_letter").is_null()).then(pl.lit(1.0)).otherwise(
        pl.col("_letter").replace_strict(MULTIPLIERS, default=None, return_dtype=pl.Float64))
    return frame.with_columns((plain.cast(pl.Float64, strict=False) * factor).alias(dst)).drop(
        "_digits", "_letter")


def _bounds(frame: pl.DataFrame, src: str) -> pl.DataFrame:
    """`lo`, `hi` of folded text `src`: `251-500`, `10,001+`, `<50`, `>1m`, `1.2k`, `10-50m` (a
    multiplier written once, after a range, applies to both ends). Null lo when unreadable."""
    t = pl.col(src)
    frame = frame.with_columns(
        t.str.extract(rf"^({_TOKEN})-{_TOKEN}$").alias("_rlo"),
        t.str.extract(rf"^{_TOKEN}-({_TOKEN})$").alias("_rhi"),
        t.str.extract(rf"^({_TOKEN})\+$").alias("_plus"),
        t.str.extract(rf"^>({_TOKEN})$").alias("_over"),
        t.str.extract(rf"^<({_TOKEN})$").alias("_under"),
        t.str.extract(rf"^({_TOKEN})$").alias("_single"),
    ).with_columns(
        pl.when(pl.col("_rlo").str.contains(r"\d$"))
        .then(pl.col("_rlo") + pl.col("_rhi").str.extract(r"([kmbt])$").fill_null(""))
        .otherwise(pl.col("_rlo")).alias("_rlo"))
    parts = ("_rlo", "_rhi", "_plus", "_over", "_under", "_single")
    for name in parts:
        frame = _number(frame, name, f"{name}_n")
    n = {name: pl.col(f"{name}_n") for name in parts}
    given = {name: pl.col(name).is_not_null() for name in parts}
    lo = (pl.when(given["_single"]).then(n["_single"]).when(given["_rlo"]).then(n["_rlo"])
          .when(given["_plus"]).then(n["_plus"]).when(given["_over"]).then(n["_over"])
          .when(given["_under"]).then(pl.lit(0.0)))
    hi = (pl.when(given["_single"]).then(n["_single"]).when(given["_rlo"]).then(n["_rhi"])
          .when(given["_under"]).then(n["_under"]))
    return frame.with_columns(lo.alias("lo"), hi.alias("hi")).drop(
        *parts, *(f"{name}_n" for name in parts))


def _per_distinct(values: pl.DataFrame, compute) -> pl.DataFrame:
    """`compute` (frame -> frame with added columns) run on the distinct rows of `values`, its
    added columns returned in `values`' row order."""
    keys = values.columns
    distinct = compute(values.unique())
    return values.join(distinct, on=keys, how="left", maintain_order="left",
                       nulls_equal=True).drop(keys)


def _employees(frame: pl.DataFrame) -> pl.DataFrame:
    frame = frame.with_columns(pl.col("v").str.to_lowercase().str.replace(
        r"\s*(?:employees?|people|staff|mitarbeiter|ftes?)\s*$", "").alias("_e"))
    frame = _bounds(_folded(frame, "_e", "_t"), "_t")
    lo, hi = pl.col("lo"), pl.col("hi")
    ok = (lo.is_not_null() & (lo >= 0) & (lo <= MAX_EMPLOYEES) & (lo == lo.round(0))
          & (hi.is_null() | ((hi >= lo) & (hi <= MAX_EMPLOYEES) & (hi == hi.round(0)))))
    return frame.with_columns(pl.when(ok).then(lo).alias("lo"),
                              pl.when(ok).then(hi).alias("hi")).drop("_e", "_t")


def employee_bounds(values: pl.Series) -> pl.DataFrame:
    """`lo`, `hi` employees per value; null lo when the value is no count, range or open range
    of 0 to MAX_EMPLOYEES whole people (`-5`, `lots`, `12.5`)."""
    return _per_distinct(values.alias("v").to_frame(), _employees)


def _revenue(frame: pl.DataFrame) -> pl.DataFrame:
    frame = _folded(frame, "v", "_t").with_columns(pl.lit(None, pl.String).alias("_symbol"))
    for mark, code in SYMBOLS.items():  # longest marks first (us$ before $)
        hit = pl.col("_t").str.contains(mark, literal=True)
        frame = frame.with_columns(
            pl.when(pl.col("_symbol").is_null() & hit).then(pl.lit(code))
            .otherwise(pl.col("_symbol")).alias("_symbol"),
            pl.col("_t").str.replace_all(mark, " ", literal=True))
    frame = frame.with_columns(
        pl.col("_t").str.extract(r"(?:^|[^a-z])([a-z]{3})(?:[^a-z]|$)").str.to_uppercase()
        .alias("_code"),
        pl.col("_t").str.replace(r"(^|[^a-z])[a-z]{3}($|[^a-z])", "${1} ${2}")
        .str.replace_all(r"\s+", " ").str.replace_all(r" ?([-+<>]) ?", "$1").str.strip_chars()
        .alias("_amount"))
    frame = _bounds(frame, "_amount")
    lo, hi = pl.col("lo"), pl.col("hi")
    ok = lo.is_not_null() & (lo >= 0) & (hi.is_null() | (hi >= lo))
    given = pl.col("c").str.strip_chars().str.to_uppercase()
    currency = pl.coalesce("_symbol", "_code", pl.when(given == "").then(None).otherwise(given))
    return frame.with_columns(pl.when(ok).then(lo).alias("lo"), pl.when(ok).then(hi).alias("hi"),
                              currency.alias("currency")).drop("_t", "_symbol", "_code", "_amount")


def revenue_parts(values: pl.Series, currencies: pl.Series) -> pl.DataFrame:
    """`lo`, `hi`, `currency` per annual revenue as written: the currency from a symbol or an
    ISO code in the value (`$10M-$50M`, `EUR 5m`, `5.000.000 €`), else the currency column's;
    null when neither gives one. lo null when the amount cannot be read or is negative."""
    frame = pl.DataFrame({"v": values, "c": currencies}, schema={"v": pl.String, "c": pl.String})
    return _per_distinct(frame, _revenue)


def host_of(column: str) -> pl.Expr:
    """The host name a domain, website URL or e-mail address names, lower case, without
    scheme, `www.`, port, path or trailing dot."""
    t = pl.col(column).str.to_lowercase().str.strip_chars()
    t = t.str.replace(r"^[^@\s]*@", "").str.replace(r"^[a-z][a-z0-9+.-]*://", "")
    t = t.str.replace(r"^[^@/]*@", "").str.replace(r"[/?#:].*$", "").str.strip_chars(".")
    return t.str.replace(r"^www\d*\.", "")
