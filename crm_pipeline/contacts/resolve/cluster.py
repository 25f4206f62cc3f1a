"""Clustering that resists chaining: links propose, the whole cluster must agree.

Plain connected components let one weak link chain different people together (two Michael Smiths
joined through a third record that has only a name). Here a link only proposes a cluster:

1. Rows start in groups: the sources of an existing contact form one group (decided earlier, never
   split automatically), each pending row its own.
2. Links (exact rules and probabilistic pairs at or above the link threshold) connect groups;
   a row whose weak links point about equally at groups that score as different people keeps
   none of them (`unambiguous_links`); connected components give candidate clusters.
3. A candidate cluster of two groups, or one in which every pair of groups has support (its best
   row pair scores at least `SUPPORT`) and no pair is blocked by an unmerge, is accepted whole.
4. Any other candidate is re-clustered by average linkage over its groups: repeatedly join the two
   clusters whose groups agree best on average, only while that average is at least `SUPPORT`,
   some pair between them is a real link, and no blocked pair would end up together. A bridge
   through one weak pair fails the average and is cut; a crowd of namesakes who disagree on
   company, email and phone never reaches it.

Scores are log2 odds of a match (`train.match_weight` plus the prior); exact rules score `EXACT`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

EXACT = 30.0
LINK = 0.0  # log2 odds a probabilistic pair needs to be a link: more likely a match than not
SUPPORT = 0.0  # mean log2 odds the groups of one cluster need between them
AMBIGUITY_MARGIN = 3.0  # bits a row's best group must lead a rival group by...
AMBIGUITY_BELOW = 10.0  # ...unless its link is this sure (log2 odds; about 1000 to 1)
ALL_PAIRS_MAX_ROWS = 60  # candidate clusters up to this many rows compare every row pair


def star_edges(nodes: pl.DataFrame, key: str) -> tuple[np.ndarray, np.ndarray]:
    """Edges joining every node with a key value to the first node holding that value."""
    keyed = (
        nodes.select("idx", key)
        .drop_nulls(key)
        .with_columns(pl.col("idx").min().over(key).alias("hub"))
        .filter(pl.col("idx") != pl.col("hub"))
    )
    return keyed["hub"].to_numpy(), keyed["idx"].to_numpy()


def component_labels(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component label of each of n nodes given undirected edges (a, b)."""
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    return connected_components(graph, directed=False)[1].astype(np.int64)


