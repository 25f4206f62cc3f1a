"""The one audited write path for contact data.

Everything that creates, updates, merges, unmerges or deletes a golden contact calls a function
here; each writes `core.contacts` (and aliases) and the matching `audit.changes` rows in the same
transaction, so contact data never changes without its audit row.
"""

from __future__ import annotations

import duckdb
import polars as pl

from crm_pipeline.trust.audit import ChangeContext, append_changes
from crm_pipeline.warehouse import frame, run

# Golden-record fields: what survivorship fills and what an update compares.
CONTACT_FIELDS = (
    "source_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "company_key",
    "job_title",
    "industry",
    "company_size",
    "street",
    "city",
    "postcode",
    "state",
    "country",
    "birthdate",
    "tags",
    "notes",
    "lifecycle_stage",
    "consent_status",
    "created_at",
    "email_status",
    "phone_status",
    "phone_type",
    "extra",
)


def _field_json(alias: str) -> str:
    """SQL building a JSON object of every field of a row (NULL fields as null: dropping them
    costs four times as much in DuckDB as the object itself)."""
    pairs = ", ".join(f"'{f}', {alias}.{f}" for f in CONTACT_FIELDS)
    return f"json_object({pairs})"


def _diff_list(old: str, new: str) -> str:
    """SQL list of the fields that differ between two rows: {k, o (old JSON), n (new JSON)}."""
    items = ", ".join(
        f"{{'k': '{f}', 'o': to_json({old}.{f}), 'n': to_json({new}.{f}), "
        f"'d': {old}.{f} IS DISTINCT FROM {new}.{f}}}"
        for f in CONTACT_FIELDS
    )
    return f"list_filter([{items}], lambda x: x.d)"


def _diff_json(diff: str, side: str) -> str:
    """SQL turning a diff list into a JSON object of one side's values."""
    return (
        f"to_json(map_from_entries(list_transform({diff}, "
        f"lambda x: {{'key': x.k, 'value': x.{side}}})))"
    )


def upsert_contacts(
    con: duckdb.DuckDBPyConnection, ctx: ChangeContext, contacts: pl.DataFrame | str
) -> dict[str, int]:
    """Create or update golden contacts (all of `CONTACT_FIELDS` plus contact_id); audited.

    `contacts` is a frame or the name of a table holding them (large batches stay in DuckDB).
    A row whose fields all equal the stored ones changes nothing and writes no audit row, so
    re-running is idempotent. Returns counts of created, updated and unchanged contacts.
    """
    if isinstance(contacts, pl.DataFrame):
        if contacts.height == 0:
            return {"created": 0, "updated": 0, "unchanged": 0}
        con.register("_upsert_frame", contacts.select("contact_id", *CONTACT_FIELDS))
        try:
            run(con, "CREATE OR REPLACE TEMP TABLE _upsert AS SELECT * FROM _upsert_frame")
        finally:
            con.unregister("_upsert_frame")
        source = "_upsert"
    else:
        source = contacts  # read where it is: a million golden rows are not copied again
    tenant = {"t": ctx.tenant_id}
    total = run(con, f"SELECT count(*) FROM {source}")[0][0]
    try:
        run(
            con,
            f"""
            CREATE OR REPLACE TEMP TABLE _upsert_diff AS
            SELECT n.contact_id,
                   o.contact_id IS NULL AS is_new,
                   CASE WHEN o.contact_id IS NULL THEN []
                        ELSE {_diff_list("o", "n")} END AS diff
            FROM {source} n
            LEFT JOIN core.contacts o ON o.tenant_id = $t AND o.contact_id = n.contact_id
            """,
            tenant,
        )
        created, updated = run(
            con,
            "SELECT count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE NOT is_new AND len(diff) > 0) "
            "FROM _upsert_diff",
        )[0]
        cols = ", ".join(CONTACT_FIELDS)
        sets = ", ".join(f"{f} = n.{f}" for f in CONTACT_FIELDS)
        run(
            con,
            f"""
            INSERT INTO core.contacts (tenant_id, contact_id, {cols}, first_seen_at, updated_at)
            SELECT $t, n.contact_id, {", ".join("n." + f for f in CONTACT_FIELDS)}, $at, $at
            FROM {source} n JOIN _upsert_diff d USING (contact_id) WHERE d.is_new
            """,
            tenant | {"at": ctx.at},
        )
        if updated:
            run(
                con,
                f"""
                UPDATE core.contacts AS c SET {sets}, updated_at = $at
                FROM {source} n JOIN _upsert_diff d USING (contact_id)
                WHERE NOT d.is_new AND len(d.diff) > 0
                  AND c.tenant_id = $t AND c.contact_id = n.contact_id
                """,
                tenant | {"at": ctx.at},
            )
        append_changes(
            con,
            ctx,
            f"""
            SELECT CASE WHEN is_new THEN 'create' ELSE 'update' END AS action,
                   'contact' AS entity, contact_id AS entity_id,
                   CASE WHEN is_new THEN NULL ELSE {_diff_json("diff", "o")} END AS previous,
                   CASE WHEN is_new THEN {_field_json("n")} ELSE {_diff_json("diff", "n")} END
                       AS new,
                   contact_id AS _ord
            FROM _upsert_diff JOIN {source} n USING (contact_id)
            WHERE is_new OR len(diff) > 0
            """,
        )
    finally:
        run(con, "DROP TABLE IF EXISTS _upsert_diff")
        run(con, "DROP TABLE IF EXISTS _upsert")
    return {"created": created, "updated": updated, "unchanged": total - created - updated}


