"""The audit trail: an append-only, hash-chained log of changes, one chain per tenant.

Each row's hash covers the previous row's hash and the row's canonical content, in which the
previous and new values appear only as keyed digests. GDPR erasure can therefore replace the values
with NULL and the chain still verifies, while a changed, deleted, reordered or truncated row does not.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import duckdb
import polars as pl

from crm_pipeline.warehouse import run

GENESIS = "0" * 64
ACTIONS = ("create", "update", "delete", "merge", "unmerge", "erase", "export")


@dataclass(frozen=True)
class ChangeContext:
    """Who is changing what, and when: every audited write carries one."""

    tenant_id: str
    run_id: str
    actor: str
    actor_kind: str  # user, agent or system
    key: bytes  # the home's secret for keyed digests
    at: datetime


def keyed_digest(key: bytes, text: str | None) -> str | None:
    """Digest of a value under the home's secret, so the value cannot be guessed from it."""
    if text is None:
        return None
    return hashlib.sha256((key.hex() + text).encode("utf-8")).hexdigest()


def keyed_digest_sql(column: str) -> str:
    """The same digest in DuckDB SQL, with the key bound as `$key_hex`."""
    return f"sha256($key_hex || {column})"


def content_line(row: dict) -> str:
    """Canonical content of one audit row, as hashed into the chain (values only by digest)."""
    fields = (
        row["tenant_id"],
        str(row["change_id"]),
        row["run_id"] or "",
        row["actor"],
        row["actor_kind"],
        row["action"],
        row["entity"],
        row["entity_id"],
        row["at"].isoformat(timespec="microseconds"),
        row["previous_digest"] or "",
        row["new_digest"] or "",
    )
    return "\x1f".join(fields)


def chain_hash(prev_hash: str, content: str) -> str:
    """Hash of a row given the previous row's hash."""
    return hashlib.sha256((prev_hash + "\x1e" + content).encode("utf-8")).hexdigest()


def chain_head(con: duckdb.DuckDBPyConnection, tenant_id: str) -> tuple[int, str]:
    """(last change_id, last hash) of a tenant's chain; (0, GENESIS) when empty."""
    rows = run(
        con,
        "SELECT change_id, hash FROM audit.changes WHERE tenant_id = $t "
        "ORDER BY change_id DESC LIMIT 1",
        {"t": tenant_id},
    )
    return (rows[0][0], rows[0][1]) if rows else (0, GENESIS)


