"""The merge review queue (`marts.merge_review`): source rows that joined a contact on weak
evidence and would replace its established values are held, not applied, until a person or an
agent decides.

A row is queued when it is placed (never again once decided, whatever later runs find):
- `borderline_score`: linked by the probabilistic model with a match score under
  `survivorship.review_below_score` (near the link threshold) to a contact that already exists,
  while disagreeing with at least one of its established details;
- `replaces_several_details`: it would replace two or more of the contact's email, phone,
  street, city and postcode at once (the guard of `survive`, whatever the evidence).
While open it is held (`survive.held_sources`): it gives no contact detail and only fills
fields no other source gives. `accept_review` (crm merge accept) lets its values take part in
survivorship, audited; `crm unmerge` splits it off and marks it split.
"""

from __future__ import annotations

import duckdb
import polars as pl

from crm_pipeline.contacts.profile import resolve_contact_id, unknown
from crm_pipeline.contacts.resolve.score import PROBABILISTIC
from crm_pipeline.contacts.resolve.secondary import record_other_values
from crm_pipeline.contacts.resolve.survive import golden_records
from crm_pipeline.contacts.store import keep_manual_values, upsert_contacts
from crm_pipeline.errors import BadArgument
from crm_pipeline.tenants import survivorship_settings
from crm_pipeline.trust.audit import ChangeContext, append_changes, json_text
from crm_pipeline.warehouse import frame, run, transaction

BORDERLINE = "borderline_score"
SEVERAL = "replaces_several_details"
# Established details a queued row is compared on (a strong field that disagrees).
STRONG = ("email", "phone", "street", "city", "postcode", "birthdate")
ROWS_SCHEMA = {"contact_id": pl.String, "import_id": pl.String, "row_number": pl.Int64,
               "source_key": pl.String, "match_rule": pl.String, "score": pl.Float64}


def _disagreeing(con: duckdb.DuckDBPyConnection, tenant_id: str) -> pl.DataFrame:
    """The rows of `_review_rows` with the strong fields where they disagree with the
    contact's stored (established) values: spacing, case and punctuation aside."""
    folded = "lower(regexp_replace({}::VARCHAR, '[^[:alnum:]@+]', '', 'g'))"
    diffs = ", ".join(
        f"CASE WHEN s.{f} IS NOT NULL AND c.{f} IS NOT NULL "
        f"AND {folded.format('s.' + f)} <> {folded.format('c.' + f)} THEN '{f}' END"
        for f in STRONG
    )
    return frame(con, f"""
        SELECT r.*, list_filter([{diffs}], lambda x: x IS NOT NULL) AS fields
        FROM _review_rows AS r
        JOIN staging.contact_rows AS s
          ON s.tenant_id = $t AND s.import_id = r.import_id AND s.row_number = r.row_number
        JOIN core.contacts AS c ON c.tenant_id = $t AND c.contact_id = r.contact_id
        """, {"t": tenant_id})


def _queue(con: duckdb.DuckDBPyConnection, ctx: ChangeContext, rows: pl.DataFrame, reason: str,
           least_fields: int) -> int:
    """Insert open review rows for `rows` (ROWS_SCHEMA) disagreeing on at least `least_fields`
    strong fields, leaving rows already queued (decided or not) alone; rows queued."""
    if rows.height == 0:
        return 0
    con.register("_review_rows", rows.select(list(ROWS_SCHEMA)).cast(ROWS_SCHEMA))
    try:
        found = _disagreeing(con, ctx.tenant_id)
    finally:
        con.unregister("_review_rows")
    found = found.filter(pl.col("fields").list.len() >= least_fields)
    if found.height == 0:
        return 0
    con.register("_review_new", found)
    try:
        return run(con, """
            INSERT INTO marts.merge_review BY NAME
            SELECT $t AS tenant_id, n.contact_id, n.import_id, n.row_number, n.source_key,
                   n.match_rule, n.score, [$reason] AS reasons, n.fields, $at AS flagged_at,
                   $run AS run_id, 'open' AS status
            FROM _review_new AS n
            WHERE NOT EXISTS (SELECT 1 FROM marts.merge_review AS m WHERE m.tenant_id = $t
                              AND m.import_id = n.import_id AND m.row_number = n.row_number)
            """, {"t": ctx.tenant_id, "reason": reason, "at": ctx.at, "run": ctx.run_id})[0][0]
    finally:
        con.unregister("_review_new")


