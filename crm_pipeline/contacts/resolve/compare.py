"""Comparison vectors of candidate pairs: one discrete level per field, plus the raw similarities.

Levels follow the usual Fellegi-Sunter layout: level 0 means "no evidence" (a value missing on
either side) and contributes nothing; level 1 is the strongest agreement; the last level is
disagreement. Similarities are computed with rapidfuzz over whole pair arrays (`cpdist`, all
cores), so there is no per-pair Python.

Names are compared straight and crossed (first against last), and the better alignment is kept,
so a record with first and last name swapped still agrees. First names also agree through the
nickname reference (Robert, Bob, Rob), crossed too ("Quimby Bob"). Email local part and domain
are compared separately, so a domain typo (`gmial.com`) or a plus-tag still shows the same mailbox.

Postal addresses and birth dates (lists without emails or phones): the street by house number
and street name apart (keys from `normalize.addresses`: abbreviations, OCR slips and word order
folded), the postcode exact or one character off, the city exact or a typo (only where neither a
company nor the postcode agrees), the state (only where neither postcode nor city is known), and
the birth date exact, day and month swapped, one digit off, or the year alone.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import polars as pl
from rapidfuzz import distance, fuzz, process

from crm_pipeline.contacts.normalize import addresses
from crm_pipeline.contacts.normalize.names import soundex
from crm_pipeline.contacts.normalize.text import on_distinct
from crm_pipeline.paths import REPO_ROOT

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
    "city": 4,  # same, jw >= .90 (a typo), different
    # same house number and street, same number and a close street name (or a number missing on
    # one side), same street but another number (a neighbour), different
    "street": 5,
    "postcode": 4,  # same, one character off, different
    "state": 3,  # same, different
    # same date, day and month swapped, one digit off, same year (a side knows only the year),
    # different
    "birthdate": 6,
}
FIELDS = tuple(LEVELS)

# Columns of the row frame that comparisons read.
ROW_COLUMNS = (
    "fn", "ln", "email", "email_local_base", "email_domain", "phone", "company_key",
    "job_title_key", "city_key", "fn_groups", "street_key", "house_number", "postcode_key",
    "state_key", "birth_day", "birth_year",
)  # fmt: skip

# Every compared column gets an integer id per distinct value (`<col>_vid`, 0 when missing), so
# equality is an integer comparison and the distinct value pairs of millions of row pairs are
# found with numpy.
VALUE_COLUMNS = (
    "fn", "ln", "email", "email_local_base", "email_domain", "phone", "company_key",
    "job_title_key", "city_key", "street_key", "house_number", "postcode_key", "state_key",
    "fn_initial",
)  # fmt: skip
# Address and birth-date columns: absent from rows read before they existed (treated as empty).
PERSON_INPUTS = {"street": pl.String, "postcode": pl.String, "state": pl.String,
                 "birthdate": pl.Date, "birth_year": pl.Int32}  # fmt: skip
VALUE_ID, DIGITS_ID, LENGTH = "_vid", "_digits", "_len"
DIRECT_SPAN = 1 << 22  # distinct pairs found by direct addressing below this many slots (per pair)

_JW = distance.JaroWinkler.normalized_similarity
_OSA = distance.OSA.distance
NO_EDITS = 99.0  # edit distance of pairs not compared: more than any typo

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


@cache
def _group_table() -> pl.DataFrame:
    """Each known first name with its nickname groups (`fn`, `fn_groups`)."""
    groups = nickname_groups()
    return pl.DataFrame(
        {"fn": list(groups), "fn_groups": [list(v) for v in groups.values()]},
        schema={"fn": pl.String, "fn_groups": pl.List(pl.String)},
    )


def first_name_groups(fn: pl.Series) -> pl.Series:
    """Nickname groups of each first-name key (the name itself when it is in no group)."""
    joined = fn.to_frame("fn").join(_group_table(), on="fn", how="left", maintain_order="left")
    return joined.select(
        pl.when(pl.col("fn_groups").is_not_null())
        .then(pl.col("fn_groups"))
        .when(pl.col("fn").is_not_null())
        .then(pl.concat_list(pl.col("fn")))
        .alias("fn_groups")
    )["fn_groups"]


def name_columns(staged: pl.DataFrame) -> pl.DataFrame:
    """`fn`, `ln`, `fn_groups`, the address and birth-date keys and the phonetic name keys of
    staged rows: what blocking and term frequencies need."""
    missing = [pl.lit(None, t).alias(c) for c, t in PERSON_INPUTS.items() if c not in staged]
    rows = staged.with_columns(
        *missing,
        pl.col("first_name_key").replace("", None).alias("fn"),
        pl.col("last_name_key").replace("", None).alias("ln"),
    )
    birth = pl.col("birthdate")
    rows = rows.with_columns(
        first_name_groups(rows["fn"]).alias("fn_groups"),
        # A first name written as the last name (swapped) still meets its nicknames.
        first_name_groups(rows["ln"]).alias("ln_groups"),
        _text_key("city").alias("city_key"),
        addresses.postcode_key(rows["postcode"]),
        # YYYYMMDD as an integer (0 when unknown), so digit slips are integer arithmetic.
        (birth.dt.year().cast(pl.Int64) * 10_000 + birth.dt.month().cast(pl.Int64) * 100
         + birth.dt.day().cast(pl.Int64)).fill_null(0).alias("birth_day"),
        pl.coalesce(pl.col("birth_year").cast(pl.Int64), birth.dt.year().cast(pl.Int64))
        .fill_null(0).alias("birth_year"),
    )  # fmt: skip
    # Phonetic keys only where an address or a birth year can narrow them (blocking of lists
    # without emails and phones); elsewhere they would only add pairs.
    person = pl.col("postcode_key").is_not_null() | (pl.col("birth_year") > 0)
    sounds = rows.select(
        pl.when(person).then(pl.col("fn")).alias("fn"), pl.when(person).then(pl.col("ln"))
    )
    return pl.concat(
        [
            rows,
            _unless_empty(rows["street"], addresses.street_parts, addresses.STREET_SCHEMA),
            _unless_empty(sounds["fn"], lambda v: soundex(v).to_frame("fn_sound")),
            _unless_empty(sounds["ln"], lambda v: soundex(v).to_frame("ln_sound")),
        ],
        how="horizontal",
    )


def _unless_empty(values: pl.Series, compute, schema: dict | None = None) -> pl.DataFrame:
    """`compute` once per distinct value; all nulls at once where every value is missing (a
    contact list without addresses or birth dates pays nothing)."""
    if values.null_count() < len(values):
        return on_distinct(values, compute) if schema is None else compute(values)
    names = schema or {compute(pl.Series([None], dtype=pl.String)).columns[0]: pl.String}
    return pl.DataFrame({c: pl.Series([None] * len(values), dtype=t) for c, t in names.items()})


def _text_key(col: str) -> pl.Expr:
    return (
        pl.col(col)
        .str.to_lowercase()
        .str.replace_all(r"[^\p{L}\p{N}]+", " ")
        .str.strip_chars()
        .replace("", None)
    )


def match_rows(staged: pl.DataFrame) -> pl.DataFrame:
    """The comparison columns of staged rows (first_name_key, last_name_key, email, ...)."""
    rows = name_columns(staged)
    rows = rows.with_columns(
        _text_key("job_title").alias("job_title_key"),
        addresses.region_key(rows["state"]),
        pl.col("fn").str.slice(0, 1).alias("fn_initial"),
    )
    # Initials of first and last names in one id space, to compare them crossed.
    initials = value_ids(pl.concat([rows["fn"].str.slice(0, 1), rows["ln"].str.slice(0, 1)]))
    rows = rows.with_columns(
        initials.head(rows.height).alias("fn_initial_id"),
        initials.tail(rows.height).alias("ln_initial"),
    )

    email_parts = ("email_local_base", "email_domain")
    digits = rows.select(pl.col(c).str.replace_all(r"[^0-9]", "") for c in email_parts)
    return rows.with_columns(
        *[value_ids(rows[c]).alias(c + VALUE_ID) for c in VALUE_COLUMNS],
        *[value_ids(digits[c]).alias(c + DIGITS_ID) for c in email_parts],
        *[pl.col(c).str.len_chars().fill_null(0).alias(c + LENGTH) for c in email_parts],
        pl.col("postcode_key").str.len_chars().fill_null(0).alias("postcode" + LENGTH),
    )


def value_ids(values: pl.Series) -> pl.Series:
    """An integer per distinct value (1, 2, ...; 0 for null): exact, and cheaper than a rank."""
    if values.null_count() == len(values):
        return pl.Series(values.name, np.zeros(len(values), dtype=np.int64))
    distinct = values.drop_nulls().unique().to_frame("v").with_row_index("vid", offset=1)
    ids = values.to_frame("v").join(distinct, on="v", how="left", maintain_order="left")["vid"]
    return ids.fill_null(0).cast(pl.Int64)


def _distinct(ka: np.ndarray, kb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One position per distinct (ka, kb) pair, and each pair's index among them.

    Direct addressing when the id space is small (first names, titles), else a sort."""
    width = int(kb.max()) + 1
    key = ka * width + kb
    span = int(key.max()) + 1
    if span > 4 * len(key) + DIRECT_SPAN:
        distinct, inverse = np.unique(key, return_inverse=True)
        first = np.empty(len(distinct), dtype=np.int64)
        first[inverse] = np.arange(len(key))
        return first, inverse.ravel()
    slot = np.full(span, -1, dtype=np.int64)
    slot[key] = np.arange(len(key))
    distinct = np.flatnonzero(slot >= 0)
    first = slot[distinct]
    slot[distinct] = np.arange(len(distinct))
    return first, slot[key]


