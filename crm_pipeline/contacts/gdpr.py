"""GDPR: the right of access (export) and the right to erasure (erase, with suppression).

Erasure removes every row keyed by the person (their contact ids, their source rows and activity
lines, quarantined rows holding their email or phone), redacts every other occurrence of their
identifiers in any text of any table of the tenant (`redaction`), redacts their values in the
audit trail (the chain hashes keyed digests, so it still verifies), records keyed digests of
their email and phone so a later import of them is stored without values, scrubs the files the
home keeps, then copies the warehouse to a fresh file (DuckDB does not zero freed pages) and
republishes the snapshot and the tenant's extract.

Retry-safe: the files are scrubbed before the rows are removed (afterwards nothing knows the
values to look for), everything after the commit needs no values (error files are written again
from the warehouse; compaction and publishing copy it), so an erasure interrupted or failing at
any point completes when the same command is run again.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import duckdb
import phonenumbers
import polars as pl

from crm_pipeline.contacts.gdpr_files import compact_warehouse, rewrite_error_files, scrub_files
from crm_pipeline.contacts.importer import suppress_rows
from crm_pipeline.contacts.profile import resolve_contact_id, tenant_extract, unknown
from crm_pipeline.contacts.redaction import (
    ERASED,
    identifier_pattern,
    matching_rows_sql,
    quote_ident,
    redact_tables,
    text_columns,
)
from crm_pipeline.contacts.store import CONTACT_FIELDS, delete_contacts, set_contact_fields
from crm_pipeline.home import Home
from crm_pipeline.progress import report
from crm_pipeline.tenants import checked_tenant_id
from crm_pipeline.trust.audit import ChangeContext, keyed_digest_sql
from crm_pipeline.trust.heads import record_chain_heads
from crm_pipeline.trust.publish import publish_all_tenants, publish_tenant
from crm_pipeline.warehouse import connect, create_tables, frame, run, transaction, utc_now

__all__ = ["compact_warehouse", "erase_subject", "export_subject", "scrub_files"]

PERSON_SCHEMAS = ("core", "marts", "staging", "raw")
# Columns holding a contact id: rows with one of the person's ids are theirs.
_CONTACT_COLUMNS = ("contact_id", "alias_id")
_SOURCE_KEY_COLUMNS = ("source_key", "left_key", "right_key")
# Kept by design (see docs/trust.md): the audit trail (values redacted) and the suppressions.
_KEPT = ("audit", "gdpr")
# Redacted by their own rules: golden records through the audited write path, the audit trail's
# values only (its other columns are hashed into the chain), suppressions hold digests only.
_NOT_REDACTED_AS_TEXT = ("core.contacts", "audit.changes", "gdpr")
_EMAIL = re.compile(r"[^\s\"'<>,;:()\[\]]+@[^\s\"'<>,;:()\[\]@]+\.[^\s\"'<>,;:()\[\]@]+")
_PHONE_LIKE = re.compile(r"^[\d\s()+./-]{7,}$")
_PHONE_HEADER = re.compile(r"(?i)phone|mobile|tel|fax|cell|handy|portable|m[oó]vil")
_IN_IDS = "tenant_id = $t AND contact_id IN (SELECT unnest($ids::VARCHAR[]))"


def _records(con, query: str, params: dict) -> list[dict]:
    cursor = con.execute(query, params)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]


def _qualified(table: str) -> str:
    schema, name = table.split(".")
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def _tables_with(con, columns: tuple[str, ...], suffix: str | None = None) -> dict[str, list[str]]:
    """`schema.table` -> its columns named in `columns` (or ending with `suffix`), for every
    table of the working file (found from the catalog, so tables added later are covered)."""
    rows = run(
        con,
        "SELECT schema_name || '.' || table_name, column_name FROM duckdb_columns() "
        "WHERE database_name = current_database() AND (column_name IN $cols "
        "OR ($suffix IS NOT NULL AND suffix(column_name, $suffix))) ORDER BY 1, 2",
        {"cols": list(columns), "suffix": suffix},
    )
    found: dict[str, list[str]] = {}
    for table, column in rows:
        found.setdefault(table, []).append(column)
    return found


def _contact_tables(con) -> list[str]:
    """Every table of the person-holding schemas with a contact_id column."""
    return sorted(t for t, cols in _tables_with(con, ("contact_id",)).items()
                  if t.split(".")[0] in PERSON_SCHEMAS)


@dataclass(frozen=True)
class Subject:
    """What identifies one person of a tenant, read before anything of theirs is removed."""

    tenant_id: str
    contact_id: str
    ids: list[str]  # the contact id and its aliases
    emails: list[str]  # lower case: normalized, and every value of their rows that is an email
    phones: list[str]  # E.164
    written_phones: list[str]  # every value of their rows that is a phone number, as written
    names: list[tuple[str, str]]  # (first, last) as imported and as normalized
    source_ids: list[str]  # ids of their source rows that no other contact of the tenant has
    source_systems: list[str]
    suppress_emails: list[str]  # normalized, as later imports are compared
    suppress_phones: list[str]

    def contact_pattern(self) -> str | None:
        """Their emails and phones: what makes a row or line that is not linked theirs."""
        return identifier_pattern(emails=self.emails, phones=self.phones,
                                  written_phones=self.written_phones)

    def text_pattern(self) -> str | None:
        """Every identifier, for free text: emails, phones, full names, ids, source ids."""
        return identifier_pattern(emails=self.emails, phones=self.phones,
                                  written_phones=self.written_phones, names=self.names,
                                  ids=self.ids, source_ids=self.source_ids)

    def line_pattern(self) -> str | None:
        """What an activity line naming them must contain (any source id, however short)."""
        return identifier_pattern(emails=self.emails, phones=self.phones,
                                  written_phones=self.written_phones, ids=self.ids,
                                  source_ids=self.source_ids, min_source_id=1)


def _parts(*values) -> list[str]:
    """The values of cells, a multi-valued cell (`a ::: b`) split, blanks dropped."""
    return [part.strip() for value in values if isinstance(value, str)
            for part in value.split(":::") if part.strip()]


def _is_phone_like(value: str) -> bool:
    return bool(_PHONE_LIKE.match(value)) and sum(ch.isdigit() for ch in value) >= 7


def _e164(value: str, region: str | None) -> str | None:
    """A phone number as written, in E.164 when it is a valid number (in the tenant's country
    unless it says otherwise), else None."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def read_subject(con: duckdb.DuckDBPyConnection, tenant_id: str, cid: str) -> Subject:
    """The person's identifiers from their golden record and every source row as imported: a
    second email anywhere in the row counts (any value that is an email as a whole; a value
    that only mentions one, like notes, does not), and so does a phone number in an unmapped
    column whose header says it holds one (Mobile, Fax, Telefon...): a value that merely looks
    like digits (a date, an amount) is not taken for a phone number."""
    aliases = [r[0] for r in run(con, "SELECT alias_id FROM core.contact_aliases "
                                 "WHERE tenant_id = $t AND contact_id = $c ORDER BY 1",
                                 {"t": tenant_id, "c": cid})]
    ids = [cid, *aliases]
    p = {"t": tenant_id, "ids": ids}
    region = run(con, "SELECT max(home_country) FROM core.tenants WHERE tenant_id = $t",
                 {"t": tenant_id})[0][0]
    rows = run(
        con,
        f"""
        SELECT r.record::VARCHAR, r.extra::VARCHAR, r.source_system, r.mapped.phone,
               r.mapped.other_phones, r.mapped.first_name, r.mapped.last_name,
               r.mapped.full_name, s.email, s.phone, s.other_emails, s.other_phones,
               s.first_name, s.last_name
        FROM (SELECT * FROM core.contact_sources WHERE {_IN_IDS}) cs
        JOIN raw.contact_rows r USING (tenant_id, import_id, row_number)
        LEFT JOIN staging.contact_rows s USING (tenant_id, import_id, row_number)
        UNION ALL
        SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, email, phone, [], [], first_name,
               last_name
        FROM core.contacts WHERE {_IN_IDS}
        """,
        p,
    )
    emails, phones, written, names, systems = set(), set(), set(), set(), set()
    sup_emails, sup_phones = set(), set()
    for (record, extra, system, m_phone, m_other_phones, m_first, m_last, m_full, email, phone,
         other_emails, other_phones, first, last) in rows:
        for value in _strings(json.loads(record)) if record else []:
            emails.update(v.lower() for v in _parts(value) if _EMAIL.fullmatch(v))
        for header, value in (json.loads(extra) if extra else {}).items():
            if _PHONE_HEADER.search(header):
                written.update(v for v in _parts(value) if _is_phone_like(v))
        written.update(v for v in _parts(m_phone, m_other_phones) if _is_phone_like(v))
        sup_emails.update(v for v in [email, *(other_emails or [])] if v)
        sup_phones.update(v for v in [phone, *(other_phones or [])] if v)
        names.update({(first, last), (m_first, m_last)})
        if m_full and " " in m_full.strip():
            names.add(tuple(m_full.strip().rsplit(" ", 1)))
        if system:
            systems.add(system)
    emails.update(e.lower() for e in sup_emails)
    phones.update(sup_phones)
    phones.update(filter(None, (_e164(v, region) for v in written)))
    source_ids = [r[0] for r in run(
        con,
        f"""
        SELECT DISTINCT trim(source_id) FROM core.contact_sources WHERE {_IN_IDS}
          AND nullif(trim(source_id), '') IS NOT NULL
          AND trim(source_id) NOT IN (
              SELECT trim(source_id) FROM core.contact_sources WHERE tenant_id = $t
              AND source_id IS NOT NULL AND contact_id NOT IN (SELECT unnest($ids::VARCHAR[])))
        ORDER BY 1
        """,
        p,
    )]
    return Subject(
        tenant_id=tenant_id, contact_id=cid, ids=ids, emails=sorted(emails),
        phones=sorted(phones), written_phones=sorted(written),
        names=sorted((f, la) for f, la in names if f and la),
        source_ids=source_ids, source_systems=sorted(systems),
        suppress_emails=sorted(sup_emails), suppress_phones=sorted(sup_phones),
    )


