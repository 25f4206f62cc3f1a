"""Email addresses: trimmed, lower-cased and syntax-checked, with the parts matching needs.

Most addresses are plain ASCII and pass a strict pattern that is vectorised in polars; only the
rest (internationalized, quoted, odd or broken ones) go, once per distinct value, through
email-validator, without any network look-up. The fast pattern accepts a subset of what
email-validator accepts, which a test checks.

Plus-addressing (`jane+news@x.com`) is kept as written in `email`; `email_local_base` drops the
tag (and, for Gmail, the dots Gmail ignores) so that matching can see the same mailbox.

An address that can pass for another one (`jаne.doe@acme.com` with a Cyrillic `а`, a full-width
`ｊ`, a word mixing scripts) is kept, but flagged `confusable_email`: matching never uses it, so
a look-alike cannot take over the contact whose address it imitates.
"""

import re

import polars as pl
from email_validator import EmailNotValidError, validate_email

from crm_pipeline.contacts.normalize.text import INVISIBLE_EDGES, as_text, non_ascii, on_distinct
from crm_pipeline.trust.confusables import imitates_ascii, mixed_script

INVALID_EMAIL = "invalid_email"
CONFUSABLE_EMAIL = "confusable_email"
_WORD_SEPARATORS = re.compile(r"[.@+_-]")

_ATEXT = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_PLAIN_ADDRESS = rf"^{_ATEXT}+(?:\.{_ATEXT}+)*@(?:{_LABEL}\.)+[a-z]{{2,63}}$"
# Reserved names email-validator refuses; checked by the slow path.
_SPECIAL_USE_TLD = r"\.(?:arpa|invalid|local|localhost|onion|test)$"
_GMAIL_DOMAINS = ["gmail.com", "googlemail.com"]
_MAX_LENGTH = 254

OUTPUT_SCHEMA = {
    "email": pl.String,
    "email_raw": pl.String,
    "email_local": pl.String,
    "email_domain": pl.String,
    "email_local_base": pl.String,
    "email_issue": pl.String,
}


def validated(address: str) -> str | None:
    """The normalized, lower-cased address, or None when its syntax is invalid.

    `Jane Doe <jane@x.com>` (an Outlook display-name form) gives `jane@x.com`.
    """
    try:
        result = validate_email(address, check_deliverability=False, allow_display_name=True)
    except EmailNotValidError:
        return None
    return result.normalized.lower()


def confusable_address(address: str) -> bool:
    """True when an address can pass for another: a word of it mixes scripts, or the whole
    address looks like an ASCII one while it is not. Scripts are judged per word (local part
    words, domain labels), so `ivan@почта.рф` is an ordinary address."""
    if address.isascii():
        return False
    words = _WORD_SEPARATORS.split(address)
    return any(mixed_script(w) for w in words if not w.isascii()) or imitates_ascii(address)


def confusable(addresses: pl.Series) -> pl.Series:
    """Per address: whether it can pass for another (`confusable_address`); null is False.
    Only the distinct non-ASCII values are looked at in Python: most addresses are ASCII."""
    text = as_text(addresses)
    flags = pl.repeat(False, text.len(), eager=True, dtype=pl.Boolean).alias(text.name or "")
    rows = non_ascii(text).fill_null(False).arg_true()
    if rows.is_empty():
        return flags
    found = on_distinct(text.gather(rows), lambda distinct: pl.DataFrame(
        {"v": [v is not None and confusable_address(v) for v in distinct]},
        schema={"v": pl.Boolean},
    ))["v"]
    return flags.scatter(rows, found)


def _plain_valid(raw: pl.Series) -> pl.Series:
    """True for the plain ASCII addresses email-validator would accept; null counts as False."""
    lowered = raw.str.to_lowercase()
    return (
        ~non_ascii(raw)
        & lowered.str.contains(_PLAIN_ADDRESS)
        & ~lowered.str.contains(_SPECIAL_USE_TLD)
        & ~lowered.str.contains("--", literal=True)
        & (raw.str.len_bytes() <= _MAX_LENGTH)
    ).fill_null(False)


def normalize(raw: pl.Series) -> pl.DataFrame:
    """Per value: `email` (valid, lower case, else null), `email_raw` (trimmed), the address parts
    `email_local`, `email_domain`, `email_local_base`, and `email_issue` (`invalid_email`, or
    `confusable_email` for a valid address kept but never matched on)."""
    trimmed = as_text(raw).str.strip_chars().replace("", None)
    plain = _plain_valid(trimmed)
    email = pl.select(pl.when(plain).then(trimmed.str.to_lowercase())).to_series()
    others = (~plain & trimmed.is_not_null()).arg_true()
    if not others.is_empty():
        # Only here can a byte order mark or zero-width space sit at the edge: it is no part of
        # the address (`\ufeffjane@x.com` is jane@x.com).
        stripped = trimmed.gather(others).str.replace_all(INVISIBLE_EDGES, "").replace("", None)
        trimmed = trimmed.scatter(others, stripped)
        others = others.filter(stripped.is_not_null())
    if not others.is_empty():
        distinct = trimmed.gather(others).unique()
        checked = pl.DataFrame(
            {"raw": distinct, "email": pl.Series([validated(v) for v in distinct], dtype=pl.String)}
        )
        found = (
            trimmed.gather(others)
            .to_frame("raw")
            .join(checked, on="raw", how="left", maintain_order="left")
        )
        email = email.scatter(others, found["email"])
    frame = pl.DataFrame({"email": email, "email_raw": trimmed,
                          "_confusable": confusable(email)})
    local = pl.col("email").str.extract(r"^(.*)@[^@]*$", 1)
    domain = pl.col("email").str.extract(r"@([^@]*)$", 1)
    frame = frame.with_columns(local.alias("email_local"), domain.alias("email_domain"))
    local_no_tag = pl.col("email_local").str.replace(r"^([^+]+)\+.*$", "${1}")
    return (
        frame.with_columns(
            pl.when(pl.col("email_domain").is_in(_GMAIL_DOMAINS))
            .then(local_no_tag.str.replace_all(".", "", literal=True))
            .otherwise(local_no_tag)
            .alias("email_local_base"),
            pl.when(pl.col("email_raw").is_not_null() & pl.col("email").is_null())
            .then(pl.lit(INVALID_EMAIL))
            .when(pl.col("_confusable"))
            .then(pl.lit(CONFUSABLE_EMAIL))
            .alias("email_issue"),
        )
        .select(OUTPUT_SCHEMA.keys())
        .cast(OUTPUT_SCHEMA)
    )