def append_changes(
    con: duckdb.DuckDBPyConnection,
    ctx: ChangeContext,
    changes: pl.DataFrame | str,
) -> int:
    """Append changes (columns action, entity, entity_id, previous, new: JSON text or null).

    `changes` is a frame (chained in its order), or the text of a query with those columns and
    `_ord`, the order to chain them in (large batches then never leave DuckDB). Returns the number of rows written. The caller holds the
    transaction, so contact data and its audit rows commit together. Digests and content lines
    are built in DuckDB; only the chain itself, one hash after another, is a Python loop.
    """
    if isinstance(changes, pl.DataFrame):
        if changes.height == 0:
            return 0
        frame = changes.select("action", "entity", "entity_id", "previous", "new").with_columns(
            pl.col("previous").cast(pl.Utf8),
            pl.col("new").cast(pl.Utf8),
            pl.int_range(pl.len(), dtype=pl.Int64).alias("_ord"),
        )
        con.register("_audit_frame", frame)
        query = "SELECT * FROM _audit_frame"
    else:
        query = changes
    last_id, prev = chain_head(con, ctx.tenant_id)
    try:
        run(
            con,
            f"""
            CREATE OR REPLACE TEMP TABLE _audit_new AS
            SELECT $last + row_number() OVER (ORDER BY _ord) AS change_id, action, entity, entity_id,
                   previous, new,
                   {keyed_digest_sql("previous::VARCHAR")} AS previous_digest,
                   {keyed_digest_sql("new::VARCHAR")} AS new_digest
            FROM ({query})
            """,
            {"key_hex": ctx.key.hex(), "last": last_id},
        )
    finally:
        if isinstance(changes, pl.DataFrame):
            con.unregister("_audit_frame")
    written, actions = run(con, "SELECT count(*), list(DISTINCT action) FROM _audit_new")[0]
    bad = set(actions or []) - set(ACTIONS)
    if bad:
        run(con, "DROP TABLE IF EXISTS _audit_new")
        raise ValueError(f"unknown audit actions {sorted(bad)}")
    if written == 0:
        run(con, "DROP TABLE IF EXISTS _audit_new")
        return 0
    fixed = {"t": ctx.tenant_id, "run": ctx.run_id, "actor": ctx.actor, "kind": ctx.actor_kind}
    try:
        # `content_line` for every row at once.
        content = con.sql(
            """
            SELECT concat_ws(chr(31), $t, change_id::VARCHAR, coalesce($run, ''), $actor, $kind,
                             action, entity, entity_id, $at_text,
                             coalesce(previous_digest, ''), coalesce(new_digest, '')) AS line
            FROM _audit_new ORDER BY change_id
            """,
            params=fixed | {"at_text": ctx.at.isoformat(timespec="microseconds")},
        ).fetchnumpy()["line"]
        hashes, prev_hashes = [], []
        for line in content:
            prev_hashes.append(prev)
            prev = hashlib.sha256(f"{prev}\x1e{line}".encode()).hexdigest()
            hashes.append(prev)
        chain = pl.DataFrame(
            {
                "change_id": pl.int_range(last_id + 1, last_id + 1 + written, eager=True),
                "prev_hash": prev_hashes,
                "hash": hashes,
            }
        )
        con.register("_audit_chain", chain)
        try:
            run(
                con,
                """
                INSERT INTO audit.changes BY NAME
                SELECT n.change_id, $run AS run_id, $t AS tenant_id, $actor AS actor,
                       $kind AS actor_kind, n.action, n.entity, n.entity_id, $at AS "at",
                       n.previous, n.new, n.previous_digest, n.new_digest, false AS redacted,
                       c.prev_hash, c.hash
                FROM _audit_new n JOIN _audit_chain c USING (change_id)
                """,
                fixed | {"at": ctx.at},
            )
        finally:
            con.unregister("_audit_chain")
    finally:
        run(con, "DROP TABLE IF EXISTS _audit_new")
    return written


@dataclass(frozen=True)
class ChainProblem:
    """The first row at which a tenant's chain fails, and why (tenant None: rows that belong to
    no tenant's chain)."""

    tenant_id: str | None
    change_id: int | None
    reason: str


def verify_chain(
    con: duckdb.DuckDBPyConnection,
    key: bytes,
    tenant_id: str | None = None,
    expected_heads: Mapping[str, str | Iterable[str]] | None = None,
    verified_heads: dict[str, str] | None = None,
    heads_required: bool = False,
) -> list[ChainProblem]:
    """Re-compute every tenant's chain; one problem per broken tenant (empty when all verify).

    `expected_heads` (tenant -> hash, or hashes, kept outside the table) catches rows cut off
    the end: each must still be a row of the chain. With `heads_required`, a non-empty chain
    with no head recorded anywhere (or only the empty chain's) fails too: nothing vouches for
    its end.
    `verified_heads` (tenant -> the head a full verification passed at, kept outside the table)
    re-checks only the rows after it, once that row still holds its hash and position with as
    many rows before it: what a run appended is verified without re-reading millions of rows.
    Earlier rows changed in place are then caught by the next full verification (`crm audit
    verify`); a chain whose verified head moved or vanished is verified whole.
    """
    tenants = (
        [tenant_id]
        if tenant_id
        else [r[0] for r in run(con, "SELECT DISTINCT tenant_id FROM audit.changes "
                                     "WHERE tenant_id IS NOT NULL ORDER BY 1")]
    )
    if expected_heads:
        tenants = sorted(set(tenants) | ({tenant_id} if tenant_id else set(expected_heads)))
    # rows with no tenant are outside every chain, whichever tenant (or shard) is verified
    problems = _tenantless_rows(con)
    for t in tenants:
        after = _verified_prefix(con, t, (verified_heads or {}).get(t))
        heads = (expected_heads or {}).get(t)
        heads = (heads,) if isinstance(heads, str) else tuple(heads or ())
        problem = _verify_tenant(con, key, t, heads, after)
        if (problem is None and heads_required and set(heads) <= {GENESIS}
                and chain_head(con, t)[0]):
            problem = ChainProblem(t, None, "no head of this chain is recorded outside the table "
                                   "(audit_head.json, audit.runs.chain_head): rows cut off its "
                                   "end cannot be ruled out")
        if problem:
            problems.append(problem)
    return problems


