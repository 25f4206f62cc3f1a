"""The audit trail: an append-only, hash-chained log of changes, one chain per tenant.

Each row's hash covers the previous row's hash and the row's canonical content, in which the
previous and new values appear only as keyed digests. GDPR erasure can therefore replace the values
with NULL and the chain still verifies, while a changed, deleted, reordered or truncated row does not.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

import duckdb
import polars as pl

from .warehouse import run

GENESIS = "0" * 64
ACTIONS = ("create", "update", "delete", "merge", "unmerge", "erase")


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
    changes: pl.DataFrame,
) -> int:
    """Append changes (columns action, entity, entity_id, previous, new: JSON text or null).

    Returns the number of rows written. The caller holds the transaction, so contact data and
    its audit rows commit together.
    """
    if changes.height == 0:
        return 0
    bad = set(changes["action"].unique().to_list()) - set(ACTIONS)
    if bad:
        raise ValueError(f"unknown audit actions {sorted(bad)}")
    last_id, prev = chain_head(con, ctx.tenant_id)
    key = ctx.key
    previous = changes["previous"].to_list()
    new = changes["new"].to_list()
    prev_digests = [keyed_digest(key, v) for v in previous]
    new_digests = [keyed_digest(key, v) for v in new]
    ids = list(range(last_id + 1, last_id + 1 + changes.height))
    hashes: list[str] = []
    prev_hashes: list[str] = []
    base = {
        "tenant_id": ctx.tenant_id,
        "run_id": ctx.run_id,
        "actor": ctx.actor,
        "actor_kind": ctx.actor_kind,
        "at": ctx.at,
    }
    for cid, action, entity, entity_id, pd_, nd in zip(
        ids,
        changes["action"].to_list(),
        changes["entity"].to_list(),
        changes["entity_id"].to_list(),
        prev_digests,
        new_digests,
        strict=True,
    ):
        row = base | {
            "change_id": cid,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "previous_digest": pd_,
            "new_digest": nd,
        }
        prev_hashes.append(prev)
        prev = chain_hash(prev, content_line(row))
        hashes.append(prev)
    frame = pl.DataFrame(
        {
            "change_id": ids,
            "run_id": [ctx.run_id] * changes.height,
            "tenant_id": [ctx.tenant_id] * changes.height,
            "actor": [ctx.actor] * changes.height,
            "actor_kind": [ctx.actor_kind] * changes.height,
            "action": changes["action"],
            "entity": changes["entity"],
            "entity_id": changes["entity_id"],
            "at": [ctx.at] * changes.height,
            "previous": previous,
            "new": new,
            "previous_digest": prev_digests,
            "new_digest": new_digests,
            "redacted": [False] * changes.height,
            "prev_hash": prev_hashes,
            "hash": hashes,
        },
        schema_overrides={
            "change_id": pl.Int64,
            "at": pl.Datetime("us"),
            "previous": pl.Utf8,
            "new": pl.Utf8,
        },
    )
    con.register("_audit_new", frame)
    try:
        run(con, "INSERT INTO audit.changes BY NAME SELECT * FROM _audit_new")
    finally:
        con.unregister("_audit_new")
    return changes.height


@dataclass(frozen=True)
class ChainProblem:
    """The first row at which a tenant's chain fails, and why."""

    tenant_id: str
    change_id: int | None
    reason: str


def verify_chain(
    con: duckdb.DuckDBPyConnection,
    key: bytes,
    tenant_id: str | None = None,
    expected_heads: dict[str, str] | None = None,
) -> list[ChainProblem]:
    """Re-compute every tenant's chain; one problem per broken tenant (empty when all verify).

    `expected_heads` (tenant -> hash kept outside the table) catches rows cut off the end.
    """
    tenants = (
        [tenant_id]
        if tenant_id
        else [r[0] for r in run(con, "SELECT DISTINCT tenant_id FROM audit.changes ORDER BY 1")]
    )
    if expected_heads:
        tenants = sorted(set(tenants) | ({tenant_id} if tenant_id else set(expected_heads)))
    problems = []
    for t in tenants:
        problem = _verify_tenant(con, key, t, (expected_heads or {}).get(t))
        if problem:
            problems.append(problem)
    return problems


def _verify_tenant(
    con, key: bytes, tenant_id: str, expected_head: str | None
) -> ChainProblem | None:
    rows = run(
        con,
        'SELECT change_id, tenant_id, run_id, actor, actor_kind, action, entity, entity_id, "at", '
        "previous, new, previous_digest, new_digest, redacted, prev_hash, hash "
        "FROM audit.changes WHERE tenant_id = $t ORDER BY change_id",
        {"t": tenant_id},
    )
    cols = [
        "change_id",
        "tenant_id",
        "run_id",
        "actor",
        "actor_kind",
        "action",
        "entity",
        "entity_id",
        "at",
        "previous",
        "new",
        "previous_digest",
        "new_digest",
        "redacted",
        "prev_hash",
        "hash",
    ]
    prev = GENESIS
    expected_id = 1
    seen = {GENESIS}
    for values in rows:
        row = dict(zip(cols, values, strict=True))
        cid = row["change_id"]
        if cid != expected_id:
            return ChainProblem(
                tenant_id,
                cid,
                f"expected change {expected_id} here, found {cid} "
                "(a row was deleted, inserted or reordered)",
            )
        if row["prev_hash"] != prev:
            return ChainProblem(tenant_id, cid, "prev_hash does not match the previous row's hash")
        if not row["redacted"]:
            for value_col, digest_col in (("previous", "previous_digest"), ("new", "new_digest")):
                value = row[value_col]
                if keyed_digest(key, value) != row[digest_col]:
                    return ChainProblem(
                        tenant_id,
                        cid,
                        f"{value_col} does not match its digest (the value was changed)",
                    )
        if chain_hash(prev, content_line(row)) != row["hash"]:
            return ChainProblem(tenant_id, cid, "hash does not match the row's content")
        prev = row["hash"]
        seen.add(prev)
        expected_id += 1
    # A head behind the table is a run killed between its commit and writing the head: harmless.
    if expected_head is not None and expected_head not in seen:
        return ChainProblem(
            tenant_id, None, "the chain ends before the recorded head (rows were cut off the end)"
        )
    return None


def json_text(value: dict | None) -> str | None:
    """Canonical JSON of a values dict (sorted keys), or None."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
