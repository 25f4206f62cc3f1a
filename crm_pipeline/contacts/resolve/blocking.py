"""Candidate pairs: rows that share at least one blocking key, with at least one side pending.

Several keys, so a typo in one field does not hide a duplicate: the email local part, the phone,
the last name with the first initial (of the name and of its nickname groups), first and last name
swapped (the whole last name against the whole first name, the first three letters of the other:
an initial alone would pair every "James M." with every "M. James"), and the company with the
last name or the first name. Lists without emails or phones (members, donors, mail-order
customers) are blocked on the postcode with the last name's first three letters, the birth date
with either initial, sounds-alike names (Soundex of both names) with the birth year, the last
name's Soundex with the postcode, and the house number with the street's first letters. A key
value held by more than `MAX_BLOCK` rows on either side (a shared switchboard, "info@",
"Smith J", a postcode's Smiths) gives no pairs: those rows are still compared through their
other keys, and term frequency handles the rest.
"""

from __future__ import annotations

import numpy as np
import polars as pl

MAX_BLOCK = 60
SELF_KEYS = (
    "k_local", "k_phone", "k_name", "k_company_last", "k_company_first",
    "k_post_name", "k_birth_last", "k_birth_first", "k_sound_birth", "k_sound_post", "k_street",
)  # fmt: skip


def blocking_keys(rows: pl.DataFrame) -> pl.DataFrame:
    """idx plus one column per blocking key; `k_swap` is matched against `k_straight` (crossed)."""
    initial = pl.col("fn").str.slice(0, 1)
    birth = pl.when(pl.col("birth_day") > 0).then(pl.col("birth_day").cast(pl.String))
    year = pl.when(pl.col("birth_year") > 0).then(pl.col("birth_year").cast(pl.String))
    keys = rows.select(
        "idx",
        pl.col("email_local_base").alias("k_local"),
        pl.col("phone").alias("k_phone"),
        (pl.col("ln") + "|" + initial).alias("k_name"),
        (pl.col("ln") + "|" + pl.col("fn").str.slice(0, 3)).alias("k_straight"),
        (pl.col("fn") + "|" + pl.col("ln").str.slice(0, 3)).alias("k_swap"),
        (pl.col("company_key") + "|" + pl.col("ln")).alias("k_company_last"),
        (pl.col("company_key") + "|" + pl.col("fn")).alias("k_company_first"),
        # Nickname-aware: last name with the initial of each canonical form of the first name.
        pl.col("fn_groups").list.eval(pl.element().str.slice(0, 1)).list.unique().alias("_gi"),
        pl.col("ln"),
        # Lists without emails or phones (see the module docstring); the street key does not
        # use the names at all.
        (pl.col("postcode_key") + "|" + pl.col("ln").str.slice(0, 3)).alias("k_post_name"),
        (birth + "|" + pl.col("ln").str.slice(0, 1)).alias("k_birth_last"),
        (birth + "|" + initial).alias("k_birth_first"),
        (pl.col("ln_sound") + "|" + pl.col("fn_sound") + "|" + year).alias("k_sound_birth"),
        (pl.col("ln_sound") + "|" + pl.col("postcode_key")).alias("k_sound_post"),
        (pl.col("house_number") + "|" + pl.col("street_key").str.slice(0, 4)).alias("k_street"),
    )
    return keys


def _pairs_on(
    left: pl.DataFrame, right: pl.DataFrame, pending: np.ndarray, exclude: pl.Series | None = None
) -> pl.DataFrame:
    """Pairs (a < b) of rows with equal `key`, one side pending, from blocks no larger than
    MAX_BLOCK; `exclude`: key values known to be too large in the whole tenant."""
    crossed = left is not right
    left = left.drop_nulls("key")
    right = right.drop_nulls("key")
    small = right.group_by("key").len().filter(pl.col("len") <= MAX_BLOCK).select("key")
    if crossed:
        left_sizes = left.group_by("key").len().filter(pl.col("len") <= MAX_BLOCK)
        small = small.join(left_sizes.select("key"), on="key", how="semi")
    if exclude is not None and len(exclude):
        small = small.filter(~pl.col("key").is_in(exclude.implode()))
    right = right.join(small, on="key", how="semi")
    pend = pl.Series(pending)
    left = left.filter(pl.col("idx").is_in(pend.implode())).join(small, on="key", how="semi")
    pairs = left.join(right, on="key", suffix="_r").filter(pl.col("idx") != pl.col("idx_r"))
    return pairs.select(
        pl.min_horizontal("idx", "idx_r").alias("a"), pl.max_horizontal("idx", "idx_r").alias("b")
    )