def run_heads(con: duckdb.DuckDBPyConnection, before_run: str | None = None) -> dict[str, str]:
    """Each tenant's chain head as its latest run recorded it in `audit.runs`: a second record
    beside `audit_head.json`, which verification uses when the file is gone. A run checking
    itself passes its id as `before_run`: the head it has just recorded vouches for nothing."""
    return dict(run(con, "SELECT tenant_id, arg_max(chain_head, coalesce(finished_at, started_at)) "
                         "FROM audit.runs WHERE chain_head IS NOT NULL AND tenant_id IS NOT NULL "
                         "AND run_id IS DISTINCT FROM $r GROUP BY tenant_id", {"r": before_run}))


def _tenantless_rows(con: duckdb.DuckDBPyConnection) -> list[ChainProblem]:
    """Rows with no tenant belong to no chain, so no chain's check would read them."""
    first, count = run(con, "SELECT min(change_id), count(*) FROM audit.changes "
                            "WHERE tenant_id IS NULL")[0]
    if not count:
        return []
    return [ChainProblem(None, first, f"tenant_id is NULL in {count} row(s): outside every "
                                      "tenant's chain")]


# Every column the chain vouches for; none may be NULL (the content line cannot tell NULL from
# a shifted field). `previous`/`new` and their digests may be NULL one at a time (a create has
# no previous), never both digests: every change records what changed.
_MISSING_COLUMN = """
    CASE WHEN change_id IS NULL THEN 'change_id' WHEN run_id IS NULL THEN 'run_id'
         WHEN actor IS NULL THEN 'actor' WHEN actor_kind IS NULL THEN 'actor_kind'
         WHEN action IS NULL THEN 'action' WHEN entity IS NULL THEN 'entity'
         WHEN entity_id IS NULL THEN 'entity_id' WHEN "at" IS NULL THEN 'at'
         WHEN redacted IS NULL THEN 'redacted' WHEN prev_hash IS NULL THEN 'prev_hash'
         WHEN hash IS NULL THEN 'hash'
         WHEN previous_digest IS NULL AND new_digest IS NULL THEN 'previous_digest and new_digest'
    END"""


def _in_range(alias: str = "") -> str:
    """The rows a verification reads: the tenant's, after the verified head (if any)."""
    return (f"{alias}tenant_id = $t AND ($after = 0 OR {alias}change_id > $after "
            f"OR {alias}change_id IS NULL)")