def set_contact_fields(
    con: duckdb.DuckDBPyConnection, ctx: ChangeContext, updates: pl.DataFrame
) -> dict[str, int]:
    """Set some fields of existing contacts (frame: contact_id + the fields to set); audited."""
    if updates.height == 0:
        return {"created": 0, "updated": 0, "unchanged": 0}
    fields = [c for c in updates.columns if c != "contact_id"]
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise ValueError(f"not contact fields: {sorted(unknown)}")
    con.register("_set", updates)
    try:
        current = frame(
            con,
            f"""
            SELECT c.contact_id, {
                ", ".join(("s." if f in fields else "c.") + f + " AS " + f for f in CONTACT_FIELDS)
            }
            FROM core.contacts c JOIN _set s ON s.contact_id = c.contact_id
            WHERE c.tenant_id = $t
            """,
            {"t": ctx.tenant_id},
        )
    finally:
        con.unregister("_set")
    return upsert_contacts(con, ctx, current)


def merge_contacts(con: duckdb.DuckDBPyConnection, ctx: ChangeContext, merges: pl.DataFrame) -> int:
    """Retire contacts into survivors (frame: alias_id, contact_id); audited as merge.

    The retired contact's row is removed, its id becomes an alias (and aliases pointing at it are
    re-pointed), and its activities and sources move to the survivor.
    """
    if merges.height == 0:
        return 0
    con.register("_merge", merges.select("alias_id", "contact_id"))
    try:
        params = {"t": ctx.tenant_id, "at": ctx.at, "run": ctx.run_id}
        changes = frame(
            con,
            f"""
            SELECT 'merge' AS action, 'contact' AS entity, m.alias_id AS entity_id,
                   {_field_json("c")}::VARCHAR AS previous,
                   json_object('merged_into', m.contact_id)::VARCHAR AS new
            FROM _merge m JOIN core.contacts c
              ON c.tenant_id = $t AND c.contact_id = m.alias_id
            ORDER BY m.alias_id
            """,
            {"t": ctx.tenant_id},
        )
        run(
            con,
            "UPDATE core.contact_aliases AS a SET contact_id = m.contact_id "
            "FROM _merge m WHERE a.tenant_id = $t AND a.contact_id = m.alias_id",
            {"t": ctx.tenant_id},
        )
        run(
            con,
            "INSERT INTO core.contact_aliases SELECT $t, alias_id, contact_id, $at, $run FROM _merge",
            params,
        )
        for table in ("core.contact_sources", "core.activities", "core.match_evidence",
                      "core.contact_other_emails", "core.contact_other_phones",
                      "marts.merge_review"):
            run(
                con,
                f"UPDATE {table} AS x SET contact_id = m.contact_id FROM _merge m "
                "WHERE x.tenant_id = $t AND x.contact_id = m.alias_id",
                {"t": ctx.tenant_id},
            )
        run(
            con,
            "DELETE FROM core.contacts WHERE tenant_id = $t "
            "AND contact_id IN (SELECT alias_id FROM _merge)",
            {"t": ctx.tenant_id},
        )
        append_changes(con, ctx, changes)
    finally:
        con.unregister("_merge")
    return merges.height