def export_subject(home: Home, tenant_id: str, contact_id: str) -> dict:
    """Everything held about one person, from the tenant's own extract, as one JSON-ready dict.

    Reading the tenant's extract (which holds no other tenant's rows) means another tenant's id is
    simply absent: it gets the same answer, by the same path, as an id that never existed.
    """
    tenant_id, con = tenant_extract(home, tenant_id, contact_id)
    try:
        cid = resolve_contact_id(con, tenant_id, contact_id)
        if cid is None:
            raise unknown(tenant_id, contact_id)
        subject = read_subject(con, tenant_id, cid)
        p = {"t": tenant_id, "ids": subject.ids}
        doc: dict = {"tenant_id": tenant_id, "contact_id": cid, "aliases": subject.ids[1:],
                     "exported_at": utc_now().isoformat()}
        for table in _contact_tables(con):
            doc[table] = _records(con, f"SELECT * FROM {_qualified(table)} WHERE {_IN_IDS}", p)
        doc["source_rows_as_imported"] = _records(
            con,
            """
            SELECT r.import_id, r.row_number, i.file_name, r.source_id, r.record, r.extra
            FROM core.contact_sources cs
            JOIN raw.contact_rows r USING (tenant_id, import_id, row_number)
            JOIN raw.imports i USING (tenant_id, import_id)
            WHERE cs.tenant_id = $t AND cs.contact_id IN (SELECT unnest($ids::VARCHAR[]))
            ORDER BY r.import_id, r.row_number
            """,
            p,
        )
        pattern = subject.contact_pattern()
        doc["quarantined_rows_with_their_email_or_phone"] = _records(
            con,
            "SELECT * FROM quarantine.rows q WHERE q.tenant_id = $t "
            "AND regexp_matches(q.raw, $pattern) ORDER BY import_id, row_number",
            {"t": tenant_id, "pattern": pattern},
        ) if pattern else []
        doc["audit.changes"] = _records(
            con,
            "SELECT change_id, run_id, actor, actor_kind, action, entity, entity_id, \"at\", "
            "previous, new, redacted FROM audit.changes WHERE tenant_id = $t "
            "AND entity_id IN (SELECT unnest($ids::VARCHAR[])) ORDER BY change_id",
            p,
        )
    finally:
        con.close()
    return doc