# Every row checked at once: a chain is written one hash after another, but each row's links can
# be checked against the stored values independently, so DuckDB verifies it in parallel. The
# content line and digests are those `content_line` and `keyed_digest` define.
#
# `redacted` is set after a row was chained (erasure), so it cannot be inside the hash; its
# meaning is checked instead: a redacted row holds no values (its digests, which the hash covers,
# keep what was there verifiable), and an erasure of its entity follows it in the chain (the
# erase row of the contact, or of the contact an alias was erased with, or (for another
# contact's row that mentioned the erased person) of the contact whose erasure listed the row by
# the keyed digest of its change id (`gdpr.suppressions`, kind 'change'): `gdpr.suppressions`
# keeps the keyed digest of every erased id beside the contact it belonged to).
_FIRST_BROKEN_ROW = f"""
WITH links AS (  -- narrow columns only: the window sorts what it carries
    SELECT rowid AS row_ref, change_id,
           $after + row_number() OVER w AS position,
           prev_hash IS DISTINCT FROM lag(hash, 1, $after_hash) OVER w AS unlinked
    FROM audit.changes
    WHERE {_in_range()}
    WINDOW w AS (ORDER BY change_id NULLS LAST)
),
altered AS (
    SELECT *
    FROM (
        SELECT rowid AS row_ref, {_MISSING_COLUMN} AS missing,
               redacted AND previous IS NOT NULL AS previous_kept,
               redacted AND new IS NOT NULL AS new_kept,
               NOT redacted AND sha256($key_hex || previous::VARCHAR)
                   IS DISTINCT FROM previous_digest AS previous_altered,
               NOT redacted AND sha256($key_hex || new::VARCHAR)
                   IS DISTINCT FROM new_digest AS new_altered,
               sha256(prev_hash || chr(30) || concat_ws(
                   chr(31), tenant_id, change_id::VARCHAR, coalesce(run_id, ''), actor,
                   actor_kind, action, entity, entity_id, strftime("at", '%Y-%m-%dT%H:%M:%S.%f'),
                   coalesce(previous_digest, ''), coalesce(new_digest, '')))
                   IS DISTINCT FROM hash AS content_altered
        FROM audit.changes
        WHERE {_in_range()}
    )
    WHERE missing IS NOT NULL OR previous_kept OR new_kept OR previous_altered OR new_altered
          OR content_altered
),
redactions AS (
    SELECT rowid AS row_ref, change_id, entity_id, sha256($key_hex || entity_id) AS entity_digest,
           sha256($key_hex || 'change:' || change_id::VARCHAR) AS change_digest
    FROM audit.changes
    WHERE {_in_range()} AND redacted
),
erasures AS (  -- erase rows of a redacted row's id, or of the contact it was erased with
    SELECT r.row_ref, e.change_id
    FROM redactions AS r JOIN audit.changes AS e ON e.entity_id = r.entity_id
    WHERE {_in_range('e.')} AND e.action = 'erase'
    UNION ALL
    SELECT r.row_ref, e.change_id
    FROM redactions AS r
    JOIN gdpr.suppressions AS s ON s.subject_digest = r.entity_digest
    JOIN audit.changes AS e ON e.entity_id = s.contact_id
    WHERE s.tenant_id = $t AND s.kind = 'contact' AND {_in_range('e.')} AND e.action = 'erase'
    UNION ALL  -- another contact's row that mentioned the erased person, listed by its erasure
    -- (which may precede it: the erasure's own audited updates of other contacts follow it)
    SELECT r.row_ref, greatest(e.change_id, r.change_id)
    FROM redactions AS r
    JOIN gdpr.suppressions AS s ON s.subject_digest = r.change_digest
    JOIN audit.changes AS e ON e.entity_id = s.contact_id
    WHERE s.tenant_id = $t AND s.kind = 'change' AND {_in_range('e.')} AND e.action = 'erase'
),
unerased AS (  -- redacted rows no erasure at or after them accounts for
    SELECT r.row_ref
    FROM redactions AS r
    LEFT JOIN (SELECT row_ref, max(change_id) AS last_erasure FROM erasures GROUP BY row_ref)
        AS l USING (row_ref)
    WHERE l.last_erasure IS NULL OR l.last_erasure < r.change_id
)
SELECT l.change_id, l.position, a.missing, l.unlinked, coalesce(a.previous_kept, false),
       coalesce(a.new_kept, false), u.row_ref IS NOT NULL, coalesce(a.previous_altered, false),
       coalesce(a.new_altered, false)
FROM links AS l LEFT JOIN altered AS a USING (row_ref) LEFT JOIN unerased AS u USING (row_ref)
WHERE l.change_id IS DISTINCT FROM l.position OR l.unlinked OR a.row_ref IS NOT NULL
      OR u.row_ref IS NOT NULL
ORDER BY l.position
LIMIT 1
"""


