"""Redaction of a person's identifiers wherever they occur as text, for GDPR erasure.

One regular expression (RE2 and Python `re` read it alike) finds every identifier of the person
in free text: emails as written, phone numbers in any spacing or punctuation (from their digits),
full names with any spacing and in either order, contact ids and aliases, and their distinctive
source ids as whole words. `redact_tables` applies it in DuckDB to every text value (VARCHAR,
JSON, and text inside lists and structs) of every table of the tenant found from the catalog, so
tables and columns added later are covered; keys (`*_id`, `*_key`, hashes, digests, primary-key
columns) are never rewritten, since rows keyed by the person are removed, not redacted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

import duckdb
import phonenumbers

from crm_pipeline.warehouse import run

ERASED = "[erased]"
# Separators people write between the digits of a phone number.
_SEP = r"[\s().\-/]*"
# Source ids shorter than this (Pipedrive's 4-digit ids) would match unrelated numbers in free
# text (amounts, other ids): they are matched only where they key something, never as text.
MIN_TEXT_SOURCE_ID = 6
MIN_PHONE_DIGITS = 6


def quote_ident(name: str) -> str:
    """An identifier quoted for DuckDB or SQLite, whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    """Text matched literally: ASCII punctuation escaped with a backslash, blanks and controls
    as \\xHH (both RE2 and Python accept these), letters and digits as they are."""
    out = []
    for ch in text:
        if ch.isascii() and not ch.isalnum():
            out.append(f"\\x{ord(ch):02x}" if not ch.isprintable() or ch == " " else "\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _json_escaped(text: str) -> str:
    """How JSON writers with ensure_ascii spell the text inside a string (\\u00f6 for ö)."""
    return json.dumps(text, ensure_ascii=True)[1:-1]


def _word(text: str) -> str:
    """Text matched literally as a whole word (see `_bounded`)."""
    return _bounded(text, _literal(text))


def _bounded(text: str, pattern: str) -> str:
    """`pattern` (matching `text`) with a word boundary on each side where `text` begins or ends
    with a word character: "Al Li" is not found in "Cal Lin", nor zq@x.org in bzq@x.org."""
    if re.match(r"\w", text[0], re.ASCII):
        pattern = r"\b" + pattern
    if re.match(r"\w", text[-1], re.ASCII):
        pattern += r"\b"
    return pattern


def _digits(digits: str) -> str:
    return _SEP.join(digits)


def phone_patterns(e164: str | None = None, written: str | None = None) -> list[str]:
    """Patterns for a phone number however it is written: from its E.164 form, the national
    number with or without the country code (`+1`, `001`, `1`) or trunk prefix (`0`); from a
    number as written that did not parse, its own digits."""
    patterns = []
    if e164:
        try:
            number = phonenumbers.parse(e164, None)
        except phonenumbers.NumberParseException:
            number = None
        if number is not None:
            cc, national = str(number.country_code), str(number.national_number)
            if len(national) >= MIN_PHONE_DIGITS:
                prefix = (rf"(?:\+\s*{_digits(cc)}{_SEP}|\b00{_SEP}{_digits(cc)}{_SEP}"
                          rf"|\b{_digits(cc)}{_SEP}|\b0{_SEP}|\b)")
                patterns.append(prefix + _digits(national) + r"\b")
    if written:
        digits = re.sub(r"\D", "", written)
        if len(digits) >= MIN_PHONE_DIGITS + 1:
            patterns.append(r"(?:\+\s*|\b)" + _digits(digits) + r"\b")
    return patterns


def name_patterns(first: str | None, last: str | None) -> list[str]:
    """A full name in either order ("Ann Lee", "Lee, Ann"), any spacing; none for a name of one
    word (a first name alone is not an identifier)."""
    first, last = (first or "").strip(), (last or "").strip()
    if not first or not last or len(first) + len(last) < 4:
        return []
    out = []
    for a, b in ((first, last), (last, first)):
        words = [_literal(w) for w in f"{a} {b}".split()]
        out.append(_bounded(f"{a} {b}", r"[\s,]+".join(words)))
        escaped = _json_escaped(f"{a} {b}")
        if escaped != f"{a} {b}":
            out.append(_word(escaped))
    return out


def identifier_pattern(
    *,
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    written_phones: Iterable[str] = (),
    names: Iterable[tuple[str | None, str | None]] = (),
    ids: Iterable[str] = (),
    source_ids: Iterable[str] = (),
    min_source_id: int = MIN_TEXT_SOURCE_ID,
) -> str | None:
    """One case-insensitive pattern matching every identifier given, or None when there is none.
    Source ids shorter than `min_source_id` are left out (see MIN_TEXT_SOURCE_ID)."""
    parts: set[str] = set()
    for email in emails:
        email = (email or "").strip()
        if len(email) >= 5:
            parts.add(_word(email))
            parts.add(_word(_json_escaped(email)))
    for e164 in phones:
        parts.update(phone_patterns(e164=e164))
    for written in written_phones:
        parts.update(phone_patterns(written=written))
    for first, last in names:
        parts.update(name_patterns(first, last))
    for cid in ids:
        if cid:
            parts.add(_word(cid))
    for sid in source_ids:
        sid = (sid or "").strip()
        if sid and len(sid) >= min_source_id:
            parts.add(_word(sid))
    if not parts:
        return None
    # Longest first, so a name is replaced whole before a shorter overlapping alternative.
    return "(?i)(?:" + "|".join(sorted(parts, key=lambda p: (-len(p), p))) + ")"


def redact_python(pattern: str, text: str) -> str:
    return re.sub(pattern, ERASED, text)


# ----------------------------------------------------------------------------- DuckDB side

def _is_key(name: str) -> bool:
    n = name.lower()
    return (n == "tenant_id" or n.endswith(("_id", "_key", "hash", "_digest", "_head")))


def _redacted(expr: str, dtype: duckdb.typing.DuckDBPyType) -> str | None:
    """SQL giving `expr` with the pattern ($pattern) replaced, or None when the type holds no
    text. Lists and structs are rebuilt element by element (keys inside structs are kept)."""
    kind = dtype.id
    if kind == "varchar":
        if str(dtype) == "JSON":  # a value the replacement left unreadable is dropped
            return f"try_cast(regexp_replace({expr}::VARCHAR, $pattern, '{ERASED}', 'g') AS JSON)"
        return f"regexp_replace({expr}, $pattern, '{ERASED}', 'g')"
    if kind == "list":
        inner = _redacted("x", dtype.child)
        return None if inner is None else f"list_transform({expr}, lambda x: {inner})"
    if kind == "map":
        inner = _redacted("e.value", dtype.children[1][1])
        if inner is None:
            return None
        return (f"map_from_entries(list_transform(map_entries({expr}), "
                f"lambda e: {{'key': e.key, 'value': {inner}}}))")
    if kind == "struct":
        fields = []
        changed = False
        for name, child in dtype.children:
            ref = f"{expr}.{quote_ident(name)}"
            inner = None if _is_key(name) else _redacted(ref, child)
            changed = changed or inner is not None
            fields.append(f"{quote_ident(name)} := {inner or ref}")
        if not changed:
            return None
        return f"CASE WHEN {expr} IS NULL THEN NULL ELSE struct_pack({', '.join(fields)}) END"
    return None


def text_columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """Column -> SQL of its redacted value, for every column of `schema.table` that can hold the
    person's identifiers as text (keys and primary-key columns excluded)."""
    schema, name = table.split(".")
    keyed = {c for (cols,) in run(
        con,
        "SELECT constraint_column_names FROM duckdb_constraints() WHERE database_name = "
        "current_database() AND schema_name = $s AND table_name = $n "
        "AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')", {"s": schema, "n": name}) for c in cols}
    rel = con.sql(f"SELECT * FROM {quote_ident(schema)}.{quote_ident(name)} LIMIT 0")
    out = {}
    for column, dtype in zip(rel.columns, rel.types, strict=True):
        if _is_key(column) or column in keyed:
            continue
        expr = _redacted(quote_ident(column), dtype)
        if expr is not None:
            out[column] = expr
    return out


def tenant_tables(con: duckdb.DuckDBPyConnection, skip: Iterable[str] = ()) -> list[str]:
    """Every table of the working file with a tenant_id column (`schema.table`), but `skip`."""
    rows = run(
        con,
        "SELECT DISTINCT schema_name || '.' || table_name FROM duckdb_columns() "
        "WHERE database_name = current_database() AND column_name = 'tenant_id' ORDER BY 1",
    )
    skipped = set(skip)
    return [r[0] for r in rows if r[0] not in skipped and r[0].split(".")[0] not in skipped]


def matching_rows_sql(table: str, columns: dict[str, str]) -> str:
    """WHERE clause (with $t and $pattern) of the tenant's rows holding the pattern in a column."""
    tests = " OR ".join(f"regexp_matches({quote_ident(c)}::VARCHAR, $pattern)" for c in columns)
    return f"tenant_id = $t AND ({tests})"


def redact_table(con: duckdb.DuckDBPyConnection, table: str, tenant_id: str,
                 pattern: str) -> int:
    """Replace the pattern in every text value of the tenant's rows of one table; rows changed."""
    columns = text_columns(con, table)
    if not columns:
        return 0
    schema, name = table.split(".")
    sets = ", ".join(f"{quote_ident(c)} = {expr}" for c, expr in columns.items())
    return run(
        con,
        f"UPDATE {quote_ident(schema)}.{quote_ident(name)} SET {sets} "
        f"WHERE {matching_rows_sql(table, columns)}",
        {"t": tenant_id, "pattern": pattern},
    )[0][0]


def redact_tables(con: duckdb.DuckDBPyConnection, tenant_id: str, pattern: str,
                  skip: Iterable[str] = ()) -> int:
    """`redact_table` over every tenant table but `skip` (schemas or tables); rows changed."""
    return sum(redact_table(con, table, tenant_id, pattern)
               for table in tenant_tables(con, skip))
