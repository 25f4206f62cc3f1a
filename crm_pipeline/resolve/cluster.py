"""Connected components over exact match keys, in polars (min-label propagation)."""

from __future__ import annotations

import polars as pl


def components(nodes: pl.DataFrame, keys: list[str]) -> pl.Series:
    """Component label (the smallest node index) of each node; nodes sharing any key value join.

    `nodes` has an Int64 `idx` column (0..n-1) and one column per key (nulls never match).
    Converges in O(diameter) vectorised passes; exact keys give small diameters.
    """
    label = nodes.select("idx", *keys).with_columns(pl.col("idx").alias("label"))
    while True:
        updated = label.with_columns(
            pl.min_horizontal(
                pl.col("label"),
                *[
                    pl.when(pl.col(k).is_not_null()).then(pl.col("label").min().over(k))
                    for k in keys
                ],
            ).alias("new_label")
        )
        # Jump to the label's own label (pointer jumping) to shorten long chains.
        lookup = updated.select(pl.col("idx").alias("new_label"), pl.col("new_label").alias("jump"))
        updated = updated.join(lookup, on="new_label", how="left").with_columns(
            pl.min_horizontal("new_label", "jump").alias("new_label")
        ).drop("jump").sort("idx")
        if (updated["new_label"] == label["label"]).all():
            return updated["new_label"].alias("component")
        label = updated.with_columns(pl.col("new_label").alias("label")).drop("new_label")