def candidate_pairs(
    rows: pl.DataFrame, pending: np.ndarray, oversized: dict[str, pl.Series] | None = None
) -> pl.DataFrame:
    """Distinct (a, b) row positions, a < b, sharing a blocking key, at least one pending.

    `oversized` (from `related_rows`): per key kind, values whose block is too large in the
    whole tenant when `rows` holds only part of it.
    """
    oversized = oversized or {}
    keys = blocking_keys(rows)
    parts = []
    for col in SELF_KEYS:
        side = keys.select("idx", pl.col(col).alias("key"))
        parts.append(_pairs_on(side, side, pending, oversized.get(col)))
    name = keys.select("idx", pl.col("k_straight").alias("key"))
    swap = keys.select("idx", pl.col("k_swap").alias("key"))
    parts.append(_pairs_on(name, swap, pending, oversized.get("swap")))
    parts.append(_pairs_on(swap, name, pending, oversized.get("swap")))
    nick = _nick_keys(keys)
    parts.append(_pairs_on(nick, nick, pending, oversized.get("nick")))
    # One int64 per pair, sorted, neighbours dropped: much faster than a hash unique on (a, b).
    n = rows.height
    keys = pl.concat(parts).select((pl.col("a").cast(pl.Int64) * n + pl.col("b")).alias("k"))
    distinct = keys.sort("k").filter(pl.col("k").diff().fill_null(1) != 0)
    return distinct.select((pl.col("k") // n).alias("a"), (pl.col("k") % n).alias("b"))


def _nick_keys(keys: pl.DataFrame) -> pl.DataFrame:
    """(idx, key): last name with the initial of each canonical form of the first name."""
    return (
        keys.select("idx", "ln", "_gi")
        .explode("_gi")
        .select("idx", (pl.col("ln") + "|" + pl.col("_gi")).alias("key"))
        .unique()
    )


def related_rows(
    rows: pl.DataFrame, pending: np.ndarray, exact_keys: list[str]
) -> tuple[pl.Series, dict[str, pl.Series]]:
    """The rows an incremental run can touch, and the block values too large to pair on.

    Related: pending rows; every row in a block (of MAX_BLOCK rows or fewer in the whole tenant)
    with a pending row; every row sharing an exact key value with one; every row of the contacts
    those rows belong to. Blocks keep their whole-tenant sizes, and the values whose blocks are
    larger are returned per key kind for `candidate_pairs` to skip, so the pairs are those a run
    over every row would make. `rows` needs the `name_columns`, the blocking fields,
    `contact_id` and `exact_keys`.
    """
    keys = blocking_keys(rows)
    is_pending = pl.Series(np.isin(np.arange(rows.height), pending))
    kinds = {c: keys.select("idx", pl.col(c).alias("key")) for c in SELF_KEYS}
    kinds["nick"] = _nick_keys(keys)
    hits, oversized = [rows.filter(is_pending)["idx"]], {}
    for kind, side in kinds.items():
        side = side.drop_nulls("key")
        mine = side.filter(pl.col("idx").is_in(pl.Series(pending).implode()))["key"].unique()
        block = side.filter(pl.col("key").is_in(mine.implode()))
        too_big = block.group_by("key").len().filter(pl.col("len") > MAX_BLOCK)["key"]
        oversized[kind] = too_big
        hits.append(block.filter(~pl.col("key").is_in(too_big.implode()))["idx"])
    straight = keys.select("idx", pl.col("k_straight").alias("key")).drop_nulls("key")
    swapped = keys.select("idx", pl.col("k_swap").alias("key")).drop_nulls("key")
    mine = pl.concat(
        [
            straight.filter(is_pending.gather(straight["idx"]))["key"],
            swapped.filter(is_pending.gather(swapped["idx"]))["key"],
        ]
    ).unique()
    both = pl.concat([straight, swapped]).filter(pl.col("key").is_in(mine.implode()))
    too_big = (
        pl.concat(
            [
                straight.filter(pl.col("key").is_in(mine.implode())).group_by("key").len(),
                swapped.filter(pl.col("key").is_in(mine.implode())).group_by("key").len(),
            ]
        )
        .filter(pl.col("len") > MAX_BLOCK)["key"]
        .unique()
    )
    oversized["swap"] = too_big
    hits.append(both.filter(~pl.col("key").is_in(too_big.implode()))["idx"])
    for key in exact_keys:
        values = rows.filter(is_pending)[key].drop_nulls().unique()
        hits.append(rows.filter(pl.col(key).is_in(values.implode()))["idx"])
    hit = pl.concat(hits).unique()
    contacts = rows["contact_id"].gather(hit).drop_nulls().unique()
    same_contact = rows.filter(pl.col("contact_id").is_in(contacts.implode()))["idx"]
    return pl.concat([hit, same_contact]).unique().sort(), oversized


def random_pairs(n: int, count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`count` random pairs of distinct rows (for estimating u); deterministic."""
    if n < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng(seed)
    a = rng.integers(0, n, count)
    b = rng.integers(0, n - 1, count)
    b = np.where(b >= a, b + 1, b)
    return a, b
