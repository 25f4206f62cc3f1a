"""Comparison vectors of candidate pairs: one discrete level per field, plus the raw similarities.

Levels follow the usual Fellegi-Sunter layout: level 0 means "no evidence" (a value missing on
either side) and contributes nothing; level 1 is the strongest agreement; the last level is
disagreement. Similarities are computed with rapidfuzz over whole pair arrays (`cpdist`, all
cores), so there is no per-pair Python.

Names are compared straight and crossed (first against last), and the better alignment is kept,
so a record with first and last name swapped still agrees. First names also agree through the
nickname reference (Robert, Bob, Rob). Email local part and domain are compared separately, so a
domain typo (`gmial.com`) or a plus-tag still shows the same mailbox.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import polars as pl
from rapidfuzz import distance, fuzz, process

from ..paths import REPO_ROOT

NICKNAMES_FILE = REPO_ROOT / "data" / "reference" / "nicknames.csv"

# Field -> number of levels including level 0 (no evidence).
LEVELS: dict[str, int] = {
    "first_name": 6,  # exact, nickname, jw>=.92, jw>=.80 or initial, different
    "last_name": 5,  # exact, jw>=.92, jw>=.80, different
    # same mailbox, same local + domain typo, local typo + same domain, both typos, different
    "email": 6,
    "phone": 3,  # same, different
    "company": 5,  # same key, token set >= 90, >= 70, different
    "job_title": 3,  # token sort >= 90, different
    "city": 3,  # same, different
}
FIELDS = tuple(LEVELS)

# Columns of the row frame that comparisons read.
ROW_COLUMNS = (
    "fn", "ln", "email", "email_local_base", "email_domain", "phone", "company_key", "job_title_key",
    "city_key", "fn_groups",
)  # fmt: skip

# Columns compared by similarity get an integer id per distinct value (`<col>_vid`), so the
# distinct value pairs of millions of row pairs are found with numpy.
SIM_COLUMNS = ("fn", "ln", "email_local_base", "email_domain", "company_key", "job_title_key")
VALUE_ID, DIGITS_ID, LENGTH = "_vid", "_digits", "_len"

_JW = distance.JaroWinkler.normalized_similarity
_OSA = distance.OSA.distance

# Well-known mail providers: two of them one edit apart (mail.com, gmail.com) are not a typo.
MAIL_PROVIDERS = frozenset(
    """gmail.com googlemail.com yahoo.com yahoo.co.uk yahoo.de ymail.com outlook.com hotmail.com
    hotmail.co.uk hotmail.de live.com live.co.uk msn.com icloud.com me.com mac.com aol.com
    proton.me protonmail.com mail.com gmx.de gmx.net gmx.com web.de t-online.de freenet.de
    btinternet.com sky.com virginmedia.com zoho.com yandex.com mail.ru fastmail.com
    hey.com""".split()
)


@cache
def nickname_groups() -> dict[str, tuple[str, ...]]:
    """Each known first name -> the canonical names whose nickname group holds it."""
    table = pl.read_csv(NICKNAMES_FILE, schema={"name": pl.String, "nickname": pl.String})
    groups: dict[str, set[str]] = {}
    for name, nick in table.iter_rows():
        groups.setdefault(name, set()).add(name)
        groups.setdefault(nick, set()).add(name)
    return {k: tuple(sorted(v)) for k, v in groups.items()}


def first_name_groups(fn: pl.Series) -> pl.Series:
    """Nickname groups of each first-name key (the name itself when it is in no group)."""
    groups = nickname_groups()
    distinct = fn.drop_nulls().unique()
    mapped = pl.DataFrame(
        {
            "fn": distinct,
            "fn_groups": pl.Series(
                [list(groups.get(v, (v,))) for v in distinct], dtype=pl.List(pl.String)
            ),
        }
    )
    return fn.to_frame("fn").join(mapped, on="fn", how="left", maintain_order="left")["fn_groups"]


def match_rows(staged: pl.DataFrame) -> pl.DataFrame:
    """The comparison columns of staged rows (first_name_key, last_name_key, email, ...)."""

    def key(col: str) -> pl.Expr:
        return (
            pl.col(col)
            .str.to_lowercase()
            .str.replace_all(r"[^\p{L}\p{N}]+", " ")
            .str.strip_chars()
            .replace("", None)
        )

    rows = staged.with_columns(
        pl.col("first_name_key").replace("", None).alias("fn"),
        pl.col("last_name_key").replace("", None).alias("ln"),
        key("job_title").alias("job_title_key"),
        key("city").alias("city_key"),
    )

    def value_id(col: str) -> pl.Expr:
        return (pl.col(col).fill_null("").rank("dense").cast(pl.Int64) - 1).alias(col + VALUE_ID)

    email_parts = ("email_local_base", "email_domain")
    return rows.with_columns(
        first_name_groups(rows["fn"]).alias("fn_groups"),
        *[value_id(c) for c in SIM_COLUMNS],
        *[
            pl.col(c).str.replace_all(r"[^0-9]", "").rank("dense").fill_null(0).alias(c + DIGITS_ID)
            for c in email_parts
        ],
        *[pl.col(c).str.len_chars().fill_null(0).alias(c + LENGTH) for c in email_parts],
    )


def _sim(
    rows: pl.DataFrame,
    a: np.ndarray,
    b: np.ndarray,
    col_a: str,
    col_b: str | None = None,
    scorer=_JW,
    scale: float | None = None,
) -> np.ndarray:
    """Similarity of two columns over the pairs, in [0,1] unless `scale` says otherwise.

    Computed once per distinct pair of values (names and companies repeat a lot), found through
    the columns' integer value ids, then spread back over the pairs.
    """
    col_b = col_b or col_a
    ida = rows[f"{col_a}{VALUE_ID}"].to_numpy()
    idb = rows[f"{col_b}{VALUE_ID}"].to_numpy()
    key = ida[a].astype(np.int64) * (int(idb.max()) + 1) + idb[b]
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    sim = process.cpdist(
        rows[col_a].fill_null("").gather(a[first]).to_list(),
        rows[col_b].fill_null("").gather(b[first]).to_list(),
        scorer=scorer,
        workers=-1,
        dtype=np.float32,
    )
    scale = scale or (1.0 if scorer is _JW else 100.0)
    return (np.asarray(sim, dtype=np.float64) / scale)[inverse.ravel()]


def _same_digits(rows: pl.DataFrame, col: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    digits = rows[f"{col}{DIGITS_ID}"].to_numpy()
    return digits[a] == digits[b]


def _min_length(rows: pl.DataFrame, col: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    n = rows[f"{col}{LENGTH}"].to_numpy()
    return np.minimum(n[a], n[b])


def _max_length(rows: pl.DataFrame, col: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    n = rows[f"{col}{LENGTH}"].to_numpy()
    return np.maximum(n[a], n[b])


def _present(rows: pl.DataFrame, col: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    nn = rows[col].is_not_null().to_numpy()
    return nn[a] & nn[b]


def _equal(
    rows: pl.DataFrame, col: str, a: np.ndarray, b: np.ndarray, col_b: str | None = None
) -> np.ndarray:
    left = rows[col].gather(a)
    right = rows[col_b or col].gather(b)
    return (left == right).fill_null(False).to_numpy()


def compare_pairs(
    rows: pl.DataFrame, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, pl.DataFrame]:
    """Levels (int8 matrix pairs x FIELDS) and the similarities behind them (a frame).

    `rows` is a `match_rows` frame indexed by position; `a` and `b` are row positions.
    """
    n = len(a)
    levels = np.zeros((n, len(FIELDS)), dtype=np.int8)
    if n == 0:
        return levels, pl.DataFrame()
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)

    # Names, straight and crossed; keep the alignment with the higher total.
    fn_s, ln_s = _sim(rows, a, b, "fn"), _sim(rows, a, b, "ln")
    fn_x, ln_x = _sim(rows, a, b, "fn", "ln"), _sim(rows, a, b, "ln", "fn")
    both_names = _present(rows, "fn", a, b) & _present(rows, "ln", a, b)
    swapped = both_names & (fn_x + ln_x > fn_s + ln_s + 0.2) & (np.minimum(fn_x, ln_x) >= 0.92)
    fn_sim = np.where(swapped, fn_x, fn_s)
    ln_sim = np.where(swapped, ln_x, ln_s)
    fn_present = _present(rows, "fn", a, b)
    ln_present = _present(rows, "ln", a, b)
    groups = rows["fn_groups"]
    ga, gb = groups.gather(a), groups.gather(b)
    nickname = (
        pl.DataFrame({"a": ga, "b": gb})
        .select(pl.col("a").list.set_intersection(pl.col("b")).list.len() > 0)
        .to_series()
        .fill_null(False)
        .to_numpy()
    ) & ~swapped
    fa, fb = rows["fn"].fill_null("").gather(a), rows["fn"].fill_null("").gather(b)
    initial = (
        ((fa.str.len_chars() == 1) | (fb.str.len_chars() == 1))
        & (fa.str.slice(0, 1) == fb.str.slice(0, 1))
    ).to_numpy()
    levels[:, 0] = np.select(
        [~fn_present, fn_sim >= 0.9999, nickname, fn_sim >= 0.92, (fn_sim >= 0.80) | initial],
        [0, 1, 2, 3, 4],
        5,
    )
    levels[:, 1] = np.select(
        [~ln_present, ln_sim >= 0.9999, ln_sim >= 0.92, ln_sim >= 0.80],
        [0, 1, 2, 3],
        4,
    )

    # Email: the same mailbox, or the local part and domain judged apart. A typo is one edit
    # (OSA: a letter dropped, added, changed or two swapped) that keeps the digits, so
    # mary.garcia63@ and mary.garcia@ are two mailboxes, and two well-known providers one edit
    # apart (mail.com, gmail.com) are two domains, not a typo.
    em_present = _present(rows, "email", a, b)
    same_email = _equal(rows, "email", a, b)
    same_local = _equal(rows, "email_local_base", a, b)
    same_domain = _equal(rows, "email_domain", a, b)
    local_edits = _sim(rows, a, b, "email_local_base", scorer=_OSA, scale=1.0)
    domain_edits = _sim(rows, a, b, "email_domain", scorer=_OSA, scale=1.0)
    local_typo = (local_edits <= 1) & _same_digits(rows, "email_local_base", a, b)
    local_typo &= _min_length(rows, "email_local_base", a, b) >= 5
    provider = rows["email_domain"].is_in(list(MAIL_PROVIDERS)).fill_null(False).to_numpy()
    domain_typo = (
        (domain_edits <= 1)
        & _same_digits(rows, "email_domain", a, b)
        & ~(provider[a] & provider[b])
    )
    # The same local part at an unrelated domain (john.smith@gmail / john.smith@yahoo) is no
    # evidence: local parts are made from names, which are compared already.
    levels[:, 2] = np.select(
        [
            ~em_present,
            same_email | (same_local & same_domain),
            same_local & domain_typo,
            same_local,
            local_typo & same_domain,
            local_typo & domain_typo,
        ],
        [0, 1, 2, 0, 3, 4],
        5,
    )
    local_sim = 1.0 - local_edits / np.maximum(_max_length(rows, "email_local_base", a, b), 1)
    domain_sim = 1.0 - domain_edits / np.maximum(_max_length(rows, "email_domain", a, b), 1)

    ph_present = _present(rows, "phone", a, b)
    same_phone = _equal(rows, "phone", a, b)
    levels[:, 3] = np.select([~ph_present, same_phone], [0, 1], 2)

    co_present = _present(rows, "company_key", a, b)
    co_sim = _sim(rows, a, b, "company_key", scorer=fuzz.token_set_ratio)
    same_co = _equal(rows, "company_key", a, b)
    levels[:, 4] = np.select(
        [~co_present, same_co, co_sim >= 0.90, co_sim >= 0.70],
        [0, 1, 2, 3],
        4,
    )

    jt_present = _present(rows, "job_title_key", a, b)
    jt_sim = _sim(rows, a, b, "job_title_key", scorer=fuzz.token_sort_ratio)
    levels[:, 5] = np.select([~jt_present, jt_sim >= 0.90], [0, 1], 2)

    ci_present = _present(rows, "city_key", a, b)
    same_city = _equal(rows, "city_key", a, b)
    # A company's people share its city: the city is evidence only when companies cannot be compared.
    levels[:, 6] = np.select(
        [~ci_present | (levels[:, 4] == 1) | (levels[:, 4] == 2), same_city], [0, 1], 2
    )

    def masked(values: np.ndarray, present: np.ndarray) -> pl.Series:
        return pl.Series(np.round(values, 3)).scatter(np.flatnonzero(~present), None)

    sims = pl.DataFrame(
        {
            "first_name": masked(fn_sim, fn_present),
            "last_name": masked(ln_sim, ln_present),
            "swapped_names": swapped,
            "nickname": nickname & (fn_sim < 0.9999),
            "email_local": masked(np.where(same_local, 1.0, local_sim), em_present),
            "email_domain": masked(np.where(same_domain, 1.0, domain_sim), em_present),
            "phone": masked(same_phone.astype(np.float64), ph_present),
            "company": masked(np.where(same_co, 1.0, co_sim), co_present),
            "job_title": masked(jt_sim, jt_present),
            "city": masked(same_city.astype(np.float64), ci_present),
        }
    )
    return levels, sims