def delete_contacts(
    con: duckdb.DuckDBPyConnection,
    ctx: ChangeContext,
    contact_ids: list[str],
    action: str = "delete",
) -> int:
    """Remove golden contacts; audited as delete (or erase, whose values are redacted later)."""
    if not contact_ids:
        return 0
    ids = pl.DataFrame({"contact_id": contact_ids})
    con.register("_del", ids)
    try:
        changes = frame(
            con,
            f"""
            SELECT $action AS action, 'contact' AS entity, c.contact_id AS entity_id,
                   {_field_json("c")}::VARCHAR AS previous, NULL::VARCHAR AS new
            FROM core.contacts c JOIN _del d USING (contact_id)
            WHERE c.tenant_id = $t ORDER BY c.contact_id
            """,
            {"t": ctx.tenant_id, "action": action},
        )
        run(
            con,
            "DELETE FROM core.contacts WHERE tenant_id = $t "
            "AND contact_id IN (SELECT contact_id FROM _del)",
            {"t": ctx.tenant_id},
        )
        append_changes(con, ctx, changes)
    finally:
        con.unregister("_del")
    return changes.height


def mark_manual_fields(
    con: duckdb.DuckDBPyConnection, ctx: ChangeContext, marks: pl.DataFrame
) -> int:
    """Record fields set by hand (frame: contact_id, field) in `core.manual_fields`: a run keeps
    their values whatever later imports say. Called beside the audited write, in its
    transaction; the latest setter of a field replaces the earlier one."""
    if marks.height == 0:
        return 0
    con.register("_marks", marks.select("contact_id", "field").unique())
    try:
        run(con, "DELETE FROM core.manual_fields AS m USING _marks k WHERE m.tenant_id = $t "
                 "AND m.contact_id = k.contact_id AND m.field = k.field", {"t": ctx.tenant_id})
        run(con, "INSERT INTO core.manual_fields SELECT $t, contact_id, field, $actor, $kind, $at, "
                 "$run FROM _marks", {"t": ctx.tenant_id, "actor": ctx.actor,
                                      "kind": ctx.actor_kind, "at": ctx.at, "run": ctx.run_id})
    finally:
        con.unregister("_marks")
    return marks.height


def keep_manual_values(con: duckdb.DuckDBPyConnection, tenant_id: str, golden: str) -> None:
    """In a table of golden rows about to be written, put back every field set by hand (and the
    status that goes with a hand-set email or phone): an import never overwrites them."""
    fields = [f for (f,) in run(con, "SELECT DISTINCT field FROM core.manual_fields "
                                     "WHERE tenant_id = $t ORDER BY 1", {"t": tenant_id})
              if f in CONTACT_FIELDS]
    companions = {"email": ("email_status",), "phone": ("phone_status", "phone_type"),
                  "company": ("company_key",)}
    for field in fields:
        cols = (field, *companions.get(field, ()))
        sets = ", ".join(f"{c} = c.{c}" for c in cols)
        run(con, f"""
            UPDATE {golden} AS g SET {sets}
            FROM core.contacts c JOIN core.manual_fields m
              ON m.tenant_id = c.tenant_id AND m.contact_id = c.contact_id
            WHERE c.tenant_id = $t AND c.contact_id = g.contact_id AND m.field = $f
            """, {"t": tenant_id, "f": field})


def add_contact_notes(
    con: duckdb.DuckDBPyConnection, ctx: ChangeContext, notes: pl.DataFrame
) -> int:
    """Append notes (frame: note_id, contact_id, noted_at, body) to `core.contact_notes`, each
    with its audit row (create of a contact_note), in the caller's transaction."""
    if notes.height == 0:
        return 0
    con.register("_notes", notes.select("note_id", "contact_id", "noted_at", "body"))
    try:
        params = {"t": ctx.tenant_id, "actor": ctx.actor, "kind": ctx.actor_kind,
                  "run": ctx.run_id}
        run(con, "INSERT INTO core.contact_notes SELECT $t, note_id, contact_id, $actor, $kind, "
                 "noted_at, body, $run FROM _notes", params)
        changes = frame(con, """
            SELECT 'create' AS action, 'contact_note' AS entity, note_id AS entity_id,
                   NULL::VARCHAR AS previous,
                   json_object('contact_id', contact_id, 'author', $actor, 'noted_at', noted_at,
                               'body', body)::VARCHAR AS new
            FROM _notes ORDER BY note_id""", {"actor": ctx.actor})
        append_changes(con, ctx, changes)
    finally:
        con.unregister("_notes")
    return notes.height
