"""A contact's secondary emails and phones (core.contact_other_emails, contact_other_phones):
the primary is the golden record's (the most trusted, chosen by survivorship); every other valid
value its source rows give stays here instead of being lost."""

from __future__ import annotations

import duckdb
import polars as pl

from crm_pipeline.warehouse import run

HELD_KEYS = {"import_id": pl.String, "row_number": pl.Int64}


def record_other_values(con: duckdb.DuckDBPyConnection, tenant_id: str, golden: str,
                        held: pl.DataFrame) -> None:
    """Replace the secondary emails and phones of the contacts in the table `golden` (golden
    rows about to be written or just written) with their sources' values other than the
    primary. Held rows (`held`: import_id, row_number, held) and look-alike emails give none."""
    keys = held.filter(pl.col("held")).select(list(HELD_KEYS)).cast(HELD_KEYS)
    con.register("_other_held", keys)
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
                    SELECT cs.contact_id, s.import_id, s.row_number, i.imported_at,
                           unnest(list_prepend(s.{field}, coalesce(s.{extra}, []))) AS value
                    FROM staging.contact_rows AS s
                    JOIN core.contact_sources AS cs USING (tenant_id, import_id, row_number)
                    JOIN raw.imports AS i USING (tenant_id, import_id)
                    WHERE s.tenant_id = $t AND (s.{field} IS NOT NULL OR s.{extra} IS NOT NULL)
                      AND cs.contact_id IN (SELECT contact_id FROM {golden})
                ) AS x
                JOIN {golden} AS g ON g.contact_id = x.contact_id
                WHERE x.value IS NOT NULL AND x.value IS DISTINCT FROM g.{field}
                  AND NOT EXISTS (SELECT 1 FROM _other_held AS h
                                  WHERE h.import_id = x.import_id AND h.row_number = x.row_number)
                  {look_alike}
                GROUP BY x.contact_id, x.value
                """, {"t": tenant_id})
    finally:
        con.unregister("_other_held")
