"""Which column of a contact file feeds which canonical field, and the canonical rows it gives.

Headers are recognised through the synonym table `data/reference/header_synonyms.yaml`, compared
folded (case, spacing and punctuation ignored), so the standard exports of HubSpot, Salesforce,
Pipedrive, Zoho, Mailchimp, Google, Outlook and LinkedIn need no mapping. Columns that feed no
field are kept as extra attributes. A mapping file (`--mapping MAP.yaml`) overrides the table:

```yaml
columns:                        # header as written -> canonical field (overrides the synonyms)
  Kundennummer: source_id
  Firma: company
  Abgemeldet: {field: consent_status, invert: true}   # yes/true/1 -> "opted out"
  Title: extra                  # keep a column as an extra attribute even if a synonym matches
email: [E-Mail geschäftlich, E-Mail privat]   # several columns for email (or phone), best first
phone: [Telefon, Mobil]
ignore: [Interne Notiz]         # dropped (still kept in the raw copy of each row)
date_order: DMY                 # how to read dates like 03/04/2024: DMY, MDY or YMD
```

A field takes one column, except `email` and `phone`, which take several only through such a
list; the first non-empty value wins and the others are kept as extras. A cell holding several
values joined with ` ::: ` (Google Contacts) gives a one-value field such as company, job title,
city or country its first value; the others stay an extra attribute under the column's header,
still joined with ` ::: `, so nothing is lost (emails and phones keep theirs for matching, tags
become several tags, notes are kept as written). Headers in the mapping
are matched as written, or else folded like the synonyms. The mapping is refused (`BadMapping`)
if it names a column the file does not have, an unknown field, or maps two columns to one field.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from crm_pipeline.contacts.ingest.limits import regular_file_bytes
from crm_pipeline.contacts.ingest.table import RawTable
from crm_pipeline.contacts.normalize.text import INVISIBLE_EDGES
from crm_pipeline.errors import BadMapping, RefusedFile
from crm_pipeline.paths import REFERENCE_DIR
from crm_pipeline.yaml_docs import parsed_yaml

SYNONYMS_FILE = REFERENCE_DIR / "header_synonyms.yaml"
CANONICAL_FIELDS = (
    "source_id", "first_name", "last_name", "full_name", "email", "phone", "company",
    "job_title", "industry", "company_size", "street", "city", "postcode", "state", "country",
    "birthdate", "tags", "notes", "lifecycle_stage", "consent_status", "created_at", "tenant_id",
)
MULTI_SOURCE_FIELDS = ("email", "phone")
MULTI_VALUE_SEPARATOR = " ::: "  # Google Contacts' separator for several values in one cell
# Fields holding a single value: a cell with several gives its first; the others become an extra.
# Not email and phone (their others are kept for matching), tags (split into tags), notes (free
# text, kept as written), and not the ids (a row with two record ids or tenants is kept as is).
ONE_VALUE_FIELDS = tuple(
    f for f in CANONICAL_FIELDS
    if f not in ("email", "phone", "tags", "notes", "source_id", "tenant_id")
)
VENDORS = ("hubspot", "salesforce", "pipedrive", "zoho", "mailchimp", "google", "outlook",
           "linkedin")
DATE_ORDERS = ("DMY", "MDY", "YMD")
MAPPING_KEYS = ("columns", "ignore", "date_order", *MULTI_SOURCE_FIELDS)
MAPPING_MAX_BYTES = 1024**2  # a mapping file is a few lines of YAML
_TRUE = ("true", "1", "yes", "y", "t")
_FALSE = ("false", "0", "no", "n", "f")


def fold(name: str) -> str:
    """A header without case, spacing or punctuation: `E-mail Address` -> `emailaddress`."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", name).casefold())


@dataclass(frozen=True)
class Source:
    """A column feeding a field; `invert` marks an opt-out column (yes means no consent)."""

    column: str
    invert: bool = False


@dataclass(frozen=True)
class ColumnMapping:
    """Which columns feed which canonical field (best first), and which are extras."""

    fields: dict[str, tuple[Source, ...]]
    extras: tuple[str, ...]
    ignored: tuple[str, ...] = ()
    vendor: str = "unknown"
    date_order: str | None = None
    mapping_file: str | None = None

    def columns(self, field_name: str) -> list[str]:
        """The columns feeding a field, best first (empty if none)."""
        return [s.column for s in self.fields.get(field_name, ())]

    def describe(self) -> dict[str, Any]:
        """The mapping as plain JSON-ready data, for display and for the import's record."""
        return {
            "vendor": self.vendor,
            "fields": {
                name: [
                    {"column": s.column, "invert": True} if s.invert else s.column
                    for s in sources
                ]
                for name, sources in self.fields.items()
            },
            "extras": list(self.extras),
            "ignored": list(self.ignored),
            "date_order": self.date_order,
            "mapping_file": self.mapping_file,
        }


