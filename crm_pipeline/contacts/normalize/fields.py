"""The remaining contact fields: free text, company size, tags and consent.

Free text is only cleaned (NFC, whitespace), never rewritten: a value such as `=HYPERLINK("x")`,
`+cmd`, `@SUM(A1)` or `'; DROP TABLE x; --` is data, stored and returned exactly as written
(escaping it is the job of whoever writes it into a spreadsheet or a query).
"""

import polars as pl

from crm_pipeline.contacts.normalize.text import as_text, clean_block, clean_line, on_distinct

INVALID_COMPANY_SIZE = "invalid_company_size"

# Consent words as vendors write them (Mailchimp statuses, HubSpot marketing contact status,
# Pipedrive marketing status, yes/no and boolean columns), folded to lower case and single spaces.
GRANTED = (
    "granted", "subscribed", "subscriber", "opted in", "opt in", "optin", "opted-in", "opt-in",
    "double opt-in", "double opt in", "confirmed", "yes", "y", "true", "1", "consent",
    "consented", "consent given", "marketing contact", "marketing", "ja", "oui", "si", "sí",
)  # fmt: skip
DENIED = (
    "denied", "unsubscribed", "opted out", "opt out", "optout", "opted-out", "opt-out", "no",
    "n", "false", "0", "cleaned", "bounced", "hard bounce", "non-marketing",
    "non-marketing contact", "non marketing contact", "no consent", "no_consent",
    "consent withdrawn", "withdrawn", "do not email", "do not contact", "blocked", "spam",
    "complained", "nein", "non",
)  # fmt: skip
_CONSENT = {**dict.fromkeys(GRANTED, "granted"), **dict.fromkeys(DENIED, "denied")}
_TAG_SEPARATORS = r"\s:::\s|[;,|]"
# Google Contacts marks its system groups with `* `. Every contact of an account is in
# `* myContacts` (legacy `* My Contacts`), so it says nothing about the person and is dropped; the
# others (`* starred`, `* Friends`, `* Family`, `* Coworkers`) were chosen by the user and are kept
# without the mark.
_GOOGLE_DEFAULT_GROUP = r"(?i)^\*\s*my\s*contacts$"
_GOOGLE_SYSTEM_MARK = r"^\*\s+"


def one_line(series: pl.Series) -> pl.Series:
    """NFC, trimmed, inner whitespace folded to one space, empty as null."""
    return clean_line(series).alias(series.name)


def multi_line(series: pl.Series) -> pl.Series:
    """NFC and trimmed; line breaks kept; empty as null."""
    return clean_block(series).alias(series.name)


def _employees(raw: pl.Series) -> pl.DataFrame:
    frame = raw.str.to_lowercase().to_frame("text")
    frame = frame.with_columns(
        pl.col("text")
        .str.extract(r"^\D*?(\d{1,3}(?:[.,\s]\d{3})+)(?:[^\d.,]|$)", 1)
        .alias("grouped"),
        pl.col("text").str.extract(r"(\d+(?:[.,]\d+)?)", 1).alias("number"),
        pl.col("text")
        .str.extract(r"\d(?:[.,]\d+)*\s*(k|m|mio|thousand|million)\b", 1)
        .alias("unit"),
    )
    value = (
        pl.when(pl.col("grouped").is_not_null())
        .then(pl.col("grouped").str.replace_all(r"\D", ""))
        .otherwise(pl.col("number").str.replace(",", ".", literal=True))
        .cast(pl.Float64, strict=False)
    )
    scale = (
        pl.when(pl.col("unit").is_in(["k", "thousand"]))
        .then(1_000)
        .when(pl.col("unit").is_in(["m", "mio", "million"]))
        .then(1_000_000)
        .otherwise(1)
    )
    return frame.select((value * scale).round(0).cast(pl.Int64, strict=False).alias("size"))


def company_size(raw: pl.Series) -> pl.DataFrame:
    """`company_size` (Int64): `250`, `1,000`, `1.000`, `1 000`, `100-499` (lower bound),
    `5000+`, `10k`, `1.5k`; `company_size_raw` (trimmed); `company_size_issue`."""
    trimmed = as_text(raw).str.strip_chars().replace("", None)
    frame = pl.DataFrame(
        {"company_size": on_distinct(trimmed, _employees)["size"], "company_size_raw": trimmed}
    )
    return frame.with_columns(
        pl.when(pl.col("company_size_raw").is_not_null() & pl.col("company_size").is_null())
        .then(pl.lit(INVALID_COMPANY_SIZE))
        .alias("company_size_issue"),
    )


def _tag_lists(raw: pl.Series) -> pl.DataFrame:
    unified = clean_line(raw).fill_null("").str.replace_all(_TAG_SEPARATORS, "\x1f")
    lists = unified.to_frame("tags").select(
        pl.col("tags")
        .str.split("\x1f")
        .list.eval(pl.element().str.strip_chars())
        .list.eval(pl.element().filter(~pl.element().str.contains(_GOOGLE_DEFAULT_GROUP)))
        .list.eval(pl.element().str.replace(_GOOGLE_SYSTEM_MARK, ""))
        .list.eval(pl.element().filter(pl.element() != ""))
        .list.unique(maintain_order=True)
    )
    return lists.cast({"tags": pl.List(pl.String)})


def tags(raw: pl.Series) -> pl.Series:
    """Tags split on `;`, `,`, `|` and Google's ` ::: `, trimmed, empties dropped, duplicates
    dropped keeping the first; an empty list when there are none. Google's system groups lose
    their `* ` mark (`* starred` -> `starred`), and its default group `* myContacts` is dropped."""
    return on_distinct(raw, _tag_lists)["tags"]


def _consent(raw: pl.Series) -> pl.DataFrame:
    word = clean_line(raw).str.to_lowercase().str.replace_all(r"[_\s]+", " ")
    status = word.replace_strict(_CONSENT, default="unknown", return_dtype=pl.String)
    return status.to_frame("consent_status")


def consent_status(raw: pl.Series) -> pl.Series:
    """`granted`, `denied` or `unknown` from the consent and opt-out words vendors write."""
    return on_distinct(raw, _consent)["consent_status"]
