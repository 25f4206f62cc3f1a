"""A frame of imported contact rows, normalized field by field, with its data-hygiene findings.

An invalid field (an email without a domain, a number that is no phone number) never stops a
row: the field is left empty, its `<field>_issue` says why, and its original value is kept in
`<field>_raw`, so `hygiene_issues` can report it. Whether the row still identifies a person is
`identity_expr()`.
"""

import polars as pl

from crm_pipeline.contacts.normalize import (
    companies,
    countries,
    dates,
    emails,
    fields,
    names,
    phones,
)
from crm_pipeline.contacts.normalize.text import on_distinct
from crm_pipeline.errors import BadArgument

INPUT_COLUMNS = (
    "source_id", "first_name", "last_name", "full_name", "email", "phone", "company", "job_title",
    "industry", "company_size", "street", "city", "postcode", "state", "country", "birthdate",
    "tags", "notes", "lifecycle_stage", "consent_status", "created_at",
)  # fmt: skip

OUTPUT_SCHEMA: dict[str, pl.DataType] = {
    "row_number": pl.Int64(),
    "source_id": pl.String(),
    "first_name": pl.String(),
    "last_name": pl.String(),
    "first_name_key": pl.String(),
    "last_name_key": pl.String(),
    "email": pl.String(),
    "email_raw": pl.String(),
    "email_local": pl.String(),
    "email_domain": pl.String(),
    "email_local_base": pl.String(),
    "email_issue": pl.String(),
    "phone": pl.String(),
    "phone_raw": pl.String(),
    "phone_type": pl.String(),
    "phone_issue": pl.String(),
    "company": pl.String(),
    "company_key": pl.String(),
    "job_title": pl.String(),
    "industry": pl.String(),
    "company_size": pl.Int64(),
    "company_size_raw": pl.String(),
    "company_size_issue": pl.String(),
    "street": pl.String(),
    "city": pl.String(),
    "postcode": pl.String(),
    "state": pl.String(),
    "country": pl.String(),
    "country_raw": pl.String(),
    "country_issue": pl.String(),
    "birthdate": pl.Date(),
    "birthdate_raw": pl.String(),
    "birthdate_issue": pl.String(),
    "birth_year": pl.Int32(),
    "tags": pl.List(pl.String()),
    "notes": pl.String(),
    "lifecycle_stage": pl.String(),
    "consent_status": pl.String(),
    "created_at": pl.Datetime("us"),
    "created_at_raw": pl.String(),
    "created_at_issue": pl.String(),
    "has_identity": pl.Boolean(),
}

LOW_CARDINALITY_TEXT = ("job_title", "industry", "city", "state", "lifecycle_stage")

# Fields whose problems are reported, in report order.
HYGIENE_FIELDS = ("email", "phone", "country", "birthdate", "created_at", "company_size")
HYGIENE_SCHEMA = {
    "row_number": pl.Int64,
    "field": pl.String,
    "original_value": pl.String,
    "issue": pl.String,
}


def identity_expr() -> pl.Expr:
    """A row identifies a person when it has a name with a letter, a valid email or phone."""
    return (
        pl.col("first_name_key").str.contains(r"\p{L}").fill_null(False)
        | pl.col("last_name_key").str.contains(r"\p{L}").fill_null(False)
        | pl.col("email").is_not_null()
        | pl.col("phone").is_not_null()
    )


def _home_region(default_region: str) -> str:
    region = (default_region or "").strip().upper()
    if region not in countries.country_codes():
        raise BadArgument(
            f"region {default_region!r} is not an ISO 3166 country code; "
            "use a two-letter code such as US or DE."
        )
    return region


def _with_all_inputs(frame: pl.DataFrame) -> pl.DataFrame:
    if "row_number" not in frame.columns:
        raise ValueError("normalize_contacts needs a row_number column to keep rows traceable.")
    missing = [pl.lit(None, pl.String).alias(c) for c in INPUT_COLUMNS if c not in frame.columns]
    return frame.with_columns(missing).with_columns(
        pl.col("row_number").cast(pl.Int64), pl.col(INPUT_COLUMNS).cast(pl.String)
    )


def _repeated_text(series: pl.Series) -> pl.Series:
    """`fields.one_line` once per distinct value, for columns that repeat (cities, titles)."""
    return on_distinct(series, lambda v: fields.one_line(v).to_frame("v"))["v"].alias(series.name)


def _renamed(frame: pl.DataFrame, field: str) -> pl.DataFrame:
    return frame.rename({"value": field, "raw": f"{field}_raw", "issue": f"{field}_issue"})


def normalize_contacts(
    frame: pl.DataFrame, default_region: str, date_order: str | None = None
) -> pl.DataFrame:
    """Every canonical field normalized, same rows in the same order; other columns kept as they
    are. `default_region` (ISO alpha-2) stands in for a row without a known country;
    `date_order` (`MDY`, `DMY`, `YMD`) settles ambiguous numeric dates, else each column is
    judged by its values and then by the region's custom."""
    region = _home_region(default_region)
    dates.check_order(date_order)
    inputs = _with_all_inputs(frame)

    country = countries.normalize(inputs["country"])
    phone_region = country["country"].fill_null(region)
    parts = [
        inputs.select("row_number"),
        fields.one_line(inputs["source_id"]).to_frame(),
        names.normalize(inputs["first_name"], inputs["last_name"], inputs["full_name"]),
        emails.normalize(inputs["email"]),
        phones.normalize(inputs["phone"], phone_region),
        companies.normalize(inputs["company"]),
        fields.company_size(inputs["company_size"]),
        country,
        _renamed(dates.parse_dates(inputs["birthdate"], date_order, region), "birthdate"),
        _renamed(dates.parse_timestamps(inputs["created_at"], date_order, region), "created_at"),
        pl.DataFrame(
            [
                *(_repeated_text(inputs[c]) for c in LOW_CARDINALITY_TEXT),
                *(fields.one_line(inputs[c]) for c in ("street", "postcode")),
                fields.multi_line(inputs["notes"]),
                fields.tags(inputs["tags"]).alias("tags"),
                fields.consent_status(inputs["consent_status"]).alias("consent_status"),
            ]
        ),
    ]
    normalized = pl.concat(parts, how="horizontal").with_columns(
        identity_expr().alias("has_identity"),
        dates.birth_year(pl.col("birthdate"), pl.col("birthdate_raw")).alias("birth_year"),
    )
    normalized = normalized.select(OUTPUT_SCHEMA.keys()).cast(OUTPUT_SCHEMA)
    passed_through = [c for c in frame.columns if c not in OUTPUT_SCHEMA]
    return pl.concat([normalized, frame.select(passed_through)], how="horizontal")


def hygiene_issues(normalized: pl.DataFrame) -> pl.DataFrame:
    """One row per (row_number, field) problem: `row_number, field, original_value, issue`."""
    per_field = [
        normalized.filter(pl.col(f"{field}_issue").is_not_null()).select(
            "row_number",
            pl.lit(field).alias("field"),
            pl.col(f"{field}_raw").alias("original_value"),
            pl.col(f"{field}_issue").alias("issue"),
        )
        for field in HYGIENE_FIELDS
    ]
    issues = pl.concat([pl.DataFrame(schema=HYGIENE_SCHEMA), *per_field]).cast(HYGIENE_SCHEMA)
    field_order = {field: i for i, field in enumerate(HYGIENE_FIELDS)}
    return issues.sort(
        "row_number", pl.col("field").replace_strict(field_order, return_dtype=pl.Int32)
    )
