"""Survivorship: the golden record of a contact from all of its source rows."""

from __future__ import annotations

import duckdb
import polars as pl

from ..contacts_store import CONTACT_FIELDS
from ..warehouse import frame, run

# Fields taken from the most recent source with a non-empty valid value: every golden field but
# those with a rule of their own below.
OWN_RULES = ("source_id", "tags", "notes", "consent_status", "created_at", "email_status",
             "phone_status", "extra")
LATEST_FIELDS = tuple(f for f in CONTACT_FIELDS if f not in OWN_RULES)


def golden_records(
    con: duckdb.DuckDBPyConnection,
    tenant_id: str,
    contact_ids: pl.Series,
    into: str | None = None,
) -> pl.DataFrame | None:
    """Golden rows for the given contacts from their sources in staging (newest source wins).

    Recency is the import time, then the row order in the file; tags are unioned, notes kept from
    every source (distinct, in a stable order, so a re-run changes nothing), created_at is the
    earliest, consent the newest known status.
    A contact with one source (most) is that row, taken as it is; only the others aggregate.
    With `into`, the rows go to that temporary table instead (a million golden rows then never
    leave DuckDB) and None is returned.
    """
    ids = pl.DataFrame({"contact_id": contact_ids.unique()})
    con.register("_golden_ids", ids)
    try:
        latest = ",\n".join(
            f"arg_max({f}, _rank) FILTER (WHERE {f} IS NOT NULL) AS {f}" for f in LATEST_FIELDS
        )
        query = f"""
            WITH imports AS (
                SELECT import_id,
                       row_number() OVER (ORDER BY imported_at, import_id) AS import_rank
                FROM raw.imports WHERE tenant_id = $t
            ),
            sizes AS (
                SELECT cs.contact_id, count(*) AS _sources
                FROM core.contact_sources cs JOIN _golden_ids g USING (contact_id)
                WHERE cs.tenant_id = $t GROUP BY cs.contact_id
            ),
            src AS (
                -- Recency as one number (the import's place, then the row's), without a sort.
                SELECT s.*, cs.contact_id, i.import_rank * 4294967296 + s.row_number AS _rank,
                       z._sources
                FROM staging.contact_rows s
                JOIN core.contact_sources cs USING (tenant_id, import_id, row_number)
                JOIN imports i USING (import_id)
                JOIN sizes z ON z.contact_id = cs.contact_id
                WHERE s.tenant_id = $t
            )
            SELECT contact_id, source_id, {", ".join(LATEST_FIELDS)},
                   list_distinct(tags) AS tags, notes,
                   CASE WHEN consent_status <> 'unknown' THEN consent_status
                        ELSE 'unknown' END AS consent_status,
                   created_at,
                   CASE WHEN email IS NOT NULL THEN 'valid'
                        WHEN email_status = 'invalid' THEN 'invalid'
                        ELSE 'missing' END AS email_status,
                   CASE WHEN phone IS NOT NULL THEN 'valid'
                        WHEN phone_status = 'invalid' THEN 'invalid'
                        ELSE 'missing' END AS phone_status,
                   extra
            FROM src WHERE _sources = 1
            UNION ALL
            SELECT contact_id,
                   arg_min(source_id, _rank) AS source_id,
                   {latest},
                   list_distinct(flatten(list(tags ORDER BY _rank) FILTER (WHERE tags IS NOT NULL)))
                       AS tags,
                   string_agg(DISTINCT notes, '\n\n' ORDER BY notes)
                       FILTER (WHERE notes IS NOT NULL) AS notes,
                   coalesce(arg_max(consent_status, _rank)
                                FILTER (WHERE consent_status <> 'unknown'), 'unknown')
                       AS consent_status,
                   min(created_at) AS created_at,
                   CASE WHEN bool_or(email IS NOT NULL) THEN 'valid'
                        WHEN bool_or(email_status = 'invalid') THEN 'invalid'
                        ELSE 'missing' END AS email_status,
                   CASE WHEN bool_or(phone IS NOT NULL) THEN 'valid'
                        WHEN bool_or(phone_status = 'invalid') THEN 'invalid'
                        ELSE 'missing' END AS phone_status,
                   arg_max(extra, _rank) FILTER (WHERE extra IS NOT NULL) AS extra
            FROM src WHERE _sources > 1 GROUP BY contact_id
            """
        if into:
            run(con, f"CREATE OR REPLACE TEMP TABLE {into} AS {query}", {"t": tenant_id})
            return None
        return frame(con, query + " ORDER BY contact_id", {"t": tenant_id})
    finally:
        con.unregister("_golden_ids")
