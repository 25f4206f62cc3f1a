"""Secondary emails and phones of a row (home, mobile, a second address), normalized as lists.

Exports often carry several per person (Salesforce Phone and Mobile, Pipedrive's Work/Home
emails, Google's ` ::: `-joined cells). The first non-empty one is the row's email or phone; the
others are kept here so activities and duplicates that use them are still recognised.
"""

from __future__ import annotations

import polars as pl

from crm_pipeline.contacts.normalize import emails, phones

SEPARATOR = " ::: "


def split_first(frame: pl.DataFrame, field: str) -> pl.DataFrame:
    """A cell holding several values keeps the first; the rest move to `other_<field>s`."""
    other = f"other_{field}s"
    if field not in frame.columns:
        return frame
    parts = pl.col(field).str.split(SEPARATOR)
    rest = parts.list.slice(1).list.join(SEPARATOR)
    existing = pl.col(other) if other in frame.columns else pl.lit(None, pl.Utf8)
    merged = pl.concat_str([pl.when(rest != "").then(rest), existing],
                           separator=SEPARATOR, ignore_nulls=True)
    return frame.with_columns(
        parts.list.first().str.strip_chars().alias(field),
        pl.when(merged != "").then(merged).alias(other),
    )


def other_identifiers(rows: pl.DataFrame, normalized: pl.DataFrame,
                      default_region: str) -> pl.DataFrame:
    """`other_emails` and `other_phones` (lists of valid normalized values, without the primary),
    one row per input row, in order."""
    n = rows.height
    result = pl.DataFrame({"_i": pl.arange(0, n, eager=True)})
    for field, column in (("email", "other_emails"), ("phone", "other_phones")):
        if column not in rows.columns:
            result = result.with_columns(pl.lit([], pl.List(pl.Utf8)).alias(column))
            continue
        long = (
            pl.DataFrame({"_i": pl.arange(0, n, eager=True), "v": rows[column],
                          "region": normalized["country"].fill_null(default_region),
                          "primary": normalized[field]})
            .with_columns(pl.col("v").str.split(SEPARATOR))
            .explode("v")
            .filter(pl.col("v").is_not_null() & (pl.col("v").str.strip_chars() != ""))
        )
        if field == "email":
            values = emails.normalize(long["v"])["email"]
        else:
            values = phones.normalize(long["v"], long["region"])["phone"]
        long = long.with_columns(values.alias("value")).filter(
            pl.col("value").is_not_null() & (pl.col("value") != pl.col("primary").fill_null(""))
        )
        grouped = long.group_by("_i").agg(pl.col("value").unique(maintain_order=True).alias(column))
        result = result.join(grouped, on="_i", how="left", maintain_order="left").with_columns(
            pl.col(column).fill_null(pl.lit([], pl.List(pl.Utf8)))
        )
    return result.drop("_i")
