"""Dates and timestamps in the formats CRM vendors write, parsed with polars, never per value.

Each distinct value is tried against a list of formats in turn, only values still unparsed going
on to the next format, so the usual one-format column costs one pass. Numeric dates whose day
and month are ambiguous (`03/12/2024`) follow a declared order (`MDY`, `DMY`, `YMD`) or, without
one, the column's own evidence: a first part above 12 proves day-first. A dotted date
(`12.03.2024`) is always day-first.

Month names may be English, German, French or Spanish, written out or abbreviated, with or without
a dot (`15. März 2024`, `3. Okt. 2023`, `1er févr. 2024`, `15 de marzo de 2024`): month names
are put into English before the formats are tried.

A bare five-digit number, whole or decimal (`45123`, `45123.5`, `45123,5`), is an Excel serial
date: days since 1899-12-30, the fraction being the time of day. Only 10000 to 99999 are taken
(1927-05-18 to 2173-10-13), so a year (`2024`) or a compact date (`20240315`) is never read as
one; `2024` alone stays unreadable, as before.

Timestamps come out naive, meaning UTC: without a zone a value is taken as UTC, with one
(`Z`, `+01:00`, `-0500`, `UTC`) it is converted.
"""

import datetime as dt

import polars as pl

from crm_pipeline.contacts.normalize.text import as_text, on_distinct, where
from crm_pipeline.errors import BadArgument

BAD_DATE = "bad_date"
DATE_ORDERS = ("MDY", "DMY", "YMD")
# Regions that write month first; everyone else writes day first.
MONTH_FIRST_REGIONS = frozenset({"US", "PR", "GU", "VI", "AS", "MP", "UM", "PH", "FM", "MH", "PW"})
EARLIEST_BIRTHDATE = dt.date(1900, 1, 1)

_TIMES = ("%H:%M:%S%.f", "%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p", "%I:%M%p")
_ISO_DATES = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d")
_NAMED_MONTH_DATES = (
    "%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y",
    "%d-%b-%Y", "%d-%b-%y", "%d. %B %Y", "%d. %b %Y", "%a, %d %b %Y", "%a %b %d %Y",
)  # fmt: skip
_DAY_FIRST_DOTTED = ("%d.%m.%Y", "%d.%m.%y")
_ORDERED = {
    "MDY": ("%m/%d/%Y", "%m-%d-%Y", "%m/%d/%y", "%m-%d-%y"),
    "DMY": ("%d/%m/%Y", "%d-%m-%Y", "%d/%m/%y", "%d-%m-%y"),
    "YMD": ("%y/%m/%d", "%y-%m-%d"),
}
_ZONE = (
    r"(?i)^(.*\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s*[ap]m)?)\s*(z|utc|gmt|[+-]\d{2}(?::?\d{2})?)$"
)
_AMBIGUOUS = r"^(\d{1,2})[/-](\d{1,2})[/-](\d{2}|\d{4})(?:\s|$)"

# Excel's day zero (serial 1 is 1900-01-01 only in Excel's own, leap-year-bugged calendar; from
# serial 61 on, this epoch is exact) and the serials taken: five digits, with any fraction.
EXCEL_EPOCH = dt.datetime(1899, 12, 30)
EXCEL_SERIAL = r"^\d{5}(?:[.,]\d+)?$"
# Month names and abbreviations (lower case) in German, French and Spanish, by English month.
FOREIGN_MONTHS = {
    "Jan": ("januar", "jänner", "jän", "janvier", "janv", "enero", "ene"),
    "Feb": ("februar", "feber", "février", "fevrier", "févr", "fevr", "fév", "fev", "febrero"),
    "Mar": ("märz", "maerz", "mär", "mrz", "mars", "marzo"),
    "Apr": ("avril", "avr", "abril", "abr"),
    "May": ("mai", "mayo"),
    "Jun": ("juni", "juin", "junio"),
    "Jul": ("juli", "juillet", "juil", "julio"),
    "Aug": ("août", "aout", "agosto", "ago"),
    "Sep": ("septembre", "septiembre", "setiembre", "sept", "set"),
    "Oct": ("oktober", "octobre", "octubre", "okt"),
    "Nov": ("novembre", "noviembre"),
    "Dec": ("dezember", "décembre", "decembre", "diciembre", "dez", "déc", "dic"),
}
_ENGLISH_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)  # fmt: skip
# A value to put into English before the formats: a foreign month name, or an English one with a
# dot (`3. Nov. 2023`); other values (`Mar 3, 2024`, `9:14 PM`) skip that step.
_FOREIGN_MONTH = (
    rf"(?i)\b(?:{'|'.join(n for names in FOREIGN_MONTHS.values() for n in names)})\b"
    rf"|\b(?:{'|'.join(m.lower() for m in FOREIGN_MONTHS)})[a-z]*\."
)