@dataclass(frozen=True)
class _Synonym:
    field: str
    rank: int
    invert: bool


@dataclass(frozen=True)
class _Vendor:
    signature: frozenset[str]
    prefixes: tuple[str, ...]
    unmapped: frozenset[str]


@dataclass(frozen=True)
class SynonymTable:
    """The synonym table, folded for lookup."""

    synonyms: dict[str, _Synonym]
    vendors: dict[str, _Vendor] = field(default_factory=dict)


@functools.cache
def synonym_table(path: Path = SYNONYMS_FILE) -> SynonymTable:
    """The synonym table; a name listed twice (after folding) is a mistake in the table."""
    doc = parsed_yaml(Path(path).read_text(encoding="utf-8"))
    synonyms: dict[str, _Synonym] = {}
    for field_name, names in doc["fields"].items():
        if field_name not in CANONICAL_FIELDS:
            raise ValueError(f"{path}: unknown canonical field {field_name!r}")
        for rank, entry in enumerate(names):
            header, invert = (
                (entry["header"], bool(entry.get("invert")))
                if isinstance(entry, dict) else (str(entry), False)
            )
            key = fold(header)
            if key in synonyms:
                raise ValueError(f"{path}: header {header!r} is listed twice")
            synonyms[key] = _Synonym(field_name, rank, invert)
    vendors = {
        name: _Vendor(
            signature=frozenset(fold(h) for h in spec.get("signature", [])),
            prefixes=tuple(fold(p) for p in spec.get("prefixes", [])),
            unmapped=frozenset(fold(h) for h in spec.get("unmapped", [])),
        )
        for name, spec in doc.get("vendors", {}).items()
    }
    return SynonymTable(synonyms, vendors)


def is_known_header(name: str) -> bool:
    """Whether a header is one the synonym table or a vendor signature recognises."""
    table = synonym_table()
    key = fold(name)
    return bool(key) and (
        key in table.synonyms or any(key in v.signature for v in table.vendors.values())
    )


def detect_vendor(headers: list[str]) -> str:
    """The vendor whose export the headers most resemble (for display), or `unknown`."""
    keys = [fold(h) for h in headers]
    scores = {
        name: sum(k in v.signature or any(k.startswith(p) for p in v.prefixes) for k in keys)
        for name, v in synonym_table().vendors.items()
    }
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    if not ranked or ranked[0][1] == 0 or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return "unknown"
    return ranked[0][0]


def resolve_mapping(headers: list[str], mapping_file: Path | None = None) -> ColumnMapping:
    """The column mapping of a file's headers: synonyms, overridden by a mapping file if given."""
    table = synonym_table()
    vendor = detect_vendor(headers)
    unmapped = table.vendors[vendor].unmapped if vendor in table.vendors else frozenset()
    override = _read_mapping(Path(mapping_file), headers) if mapping_file else _Override()

    explicit_columns = {s.column for sources in override.fields.values() for s in sources}
    taken = explicit_columns | set(override.extras) | set(override.ignored)
    candidates: dict[str, list[tuple[int, int, Source]]] = {}
    for position, header in enumerate(headers):
        key = fold(header)
        synonym = table.synonyms.get(key)
        if header in taken or synonym is None or key in unmapped:
            continue
        if synonym.field in override.fields:
            continue
        candidates.setdefault(synonym.field, []).append(
            (synonym.rank, position, Source(header, synonym.invert))
        )
    fields: dict[str, tuple[Source, ...]] = {}
    for name in CANONICAL_FIELDS:
        if name in override.fields:
            fields[name] = override.fields[name]
        elif name in candidates:
            ranked = [s for _, _, s in sorted(candidates[name], key=lambda c: c[:2])]
            fields[name] = tuple(ranked if name in MULTI_SOURCE_FIELDS else ranked[:1])
    used = {s.column for sources in fields.values() for s in sources}
    ignored = set(override.ignored)
    extras = tuple(h for h in headers if h not in used and h not in ignored)
    return ColumnMapping(
        fields=fields,
        extras=extras,
        ignored=tuple(h for h in headers if h in ignored),
        vendor=vendor,
        date_order=override.date_order,
        mapping_file=str(mapping_file) if mapping_file else None,
    )


