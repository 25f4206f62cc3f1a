"""The activity line format as a JSON Schema (`activity.schema.json`, shipped in the package), and
`check_activity_file`: a log checked against it without importing anything.

The schema describes a line as a sender should write it. Before a line is validated it is made
what the importer reads (`_as_read`): values trimmed, absent, `null` and blank values alike, the
case of `type`, `actor_kind` and `currency` forgiven. What JSON Schema cannot say is checked
beside it, as the importer checks it: a key given twice, a date that does not exist, a time
outside the years 1900 to 9999 in UTC, an amount written as text that is 10^12 or more. A line
breaking several rules is reported with the reason the importer would quarantine it for (the
first rule in the contract's order), so `--check` and an import agree line by line on every
reason that depends on the line alone; the others need the warehouse (`unknown_contact` for a
reference nobody has, `conflicting_duplicate`, `unknown_currency`, `future_timestamp`, an
agent's grants) and are left to the import.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb
import jsonschema_rs
import polars as pl
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from crm_pipeline.activities.read import lines_of
from crm_pipeline.activities.validate import EARLIEST, LATEST, MAX_AMOUNT
from crm_pipeline.errors import RefusedFile

SCHEMA_FILE = Path(__file__).with_name("activity.schema.json")
# The reasons --check can give, in the contract's precedence (the importer reports the first).
FORMAT_REASONS = (
    "unparseable_row", "missing_tenant", "tenant_mismatch", "bad_timestamp",
    "unknown_activity_type", "actor_not_permitted", "unknown_contact", "bad_amount",
)
_RANK = {code: n for n, code in enumerate(FORMAT_REASONS)}
_REASON_OF_FIELD = {
    "activity_id": "unparseable_row", "tenant_id": "missing_tenant",
    "occurred_at": "bad_timestamp", "type": "unknown_activity_type",
    "actor_kind": "actor_not_permitted", "amount": "bad_amount",
    "contact_id": "unknown_contact", "source_id": "unknown_contact", "email": "unknown_contact",
    "phone": "unknown_contact",
}
_FOLDED = ("type", "actor_kind")
_WHEN = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"(?:[Zz]|([+-])(\d{2}):?(\d{2})?)$"
)
SHOWN_LINES = 20
_FIELD_PROBLEMS = {
    "activity_id": "is not a string of 1 to 256 characters",
    "tenant_id": "is not a tenant id (a string)",
    "type": "is not a known activity type (docs/activities.md lists them)",
    "occurred_at": "is not an ISO 8601 date and time with a time zone (Z, or an offset up to "
                   "+-14:00 such as +02:00)",
    "actor_kind": "is not user, agent or system",
    "amount": "is not a finite number below 10^12 in absolute value",
}


@dataclass
class CheckReport:
    """What `check_activity_file` found: counts, and the first bad lines with their reasons."""

    path: Path
    lines: int = 0
    valid: int = 0
    by_reason: Counter = field(default_factory=Counter)
    first_bad: list[tuple[int, str, str]] = field(default_factory=list)  # line, reason, detail

    @property
    def invalid(self) -> int:
        return self.lines - self.valid


@cache
def activity_schema() -> dict:
    """The shipped JSON Schema of one activity line."""
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


@cache
def _fast_validator():
    return jsonschema_rs.validator_for(activity_schema())


@cache
def _validator() -> Draft202012Validator:
    Draft202012Validator.check_schema(activity_schema())
    return Draft202012Validator(activity_schema())


def check_activity_file(path: Path, tenant_id: str | None = None) -> CheckReport:
    """Check every non-blank line of an activity log; changes nothing. Raises `RefusedFile` for
    a file that is not a text log at all, as the import would.

    Whether a line is a JSON object, and whether it repeats a key, is settled for a whole chunk
    of lines at once by DuckDB, with the importer's own tests; each object is then validated by
    the compiled schema (`jsonschema_rs`), and only a line that fails is looked at again, by
    `jsonschema`, for the reason to give."""
    path = Path(path)
    if not path.is_file():
        raise RefusedFile(path, "no such file: check the path")
    report = CheckReport(path)
    con = _connection()
    try:
        for chunk in lines_of(path):
            for number, *shape in _shapes(con, chunk):
                report.lines += 1
                problem = _shaped_line_problem(*shape, tenant_id)
                if problem is None:
                    report.valid += 1
                    continue
                report.by_reason[problem[0]] += 1
                if len(report.first_bad) < SHOWN_LINES:
                    report.first_bad.append((number, *problem))
    finally:
        con.close()
    if report.lines == 0:
        raise RefusedFile(path, "the file has only blank lines: export the activity log again")
    return report


# The importer's own tests (sql/models/core/activities_parse.sql, activities_validate.sql): a
# JSON object; the first top-level key it repeats; an occurred_at of the right shape that is no
# date and time (2024-02-30) or lies outside the years the warehouse holds.
_SHAPE_SQL = r"""
    WITH shaped AS (
        SELECT line_number, line,
               coalesce(json_valid(line) AND (starts_with(line, '{')
                        OR regexp_matches(line, '^[ \t\r\n]*\{')), false) AS is_object
        FROM _lines
    ),
    parts AS (
        SELECT *, CASE WHEN is_object THEN json_keys(line) END AS keys,
               CASE WHEN is_object
                    THEN nullif(trim(json_extract_string(line, '$.occurred_at')), '') END AS t
        FROM shaped
    ),
    timed AS (
        SELECT *,
               CASE WHEN regexp_matches(t, '^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}'
                                           '(?::\d{2}(?:[.,]\d+)?)?(?:[Zz]|[+-]\d{2}:?(?:\d{2})?)$')
                    THEN try_cast(replace(upper(t), ',', '.') AS TIMESTAMPTZ) AT TIME ZONE 'UTC'
               END AS utc,
               regexp_matches(t, '^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}'
                                 '(?::\d{2}(?:[.,]\d+)?)?(?:[Zz]|[+-]\d{2}:?(?:\d{2})?)$') AS zoned
        FROM parts
    )
    SELECT line_number, line, is_object,
           list_filter(keys, lambda k, i: list_position(keys, k) <> i)[1] AS repeated,
           CASE WHEN zoned AND utc IS NULL THEN 'is not a date and time that exists'
                WHEN zoned AND NOT (utc >= $earliest AND utc <= $latest)
                THEN 'is outside the years 1900 to 9999 (UTC)'
           END AS time_problem
    FROM timed ORDER BY line_number