def check_order(date_order: str | None) -> None:
    """Refuse an unknown date order early, naming the accepted ones."""
    if date_order is not None and date_order not in DATE_ORDERS:
        raise BadArgument(
            f"date order {date_order!r} is not known; use one of {', '.join(DATE_ORDERS)}."
        )


def infer_order(raw: pl.Series, default_region: str) -> str:
    """`DMY` or `MDY` for a column: the order its values prove, else the region's custom."""
    parts = (
        pl.DataFrame({"v": raw}, strict=False)
        .select(as_text(pl.col("v")).str.strip_chars().str.extract_groups(_AMBIGUOUS).alias("p"))
        .unnest("p")
        .select(pl.all().cast(pl.Int32, strict=False))
    )
    day_first = int((parts["1"] > 12).sum())
    month_first = int((parts["2"] > 12).sum())
    if day_first != month_first:
        return "DMY" if day_first > month_first else "MDY"
    return "MDY" if default_region.upper() in MONTH_FIRST_REGIONS else "DMY"


def _formats(order: str) -> list[str]:
    """Formats to try, the commonest (ISO, with and without a time) first."""
    iso = [*(f"{d} {t}" for d in _ISO_DATES for t in _TIMES), *_ISO_DATES]
    dates = [*_ORDERED[order], *_DAY_FIRST_DOTTED, *_NAMED_MONTH_DATES]
    if order == "YMD":
        dates += _ORDERED["DMY"]
    return [*iso, *dates, *(f"{d} {t}" for d in dates for t in _TIMES)]


def _split_zone(frame: pl.DataFrame) -> pl.DataFrame:
    """`local` (the value without its zone) and `offset` (minutes east of UTC, 0 if none)."""
    frame = frame.with_columns(pl.col("text").str.extract_groups(_ZONE).alias("zone_parts"))
    frame = frame.with_columns(
        pl.coalesce(pl.col("zone_parts").struct.field("1"), pl.col("text")).alias("local"),
        pl.col("zone_parts").struct.field("2").str.to_uppercase().alias("zone"),
    )
    zone = pl.col("zone")
    sign = pl.when(zone.str.starts_with("-")).then(-1).otherwise(1)
    hours = zone.str.slice(1, 2).cast(pl.Int32, strict=False)
    minutes = zone.str.extract(r"^[+-]\d{2}:?(\d{2})$", 1).cast(pl.Int32, strict=False)
    offset = (sign * (hours.fill_null(0) * 60 + minutes.fill_null(0))).fill_null(0)
    return frame.select("local", offset.alias("offset"))


def excel_serials(values: pl.Series) -> pl.Series:
    """Naive datetimes of Excel serial dates (see the module docstring), null for other values."""
    text = pl.col("v")
    days = text.str.replace(",", ".", literal=True).cast(pl.Float64, strict=False)
    millis = pl.when(text.str.contains(EXCEL_SERIAL)).then((days * 86_400_000).round(0))
    parsed = pl.lit(EXCEL_EPOCH) + pl.duration(milliseconds=millis)
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    return frame.select(parsed.cast(pl.Datetime("us")).alias("parsed")).to_series()


def english_months(values: pl.Series) -> pl.Series:
    """Values with German, French or Spanish month names put into English (`15. März 2024` ->
    `15. Mar 2024`, `15 de marzo de 2024` -> `15 Mar 2024`, `1er févr. 2024` -> `1 Feb 2024`)."""
    text = (
        values.str.normalize("NFC")
        .str.replace(r"\b1er\b", "1")  # French: le 1er mars
        .str.replace_all(r"(?i)(\d)\s+del?\s+", "${1} ")  # Spanish: 15 de marzo de 2024
        .str.replace_all(r"(?i)\s+del?\s+(\d)", " ${1}")
    )
    for (english, names), full in zip(FOREIGN_MONTHS.items(), _ENGLISH_MONTHS, strict=True):
        spellings = "|".join([*names, full, english.lower()])
        text = text.str.replace_all(rf"(?i)\b(?:{spellings})\b\.?", english)
    months = "|".join(FOREIGN_MONTHS)
    return text.str.replace_all(rf"\b({months})(\d)", "${1} ${2}")  # 15.März.2024