def flag_borderline_rows(con: duckdb.DuckDBPyConnection, ctx: ChangeContext,
                         placed: pl.DataFrame) -> int:
    """Queue the rows placed now into an existing contact by a probabilistic link under the
    tenant's `review_below_score` that disagree with one of its established details. Called
    before survivorship, so the queued rows are held in this very run."""
    below = survivorship_settings(con, ctx.tenant_id)["review_below_score"]
    weak = placed.filter(
        ~pl.col("creates") & (pl.col("match_rule") == PROBABILISTIC)
        & (pl.col("match_score") < below)
    )
    if weak.height == 0:
        return 0
    rows = weak.select(pl.col("survivor").alias("contact_id"), "import_id",
                       pl.col("row_number").cast(pl.Int64), "source_key", "match_rule",
                       pl.col("match_score").alias("score"))
    return _queue(con, ctx, rows, BORDERLINE, 1)


def flag_held_for_review(con: duckdb.DuckDBPyConnection, ctx: ChangeContext, held: pl.DataFrame,
                         placed: pl.DataFrame) -> int:
    """Queue the rows placed now that the guard held (they would replace several established
    details at once), before the golden rows are written."""
    rows = held.filter(pl.col("held")).join(
        placed.select("import_id", pl.col("row_number").cast(pl.Int64), "source_key",
                      "match_rule", pl.col("match_score").alias("score")),
        on=["import_id", "row_number"],
    )
    return _queue(con, ctx, rows, SEVERAL, 1)


def _open_rows(con, tenant_id: str, contact_id: str) -> list[str]:
    return [r[0] for r in run(con, """
        SELECT r.source_key FROM marts.merge_review AS r
        JOIN core.contact_sources AS cs USING (tenant_id, import_id, row_number)
        WHERE r.tenant_id = $t AND cs.contact_id = $c AND r.status = 'open'
        ORDER BY r.flagged_at, r.source_key""", {"t": tenant_id, "c": contact_id})]


def accept_review(con: duckdb.DuckDBPyConnection, ctx: ChangeContext, contact_id: str,
                  source_key: str | None) -> list[str]:
    """Accept the contact's held row `source_key` (every open one when None): its values then
    take part in survivorship; the review rows and the golden record's update are audited in
    one transaction. Returns the rows accepted."""
    t = ctx.tenant_id
    cid = resolve_contact_id(con, t, contact_id)
    if cid is None:
        raise unknown(t, contact_id)
    waiting = _open_rows(con, t, cid)
    if not waiting:
        raise BadArgument(f"contact {cid} has no source row waiting for review "
                          "(see marts.merge_review)")
    if source_key is not None:
        source_key = source_key.strip()
        if source_key not in waiting:
            raise BadArgument(f"row {source_key!r} is not waiting for review in contact {cid}: "
                              f"waiting are {', '.join(waiting)}")
        waiting = [source_key]
    with transaction(con):
        run(con, """
            UPDATE marts.merge_review SET status = 'accepted', decided_by = $a,
                   decided_by_kind = $k, decided_at = $at
            WHERE tenant_id = $t AND status = 'open' AND list_contains($keys, source_key)""",
            {"a": ctx.actor, "k": ctx.actor_kind, "at": ctx.at, "t": t, "keys": waiting})
        append_changes(con, ctx, pl.DataFrame({
            "action": ["update"] * len(waiting),
            "entity": ["merge_review"] * len(waiting),
            "entity_id": waiting,
            "previous": [json_text({"contact_id": cid, "status": "open"})] * len(waiting),
            "new": [json_text({"contact_id": cid, "status": "accepted"})] * len(waiting),
        }))
        rebuild_contacts(con, ctx, [cid])
    return waiting


def rebuild_contacts(con: duckdb.DuckDBPyConnection, ctx: ChangeContext,
                     contact_ids: list[str]) -> None:
    """The contacts' golden records rebuilt from their sources (hand-set values kept), written
    through the audited path, and their secondary emails and phones; in the caller's
    transaction."""
    golden_records(con, ctx.tenant_id, pl.Series(contact_ids), into="_golden_review")
    try:
        keep_manual_values(con, ctx.tenant_id, "_golden_review")
        upsert_contacts(con, ctx, "_golden_review")
        record_other_values(con, ctx.tenant_id, "_golden_review")
    finally:
        run(con, "DROP TABLE IF EXISTS _golden_review")


def mark_split(con: duckdb.DuckDBPyConnection, ctx: ChangeContext, source_key: str) -> int:
    """The review row of a source row `crm unmerge` split off, marked split; rows marked."""
    return run(con, """
        UPDATE marts.merge_review SET status = 'split', decided_by = $a, decided_by_kind = $k,
               decided_at = $at
        WHERE tenant_id = $t AND source_key = $s AND status <> 'split'""",
        {"a": ctx.actor, "k": ctx.actor_kind, "at": ctx.at, "t": ctx.tenant_id,
         "s": source_key})[0][0]