def erase_subject(home: Home, tenant_id: str, contact_id: str, actor: str) -> dict:
    """Erase a person from the warehouse, every file of the home, snapshot and extract; suppress
    re-imports. Returns counts of what was removed. Run again after an interruption or failure,
    it completes the erasure (an id already erased is recognised from the suppressions)."""
    tenant_id = checked_tenant_id(tenant_id)
    summary = {"rows_removed": 0, "rows_redacted": 0, "audit_rows_redacted": 0,
               "files_scrubbed": 0}
    if tenant_id not in home.tenant_ids():
        raise unknown(tenant_id, contact_id)
    con = connect(home.shard(tenant_id))
    try:
        create_tables(con)
        cid = resolve_contact_id(con, tenant_id, contact_id)
        if cid is None:
            cid = _erased_contact_id(con, home.key(), tenant_id, contact_id)
            if cid is None:
                raise unknown(tenant_id, contact_id)
        else:
            ctx = ChangeContext(tenant_id, f"erase-{utc_now():%Y%m%dT%H%M%S}", actor, "user",
                                home.key(), utc_now())
            subject = read_subject(con, tenant_id, cid)
            home.compaction_pending(tenant_id).touch()  # snapshots: logical copies until compaction
            # Before the rows go: afterwards nothing knows the values to look for.
            summary["files_scrubbed"] = scrub_files(home, subject.text_pattern())
            report("erase: files scrubbed")
            with transaction(con):
                summary |= _erase_rows(con, ctx, subject)
            report("erase: rows erased")
        record_chain_heads(con, home, [tenant_id])
        rewrite_error_files(con, home, tenant_id)
        report("erase: error files written")
    finally:
        con.close()
    home.compaction_pending(tenant_id).touch()
    compact_warehouse(home, tenant_id)
    home.compaction_pending(tenant_id).unlink(missing_ok=True)
    report("erase: warehouse compacted")
    con = connect(home.shard(tenant_id))
    try:
        publish_tenant(con, home, tenant_id)
    finally:
        con.close()
    publish_all_tenants(home)
    return summary | {"contact_id": cid}


