"""Entity resolution: place every pending staged row in a golden contact.

Exact rules first, in order of strength: the same record of the same source system (re-exports),
the same normalized email, the same E.164 phone with compatible names (colleagues share a
company's main line, so a phone alone is not enough). Then probabilistic matching: candidate pairs
from several blocking keys (`blocking`), compared field by field (`compare`), weighted with m and u
estimated from the tenant's data (`train`), linked at one default threshold, and clustered so that
one weak link cannot chain different people (`cluster`).

Incremental: only pending rows are compared, against every row of the tenant; the sources of an
existing contact stay together, so ids are stable. When a new row joins several existing contacts
the oldest id survives and the others become aliases. Every accepted link is stored with its
evidence in core.match_evidence; a pair split by `crm unmerge` is never joined again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace

import duckdb
import numpy as np
import polars as pl

from crm_pipeline.contacts.consent import record_consent_changes
from crm_pipeline.contacts.normalize.emails import confusable
from crm_pipeline.contacts.resolve import train
from crm_pipeline.contacts.resolve.blocking import candidate_pairs, random_pairs, related_rows
from crm_pipeline.contacts.resolve.cluster import (
    EXACT,
    LINK,
    cluster_rows,
    star_edges,
    unambiguous_links,
)
from crm_pipeline.contacts.resolve.compare import (
    FIELDS,
    compare_pairs,
    match_rows,
    name_columns,
    value_ids,
)
from crm_pipeline.contacts.resolve.survive import flag_held_rows, golden_records
from crm_pipeline.contacts.store import merge_contacts, upsert_contacts
from crm_pipeline.trust.audit import ChangeContext
from crm_pipeline.warehouse import frame, memory_capped, run

RULE_KEYS = {
    "same_source_id": "k_source",
    "same_email": "k_email",
    "same_phone_name": "k_phone_name",
}
PROBABILISTIC = "probabilistic"
RANDOM_PAIRS = 100_000
EM_SAMPLE = 200_000
TF_SMOOTHING = 100  # pseudo-rows pulling a small tenant's term frequencies towards u
RETRAIN_GROWTH = 1.5  # retrain once the tenant has grown by half since the stored model
SCORE_SLICE = 1_000_000  # pairs compared at once
INCREMENTAL_BELOW = 4  # pending rows under a quarter of the tenant: work on related rows only


def _keyed_rows(con: duckdb.DuckDBPyConnection, tenant_id: str) -> pl.DataFrame:
    """Every staged row of the tenant with its match fields, exact keys and current contact."""
    return (
        frame(
            con,
            """
        SELECT s.import_id, s.row_number, s.status, cs.contact_id, c.first_seen_at,
               s.import_id || ':' || s.row_number AS source_key,
               s.first_name_key, s.last_name_key, s.email, s.email_local_base, s.email_domain,
               s.phone, s.company_key, s.job_title, s.city,
               CASE WHEN s.source_id IS NOT NULL
                    THEN coalesce(s.source_system, '') || '|' || s.source_id END AS k_source,
               s.email AS k_email,
               CASE WHEN s.phone IS NOT NULL
                    THEN s.phone || '|' || coalesce(s.last_name_key, '') || '|'
                         || coalesce(left(s.first_name_key, 1), '') END AS k_phone_name
        FROM staging.contact_rows s
        JOIN raw.imports i USING (tenant_id, import_id)
        LEFT JOIN core.contact_sources cs USING (tenant_id, import_id, row_number)
        LEFT JOIN core.contacts c ON c.tenant_id = cs.tenant_id AND c.contact_id = cs.contact_id
        WHERE s.tenant_id = $t
        ORDER BY i.imported_at, s.import_id, s.row_number
        """,
            {"t": tenant_id},
        )
        .with_row_index("idx")
        .with_columns(pl.col("idx").cast(pl.Int64))
        .pipe(_without_confusable_emails)
    )


def _without_confusable_emails(rows: pl.DataFrame) -> pl.DataFrame:
    """Rows whose email can pass for another (`jаne@acme.com`, Cyrillic `а`) keep it out of every
    email rule, block and comparison: a look-alike address never links two rows. Judged here,
    not read from staging, so rows staged before the check existed are covered too."""
    flags = confusable(rows["email"])
    if not flags.any():
        return rows
    return rows.with_columns(
        pl.when(flags).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("email", "k_email", "email_local_base", "email_domain")
    )


def new_contact_id(tenant_id: str, import_id: str, row_number: int) -> str:
    """Deterministic id of a contact created by a source row, so rebuilds give the same ids."""
    digest = hashlib.sha256(f"{tenant_id}|{import_id}|{row_number}".encode()).hexdigest()
    return f"c_{digest[:16]}"


def new_contact_ids(tenant_id: str, creators: pl.DataFrame) -> pl.Series:
    """`new_contact_id` for many creator rows (import_id, row_number) at once, in DuckDB."""
    con = duckdb.connect()
    try:
        con.register("_creators", creators.select("import_id", "row_number"))
        return con.sql(
            "SELECT 'c_' || left(sha256($t || '|' || import_id || '|' || row_number::VARCHAR), 16) "
            "AS survivor FROM _creators",
            params={"t": tenant_id},
        ).pl()["survivor"]
    finally:
        con.close()


class Scorer:
    """Scores row pairs: exact rules give `EXACT`, others log2 odds from the tenant's model."""

    def __init__(
        self, rows: pl.DataFrame, model: train.Model, population: pl.DataFrame | None = None
    ):
        """`population`: every row of the tenant when `rows` is only part of it (its size sets
        the prior, its values the term frequencies)."""
        self.rows = rows
        self.model = model
        everyone = rows if population is None else population
        self.prior = model.prior(everyone.height)
        self.tf = {
            field: _frequencies(rows, [col], model.u[field][0], everyone)
            for field, col in train.TF_FIELDS.items()
        }
        # The full name as one value: first and last names are not independent (families,
        # origins), and "Michael Smith" is commoner than "Michael" times "Smith".
        self.u_name = model.u["first_name"][0] * model.u["last_name"][0]
        self.tf_name = _frequencies(rows, ["fn", "ln"], self.u_name, everyone)
        self.keys = {k: value_ids(rows[k]).to_numpy() for k in RULE_KEYS.values()}
        self._keys = np.zeros(0, dtype=np.int64)  # pairs scored so far (a * n + b), sorted
        self._scores = np.zeros(0)

    def with_rate(self, model: train.Model) -> Scorer:
        """This scorer under `model`, which differs from its own in the match rate only (the
        term frequencies, the costly part, depend on u alone)."""
        if model.u is not self.model.u:
            raise ValueError("with_rate takes a model with the same u")
        self.model, self.prior = model, model.prior(self.rows.height)
        return self

    def rule(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Name of the strongest exact rule each pair meets, else `probabilistic`."""
        out = np.full(len(a), PROBABILISTIC, dtype=object)
        for rule, key in reversed(RULE_KEYS.items()):
            ids = self.keys[key]
            out[(ids[a] == ids[b]) & (ids[a] > 0)] = rule
        return out

    def levels(
        self, a: np.ndarray, b: np.ndarray, similarities: bool = False
    ) -> tuple[np.ndarray, pl.DataFrame]:
        return compare_pairs(self.rows, a, b, similarities)

    def weight(self, a: np.ndarray, levels: np.ndarray) -> np.ndarray:
        """log2 Bayes factor of each pair, exact agreement adjusted by the value's frequency."""
        u = self.model.u
        adjust = {f: train.tf_adjustment(u[f][0], self.tf[f][a]) for f in train.TF_FIELDS}
        both = (levels[:, FIELDS.index("first_name")] == 1) & (
            levels[:, FIELDS.index("last_name")] == 1
        )
        name = train.tf_adjustment(self.u_name, self.tf_name[a], 2 * train.TF_BOUND)
        adjust["first_name"] = np.where(both, name, adjust["first_name"])
        adjust["last_name"] = np.where(both, 0.0, adjust["last_name"])
        return train.match_weight(self.model, levels, adjust)

    def score(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """log2 odds of a match (EXACT for an exact rule); pairs scored before are looked up."""
        if len(a) == 0:
            return np.zeros(0)
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        key = np.minimum(a, b) * self.rows.height + np.maximum(a, b)
        pos = np.searchsorted(self._keys, key)
        pos = np.minimum(pos, len(self._keys) - 1) if len(self._keys) else pos
        known = (self._keys[pos] == key) if len(self._keys) else np.zeros(len(key), dtype=bool)
        out = np.empty(len(key))
        out[known] = self._scores[pos[known]]
        new = np.flatnonzero(~known)
        # In slices, so the comparison arrays of millions of pairs never coexist.
        for start in range(0, len(new), SCORE_SLICE):
            part = new[start : start + SCORE_SLICE]
            na, nb = a[part], b[part]
            levels, _ = self.levels(na, nb)
            s = self.weight(na, levels) + self.prior
            out[part] = np.where(self.rule(na, nb) != PROBABILISTIC, EXACT, s)
        if len(new):
            keys = np.concatenate([self._keys, key[new]])
            scores = np.concatenate([self._scores, out[new]])
            keys, first = np.unique(keys, return_index=True)
            self._keys, self._scores = keys, scores[first]
        return out


def _frequencies(
    rows: pl.DataFrame, cols: list[str], u_exact: float, population: pl.DataFrame
) -> np.ndarray:
    """Share of the population's rows holding all of `cols` that hold each row's values,
    smoothed towards `u_exact` so a small tenant's counts do not swing the weights."""
    present = population.select(cols).drop_nulls()
    counts = present.group_by(cols).len()
    n = present.height
    tf = rows.select(cols).join(counts, on=cols, how="left", maintain_order="left")["len"]
    return (tf.fill_null(0).to_numpy() + TF_SMOOTHING * u_exact) / (n + TF_SMOOTHING)


def _u_exact(rows: pl.DataFrame, col: str) -> float:
    """Chance that two random rows holding a value hold the same one: sum of squared shares."""
    p = rows[col].drop_nulls().value_counts()["count"].to_numpy().astype(np.float64)
    if p.sum() < 2:
        return 0.0
    p /= p.sum()
    return float((p * p).sum())


@dataclass(frozen=True)
class Decision:
    """Where a tenant's pending rows go, decided without writing: the writes come after."""

    placement: pl.DataFrame
    merges: pl.DataFrame
    evidence: pl.DataFrame
    placed: pl.DataFrame
    trained: dict | None  # the parameters of core.match_models' new row, when retrained


def resolve_tenant(con: duckdb.DuckDBPyConnection, ctx: ChangeContext) -> dict[str, dict[str, int]]:
    """Resolve the tenant's pending staged rows; per import: accepted (new contact) and merged."""
    return apply_decision(con, ctx, decide(con, ctx))


def apply_decision(
    con: duckdb.DuckDBPyConnection, ctx: ChangeContext, decision: Decision | None
) -> dict[str, dict[str, int]]:
    """Write a tenant's decision (made by `decide`, with nothing of the tenant written since):
    sources, merges, evidence, golden contacts and their audit rows; counts per import."""
    if decision is None:
        return {}
    # A million golden rows and their audit rows are bulk writes: DuckDB's cache is capped
    # meanwhile (it spills), or it keeps gigabytes of them in memory.
    with memory_capped(con):
        _write_decision(con, ctx, decision)
    counts: dict[str, dict[str, int]] = {}
    for import_id, creates, n in decision.placed.group_by("import_id", "creates").len().iter_rows():
        entry = counts.setdefault(import_id, {"accepted": 0, "merged": 0})
        entry["accepted" if creates else "merged"] += n
    return counts


def _write_decision(con: duckdb.DuckDBPyConnection, ctx: ChangeContext, decision: Decision) -> None:
    # Only the decision reaches the writes: the row frames and pair arrays are freed by now.
    placed = decision.placed
    if decision.trained is not None:
        run(con, "INSERT INTO core.match_models VALUES ($t, $r, $at, $n, $p, $m)",
            decision.trained)
    _link_sources(con, ctx, placed)
    merge_contacts(con, ctx, decision.merges)
    _write_evidence(con, ctx, decision.evidence)
    # Golden rows stay in DuckDB (a temporary table): at a million contacts a round trip
    # through Python costs seconds and gigabytes.
    held = golden_records(con, ctx.tenant_id, decision.placement["survivor"], into="_golden")
    flag_held_rows(con, ctx.tenant_id, held, placed)
    try:
        _keep_bounces(con, ctx.tenant_id, "_golden")
        consent = "SELECT contact_id, consent_status FROM _golden"
        before = frame(
            con,
            "SELECT c.contact_id, c.consent_status FROM core.contacts c "
            "JOIN _golden g USING (contact_id) WHERE c.tenant_id = $t",
            {"t": ctx.tenant_id},
        )
        upsert_contacts(con, ctx, "_golden")
        imports = ",".join(sorted(placed["import_id"].unique().to_list()))
        record_consent_changes(con, ctx, before, frame(con, consent), source=f"import:{imports}")
    finally:
        run(con, "DROP TABLE IF EXISTS _golden")
    run(
        con,
        "UPDATE staging.contact_rows SET status = 'resolved' "
        "WHERE tenant_id = $t AND status = 'pending'",
        {"t": ctx.tenant_id},
    )


def decide(con: duckdb.DuckDBPyConnection, ctx: ChangeContext) -> Decision | None:
    """Where the tenant's pending rows go (None when none is pending). It only reads, so it can
    run on another cursor while an earlier tenant's writes run on this one."""
    keyed = _keyed_rows(con, ctx.tenant_id)
    pending = keyed.filter(pl.col("status") == "pending")["idx"].to_numpy()
    if len(pending) == 0:
        return None
    model = _stored_model(con, ctx.tenant_id, keyed.height)
    population, oversized = None, None
    if model is not None and len(pending) * INCREMENTAL_BELOW < keyed.height:
        # A few new rows into a large tenant: work on the rows they can touch only, with the
        # whole tenant's size, name frequencies and block sizes, so the result is what a full
        # run gives.
        population = name_columns(keyed)
        related, oversized = related_rows(population, pending, list(RULE_KEYS.values()))
        keyed = _reindexed(keyed.gather(related))
        pending = keyed.filter(pl.col("status") == "pending")["idx"].to_numpy()
    rows = match_rows(keyed)
    del keyed
    cand = candidate_pairs(rows, pending, oversized)
    scorer, trained = None, None
    if model is None:
        model, scorer, trained = _trained_model(
            ctx, rows, cand if len(pending) == rows.height else None
        )
    scorer = scorer or Scorer(rows, model, population)
    del population

    # Links: exact keys a pending row holds (star edges over all rows with that value) and
    # candidate pairs scoring at least LINK.
    ea, eb = _exact_edges(rows, pending)
    ca, cb = cand["a"].to_numpy(), cand["b"].to_numpy()
    del cand
    cs = scorer.score(ca, cb)
    strong = cs >= LINK
    link_a = np.concatenate([ea, ca[strong]])
    link_b = np.concatenate([eb, cb[strong]])

    group, _ = _start_groups(rows)
    link_s = np.concatenate([np.full(len(ea), EXACT), cs[strong]])
    keep = unambiguous_links(group, link_a, link_b, link_s, scorer.score)
    link_a, link_b = link_a[keep], link_b[keep]
    blocked = _blocked_groups(con, ctx.tenant_id, rows, group)
    final = cluster_rows(group, link_a, link_b, scorer.score, blocked)
    rows = rows.with_columns(pl.Series("cluster", final))

    placement, merges = _placement(ctx.tenant_id, rows, pending)
    rows = rows.join(placement, on="cluster", how="left", maintain_order="left")
    evidence = _evidence(ctx, rows, scorer, np.concatenate([ea, ca]), np.concatenate([eb, cb]))
    placed = _placed_rows(rows, pending, evidence)
    return Decision(placement, merges, evidence, placed, trained)


def _exact_edges(rows: pl.DataFrame, pending: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Star edges over every key value that some pending row holds."""
    is_pending = pl.Series(np.isin(np.arange(rows.height), pending))
    parts_a, parts_b = [], []
    for key in RULE_KEYS.values():
        wanted = rows.filter(is_pending)[key].drop_nulls().unique()
        sub = rows.select("idx", key).filter(pl.col(key).is_in(wanted.implode()))
        a, b = star_edges(sub, key)
        parts_a.append(a)
        parts_b.append(b)
    return np.concatenate(parts_a).astype(np.int64), np.concatenate(parts_b).astype(np.int64)


def _start_groups(rows: pl.DataFrame) -> tuple[np.ndarray, pl.DataFrame]:
    """Dense group per row: the sources of one existing contact together, pending rows alone."""
    g = rows.select(
        pl.when(pl.col("contact_id").is_not_null())
        .then(pl.col("contact_id"))
        .otherwise(pl.lit("\x00row") + pl.col("idx").cast(pl.Utf8).str.zfill(12))
        .alias("g")
    ).with_columns(pl.col("g").rank("dense").cast(pl.Int64).alias("gid") - 1)
    group = g["gid"].to_numpy()
    group_contact = rows.select("contact_id", pl.Series("gid", group)).unique("gid")
    return group, group_contact


def _blocked_groups(con, tenant_id: str, rows: pl.DataFrame, group: np.ndarray) -> set:
    """Group pairs an unmerge split apart (source row's contact, the contact it left)."""
    blocks = frame(
        con,
        """
        SELECT b.source_key, coalesce(a.contact_id, b.blocked_contact_id) AS blocked
        FROM core.match_blocks b
        LEFT JOIN core.contact_aliases a
          ON a.tenant_id = b.tenant_id AND a.alias_id = b.blocked_contact_id
        WHERE b.tenant_id = $t
        """,
        {"t": tenant_id},
    )
    if blocks.height == 0:
        return set()
    gframe = rows.select("source_key", "contact_id", pl.Series("g", group))
    by_source = blocks.join(gframe.select("source_key", "g"), on="source_key")
    by_contact = (
        gframe.drop_nulls("contact_id")
        .unique("contact_id")
        .select(pl.col("contact_id").alias("blocked"), pl.col("g").alias("gb"))
    )
    pairs = by_source.join(by_contact, on="blocked")
    return {(min(x, y), max(x, y)) for x, y in pairs.select("g", "gb").iter_rows() if x != y}


def _placement(
    tenant_id: str, rows: pl.DataFrame, pending: np.ndarray
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Survivor id of every cluster holding a pending row, and the merges of existing contacts."""
    touched_clusters = rows.filter(pl.col("idx").is_in(pl.Series(pending).implode()))["cluster"]
    touched = rows.filter(pl.col("cluster").is_in(touched_clusters.unique().implode()))
    existing = (
        touched.filter(pl.col("contact_id").is_not_null())
        .group_by("cluster", "contact_id")
        .agg(pl.col("first_seen_at").min(), pl.col("idx").min().alias("first_idx"))
        .sort("cluster", "first_seen_at", "first_idx", "contact_id")
    )
    survivors = (
        existing.group_by("cluster", maintain_order=True)
        .first()
        .select("cluster", pl.col("contact_id").alias("survivor"))
    )
    merges = (
        existing.join(survivors, on="cluster")
        .filter(pl.col("contact_id") != pl.col("survivor"))
        .select(pl.col("contact_id").alias("alias_id"), pl.col("survivor").alias("contact_id"))
    )
    first_rows = (
        touched.group_by("cluster")
        .agg(
            pl.col("idx").min().alias("creator_idx"),
            pl.col("import_id").sort_by("idx").first(),
            pl.col("row_number").sort_by("idx").first(),
        )
        .join(survivors, on="cluster", how="anti")
    )
    new_ids = first_rows.select(
        "cluster",
        new_contact_ids(tenant_id, first_rows).alias("survivor"),
        "creator_idx",
    )
    placement = pl.concat(
        [survivors.with_columns(pl.lit(None, pl.Int64).alias("creator_idx")), new_ids]
    )
    return placement, merges


def _evidence(
    ctx: ChangeContext, rows: pl.DataFrame, scorer: Scorer, a: np.ndarray, b: np.ndarray
) -> pl.DataFrame:
    """Every link inside a final contact that involves a pending row: pair, rule, score, fields."""
    cluster = rows["cluster"].to_numpy()
    pend = (rows["status"] == "pending").to_numpy()
    keep = (cluster[a] == cluster[b]) & (pend[a] | pend[b])
    a, b = a[keep], b[keep]
    pairs = pl.DataFrame({"a": a, "b": b}).unique().sort("a", "b")
    # A pending row in a contact without one of these links still gets its best pair there.
    covered = np.zeros(rows.height, dtype=bool)
    covered[pairs["a"].to_numpy()] = True
    covered[pairs["b"].to_numpy()] = True
    creator = (rows["creator_idx"] == rows["idx"]).fill_null(False).to_numpy()
    lonely = rows.filter(pl.Series(pend & ~covered & ~creator))
    if lonely.height:
        mates = (
            rows.select("idx", "cluster")
            .join(lonely.select("idx", "cluster"), on="cluster", suffix="_p")
            .filter(pl.col("idx") != pl.col("idx_p"))
        )
        extra = mates.select(
            pl.min_horizontal("idx", "idx_p").alias("a"),
            pl.max_horizontal("idx", "idx_p").alias("b"),
        )
        pairs = pl.concat([pairs, extra]).unique().sort("a", "b")
    a, b = pairs["a"].to_numpy(), pairs["b"].to_numpy()
    levels, sims = scorer.levels(a, b, similarities=True)
    weight = scorer.weight(a, levels) if len(a) else np.zeros(0)
    rule = scorer.rule(a, b) if len(a) else np.zeros(0, dtype=object)
    score = train.probability(weight + scorer.prior)
    exact = rule != PROBABILISTIC
    log_odds = np.where(exact, EXACT, weight + scorer.prior)
    sims = sims if sims.width else pl.DataFrame({"first_name": []})
    sims = sims.with_columns(pl.Series("match_weight", np.round(weight, 3)))
    keys = rows["source_key"]
    return (
        pl.DataFrame(
            {
                "a": a,
                "b": b,
                "left_key": keys.gather(a),
                "right_key": keys.gather(b),
                "contact_id": rows["survivor"].gather(a),
                "match_rule": pl.Series(rule.tolist(), dtype=pl.Utf8),
                "match_score": np.where(exact, 1.0, np.round(score, 6)),
                "log_odds": log_odds,
            }
        )
        .with_columns(
            sims.select(pl.struct(pl.all()).struct.json_encode().alias("similarities")).to_series()
        )
        .filter(pl.col("log_odds") >= LINK)
    )


def _placed_rows(rows: pl.DataFrame, pending: np.ndarray, evidence: pl.DataFrame) -> pl.DataFrame:
    """Pending rows with their contact, whether they created it, and their strongest link."""
    ends = (
        pl.concat(
            [
                evidence.select(pl.col("a").alias("idx"), "match_rule", "match_score", "log_odds"),
                evidence.select(pl.col("b").alias("idx"), "match_rule", "match_score", "log_odds"),
            ]
        )
        .sort("log_odds", "match_score", descending=True)
        .unique("idx", keep="first")
    )
    placed = (
        rows.filter(pl.col("idx").is_in(pl.Series(pending).implode()))
        .join(ends, on="idx", how="left")
        .with_columns((pl.col("creator_idx") == pl.col("idx")).fill_null(False).alias("creates"))
    )
    return placed.select(
        "import_id",
        "row_number",
        "source_key",
        "survivor",
        "creates",
        pl.when(pl.col("creates"))
        .then(pl.lit("new"))
        .otherwise(pl.col("match_rule").fill_null(PROBABILISTIC))
        .alias("match_rule"),
        pl.when(pl.col("creates"))
        .then(pl.lit(1.0))
        .otherwise(pl.col("match_score"))
        .alias("match_score"),
    )


def _stored_model(con, tenant_id: str, n_rows: int) -> train.Model | None:
    """The tenant's stored model while it has not grown by half since; else None (retrain)."""
    stored = run(
        con,
        "SELECT rows_seen, model FROM core.match_models WHERE tenant_id = $t "
        "ORDER BY trained_at DESC LIMIT 1",
        {"t": tenant_id},
    )
    if stored and n_rows < stored[0][0] * RETRAIN_GROWTH:
        return _model_from_json(stored[0][1])
    return None


def _reindexed(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.drop("idx").with_row_index("idx").with_columns(pl.col("idx").cast(pl.Int64))


def _trained_model(
    ctx: ChangeContext, rows: pl.DataFrame, cand: pl.DataFrame | None
) -> tuple[train.Model, Scorer | None, dict]:
    """A fresh estimate of m, u and the match rate from the tenant's rows; the scorer of `rows`
    when estimating the rate built one (the caller reuses it); the row to store it as.

    `cand` are the candidate pairs over every row when the caller has them already.
    """
    # Estimate on every row (not only the pending ones) so a retrain sees the whole tenant.
    if cand is None:
        cand = candidate_pairs(rows, np.arange(rows.height))
    total = cand.height
    if cand.height > EM_SAMPLE:
        cand = cand.sample(EM_SAMPLE, seed=1)
    a, b = cand["a"].to_numpy(), cand["b"].to_numpy()
    levels, _ = compare_pairs(rows, a, b, similarities=False)

    def same(col: str) -> np.ndarray:
        return (rows[col].gather(a) == rows[col].gather(b)).fill_null(False).to_numpy()

    ra, rb = random_pairs(rows.height, min(RANDOM_PAIRS, rows.height * 5), seed=2)
    rlevels, _ = compare_pairs(rows, ra, rb, similarities=False)
    # A small tenant's value counts are mostly its own duplicates: it keeps the shipped u.
    u_exact = {}
    if len(ra) >= train.MIN_RANDOM_PAIRS:
        u_exact = {f: _u_exact(rows, col) for f, col in train.TF_FIELDS.items()}
        u_exact = {f: v for f, v in u_exact.items() if v > 0}
    model = train.fit(levels, same("k_email"), same("k_phone_name"), rlevels, u_exact)
    scorer = None
    if total >= train.MIN_EM_PAIRS:
        scorer = Scorer(rows, model)
        weight = np.where(scorer.rule(a, b) != PROBABILISTIC, EXACT, scorer.weight(a, levels))
        model = replace(model, rate=train.estimate_rate(weight, total, rows.height, model.rate))
        scorer = scorer.with_rate(model)
    stored = {"t": ctx.tenant_id, "r": ctx.run_id, "at": ctx.at, "n": rows.height, "p": total,
              "m": json.dumps(model.as_dict())}
    return model, scorer, stored


def _model_from_json(text: str) -> train.Model | None:
    """The stored model, or None when it was stored by another version of the matcher."""
    d = json.loads(text)
    if d.get("version") != train.MODEL_VERSION:
        return None
    return train.Model(
        {f: np.array(d["m"][f]) for f in FIELDS},
        {f: np.array(d["u"][f]) for f in FIELDS},
        float(d["matches_per_row"]),
    )


def _link_sources(con, ctx: ChangeContext, placed: pl.DataFrame) -> None:
    links = placed.select(
        pl.lit(ctx.tenant_id).alias("tenant_id"),
        "import_id",
        pl.col("row_number").cast(pl.Int64),
        "source_key",
        pl.col("survivor").alias("contact_id"),
        pl.col("match_score").cast(pl.Float64),
        "match_rule",
        pl.lit(ctx.at, pl.Datetime("us")).alias("linked_at"),
        pl.lit(ctx.run_id).alias("run_id"),
    )
    con.register("_links", links)
    try:
        run(
            con,
            """
            INSERT INTO core.contact_sources BY NAME
            SELECT l.*, s.source_id FROM _links l
            JOIN staging.contact_rows s USING (tenant_id, import_id, row_number)
            """,
        )
    finally:
        con.unregister("_links")


def _write_evidence(con, ctx: ChangeContext, evidence: pl.DataFrame) -> None:
    if evidence.height == 0:
        return
    out = evidence.select(
        pl.lit(ctx.tenant_id).alias("tenant_id"),
        "contact_id",
        "left_key",
        "right_key",
        "match_rule",
        pl.col("match_score").cast(pl.Float64),
        "similarities",
        pl.lit(ctx.run_id).alias("run_id"),
        pl.lit(ctx.at, pl.Datetime("us")).alias("at"),
    )
    con.register("_evidence", out)
    try:
        run(con, "INSERT INTO core.match_evidence BY NAME SELECT * FROM _evidence")
    finally:
        con.unregister("_evidence")


def _keep_bounces(con, tenant_id: str, golden: str) -> None:
    """A bounced email stays bounced until a source brings a different email."""
    run(
        con,
        f"""
        UPDATE {golden} AS g SET email_status = 'bounced'
        FROM core.contacts c
        WHERE c.tenant_id = $t AND c.contact_id = g.contact_id
          AND c.email_status = 'bounced' AND c.email = g.email
        """,
        {"t": tenant_id},
    )