def unambiguous_links(
    group: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    s: np.ndarray,
    score_pairs: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> np.ndarray:
    """Mask of the links to keep. A row whose two best groups are weakly and about equally likely
    (within `AMBIGUITY_MARGIN`) while the rows it links to there do not match each other keeps
    neither probabilistic link: a name-only "Michael Smith" beside several Michael Smiths who
    differ is none of them; all its probabilistic links go. Exact links (score EXACT) stay.
    """
    keep = np.ones(len(a), dtype=bool)
    prob = s < EXACT
    if not prob.any():
        return keep
    ends = pl.DataFrame(
        {
            "link": np.concatenate([np.arange(len(a))] * 2),
            "row": np.concatenate([a, b]),
            "mate": np.concatenate([b, a]),
            "g": np.concatenate([group[b], group[a]]),
            "own": np.concatenate([group[a], group[b]]),
            "s": np.concatenate([s, s]),
            "prob": np.concatenate([prob, prob]),
        }
    ).filter(pl.col("g") != pl.col("own"))
    best = (
        ends.sort("row", "s", "mate", descending=[False, True, False])
        .group_by("row", "g", maintain_order=True)
        .first()
        .group_by("row", maintain_order=True)
        .head(2)
        .with_columns(pl.int_range(pl.len()).over("row").alias("rank"))
    )
    top = best.filter(pl.col("rank") == 0).join(
        best.filter(pl.col("rank") == 1), on="row", suffix="2"
    )
    close = top.filter(
        (pl.col("s") < AMBIGUITY_BELOW)
        & (pl.col("s") - pl.col("s2") < AMBIGUITY_MARGIN)
        & pl.col("prob")
        & pl.col("prob2")
    )
    if close.height == 0:
        return keep
    rival = score_pairs(close["mate"].to_numpy(), close["mate2"].to_numpy()) < LINK
    ambiguous = close.filter(pl.Series(rival)).select("row")
    drop = ends.filter("prob").join(ambiguous, on="row", how="semi")["link"].unique()
    keep[drop.to_numpy()] = False
    return keep


def cluster_rows(
    group: np.ndarray,
    link_a: np.ndarray,
    link_b: np.ndarray,
    score_pairs: Callable[[np.ndarray, np.ndarray], np.ndarray],
    blocked: set[tuple[int, int]] | None = None,
) -> np.ndarray:
    """Final cluster (a group id) of each row.

    `group` is each row's starting group (dense ints); `link_a`/`link_b` are linked row pairs;
    `score_pairs(a, b)` scores any row pairs; `blocked` holds group pairs that must stay apart.
    """
    blocked = blocked or set()
    n_groups = int(group.max()) + 1 if len(group) else 0
    ga, gb = group[link_a], group[link_b]
    cross = ga != gb
    comp = component_labels(n_groups, ga[cross], gb[cross])
    row_comp = comp[group]
    groups_per_comp = np.bincount(comp)
    multi = np.flatnonzero(groups_per_comp >= 2)
    result = group.copy()
    if len(multi) == 0:
        return result
    rows = pl.DataFrame({"row": np.arange(len(group)), "group": group, "comp": row_comp}).filter(
        pl.col("comp").is_in(pl.Series(multi).implode())
    )
    sizes = rows.group_by("comp").len()
    small = sizes.filter(pl.col("len") <= ALL_PAIRS_MAX_ROWS)["comp"]
    # Every cross-group row pair of small candidates; the links alone for larger ones.
    srows = rows.filter(pl.col("comp").is_in(small.implode()))
    allpairs = (
        srows.join(srows, on="comp", suffix="_r")
        .filter((pl.col("row") < pl.col("row_r")) & (pl.col("group") != pl.col("group_r")))
        .select(pl.col("row").alias("a"), pl.col("row_r").alias("b"))
    )
    linked = (
        pl.DataFrame({"a": link_a[cross], "b": link_b[cross]})
        .with_columns(pl.Series(row_comp[link_a[cross]]).alias("comp"))
        .filter(
            ~pl.col("comp").is_in(small.implode())
            & pl.col("comp").is_in(pl.Series(multi).implode())
        )
    )
    pairs = pl.concat([allpairs, linked.select("a", "b")]).unique()
    a = pairs["a"].to_numpy()
    b = pairs["b"].to_numpy()
    s = score_pairs(a, b)
    gpairs = (
        pl.DataFrame(
            {
                "ga": np.minimum(group[a], group[b]),
                "gb": np.maximum(group[a], group[b]),
                "comp": row_comp[a],
                "s": s,
            }
        )
        .group_by("comp", "ga", "gb")
        .agg(pl.col("s").max())
    )
    k = groups_per_comp[gpairs["comp"].to_numpy()]
    gpairs = gpairs.with_columns(pl.Series("k", k))
    blocked_flag = (
        pl.Series([(x, y) in blocked for x, y in zip(gpairs["ga"], gpairs["gb"], strict=True)])
        if blocked
        else pl.Series([False] * gpairs.height)
    )
    gpairs = gpairs.with_columns(blocked_flag.alias("blocked"))
    verdict = (
        gpairs.group_by("comp")
        .agg(
            ((pl.col("s") >= SUPPORT) & ~pl.col("blocked")).all().alias("ok"),
            pl.len().alias("n"),
            pl.col("k").first(),
        )
        .with_columns(
            (pl.col("ok") & (pl.col("n") == pl.col("k") * (pl.col("k") - 1) // 2)).alias("whole")
        )
    )
    whole = verdict.filter(pl.col("whole"))["comp"].to_numpy()
    # Accepted whole: every row takes the smallest group id of its component.
    comp_min = np.full(len(groups_per_comp), np.iinfo(np.int64).max)
    np.minimum.at(comp_min, comp, np.arange(n_groups))
    accept = np.isin(row_comp, whole)
    result[accept] = comp_min[row_comp[accept]]
    for c, sub in gpairs.filter(~pl.col("comp").is_in(pl.Series(whole).implode())).group_by("comp"):
        members = np.flatnonzero(comp == c[0])
        merged = average_linkage(members, sub, blocked)
        in_comp = row_comp == c[0]
        result[in_comp] = merged[group[in_comp]]
    return result


def average_linkage(members: np.ndarray, gpairs: pl.DataFrame, blocked: set) -> dict:
    """Group id -> cluster id (smallest member group) by supported average linkage."""
    k = len(members)
    pos = {g: i for i, g in enumerate(members.tolist())}
    s = np.zeros((k, k))  # unknown pairs count as no evidence
    known = np.zeros((k, k), dtype=bool)
    for ga, gb, score in gpairs.select("ga", "gb", "s").iter_rows():
        i, j = pos[ga], pos[gb]
        s[i, j] = s[j, i] = score
        known[i, j] = known[j, i] = True
    forbid = np.zeros((k, k), dtype=bool)
    for x, y in blocked:
        if x in pos and y in pos:
            forbid[pos[x], pos[y]] = forbid[pos[y], pos[x]] = True
    total = s.copy()
    best = np.where(known, s, -np.inf)
    size = np.ones(k)
    alive = np.ones(k, dtype=bool)
    label = np.arange(k)
    while True:
        mean = total / np.outer(size, size)
        ok = alive[:, None] & alive[None, :] & ~np.eye(k, dtype=bool) & ~forbid
        ok &= (best >= LINK) & (mean >= SUPPORT)
        if not ok.any():
            break
        cand = np.where(ok, mean, -np.inf)
        i, j = np.unravel_index(np.argmax(cand), cand.shape)
        i, j = min(i, j), max(i, j)
        total[i, :] += total[j, :]
        total[:, i] += total[:, j]
        best[i, :] = np.maximum(best[i, :], best[j, :])
        best[:, i] = best[i, :]
        forbid[i, :] |= forbid[j, :]
        forbid[:, i] = forbid[i, :]
        size[i] += size[j]
        alive[j] = False
        label[label == j] = i
    out = {}
    for idx, g in enumerate(members.tolist()):
        out[g] = int(members[label[idx]])
    return _as_lookup(out)


class _as_lookup(dict):
    """A dict usable with numpy fancy indexing over group ids (unknown ids map to themselves)."""

    def __getitem__(self, key):
        if isinstance(key, np.ndarray):
            return np.array([dict.get(self, int(x), int(x)) for x in key], dtype=np.int64)
        return dict.get(self, key, key)