def _erased_contact_id(con, key: bytes, tenant_id: str, given: str) -> str | None:
    """The contact id an erased id (or one of its aliases) had, from the suppressions."""
    rows = run(
        con,
        f"SELECT contact_id FROM gdpr.suppressions WHERE tenant_id = $t AND (contact_id = $c "
        f"OR (kind = 'contact' AND subject_digest = {keyed_digest_sql('$c')})) LIMIT 1",
        {"t": tenant_id, "c": given, "key_hex": key.hex()},
    )
    return rows[0][0] if rows else None


def _erase_rows(con: duckdb.DuckDBPyConnection, ctx: ChangeContext, subject: Subject) -> dict:
    """Everything in the warehouse, in the caller's transaction; counts."""
    _mark_their_rows(con, subject)
    try:
        removed = delete_contacts(con, ctx, [subject.contact_id], action="erase")
        removed += _suppress_pending(con, ctx, subject)
        removed += _delete_keyed_rows(con, subject)
    finally:
        run(con, "DROP TABLE IF EXISTS _erase_keys")
    accounts = _their_accounts(con, subject)
    removed += _delete_accounts(con, subject, accounts)
    redacted = _redact_text(con, ctx, subject)
    audit = _redact_audit(con, ctx, subject, accounts)
    _suppress(con, ctx, subject)
    return {"rows_removed": removed, "rows_redacted": redacted, "audit_rows_redacted": audit}