def _verified_prefix(con, tenant_id: str, head: str | None) -> tuple[int, str]:
    """(change_id, hash) of the verified head when its row still holds it, at its position
    (change_id rows up to it); (0, GENESIS) to verify the whole chain."""
    if not head or head == GENESIS:
        return 0, GENESIS
    holders = run(con, "SELECT change_id FROM audit.changes WHERE tenant_id = $t AND hash = $h",
                  {"t": tenant_id, "h": head})
    if len(holders) != 1 or holders[0][0] is None:
        return 0, GENESIS
    change_id = holders[0][0]
    before = run(con, "SELECT count(*) FROM audit.changes WHERE tenant_id = $t AND change_id <= $c",
                 {"t": tenant_id, "c": change_id})[0][0]
    return (change_id, head) if before == change_id else (0, GENESIS)


def _verify_tenant(
    con, key: bytes, tenant_id: str, expected_heads: tuple[str, ...] = (),
    after: tuple[int, str] = (0, GENESIS),
) -> ChainProblem | None:
    """The tenant's first broken row after `after` (change_id, hash), as a walk along the chain
    would meet it (ids in order, links, redactions, value digests, then the row's hash), or rows
    cut off the end of the chain."""
    broken = run(con, _FIRST_BROKEN_ROW, {"t": tenant_id, "after": after[0],
                                          "after_hash": after[1], "key_hex": key.hex()})
    if broken:
        return ChainProblem(tenant_id, broken[0][0], _broken_row_reason(*broken[0]))
    # A recorded head must be a row of the chain (a chain that goes past it is a run killed
    # between its commit and writing the head: harmless), one just verified or the verified head:
    # a row before that could have been given the head's hash without being re-checked.
    for head in expected_heads:
        if head not in (GENESIS, after[1]) and not run(
            con,
            "SELECT 1 FROM audit.changes WHERE tenant_id = $t AND hash = $head "
            "AND ($after = 0 OR change_id > $after) LIMIT 1",
            {"t": tenant_id, "head": head, "after": after[0]},
        ):
            return ChainProblem(
                tenant_id, None, "the chain ends before the recorded head (rows were cut off the end)"
            )
    return None


def _broken_row_reason(change_id, position, missing, unlinked, previous_kept, new_kept, unerased,
                       previous_altered, new_altered) -> str:
    """Why the first broken row fails, in the order a walk along the chain checks it."""
    if missing == "change_id":
        return f"change_id is NULL (the row at position {position}): chained columns hold values"
    if missing:
        verb = "are" if " and " in missing else "is"
        return f"{missing} {verb} NULL: chained columns hold values, and every change its values"
    if change_id != position:
        return (f"expected change {position} here, found {change_id} "
                "(a row was deleted, inserted or reordered)")
    if unlinked:
        return "prev_hash does not match the previous row's hash"
    for kept, value_col in ((previous_kept, "previous"), (new_kept, "new")):
        if kept:
            return f"marked redacted but {value_col} holds a value (redaction erases the values)"
    if unerased:
        return ("marked redacted but no erasure of its entity follows in the chain "
                "(values removed without an erasure)")
    for altered, value_col in ((previous_altered, "previous"), (new_altered, "new")):
        if altered:
            return f"{value_col} does not match its digest (the value was changed)"
    return "hash does not match the row's content"


def json_text(value: dict | None) -> str | None:
    """Canonical JSON of a values dict (sorted keys), or None."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