"""


def _shapes(con: duckdb.DuckDBPyConnection, lines: pl.DataFrame) -> list[tuple]:
    con.register("_lines", lines)
    try:
        return con.execute(_SHAPE_SQL, {"earliest": EARLIEST, "latest": LATEST}).fetchall()
    finally:
        con.unregister("_lines")


def _connection() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    return con


def line_problem(text: str, tenant_id: str | None = None) -> tuple[str, str] | None:
    """(reason code, detail) of the first rule one line breaks, or None for a valid line."""
    con = _connection()
    try:
        [(_, *shape)] = _shapes(con, pl.DataFrame({"line_number": [1], "line": [text]}))
    finally:
        con.close()
    return _shaped_line_problem(*shape, tenant_id)


def _shaped_line_problem(text: str, is_object: bool, repeated: str | None,
                         time_problem: str | None,
                         tenant_id: str | None) -> tuple[str, str] | None:
    if not is_object:
        return "unparseable_row", "the line is not a JSON object"
    if repeated is not None:
        return "unparseable_row", f"key {repeated[:80]!r} appears more than once"
    try:
        parsed = json.loads(text, parse_constant=str)  # NaN and Infinity stay text: not numbers
    except (json.JSONDecodeError, RecursionError):
        return "unparseable_row", "the line is not a JSON object"
    if not isinstance(parsed, dict):
        return "unparseable_row", "the line is not a JSON object"
    line = _as_read(parsed)
    found = _beyond_the_schema(line, tenant_id)
    if time_problem:
        found.append(("bad_timestamp", f"occurred_at {line.get('occurred_at')!r} {time_problem}"))
    if not _fast_validator().is_valid(line):
        found += [_reason(error, line) for error in _validator().iter_errors(line)]
    if not found:
        return None
    return min(found, key=lambda p: _RANK[p[0]])


def _as_read(line: dict) -> dict:
    """The line's top-level values as the importer reads them."""
    out = {}
    for key, value in line.items():
        if isinstance(value, str):
            value = value.strip()
            if key in _FOLDED:
                value = value.lower()
            elif key == "currency":
                value = value.upper()
        if value is None or value == "":
            continue
        out[key] = value
    return out


def _reason(error: ValidationError, line: dict) -> tuple[str, str]:
    """The importer's reason code for one schema error, with a one-line detail."""
    path = list(error.absolute_path)
    if path:
        name = str(path[0])
        value = json.dumps(line.get(name), ensure_ascii=False, default=str)[:80]
        reason = _REASON_OF_FIELD.get(name, "unparseable_row")
        if name == "tenant_id":
            reason = "tenant_mismatch"
        return reason, f"{name} {value} {_FIELD_PROBLEMS.get(name, _short(error))}"
    if error.validator == "required":
        missing = next((k for k in error.validator_value if k not in line), "")
        if missing == "amount":
            return "bad_amount", f"amount is missing: a {line.get('type')} needs an amount"
        return _REASON_OF_FIELD.get(missing, "unparseable_row"), f"{missing} is missing"
    if error.validator == "anyOf":
        return ("unknown_contact",
                "the line names no contact: give contact_id, source_id, email or phone")
    if error.validator == "type":
        return "unparseable_row", "the line is not a JSON object"
    return "unparseable_row", _short(error)


def _short(error: ValidationError) -> str:
    text = error.message.split(" is not ", 1)[-1]
    text = "is not " + text if text != error.message else text
    return text if len(text) <= 160 else text[:157] + "..."


def _beyond_the_schema(line: dict, tenant_id: str | None) -> list[tuple[str, str]]:
    """The rules JSON Schema cannot state, checked as the importer checks them."""
    found = []
    tenant = line.get("tenant_id")
    if tenant_id is not None and isinstance(tenant, str) and tenant != tenant_id:
        found.append(("tenant_mismatch",
                      f"tenant_id {tenant[:80]!r} is not the tenant {tenant_id!r}"))
    amount = line.get("amount")
    if isinstance(amount, str):
        try:
            value = float(amount)
        except ValueError:
            value = math.nan  # the schema's pattern reports it
        if math.isfinite(value) and abs(value) >= MAX_AMOUNT:
            found.append(("bad_amount", f"amount {amount[:80]!r} is out of range: amounts must "
                                        f"be below {MAX_AMOUNT:g} in absolute value"))
        elif math.isinf(value):
            found.append(("bad_amount", f"amount {amount[:80]!r} is not a finite number"))
    return found