def _mark_their_rows(con, subject: Subject) -> None:
    """Temp table `_erase_keys (import_id, n, source_key, pending)`: their contact rows (n is the
    row number) and activity lines (n is the line number), by import; pending when the import has
    not been processed by a run yet. Theirs are: their source rows; rows and quarantined rows not
    linked to any contact that hold their email or phone (or their source id, from the same
    system); the lines of their activities; and lines whose contact reference is theirs. Lines
    are parsed only when they are valid JSON (malformed lines are quarantined, never parsed)."""
    never = r"\b\B"  # a pattern that matches nothing
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE _erase_keys AS
        WITH sources AS (
            SELECT import_id, row_number AS n, source_key FROM core.contact_sources
            WHERE tenant_id = $t AND contact_id IN (SELECT unnest($ids::VARCHAR[]))
        ),
        unlinked AS (
            SELECT r.import_id, r.row_number AS n FROM raw.contact_rows r
            WHERE r.tenant_id = $t AND NOT EXISTS (
                    SELECT 1 FROM core.contact_sources cs WHERE cs.tenant_id = $t
                    AND cs.import_id = r.import_id AND cs.row_number = r.row_number)
              AND (regexp_matches(r.record::VARCHAR, $cp)
                   OR regexp_matches(to_json(r.mapped)::VARCHAR, $cp)
                   OR regexp_matches(r.extra::VARCHAR, $cp)
                   OR (trim(r.source_id) IN (SELECT unnest($sids::VARCHAR[]))
                       AND r.source_system IN (SELECT unnest($systems::VARCHAR[]))))
            UNION
            SELECT import_id, row_number FROM quarantine.rows
            WHERE tenant_id = $t AND kind = 'contact' AND regexp_matches(raw, $cp)
        ),
        candidate_lines AS (
            SELECT import_id, line_number,
                   CASE WHEN json_valid(line) THEN line END AS j
            FROM raw.activity_events
            WHERE tenant_id = $t AND regexp_matches(line, $lp)
        ),
        lines AS (
            SELECT import_id, line_number AS n FROM core.activities
            WHERE tenant_id = $t AND contact_id IN (SELECT unnest($ids::VARCHAR[]))
            UNION
            SELECT import_id, line_number FROM candidate_lines
            WHERE nullif(trim(j->>'$.contact_id'), '') IN (SELECT unnest($ids::VARCHAR[]))
               OR nullif(trim(j->>'$.source_id'), '') IN (SELECT unnest($sids::VARCHAR[]))
               OR lower(nullif(trim(j->>'$.email'), '')) IN (SELECT unnest($emails::VARCHAR[]))
               OR regexp_matches(j->>'$.phone', $cp)
        ),
        keys AS (
            SELECT import_id, n, source_key FROM sources
            UNION SELECT import_id, n, NULL FROM unlinked
            UNION SELECT import_id, n, NULL FROM lines
        )
        SELECT k.import_id, k.n, k.source_key, i.processed_run_id IS NULL AS pending
        FROM keys k JOIN raw.imports i ON i.tenant_id = $t AND i.import_id = k.import_id
        """,
        {"t": subject.tenant_id, "ids": subject.ids, "sids": subject.source_ids,
         "systems": subject.source_systems, "emails": subject.emails,
         "cp": subject.contact_pattern() or never, "lp": subject.line_pattern() or never},
    )


def _suppress_pending(con, ctx: ChangeContext, subject: Subject) -> int:
    """Their rows in imports no run has processed yet: kept as row numbers (the import must still
    add up), a contact row quarantined as erased_subject, an activity line blanked (the run then
    quarantines it as unreadable)."""
    t = subject.tenant_id
    pending = run(con, "SELECT k.import_id, i.kind, list(k.n ORDER BY k.n) FROM _erase_keys k "
                  "JOIN raw.imports i ON i.tenant_id = $t AND i.import_id = k.import_id "
                  "WHERE k.pending GROUP BY ALL ORDER BY 1", {"t": t})
    changed = 0
    for import_id, kind, numbers in pending:
        if kind == "contact":
            changed += suppress_rows(con, tenant_id=t, import_id=import_id,
                                     row_numbers=pl.Series(numbers, dtype=pl.Int64), key=ctx.key,
                                     run_id=ctx.run_id, at=ctx.at)
        else:
            changed += run(con, "UPDATE raw.activity_events SET line = $erased "
                           "WHERE tenant_id = $t AND import_id = $i "
                           "AND line_number IN (SELECT unnest($n::BIGINT[]))",
                           {"t": t, "i": import_id, "n": numbers, "erased": ERASED})[0][0]
    return changed


def _delete_keyed_rows(con, subject: Subject) -> int:
    """Delete every row keyed by the person, in every table found by its columns: by contact id
    or alias, by source key, and by (import, row or line number). The rows as imported (raw
    rows and lines, quarantined rows) of pending imports stay, without values, so they add up."""
    t, p = subject.tenant_id, {"t": subject.tenant_id, "ids": subject.ids}
    removed = 0
    for table, cols in _tables_with(con, _CONTACT_COLUMNS, suffix="_contact_id").items():
        if table == "core.contacts" or table.split(".")[0] in _KEPT:
            continue  # contacts only through the audited write path (done)
        where = " OR ".join(f"{quote_ident(c)} IN (SELECT unnest($ids::VARCHAR[]))" for c in cols)
        removed += run(con, f"DELETE FROM {_qualified(table)} WHERE tenant_id = $t AND ({where})",
                       p)[0][0]
    for table, cols in _tables_with(con, _SOURCE_KEY_COLUMNS).items():
        if table.split(".")[0] in _KEPT:
            continue
        where = " OR ".join(f"{quote_ident(c)} IN (SELECT source_key FROM _erase_keys "
                            "WHERE source_key IS NOT NULL)" for c in cols)
        removed += run(con, f"DELETE FROM {_qualified(table)} WHERE tenant_id = $t AND ({where})",
                       {"t": t})[0][0]
    numbered = _tables_with(con, ("row_number", "line_number"))
    with_import = _tables_with(con, ("import_id",))
    for table, cols in numbered.items():
        if table not in with_import or table.split(".")[0] in _KEPT:
            continue
        as_imported = table in ("raw.contact_rows", "raw.activity_events", "quarantine.rows")
        removed += run(
            con,
            f"DELETE FROM {_qualified(table)} x USING _erase_keys k WHERE x.tenant_id = $t "
            f"AND x.import_id = k.import_id AND x.{quote_ident(cols[0])} = k.n"
            + (" AND NOT k.pending" if as_imported else ""),
            {"t": t},
        )[0][0]
    return removed


def _their_accounts(con, subject: Subject) -> list[str]:
    """Accounts the pipeline made from their e-mail domains that no other contact is linked to
    (their link is gone by now): a one-person company's domain names the person."""
    domains = sorted({e.rsplit("@", 1)[1] for e in subject.emails if "@" in e})
    if not domains:
        return []
    return [a for (a,) in run(con, """
        SELECT a.account_id FROM core.accounts AS a
        WHERE a.tenant_id = $t AND a.created_by = 'email_domain'
          AND EXISTS (SELECT 1 FROM core.account_domains AS d, unnest($domains::VARCHAR[]) AS e(x)
                      WHERE d.tenant_id = $t AND d.account_id = a.account_id
                        AND (e.x = d.domain OR suffix(e.x, '.' || d.domain)))
          AND NOT EXISTS (SELECT 1 FROM core.contact_accounts AS l
                          WHERE l.tenant_id = $t AND l.account_id = a.account_id)
        ORDER BY 1""", {"t": subject.tenant_id, "domains": domains})]