def _similarity(
    rows: pl.DataFrame,
    a: np.ndarray,
    b: np.ndarray,
    col_a: str,
    col_b: str | None = None,
    scorer=_JW,
    mask: np.ndarray | None = None,
    missing: float = 0.0,
) -> np.ndarray:
    """Similarity of two columns over the pairs (where `mask`; else `missing`).

    JW in [0, 1], ratios in [0, 100], OSA in edits. Computed once per distinct pair of values
    where values repeat (names, titles), through the columns' integer value ids.
    """
    col_b = col_b or col_a
    out = np.full(len(a), missing, dtype=np.float64)
    where = np.flatnonzero(mask) if mask is not None else np.arange(len(a))
    if len(where) == 0:
        return out
    pa, pb = a[where], b[where]
    first, inverse = _distinct(
        rows[col_a + VALUE_ID].to_numpy()[pa], rows[col_b + VALUE_ID].to_numpy()[pb]
    )
    sim = process.cpdist(
        rows[col_a].fill_null("").gather(pa[first]).to_list(),
        rows[col_b].fill_null("").gather(pb[first]).to_list(),
        scorer=scorer,
        workers=-1,
        dtype=np.float32,
    )
    sim = np.asarray(sim, dtype=np.float64)
    out[where] = sim[inverse]
    return out


