"""Seeded random streams, one per stage and tenant, and weighted picks from them."""

from __future__ import annotations

from random import Random

SEED = 20261115


def rng_for(*parts) -> Random:
    """One independent stream per stage and tenant, so tuning one stage leaves the others alone."""
    return Random(":".join([str(SEED), *map(str, parts)]))


def pick(rng: Random, weighted: list[tuple]) -> object:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]