def _read_with(todo: pl.Series, formats: list[str]) -> list[pl.DataFrame]:
    """`value` -> `parsed` frames for the values a format reads, each by the first that does."""
    found = []
    for fmt in formats:
        if todo.is_empty():
            break
        parsed = todo.str.to_datetime(fmt, strict=False, exact=True, time_unit="us")
        ok = (parsed.dt.year() >= 1000).fill_null(False)  # %Y also reads "24" as year 24
        found.append(pl.DataFrame({"value": todo.filter(ok), "parsed": parsed.filter(ok)}))
        todo = todo.filter(~ok)
    return found


def _parse_distinct(values: pl.Series, formats: list[str]) -> pl.DataFrame:
    """`value` -> `parsed` (naive datetime) for the values read as an Excel serial, or by one of
    the formats once a month name is put into English."""
    schema = {"value": pl.String, "parsed": pl.Datetime("us")}
    todo = values.drop_nulls().unique()
    is_serial = todo.str.contains(EXCEL_SERIAL)
    serial = todo.filter(is_serial)
    found = [pl.DataFrame({"value": serial, "parsed": excel_serials(serial)})]
    rest = todo.filter(~is_serial)
    foreign = rest.str.contains(_FOREIGN_MONTH)
    if not foreign.any():
        return pl.concat([pl.DataFrame(schema=schema), *found, *_read_with(rest, formats)])
    english = where(rest, foreign, english_months)
    lookup = pl.concat([pl.DataFrame(schema=schema), *_read_with(english.unique(), formats)])
    found.append(
        pl.DataFrame({"value": rest, "english": english})
        .join(lookup.rename({"value": "english"}), on="english")
        .select("value", "parsed")
    )
    return pl.concat([pl.DataFrame(schema=schema), *found])


def _parse_values(values: pl.Series, order: str) -> pl.DataFrame:
    """`parsed` (naive UTC datetime or null) for trimmed values."""
    text = values.str.replace_all(r"\s+", " ").str.replace(r"^(\d{4}-\d{2}-\d{2})[Tt ]", "${1} ")
    frame = _split_zone(text.to_frame("text"))
    lookup = _parse_distinct(frame["local"], _formats(order))
    frame = frame.join(lookup, left_on="local", right_on="value", how="left", maintain_order="left")
    return frame.select((pl.col("parsed") - pl.duration(minutes=pl.col("offset"))).alias("parsed"))


def _parse(raw: pl.Series, order: str) -> pl.DataFrame:
    """`raw` (trimmed), `parsed` (naive UTC datetime or null)."""
    trimmed = as_text(raw).str.strip_chars().replace("", None)
    parsed = on_distinct(trimmed, lambda values: _parse_values(values, order))["parsed"]
    return pl.DataFrame({"raw": trimmed, "parsed": parsed})


def _resolved_order(raw: pl.Series, date_order: str | None, default_region: str) -> str:
    check_order(date_order)
    return date_order or infer_order(raw, default_region)


def parse_timestamps(
    raw: pl.Series, date_order: str | None = None, default_region: str = "US"
) -> pl.DataFrame:
    """`value` (Datetime("us"), naive UTC), `raw` (trimmed) and `issue` (`bad_date`)."""
    parsed = _parse(raw, _resolved_order(raw, date_order, default_region))
    value = pl.col("parsed")
    plausible = value.dt.year().is_between(1900, 2200)
    value = pl.when(plausible).then(value)
    return parsed.select(
        value.cast(pl.Datetime("us")).alias("value"),
        pl.col("raw"),
        pl.when(pl.col("raw").is_not_null() & value.is_null())
        .then(pl.lit(BAD_DATE))
        .alias("issue"),
    )


def parse_dates(
    raw: pl.Series,
    date_order: str | None = None,
    default_region: str = "US",
    latest: dt.date | None = None,
) -> pl.DataFrame:
    """`value` (Date), `raw` (trimmed) and `issue` (`bad_date`, also for a birthdate before
    1900 or after `latest`, default today)."""
    latest = latest or dt.date.today()
    parsed = _parse(raw, _resolved_order(raw, date_order, default_region))
    day = pl.col("parsed").dt.date()
    value = pl.when(day.is_between(EARLIEST_BIRTHDATE, latest)).then(day)
    return parsed.select(
        value.cast(pl.Date).alias("value"),
        pl.col("raw"),
        pl.when(pl.col("raw").is_not_null() & value.is_null())
        .then(pl.lit(BAD_DATE))
        .alias("issue"),
    )


def birth_year(value: pl.Expr, raw: pl.Expr) -> pl.Expr:
    """The year of a birth date, or of a raw value that is a year alone ("1980"): a year is
    still evidence for matching when the day is unknown."""
    alone = raw.str.extract(r"^\s*((?:19|20)\d\d)\s*$", 1).cast(pl.Int32, strict=False)
    return pl.coalesce(value.dt.year().cast(pl.Int32), alone)