@dataclass
class _Override:
    fields: dict[str, tuple[Source, ...]] = field(default_factory=dict)
    extras: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    date_order: str | None = None


def _read_mapping(path: Path, headers: list[str]) -> _Override:
    """A mapping file checked against the file's headers (see the module docstring)."""

    def refuse(problem: str) -> BadMapping:
        return BadMapping(f"{path}: {problem}")

    try:
        text = regular_file_bytes(path, MAPPING_MAX_BYTES, "a mapping is a short YAML file")
    except RefusedFile as exc:
        raise refuse(exc.problem) from exc
    try:
        doc = parsed_yaml(text.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise refuse(f"is not valid YAML ({' '.join(str(exc).split())})") from exc
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise refuse("must be a YAML mapping with `columns`, `ignore` and `date_order` keys")
    unknown = [k for k in doc if k not in MAPPING_KEYS]
    if unknown:
        raise refuse(f"has unknown key {unknown[0]!r}; use {', '.join(MAPPING_KEYS)}")

    by_fold: dict[str, list[str]] = {}
    for h in headers:
        by_fold.setdefault(fold(h), []).append(h)

    def column(name: Any) -> str:
        text = str(name).strip()
        if text in headers:
            return text
        matches = by_fold.get(fold(text), [])
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise refuse(f"names column {text!r}, which could be any of {matches}; "
                         "write the header exactly as in the file")
        raise refuse(f"names column {text!r}, which the file's header does not have")

    out = _Override()
    owner: dict[str, str] = {}  # column -> what the mapping made of it

    def claim(col: str, role: str) -> None:
        if col in owner and owner[col] != role:
            raise refuse(f"uses column {col!r} twice ({owner[col]} and {role})")
        owner[col] = role

    columns = doc.get("columns") or {}
    if not isinstance(columns, dict):
        raise refuse("`columns` must map headers to fields, e.g. `columns: {Firma: company}`")
    for header, target in columns.items():
        col = column(header)
        invert = False
        if isinstance(target, dict):
            invert = bool(target.get("invert", False))
            target = target.get("field")
        target = str(target).strip() if target is not None else "extra"
        if target == "extra":
            claim(col, "extra")
            out.extras.append(col)
            continue
        if target not in CANONICAL_FIELDS:
            raise refuse(f"maps {col!r} to unknown field {target!r}; fields are "
                         f"{', '.join(CANONICAL_FIELDS)} (or extra)")
        if target in out.fields:
            first = out.fields[target][0].column
            hint = (f"; list several as `{target}: [{first}, {col}]`"
                    if target in MULTI_SOURCE_FIELDS else "; a field takes one column")
            raise refuse(f"maps both {first!r} and {col!r} to {target}{hint}")
        claim(col, target)
        out.fields[target] = (Source(col, invert),)
    for target in MULTI_SOURCE_FIELDS:
        if target not in doc:
            continue
        listed = doc[target]
        if not isinstance(listed, list) or not listed:
            raise refuse(f"`{target}` must be a list of columns, best first")
        if target in out.fields:
            raise refuse(f"maps {target} both under `columns` and in the `{target}` list")
        cols = [column(h) for h in listed]
        if len(set(cols)) != len(cols):
            raise refuse(f"lists a column twice under `{target}`")
        for col in cols:
            claim(col, target)
        out.fields[target] = tuple(Source(c) for c in cols)
    ignore = doc.get("ignore") or []
    if not isinstance(ignore, list):
        raise refuse("`ignore` must be a list of columns")
    for header in ignore:
        col = column(header)
        claim(col, "ignore")
        out.ignored.append(col)
    if doc.get("date_order") is not None:
        order = str(doc["date_order"]).strip().upper()
        if order not in DATE_ORDERS:
            raise refuse(f"has date_order {doc['date_order']!r}; use DMY, MDY or YMD")
        out.date_order = order
    return out


# --- canonical rows -------------------------------------------------------------------------


def _present(column: str | pl.Expr) -> pl.Expr:
    """A cell holds something (not empty, not only whitespace)."""
    cell = pl.col(column) if isinstance(column, str) else column
    return cell.str.contains(r"\S")


def _value(source: Source, cell: pl.Expr | None = None) -> pl.Expr:
    """The source's value as written (or `cell`, a part of it), null when empty; opt-out flags
    turned into consent."""
    cell = pl.col(source.column) if cell is None else cell
    if not source.invert:
        return pl.when(_present(cell)).then(cell)
    flag = cell.str.strip_chars().str.to_lowercase()
    return (
        pl.when(flag.is_in(_TRUE)).then(pl.lit("opted out"))
        .when(flag.is_in(_FALSE)).then(pl.lit("opted in"))
        .when(_present(cell)).then(cell)
    )


def first_and_others(column: str) -> tuple[pl.Expr, pl.Expr]:
    """A cell's first value and its other values (joined as written, null if there are none):
    `Acme ::: Beta ::: Gamma` -> `Acme`, `Beta ::: Gamma`."""
    parts = pl.col(column).str.splitn(MULTI_VALUE_SEPARATOR, 2)
    return parts.struct.field("field_0"), parts.struct.field("field_1")


def _columns_with_several_values(rows: pl.DataFrame, columns: list[str]) -> set[str]:
    """The columns with a ` ::: `-joined cell: only those pay for splitting (one quick scan)."""
    if not columns:
        return set()
    found = rows.select(
        pl.col(c).str.contains(MULTI_VALUE_SEPARATOR, literal=True).any().alias(c)
        for c in dict.fromkeys(columns)
    )
    return {c for c in found.columns if found[c][0]}


def _json_member(column: str, cell: pl.Expr | None = None) -> pl.Expr:
    """`"header":"value"` with JSON escaping done by polars."""
    cell = pl.col(column) if cell is None else cell
    return (
        pl.struct(cell.alias(column)).struct.json_encode()
        .str.strip_prefix("{").str.strip_suffix("}")
    )


def canonical_rows(table: RawTable, mapping: ColumnMapping) -> pl.DataFrame:
    """Per record: `row_number`, one column per mapped canonical field (the value as written, null
    when empty; a one-value field takes the first of several ` ::: `-joined values), `extra` (JSON
    object of the non-empty unmapped values and of those further values, or null) and `raw` (JSON
    object of every header's value as read)."""
    rows = table.rows
    position = {h: i for i, h in enumerate(table.headers)}
    values: list[pl.Expr] = []
    members: list[tuple[int, pl.Expr]] = []
    joined_columns = _columns_with_several_values(
        rows, [s.column for f in ONE_VALUE_FIELDS for s in mapping.fields.get(f, ())]
    )
    for name in CANONICAL_FIELDS:
        sources = mapping.fields.get(name)
        if not sources:
            continue
        if any(s.column in joined_columns for s in sources):
            exprs = []
            for s in sources:
                first, others = first_and_others(s.column)
                exprs.append(_value(s, first))
                members.append((position[s.column],
                                pl.when(_present(others)).then(_json_member(s.column, others))))
        else:
            exprs = [_value(s) for s in sources]
        values.append((pl.coalesce(exprs) if len(exprs) > 1 else exprs[0]).alias(name))
        if name in MULTI_SOURCE_FIELDS and len(sources) > 1:
            # Every further non-empty source (work, home, mobile...), kept for linking and matching.
            others = [
                pl.when(_present(s.column) & pl.any_horizontal([_present(e.column) for e in sources[:j]]))
                .then(pl.col(s.column))
                for j, s in enumerate(sources) if j > 0
            ]
            joined = pl.concat_str(others, separator=MULTI_VALUE_SEPARATOR, ignore_nulls=True)
            values.append(pl.when(joined != "").then(joined).alias(f"other_{name}s"))
        for j in range(1, len(sources)):
            earlier = pl.any_horizontal([_present(s.column) for s in sources[:j]])
            col = sources[j].column
            members.append(
                (position[col], pl.when(_present(col) & earlier).then(_json_member(col)))
            )
    for col in mapping.extras:
        members.append((position[col], pl.when(_present(col)).then(_json_member(col))))
    members.sort(key=lambda m: m[0])
    if members:
        joined = pl.concat_str([m for _, m in members], separator=",", ignore_nulls=True)
        extra = pl.when(joined != "").then(pl.concat_str([pl.lit("{"), joined, pl.lit("}")]))
    else:
        extra = pl.lit(None, pl.Utf8)
    raw = pl.struct([pl.col(h) for h in table.headers]).struct.json_encode()
    frame = rows.lazy()
    if table.invisible:
        # A byte order mark or zero-width character at the edge of a value (files pasted
        # together, values copied from web pages) is no part of it; `raw` keeps it as read.
        frame = frame.with_columns(raw.alias("__raw")).with_columns(
            pl.col(h).str.replace_all(INVISIBLE_EDGES, "") for h in table.headers
        )
        raw = pl.col("__raw")
    return (
        frame
        .select(pl.col("row_number"), *values, extra.cast(pl.Utf8).alias("extra"), raw.alias("raw"))
        .collect(engine="streaming")  # in morsels, on every core
    )