def _delete_accounts(con, subject: Subject, accounts: list[str]) -> int:
    """Those accounts, their domains and the ids merged into them."""
    if not accounts:
        return 0
    p = {"t": subject.tenant_id, "a": accounts}
    return sum(run(con, f"DELETE FROM {table} WHERE tenant_id = $t "
                        "AND account_id IN (SELECT unnest($a::VARCHAR[]))", p)[0][0]
               for table in ("core.account_aliases", "core.account_domains", "core.accounts"))


def _redact_text(con, ctx: ChangeContext, subject: Subject) -> int:
    """Replace every remaining occurrence of their identifiers in the tenant's text: every table
    but the audit trail and the suppressions; other contacts' golden records through the audited
    write path."""
    pattern = subject.text_pattern()
    if pattern is None:
        return 0
    t = subject.tenant_id
    changed = redact_tables(con, t, pattern, skip=_NOT_REDACTED_AS_TEXT)
    columns = {c: e for c, e in text_columns(con, "core.contacts").items() if c in CONTACT_FIELDS}
    if columns:
        redacted = ", ".join(f"{e} AS {quote_ident(c)}" for c, e in columns.items())
        updates = frame(
            con,
            f"SELECT contact_id, {redacted} FROM core.contacts "
            f"WHERE {matching_rows_sql('core.contacts', columns)}",
            {"t": t, "pattern": pattern},
        )
        changed += set_contact_fields(con, ctx, updates)["updated"]
    return changed


