"""A contact's secondary emails and phones (core.contact_other_emails, contact_other_phones):
the primary is the golden record's (the most trusted, chosen by survivorship); every other valid
value its source rows give stays here instead of being lost."""

from __future__ import annotations

import duckdb

from crm_pipeline.warehouse import run


def record_other_values(con: duckdb.DuckDBPyConnection, tenant_id: str, golden: str) -> None:
    """Replace the secondary emails and phones of the contacts in the table `golden` (golden
    rows about to be written, hand-set values in) with their sources' values other than the
    primary, from `_golden_others` (survive.golden_records made it beside `golden`; dropped
    here). Held rows and look-alike emails give none."""
    try:
        for field, table, extra in (("email", "core.contact_other_emails", "other_emails"),
                                    ("phone", "core.contact_other_phones", "other_phones")):
            run(con, f"DELETE FROM {table} WHERE tenant_id = $t "
                     f"AND contact_id IN (SELECT contact_id FROM {golden})", {"t": tenant_id})
            look_alike = (
                "AND NOT EXISTS (SELECT 1 FROM staging.field_issues AS fi WHERE fi.tenant_id = $t "
                "AND fi.import_id = x.import_id AND fi.row_number = x.row_number "
                "AND fi.field = 'email' AND fi.issue = 'confusable_email')"
                if field == "email" else ""
            )
            run(con, f"""
                INSERT INTO {table} (tenant_id, contact_id, {field}, source_rows, last_seen_at)
                SELECT $t, x.contact_id, x.value, count(*), max(x.imported_at)
                FROM (
                    SELECT contact_id, import_id, row_number, imported_at,
                           unnest(list_prepend({field}, coalesce({extra}, []))) AS value
                    FROM _golden_others
                ) AS x
                JOIN {golden} AS g ON g.contact_id = x.contact_id
                WHERE x.value IS NOT NULL AND x.value IS DISTINCT FROM g.{field} {look_alike}
                GROUP BY x.contact_id, x.value
                """, {"t": tenant_id})
    finally:
        run(con, "DROP TABLE IF EXISTS _golden_others")
