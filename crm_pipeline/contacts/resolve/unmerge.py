"""Unmerge: split one source row out of a golden contact, for good.

The row becomes its own contact, the activities that referred to it move along, both golden records
are rebuilt through the audited write path, and a block keeps the pair from merging again. A row
waiting in marts.merge_review is marked split.
"""

from __future__ import annotations

import hashlib

import duckdb
import polars as pl

from crm_pipeline.contacts.consent import record_consent_changes, stored_consent
from crm_pipeline.contacts.profile import resolve_contact_id, unknown
from crm_pipeline.contacts.resolve.review import mark_split
from crm_pipeline.contacts.resolve.secondary import record_other_values
from crm_pipeline.contacts.resolve.survive import golden_records
from crm_pipeline.contacts.store import keep_manual_values, upsert_contacts
from crm_pipeline.errors import BadArgument
from crm_pipeline.trust.audit import ChangeContext, append_changes, json_text
from crm_pipeline.warehouse import frame, run


def unmerged_contact_id(tenant_id: str, source_key: str) -> str:
    digest = hashlib.sha256(f"{tenant_id}|{source_key}|unmerged".encode()).hexdigest()
    return f"c_{digest[:16]}"


def unmerge_source(
    con: duckdb.DuckDBPyConnection, ctx: ChangeContext, contact_id: str, source_key: str
) -> str:
    """Split `source_key` out of the contact; returns the new contact's id."""
    t = ctx.tenant_id
    cid = resolve_contact_id(con, t, contact_id)
    if cid is None:
        raise unknown(t, contact_id)
    sources = run(
        con,
        "SELECT source_key FROM core.contact_sources WHERE tenant_id = $t AND contact_id = $c",
        {"t": t, "c": cid},
    )
    keys = {r[0] for r in sources}
    if source_key not in keys:
        raise BadArgument(
            f"source {source_key!r} is not a source of contact {cid}: "
            "see its sources with crm contact show"
        )
    if len(keys) == 1:
        raise BadArgument(
            f"source {source_key!r} is the only source of contact {cid}: "
            "there is nothing to split it from"
        )
    new_id = unmerged_contact_id(t, source_key)
    run(con, "BEGIN TRANSACTION")
    try:
        run(
            con,
            "UPDATE core.contact_sources SET contact_id = $n, match_rule = 'unmerged', "
            "match_score = NULL, linked_at = $at, run_id = $r "
            "WHERE tenant_id = $t AND source_key = $k",
            {"n": new_id, "at": ctx.at, "r": ctx.run_id, "t": t, "k": source_key},
        )
        run(
            con,
            "DELETE FROM core.match_evidence WHERE tenant_id = $t AND contact_id = $c "
            "AND (left_key = $k OR right_key = $k)",
            {"t": t, "c": cid, "k": source_key},
        )
        run(
            con,
            "INSERT INTO core.match_blocks VALUES ($t, $k, $c, $a, $at)",
            {"t": t, "k": source_key, "c": cid, "a": ctx.actor, "at": ctx.at},
        )
        moved = _rehome_activities(con, t, cid, new_id, source_key)
        golden_records(con, t, pl.Series([cid, new_id]), into="_golden_unmerge")
        keep_manual_values(con, t, "_golden_unmerge")  # hand-set values outrank the split
        golden = frame(con, "SELECT * FROM _golden_unmerge ORDER BY contact_id")
        before = stored_consent(con, t, [cid, new_id])
        upsert_contacts(con, ctx, golden)
        record_other_values(con, t, "_golden_unmerge")
        run(con, "DROP TABLE _golden_unmerge")
        record_consent_changes(con, ctx, before, golden, source=f"unmerge:{source_key}")
        mark_split(con, ctx, source_key)
        append_changes(
            con,
            ctx,
            pl.DataFrame(
                {
                    "action": ["unmerge"],
                    "entity": ["contact"],
                    "entity_id": [cid],
                    "previous": [json_text({"source_key": source_key, "contact_id": cid})],
                    "new": [
                        json_text(
                            {
                                "source_key": source_key,
                                "contact_id": new_id,
                                "activities_moved": moved,
                            }
                        )
                    ],
                }
            ),
        )
        run(con, "COMMIT")
    except BaseException:
        run(con, "ROLLBACK")
        raise
    return new_id


def _rehome_activities(con, tenant_id: str, old_id: str, new_id: str, source_key: str) -> int:
    """Move the activities whose reference points at the split-out row and not at the others.

    References are read from the activities' raw lines (trimmed, as the linker reads them); a
    line that is not valid JSON is never parsed (quarantined lines stay in raw.activity_events)."""
    return run(
        con,
        """
        WITH split AS (
            SELECT s.source_id, s.email, s.phone FROM staging.contact_rows s
            JOIN core.contact_sources cs USING (tenant_id, import_id, row_number)
            WHERE cs.tenant_id = $t AND cs.source_key = $k
        ), kept AS (
            SELECT s.source_id, s.email, s.phone FROM staging.contact_rows s
            JOIN core.contact_sources cs USING (tenant_id, import_id, row_number)
            WHERE cs.tenant_id = $t AND cs.contact_id = $old
        ), lines AS (
            -- a line is parsed only when it is valid JSON: the filter alone does not guard the
            -- parse, since DuckDB may evaluate the references below on every raw line first
            SELECT a.activity_id, CASE WHEN json_valid(e.line) THEN e.line END AS j
            FROM core.activities a
            JOIN raw.activity_events e
              ON e.tenant_id = a.tenant_id AND e.import_id = a.import_id AND e.line_number = a.line_number
            WHERE a.tenant_id = $t AND a.contact_id = $old
        ), refs AS (
            SELECT activity_id, nullif(trim(j->>'$.source_id'), '') AS source_id,
                   lower(nullif(trim(j->>'$.email'), '')) AS email
            FROM lines
        ), moving AS (
            SELECT r.activity_id FROM refs r, split s
            WHERE (r.source_id IS NOT NULL AND r.source_id = s.source_id
                   AND r.source_id NOT IN (SELECT source_id FROM kept WHERE source_id IS NOT NULL))
               OR (r.email IS NOT NULL AND r.email = s.email
                   AND r.email NOT IN (SELECT email FROM kept WHERE email IS NOT NULL))
        )
        UPDATE core.activities SET contact_id = $new
        WHERE tenant_id = $t AND activity_id IN (SELECT activity_id FROM moving)
        """,
        {"t": tenant_id, "k": source_key, "old": old_id, "new": new_id},
    )[0][0]