def _redact_audit(con, ctx: ChangeContext, subject: Subject, accounts: list[str]) -> int:
    """Their audit rows lose their values; so do other rows that mention them, each listed as
    redacted by this erasure (a keyed digest of its change id in `gdpr.suppressions`, which
    `crm audit verify` requires of a redacted row that is not the erased person's own). The
    chain hashes keyed digests of the values, never the values, so it still verifies."""
    p = {"t": subject.tenant_id, "ids": subject.ids}
    redacted = run(con, "UPDATE audit.changes SET previous = NULL, new = NULL, redacted = true "
                   "WHERE tenant_id = $t AND entity_id IN (SELECT unnest($ids::VARCHAR[])) "
                   "AND (previous IS NOT NULL OR new IS NOT NULL OR NOT redacted)", p)[0][0]
    pattern = subject.text_pattern() or r"\b\B"  # (a pattern that matches nothing)
    mentions = [r[0] for r in run(
        con,
        "SELECT change_id FROM audit.changes WHERE tenant_id = $t "
        "AND ((regexp_matches(previous::VARCHAR, $pattern) "
        "      OR regexp_matches(new::VARCHAR, $pattern)) "
        "     OR (entity = 'account' AND entity_id IN (SELECT unnest($a::VARCHAR[])) "
        "         AND (previous IS NOT NULL OR new IS NOT NULL)))",
        {"t": subject.tenant_id, "pattern": pattern, "a": accounts},
    )]
    if not mentions:
        return redacted
    run(con, "UPDATE audit.changes SET previous = NULL, new = NULL, redacted = true "
        "WHERE tenant_id = $t AND change_id IN (SELECT unnest($c::BIGINT[]))",
        {"t": subject.tenant_id, "c": mentions})
    run(
        con,
        f"""
        INSERT INTO gdpr.suppressions BY NAME
        SELECT $t AS tenant_id, {keyed_digest_sql("('change:' || c::VARCHAR)")} AS subject_digest,
               'change' AS kind, $contact AS contact_id, $at AS erased_at, $actor AS actor
        FROM (SELECT unnest($c::BIGINT[]) AS c)
        """,
        {"t": subject.tenant_id, "c": mentions, "contact": subject.contact_id, "at": ctx.at,
         "actor": ctx.actor, "key_hex": ctx.key.hex()},
    )
    return redacted + len(mentions)


def _suppress(con, ctx: ChangeContext, subject: Subject) -> None:
    """Keyed digests of their normalized emails and phones and of their ids (never the values)."""
    run(
        con,
        f"""
        INSERT INTO gdpr.suppressions BY NAME
        SELECT $t AS tenant_id, {keyed_digest_sql('v')} AS subject_digest, kind,
               $c AS contact_id, $at AS erased_at, $actor AS actor
        FROM (SELECT 'email' AS kind, unnest($emails::VARCHAR[]) AS v
              UNION SELECT 'phone', unnest($phones::VARCHAR[])
              UNION SELECT 'contact', unnest($ids::VARCHAR[]))
        ORDER BY kind, subject_digest
        """,
        {"t": subject.tenant_id, "c": subject.contact_id, "at": ctx.at, "actor": ctx.actor,
         "key_hex": ctx.key.hex(), "emails": subject.suppress_emails,
         "phones": subject.suppress_phones, "ids": subject.ids},
    )
