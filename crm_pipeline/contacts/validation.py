"""pandera models of the staged and core tables, validated lazily: one report lists every problem."""

from __future__ import annotations

import duckdb
import pandera.polars as pa
import polars as pl

from crm_pipeline.warehouse import frame

E164 = r"^\+[1-9][0-9]{6,14}$"
EMAIL = r"^[^@\sA-Z]+@[^@\sA-Z]+$"
STATUSES_EMAIL = ["valid", "invalid", "bounced", "missing"]
STATUSES_PHONE = ["valid", "invalid", "missing"]
CONSENT = ["granted", "denied", "unknown"]
FAILURE_SCHEMA = {"check": pl.Utf8, "column": pl.Utf8, "failure_case": pl.Utf8}


class StagedContact(pa.DataFrameModel):
    """A normalized contact row, before resolution."""

    tenant_id: str = pa.Field(nullable=False, str_length={"min_value": 1})
    import_id: str = pa.Field(nullable=False)
    row_number: int = pa.Field(ge=1)
    email: str = pa.Field(nullable=True, str_matches=EMAIL)
    phone: str = pa.Field(nullable=True, str_matches=E164)
    country: str = pa.Field(nullable=True, str_matches=r"^[A-Z]{2}$")
    company_size: int = pa.Field(nullable=True, ge=0)
    consent_status: str = pa.Field(nullable=False, isin=CONSENT)
    email_status: str = pa.Field(nullable=False, isin=["valid", "invalid", "missing"])
    phone_status: str = pa.Field(nullable=False, isin=STATUSES_PHONE)

    class Config:
        strict = False
        unique = ["tenant_id", "import_id", "row_number"]


class Contact(pa.DataFrameModel):
    """A golden contact."""

    tenant_id: str = pa.Field(nullable=False, str_length={"min_value": 1})
    contact_id: str = pa.Field(nullable=False, str_startswith="c_")
    email: str = pa.Field(nullable=True, str_matches=EMAIL)
    phone: str = pa.Field(nullable=True, str_matches=E164)
    country: str = pa.Field(nullable=True, str_matches=r"^[A-Z]{2}$")
    company_size: int = pa.Field(nullable=True, ge=0)
    consent_status: str = pa.Field(nullable=False, isin=CONSENT)
    email_status: str = pa.Field(nullable=False, isin=STATUSES_EMAIL)
    phone_status: str = pa.Field(nullable=False, isin=STATUSES_PHONE)

    class Config:
        strict = False
        unique = ["tenant_id", "contact_id"]


class Activity(pa.DataFrameModel):
    """A linked activity."""

    tenant_id: str = pa.Field(nullable=False, str_length={"min_value": 1})
    activity_id: str = pa.Field(nullable=False)
    contact_id: str = pa.Field(nullable=False)
    type: str = pa.Field(isin=[
        "email", "call", "meeting", "support", "purchase", "webinar", "download",
        "form_submission", "subscription_start", "subscription_end", "email_bounce", "refund",
    ])

    class Config:
        strict = False
        unique = ["tenant_id", "activity_id"]


def validation_failures(model: type[pa.DataFrameModel], rows: pl.DataFrame) -> pl.DataFrame:
    """Every failure of `rows` against `model` (empty when valid): check, column, failing value.

    No rows, no failures: pandera takes about 0.2 s to validate even an empty frame, and most
    runs' checks have nothing new to read."""
    if rows.height == 0:
        return pl.DataFrame(schema=FAILURE_SCHEMA)
    try:
        model.validate(rows, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        return cases.select([c for c in ("check", "column", "failure_case") if c in cases.columns])
    return pl.DataFrame(schema=FAILURE_SCHEMA)


def model_columns(model: type[pa.DataFrameModel]) -> list[str]:
    """The columns a model checks: reading only these keeps a million-row check small."""
    return list(model.to_schema().columns)


# Contacts with an audit row after the position each tenant's chain last verified at (all of a
# tenant's contacts when it has none): what this run and any command since the last run wrote.
_WRITTEN_SINCE = """
WITH heads AS (
    SELECT unnest($head_tenants::VARCHAR[]) AS tenant_id, unnest($head_hashes::VARCHAR[]) AS hash
),
verified AS (
    SELECT a.tenant_id, max(a.change_id) AS after
    FROM audit.changes AS a JOIN heads AS h USING (tenant_id, hash)
    GROUP BY a.tenant_id
),
written AS (
    SELECT a.tenant_id, a.entity_id AS contact_id
    FROM audit.changes AS a LEFT JOIN verified AS v USING (tenant_id)
    WHERE a.entity = 'contact' AND a.change_id > coalesce(v.after, 0)
      AND a.tenant_id IN (SELECT unnest($tenants::VARCHAR[]))
)
SELECT {columns} FROM core.contacts AS c SEMI JOIN written AS w USING (tenant_id, contact_id)
"""


def contacts_written_since(
    con: duckdb.DuckDBPyConnection, tenants: list[str], verified_heads: dict[str, str]
) -> pl.DataFrame:
    """The tenants' golden contacts created or changed since their audit chain last verified
    (`verified_heads`: tenant -> head hash), in the columns `Contact` checks: a run's check reads
    what this run and the commands since the last run (unmerge, erasure) wrote, not every
    contact. A tenant without a verified head has all its contacts read."""
    columns = ", ".join(f'c."{c}"' for c in model_columns(Contact))
    return frame(con, _WRITTEN_SINCE.format(columns=columns), {
        "tenants": tenants,
        "head_tenants": list(verified_heads), "head_hashes": list(verified_heads.values()),
    })