class _Pairs:
    """Integer views of the compared columns over one set of pairs."""

    def __init__(self, rows: pl.DataFrame, a: np.ndarray, b: np.ndarray):
        self.rows, self.a, self.b = rows, a, b

    def ids(self, col: str) -> tuple[np.ndarray, np.ndarray]:
        v = self.rows[col + VALUE_ID].to_numpy()
        return v[self.a], v[self.b]

    def present(self, col: str) -> np.ndarray:
        va, vb = self.ids(col)
        return (va > 0) & (vb > 0)

    def equal(self, col: str) -> np.ndarray:
        va, vb = self.ids(col)
        return (va == vb) & (va > 0)

    def ratio(self, col: str, scorer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(present, equal, similarity in [0, 1]) of a field compared by a token ratio."""
        present, same = self.present(col), self.equal(col)
        sim = _similarity(self.rows, self.a, self.b, col, scorer=scorer, mask=present & ~same)
        return present, same, np.where(same, 1.0, sim / 100.0)

    def values(self, col: str) -> tuple[np.ndarray, np.ndarray]:
        v = self.rows[col].to_numpy().astype(np.int64)
        return v[self.a], v[self.b]


def _first_name_facts(
    rows: pl.DataFrame, pairs: _Pairs
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Jaro-Winkler, shared nickname group, one side an initial of the other) per pair, each
    worked out once per distinct pair of first names."""
    fa, fb = pairs.ids("fn")
    first, inverse = _distinct(fa, fb)
    ra, rb = pairs.a[first], pairs.b[first]
    names = rows["fn"].fill_null("")
    na, nb = names.gather(ra), names.gather(rb)
    jw = np.asarray(
        process.cpdist(na.to_list(), nb.to_list(), scorer=_JW, workers=-1, dtype=np.float32),
        dtype=np.float64,
    )
    groups = rows["fn_groups"]
    nickname = (
        pl.DataFrame({"a": groups.gather(ra), "b": groups.gather(rb)})
        .select(pl.col("a").list.set_intersection(pl.col("b")).list.len() > 0)
        .to_series()
        .fill_null(False)
        .to_numpy()
    )
    initial = (
        ((na.str.len_chars() == 1) | (nb.str.len_chars() == 1))
        & (na.str.slice(0, 1) == nb.str.slice(0, 1))
    ).to_numpy()
    return jw[inverse], nickname[inverse], initial[inverse]


def _crossed_alike(
    rows: pl.DataFrame, a: np.ndarray, b: np.ndarray, col_a: str, col_b: str, mask: np.ndarray
) -> np.ndarray:
    """Where `mask`: whether `col_a` of a and `col_b` of b are nicknames of one name, or one is
    the other's initial (names compared crossed, first against last)."""
    out = np.zeros(len(a), dtype=bool)
    where = np.flatnonzero(mask)
    if len(where) == 0:
        return out
    pa, pb = a[where], b[where]
    first, inverse = _distinct(
        rows[col_a + VALUE_ID].to_numpy()[pa], rows[col_b + VALUE_ID].to_numpy()[pb]
    )
    pa, pb = pa[first], pb[first]
    na = rows[col_a].gather(pa).fill_null("")
    nb = rows[col_b].gather(pb).fill_null("")
    initial = ((na.str.len_chars() == 1) | (nb.str.len_chars() == 1)) & (
        na.str.slice(0, 1) == nb.str.slice(0, 1)
    )
    groups = pl.DataFrame(
        {"a": rows[col_a + "_groups"].gather(pa), "b": rows[col_b + "_groups"].gather(pb)}
    )
    nick = groups.select(pl.col("a").list.set_intersection(pl.col("b")).list.len() > 0)
    alike = (initial | nick.to_series().fill_null(False)).to_numpy() & (na != "").to_numpy()
    out[where] = alike[inverse]
    return out


def compare_pairs(
    rows: pl.DataFrame, a: np.ndarray, b: np.ndarray, similarities: bool = True
) -> tuple[np.ndarray, pl.DataFrame]:
    """Levels (int8 matrix pairs x FIELDS) and the similarities behind them (a frame).

    `rows` is a `match_rows` frame indexed by position; `a` and `b` are row positions. Scoring
    needs the levels only (`similarities=False`): then edit distances are worked out only for
    pairs where a typo is possible, and the frame is empty.
    """
    n = len(a)
    levels = np.zeros((n, len(FIELDS)), dtype=np.int8)
    if n == 0:
        return levels, pl.DataFrame()
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    p = _Pairs(rows, a, b)

    # Names, straight and crossed; keep the alignment with the higher total. Crossing can only
    # win (by 0.2, both crossed names >= 0.92) where the straight names are not already close.
    fn_present, ln_present = p.present("fn"), p.present("ln")
    both_names = fn_present & ln_present
    fn_s, nick, initial = _first_name_facts(rows, p)
    same_ln = p.equal("ln")
    ln_s = np.where(same_ln, 1.0, _similarity(rows, a, b, "ln", mask=ln_present & ~same_ln))
    # A crossed pair that is a nickname or an initial of the other counts as close (0.93), so
    # "Rive Kate" is "Catherine Rive" and "A Richard" is "Richard Abda".
    cross = both_names & (fn_s + ln_s < 1.8)
    fn_x = _similarity(rows, a, b, "fn", "ln", mask=cross)
    short = (rows["fn"].str.len_chars() == 1).fill_null(False).to_numpy()
    ln_first, fn_first = rows["ln_initial"].to_numpy(), rows["fn_initial_id"].to_numpy()
    ln_x = _similarity(
        rows, a, b, "ln", "fn",
        mask=cross & ((fn_x >= 0.80) | short[a] | (ln_first[a] == fn_first[b])),
    )  # fmt: skip
    half = cross & (np.maximum(fn_x, ln_x) >= 0.92)
    fn_x = np.where(_crossed_alike(rows, a, b, "fn", "ln", half & (fn_x < 0.92)), 0.93, fn_x)
    ln_x = np.where(_crossed_alike(rows, a, b, "ln", "fn", half & (ln_x < 0.92)), 0.93, ln_x)
    straight = np.where(nick | initial, np.maximum(fn_s, 0.93), fn_s) + ln_s
    swapped = (
        half
        & (fn_x + ln_x > straight + 0.2)
        & (np.minimum(fn_x, ln_x) >= 0.80)
    )
    fn_sim = np.where(swapped, fn_x, fn_s)
    ln_sim = np.where(swapped, ln_x, ln_s)
    nickname = nick & ~swapped
    # Typos rarely hit the first letter: "Mary" and "Gary" (0.83) are two names, "Jon" and "Jen"
    # may be one.
    same_start = p.equal("fn_initial")
    levels[:, 0] = np.select(
        [
            ~fn_present,
            fn_sim >= 0.9999,
            nickname,
            fn_sim >= 0.92,
            ((fn_sim >= 0.80) & (same_start | swapped | (fn_sim >= 0.88))) | initial,
        ],
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
    # apart (mail.com, gmail.com) are two domains, not a typo. One edit needs lengths within one.
    em_present = p.present("email")
    same_email = p.equal("email")
    same_local, same_domain = p.equal("email_local_base"), p.equal("email_domain")
    la, lb = p.values("email_local_base" + LENGTH)
    local_digits = np.equal(*p.values("email_local_base" + DIGITS_ID))
    maybe_local = em_present & ~same_local & local_digits & (np.minimum(la, lb) >= 5)
    if not similarities:
        maybe_local &= np.abs(la - lb) <= 1
    local_edits = _similarity(
        rows, a, b, "email_local_base", scorer=_OSA, missing=NO_EDITS,
        mask=em_present if similarities else maybe_local,
    )  # fmt: skip
    local_edits = np.where(same_local, 0.0, local_edits)
    local_typo = maybe_local & (local_edits <= 1)
    provider = rows["email_domain"].is_in(list(MAIL_PROVIDERS)).fill_null(False).to_numpy()
    da, db = p.values("email_domain" + LENGTH)
    maybe_domain = (
        em_present
        & ~same_domain
        & np.equal(*p.values("email_domain" + DIGITS_ID))
        & ~(provider[a] & provider[b])
    )
    if not similarities:
        maybe_domain &= (same_local | local_typo) & (np.abs(da - db) <= 1)
    domain_edits = _similarity(
        rows, a, b, "email_domain", scorer=_OSA, missing=NO_EDITS,
        mask=em_present if similarities else maybe_domain,
    )  # fmt: skip
    domain_edits = np.where(same_domain, 0.0, domain_edits)
    domain_typo = maybe_domain & (domain_edits <= 1)
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

    ph_present, same_phone = p.present("phone"), p.equal("phone")
    levels[:, 3] = np.select([~ph_present, same_phone], [0, 1], 2)

    co_present, same_co, co_sim = p.ratio("company_key", fuzz.token_set_ratio)
    levels[:, 4] = np.select(
        [~co_present, same_co, co_sim >= 0.90, co_sim >= 0.70],
        [0, 1, 2, 3],
        4,
    )

    jt_present, _, jt_sim = p.ratio("job_title_key", fuzz.token_sort_ratio)
    levels[:, 5] = np.select([~jt_present, jt_sim >= 0.90], [0, 1], 2)

    # Postcode: the same, or one character off (a digit keyed wrong), as weaker evidence.
    pc_present, same_pc = p.present("postcode_key"), p.equal("postcode_key")
    pc_edits = _similarity(
        rows, a, b, "postcode_key", scorer=_OSA, mask=pc_present & ~same_pc, missing=NO_EDITS
    )
    pc_near = pc_present & ~same_pc & (pc_edits <= 1) & np.equal(*p.values("postcode" + LENGTH))
    levels[:, 8] = np.select([~pc_present, same_pc, pc_near], [0, 1, 2], 3)

    ci_present, same_city = p.present("city_key"), p.equal("city_key")
    # A company's people share its city, and a postcode names it: the city is evidence only
    # when neither companies nor postcodes agree.
    no_city = ~ci_present | (levels[:, 4] == 1) | (levels[:, 4] == 2) | same_pc
    city_sim = np.where(
        same_city,
        1.0,
        _similarity(
            rows, a, b, "city_key", mask=~same_city & (ci_present if similarities else ~no_city)
        ),
    )
    levels[:, 6] = np.select(
        [
            no_city,
            same_city,
            city_sim >= 0.90,
        ],
        [0, 1, 2],
        3,
    )

    # Street: house number and street name apart (abbreviations and word order folded in the
    # key). The same street with another number is a neighbour, not a typo.
    st_present = p.present("street_key")
    same_street = p.equal("street_key")
    street_sim = np.where(
        same_street, 1.0, _similarity(rows, a, b, "street_key", mask=st_present & ~same_street)
    )
    close = same_street | (street_sim >= 0.88)
    numbers = p.present("house_number")
    same_number = p.equal("house_number")
    levels[:, 7] = np.select(
        [
            ~st_present,
            same_number & same_street,
            close & (same_number | ~numbers),
            close & numbers,
        ],
        [0, 1, 2, 3],
        4,
    )

    # State: evidence only when neither the postcode nor the city could be compared.
    state_present, same_state = p.present("state_key"), p.equal("state_key")
    levels[:, 9] = np.select(
        [~state_present | pc_present | ci_present, same_state], [0, 1], 2
    )

    birth, birth_kind = _birth_levels(*p.values("birth_day"), *p.values("birth_year"))
    levels[:, 10] = birth
    if not similarities:
        return levels, pl.DataFrame()

    def masked(values: np.ndarray, present: np.ndarray) -> pl.Series:
        return pl.Series(np.round(values, 3)).scatter(np.flatnonzero(~present), None)

    def edit_similarity(edits: np.ndarray, col: str) -> np.ndarray:
        longest = np.maximum(*p.values(col + LENGTH))
        return 1.0 - edits / np.maximum(longest, 1)

    sims = pl.DataFrame(
        {
            "first_name": masked(fn_sim, fn_present),
            "last_name": masked(ln_sim, ln_present),
            "swapped_names": swapped,
            "nickname": nickname & (fn_sim < 0.9999),
            "email_local": masked(edit_similarity(local_edits, "email_local_base"), em_present),
            "email_domain": masked(edit_similarity(domain_edits, "email_domain"), em_present),
            "phone": masked(same_phone.astype(np.float64), ph_present),
            "company": masked(co_sim, co_present),
            "job_title": masked(jt_sim, jt_present),
            "city": masked(city_sim, ci_present),
            "street": masked(street_sim, st_present),
            "house_number": masked(same_number.astype(np.float64), st_present & numbers),
            "postcode": masked(same_pc.astype(np.float64), pc_present),
            "postcode_near": pc_near,
            "state": masked(same_state.astype(np.float64), state_present),
            "birthdate": pl.Series(BIRTH_KINDS, dtype=pl.String).gather(birth_kind),
        }
    )
    return levels, sims


# What a birth-date level means, in the words evidence is stored with (level 0: unknown).
BIRTH_KINDS = [None, "same", "day_month_swapped", "one_digit_off", "same_year", "different"]


def _birth_levels(
    day_a: np.ndarray, day_b: np.ndarray, year_a: np.ndarray, year_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Birth-date level per pair (see LEVELS) from YYYYMMDD and year integers (0 = unknown),
    and the same as an index into BIRTH_KINDS."""
    full = (day_a > 0) & (day_b > 0)
    years = (year_a > 0) & (year_b > 0)
    if not years.any():  # lists without birth dates: nothing to work out
        level = np.zeros(len(day_a), dtype=np.int8)
        return level, level.astype(np.int64)
    month_a, month_b = day_a // 100 % 100, day_b // 100 % 100
    dom_a, dom_b = day_a % 100, day_b % 100
    swapped = full & (year_a == year_b) & (month_a == dom_b) & (dom_a == month_b)
    differing = np.zeros(len(day_a), dtype=np.int64)
    for k in range(8):
        scale = 10**k
        differing += (day_a // scale % 10) != (day_b // scale % 10)
    level = np.select(
        [
            ~years,
            full & (day_a == day_b),
            swapped,
            full & (differing == 1),
            ~full & (year_a == year_b),
        ],
        [0, 1, 2, 3, 4],
        5,
    ).astype(np.int8)
    return level, level.astype(np.int64)
