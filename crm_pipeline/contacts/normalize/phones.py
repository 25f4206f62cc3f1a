"""Phone numbers to E.164 with phonenumbers, recording validity and line type.

The work is kept to distinct (number, region) pairs: separators are stripped first, in polars, so
that `+1 (415) 555-2671` and `+1 415-555-2671` are looked up once, and a number written with a
leading `+` ignores the region. phonenumbers costs 40-60 µs of Python per number, so pairs that are
plain digit strings (nearly all of them) are answered by `phone_rules.parse_fast`, the library's
own rules run by polars over the whole column, with the same result. The others (extensions,
letters, `tel:` URIs, regions without rules) are parsed one by one; large sets of those are
shared between this process and worker processes (spawned, not forked, because polars runs
threads), chunk by chunk, so a slow worker start costs nothing but its own share.
"""

import multiprocessing
import os
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from functools import lru_cache

import phonenumbers
import polars as pl
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from crm_pipeline.contacts.normalize import phone_rules
from crm_pipeline.contacts.normalize.text import as_text

INVALID_PHONE = "invalid_phone"
# Below this many distinct pairs, starting a worker process costs more than it saves.
PARALLEL_MIN_DISTINCT = 20_000
# Below this many, parsing the distinct pairs one by one costs less than the fast path's set-up.
FAST_MIN_DISTINCT = 1_000
_CHUNK = 4_000

_TYPE_NAMES = phone_rules.TYPE_NAMES

OUTPUT_SCHEMA = {
    "phone": pl.String,
    "phone_raw": pl.String,
    "phone_type": pl.String,
    "phone_issue": pl.String,
}


@lru_cache(maxsize=1 << 17)
def parse_phone(value: str, region: str) -> tuple[str | None, str]:
    """(E.164 or None when invalid, line type) of one number; `region` "" means none."""
    try:
        number = phonenumbers.parse(value, region or None)
    except NumberParseException:
        return None, "unknown"
    # number_type is UNKNOWN exactly when is_valid_number is False, at half the cost of both.
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.UNKNOWN:
        return None, "unknown"
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    # E.164 holds at most 15 digits; phonenumbers' metadata accepts a few longer national numbers
    # (German ones of 14 digits, say), which no contact table may hold.
    if len(e164) > phone_rules.E164_MAX_DIGITS + 1:
        return None, "unknown"
    return e164, _TYPE_NAMES[kind]


def parse_many(values: list[str], regions: list[str]) -> list[tuple[str | None, str]]:
    """`parse_phone` over a chunk; runs in worker processes too."""
    return [parse_phone(value, region) for value, region in zip(values, regions, strict=True)]


def available_cores() -> int:
    """Cores this process may use (the container's limit, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _parse_in_parallel(
    values: list[str], regions: list[str], workers: int
) -> list[tuple[str | None, str]]:
    chunks = deque(
        (start, values[start : start + _CHUNK], regions[start : start + _CHUNK])
        for start in range(0, len(values), _CHUNK)
    )
    done: dict[int, list[tuple[str | None, str]]] = {}
    in_flight: dict[int, Future] = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        while chunks:
            # Keep two chunks queued per worker; this process works from the other end.
            while chunks and sum(not f.done() for f in in_flight.values()) < 2 * workers:
                start, vals, regs = chunks.pop()
                in_flight[start] = pool.submit(parse_many, vals, regs)
            if chunks:
                start, vals, regs = chunks.popleft()
                done[start] = parse_many(vals, regs)
        for start, future in in_flight.items():
            done[start] = future.result()
    return [parsed for start in sorted(done) for parsed in done[start]]


def parse_distinct(
    values: list[str], regions: list[str], parallel: bool | None = None
) -> list[tuple[str | None, str]]:
    """Parse pairs, in parallel when there are enough of them and a second core (or forced)."""
    workers = min(available_cores() - 1, 7)
    if parallel is None:
        parallel = len(values) >= PARALLEL_MIN_DISTINCT and workers >= 1
    if not parallel:
        return parse_many(values, regions)
    return _parse_in_parallel(values, regions, max(workers, 1))


def _lookup_keys(frame: pl.DataFrame) -> pl.DataFrame:
    """`value`, the text phonenumbers gets, and `region_key`, "" when the number carries its own."""
    raw = pl.col("phone_raw")
    plain = raw.str.contains(r"^\+?[0-9\s().\-/]+$")
    digits = raw.str.replace_all(r"[^0-9]", "")
    frame = frame.with_columns(
        pl.when(plain)
        .then(pl.when(raw.str.starts_with("+")).then(pl.lit("+") + digits).otherwise(digits))
        .otherwise(raw)
        .alias("value")
    )
    return frame.with_columns(
        pl.when(pl.col("value").str.starts_with("+"))
        .then(pl.lit(""))
        .otherwise(pl.col("region").fill_null(""))
        .alias("region_key")
    )


def normalize(raw: pl.Series, region: pl.Series, parallel: bool | None = None) -> pl.DataFrame:
    """Per value: `phone` (E.164, null when absent or invalid), `phone_raw` (trimmed),
    `phone_type` (line type; `unknown` for an invalid number), `phone_issue` (`invalid_phone`).

    `region` is each row's ISO 3166 alpha-2 country, used for numbers without a `+` prefix;
    `parallel` forces worker processes on or off (default: on for many distinct numbers).
    """
    frame = _lookup_keys(
        pl.DataFrame(
            {
                "phone_raw": as_text(raw).str.strip_chars().replace("", None),
                "region": as_text(region).str.to_uppercase(),
            }
        )
    )
    pairs = frame.filter(pl.col("value").is_not_null()).select("value", "region_key").unique()
    if pairs.height >= FAST_MIN_DISTINCT:
        fast = phone_rules.parse_fast(pairs["value"], pairs["region_key"])
        pairs = pl.concat([pairs, fast], how="horizontal")
    else:
        none = pl.lit(None, pl.String)
        pairs = pairs.with_columns(phone=none, phone_type=none, fast=pl.lit(False))
    slow = pairs.filter(~pl.col("fast"))
    parsed = parse_distinct(slow["value"].to_list(), slow["region_key"].to_list(), parallel)
    pairs = pl.concat(
        [
            pairs.filter("fast").drop("fast"),
            slow.drop("fast").with_columns(
                pl.Series("phone", [p[0] for p in parsed], dtype=pl.String),
                pl.Series("phone_type", [p[1] for p in parsed], dtype=pl.String),
            ),
        ]
    )
    frame = frame.join(pairs, on=["value", "region_key"], how="left", maintain_order="left")
    return frame.select(
        pl.col("phone"),
        pl.col("phone_raw"),
        pl.col("phone_type"),
        pl.when(pl.col("phone_raw").is_not_null() & pl.col("phone").is_null())
        .then(pl.lit(INVALID_PHONE))
        .alias("phone_issue"),
    ).cast(OUTPUT_SCHEMA)
