"""phonenumbers' `parse` and `number_type` ported to polars, for digit strings, a column at a time.

Parsing one number with phonenumbers costs 40-60 µs of Python; an import has close to a million
distinct numbers. Nearly all of them are digit strings once separators are stripped (`4155552671`,
`+14155552671`, `00442079460958`), and for those the library's work is a fixed sequence of regex
matches against its metadata, which polars can run over a whole column. `parse_fast` answers
exactly what `phones.parse_phone` answers, or says that it cannot:

- covered: `value` of 1 to `MAX_DIGITS` digits with a `region_key` (ISO code; an unknown code
  makes the number invalid, as in the library), or `+` and digits with region_key "", for the
  regions and calling codes that have rules;
- left to `parse_phone` (`fast` False): any other text (letters, extensions, RFC 3966), `+` with a
  region, longer strings, and the regions and calling codes without rules.

Each metadata entry (a region, or a non-geographic calling code such as +800) is turned once into
regex text for Rust regex: `^(?:…)$` where the library full-matches, `^(…)` where it matches a
prefix (Rust regex picks the same leftmost-first match and groups as Python's `re`). Lengths are
tabulated by asking the library's own `_test_number_length`, so they cannot drift from it. An entry
whose patterns Rust regex refuses, or whose national-prefix transform is not digits and one group,
gets no rules. `parse_fast` then follows `parse` in three steps (calling code, national
significant number, type), each one polars query per region or calling code, so its set-up costs
tens of milliseconds: `phones` uses it for large sets of numbers only.

The port reads the library's private helpers (`_test_number_length`, `_MIN_LENGTH_FOR_NSN`) and
mirrors the parse logic of phonenumbers 9; tests/test_normalize_phone_rules.py compares the two
over generated numbers of every region, so an upgrade that changes either fails there.
"""

import re
from dataclasses import dataclass
from functools import cache

import polars as pl
from phonenumbers import PhoneMetadata, PhoneNumberType
from phonenumbers.phonenumberutil import (
    _MAX_LENGTH_FOR_NSN,
    _MIN_LENGTH_FOR_NSN,
    COUNTRY_CODE_TO_REGION_CODE,
    REGION_CODE_FOR_NON_GEO_ENTITY,
    SUPPORTED_REGIONS,
    ValidationResult,
    _test_number_length,
)

E164_MAX_DIGITS = 15  # E.164's longest number, country code included

TYPE_NAMES = {
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal_number",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
    PhoneNumberType.UNKNOWN: "unknown",
}
UNKNOWN = TYPE_NAMES[PhoneNumberType.UNKNOWN]
# The types `_number_type_helper` tries before fixed line and mobile, in its order (their names
# are also PhoneMetadata's attributes).
_OTHER_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
)
# Digit strings longer than this are left to the per-value path (lengths are tabulated up to it).
MAX_DIGITS = 30
_KEPT = (ValidationResult.IS_POSSIBLE, ValidationResult.TOO_LONG)
_TRANSFORM = re.compile(r"(\d*)\\(\d)")


@dataclass(frozen=True)
class Desc:
    """A PhoneNumberDesc: full-match pattern (None: matches nothing) and possible lengths."""

    pattern: str | None
    lengths: tuple[int, ...]


@dataclass(frozen=True)
class NumberRules:
    """One metadata entry, as the parts of `parse` and `number_type` that depend on it."""

    country_code: int
    general: Desc
    other_types: tuple[tuple[str, Desc], ...]
    fixed_line: Desc | None
    mobile: Desc | None
    same_mobile_and_fixed_line: bool
    idd: str | None  # `^(…)`: group 1 is the international prefix
    national_prefix: str | None  # `^(…)`: group 1 the whole match, group n+1 the library's n
    transform: tuple[str, int] | None  # (digits, group) the national prefix is rewritten to
    last_group: int  # the library's last group, shifted as above; 0 when there is none
    leading_digits: str | None  # `^(?:…)`
    kept_lengths: tuple[int, ...]  # lengths `parse` keeps a stripped national prefix at
    too_long_lengths: tuple[int, ...]


def _desc(desc) -> Desc | None:
    if desc is None:
        return None
    pattern = desc.national_number_pattern
    return Desc(f"^(?:{pattern})$" if pattern else None, tuple(desc.possible_length))


def _lengths(metadata, results) -> tuple[int, ...]:
    return tuple(
        n for n in range(MAX_DIGITS + 1) if _test_number_length("0" * n, metadata) in results
    )


def _compiles(patterns: list[str]) -> bool:
    """Whether Rust regex accepts every pattern (it has no lookaround or backreferences)."""
    probe = pl.Series(["0"])
    try:
        for pattern in patterns:
            probe.str.contains(pattern)
    except pl.exceptions.ComputeError:
        return False
    return True


def _metadata_for(key: str):
    """The library's metadata for a key: a region code, or a non-geographic calling code."""
    if key.isdigit():
        return PhoneMetadata.metadata_for_nongeo_region(int(key), None)
    return PhoneMetadata.metadata_for_region(key, None)


@cache
def rules_for(key: str) -> NumberRules | None:
    """Rules of a region (`DE`) or non-geographic calling code (`800`); None when not portable."""
    metadata = _metadata_for(key)
    if metadata is None or metadata.general_desc is None:
        return None
    prefix = metadata.national_prefix_for_parsing or None
    groups = re.compile(prefix).groups if prefix else 0
    transform = None
    if metadata.national_prefix_transform_rule:
        found = _TRANSFORM.fullmatch(metadata.national_prefix_transform_rule)
        if prefix is None or groups == 0 or found is None or int(found[2]) > groups:
            return None
        transform = (found[1], int(found[2]) + 1)
    rules = NumberRules(
        country_code=metadata.country_code,
        general=_desc(metadata.general_desc),
        other_types=tuple(
            (name, desc) for name in _OTHER_TYPES if (desc := _desc(getattr(metadata, name)))
        ),
        fixed_line=_desc(metadata.fixed_line),
        mobile=_desc(metadata.mobile),
        same_mobile_and_fixed_line=bool(metadata.same_mobile_and_fixed_line_pattern),
        idd=f"^({metadata.international_prefix})" if metadata.international_prefix else None,
        national_prefix=f"^({prefix})" if prefix else None,
        transform=transform,
        last_group=groups + 1 if groups else 0,
        leading_digits=f"^(?:{metadata.leading_digits})" if metadata.leading_digits else None,
        kept_lengths=_lengths(metadata, _KEPT),
        too_long_lengths=_lengths(metadata, (ValidationResult.TOO_LONG,)),
    )
    descs = [rules.general, rules.fixed_line, rules.mobile, *(d for _, d in rules.other_types)]
    patterns = [d.pattern for d in descs if d is not None and d.pattern is not None]
    patterns += [p for p in (rules.idd, rules.national_prefix, rules.leading_digits) if p]
    return rules if _compiles(patterns) else None


def _key_for(country_code: int, region: str) -> str:
    """The rules key of a region of a calling code (`001` means the calling code's own entry)."""
    return str(country_code) if region == REGION_CODE_FOR_NON_GEO_ENTITY else region


@cache
def country_keys() -> dict[str, tuple[str, ...]]:
    """Calling code (as text) -> rules keys of its regions, main region first, library order."""
    return {
        str(code): tuple(_key_for(code, region) for region in regions)
        for code, regions in COUNTRY_CODE_TO_REGION_CODE.items()
    }


def full_match(number: pl.Expr, desc: Desc | None, check_length: bool = True) -> pl.Expr:
    """`_is_number_matching_desc` (or, without the length check, `_match_national_number`)."""
    if desc is None or desc.pattern is None:
        return pl.lit(False)
    matched = number.str.contains(desc.pattern)
    if check_length and desc.lengths:
        matched = number.str.len_chars().is_in(desc.lengths) & matched
    return matched


def line_type(number: pl.Expr, rules: NumberRules) -> pl.Expr:
    """`_number_type_helper`: the type name of a significant number (`unknown`: invalid)."""
    kind = pl.when(~full_match(number, rules.general)).then(pl.lit(UNKNOWN))
    for name, desc in rules.other_types:
        kind = kind.when(full_match(number, desc)).then(pl.lit(name))
    fixed = full_match(number, rules.fixed_line)
    if rules.same_mobile_and_fixed_line:
        kind = kind.when(fixed).then(pl.lit("fixed_line_or_mobile"))
    else:
        mobile = full_match(number, rules.mobile)
        kind = (
            kind.when(fixed & mobile)
            .then(pl.lit("fixed_line_or_mobile"))
            .when(fixed)
            .then(pl.lit("fixed_line"))
            .when(mobile)
            .then(pl.lit("mobile"))
        )
    return kind.otherwise(pl.lit(UNKNOWN))


def without_national_prefix(number: pl.Expr, rules: NumberRules) -> pl.Expr:
    """The number part of `_maybe_strip_national_prefix_carrier_code`."""
    if rules.national_prefix is None:
        return number
    prefix = number.str.extract(rules.national_prefix, 1)
    rest = number.str.slice(prefix.str.len_chars())
    stripped = rest
    if rules.transform is not None:
        digits, group = rules.transform
        rewritten = pl.lit(digits) + number.str.extract(rules.national_prefix, group).fill_null("")
        stripped = (
            pl.when(number.str.extract(rules.national_prefix, rules.last_group).is_not_null())
            .then(rewritten + rest)
            .otherwise(rest)
        )
    viable = full_match(number, rules.general, check_length=False)
    return (
        pl.when(prefix.is_null() | (number.str.len_chars() == 0))
        .then(number)
        .when(viable & ~full_match(stripped, rules.general, check_length=False))
        .then(number)
        .otherwise(stripped)
    )


_DIGIT_STRING = rf"^\+?[0-9]{{1,{MAX_DIGITS}}}$"
_ANSWER = {"idx": pl.UInt32, "phone": pl.String, "phone_type": pl.String}


@cache
def _main_keys() -> dict[str, str]:
    return {code: keys[0] for code, keys in country_keys().items()}


def _invalid(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows `parse_phone` answers (None, "unknown") for: unparseable or invalid."""
    return frame.select(
        "idx", pl.lit(None, pl.String).alias("phone"), pl.lit(UNKNOWN).alias("phone_type")
    )


@cache
def _country_code_pattern() -> str:
    """`^(…)` of every calling code, shortest first: the first that matches is the one
    `_extract_country_code` finds, trying 1, 2 then 3 digits."""
    return "^(" + "|".join(sorted(country_keys(), key=len)) + ")"


def _with_country_code(frame: pl.LazyFrame) -> pl.LazyFrame:
    """`cc`, `nnn`, `key` (the code's main entry) from `rest`, the digits after `+` or an IDD;
    cc null when they are too short for a number or start with no calling code."""
    rest, cc = pl.col("rest"), pl.col("cc")
    return frame.with_columns(
        pl.when(rest.str.len_chars() > 2)
        .then(rest.str.extract(_country_code_pattern(), 1))
        .alias("cc")
    ).select(
        "idx",
        "cc",
        rest.str.slice(cc.str.len_chars()).alias("nnn"),
        cc.replace_strict(_main_keys(), default=None).alias("key"),
    )


def _from_region(frame: pl.LazyFrame, region: str, rules: NumberRules) -> list[pl.LazyFrame]:
    """`_maybe_extract_country_code` for digits without `+` and a default region: `cc` (null
    when invalid), `nnn`, and the `key` of the rules parse goes on with; in three parts."""
    value = pl.col("value")
    code = str(rules.country_code)
    viable = pl.when(value.str.len_chars() >= _MIN_LENGTH_FOR_NSN).then(pl.lit(code)).alias("cc")
    idd = value.str.extract(rules.idd, 1) if rules.idd else pl.lit(None, pl.String)
    after_idd = value.str.slice(idd.str.len_chars().fill_null(0))
    # An IDD followed by 0 is not taken for one (calling codes do not start with 0).
    frame = frame.with_columns(
        (idd.is_not_null() & ~after_idd.str.starts_with("0")).alias("from_idd"),
        after_idd.alias("rest"),
    )
    with_idd = _with_country_code(frame.filter("from_idd"))
    frame = frame.filter(~pl.col("from_idd"))
    plain = frame.filter(~value.str.starts_with(code)).select(
        "idx", viable, pl.col("value").alias("nnn"), pl.lit(region).alias("key")
    )
    # Starting with the region's own calling code: it is taken for one if that fits better.
    own = without_national_prefix(value.str.slice(len(code)), rules)
    own_code = (
        ~full_match(value, rules.general, check_length=False)
        & full_match(own, rules.general, check_length=False)
    ) | value.str.len_chars().is_in(rules.too_long_lengths)
    with_own_code = frame.filter(value.str.starts_with(code)).select(
        "idx",
        viable,
        pl.when(own_code).then(own).otherwise(value).alias("nnn"),
        pl.when(own_code).then(pl.lit(_main_keys()[code])).otherwise(pl.lit(region)).alias("key"),
    )
    return [with_idd, plain, with_own_code]


def _national_significant(frame: pl.LazyFrame, rules: NumberRules) -> pl.LazyFrame:
    """The rest of `parse`: the national prefix stripped when what is left has a usable length;
    `nnn` null when the number is too short or too long."""
    nnn = pl.col("nnn")
    stripped = without_national_prefix(nnn, rules)
    return (
        frame.with_columns(
            pl.when(nnn.str.len_chars() < _MIN_LENGTH_FOR_NSN)
            .then(None)
            .when(stripped.str.len_chars().is_in(rules.kept_lengths))
            .then(stripped)
            .otherwise(nnn)
            .alias("nnn")
        )
        .with_columns(
            pl.when(nnn.str.len_chars().is_between(_MIN_LENGTH_FOR_NSN, _MAX_LENGTH_FOR_NSN))
            .then(nnn)
            .alias("nnn")
        )
        .select("idx", "cc", "nnn")
    )


def _answer(frame: pl.DataFrame | pl.LazyFrame, code: str) -> pl.DataFrame | pl.LazyFrame:
    """`idx`, `phone` (E.164 when the type is known) and `phone_type` of typed numbers."""
    return frame.select(
        "idx",
        pl.when(pl.col("phone_type") != UNKNOWN)
        .then(pl.lit("+" + code) + pl.col("nnn"))
        .alias("phone"),
        "phone_type",
    )


def _typed(frame: pl.DataFrame, entries: list[NumberRules], code: str) -> list[pl.DataFrame]:
    """`number_type` and E.164 for the numbers of a calling code shared by several regions:
    `_region_code_for_number_from_list` tries them in order, by leading digits if the region has
    them, else by a valid type; a number no region takes is invalid."""
    nsn = pl.col("nnn")
    answered = []
    for rules in entries:
        if frame.is_empty():
            break
        if rules.leading_digits:
            hit = nsn.str.contains(rules.leading_digits)
            typed = frame.filter(hit).with_columns(line_type(nsn, rules).alias("phone_type"))
        else:
            frame = frame.with_columns(line_type(nsn, rules).alias("phone_type"))
            hit = pl.col("phone_type") != UNKNOWN
            typed = frame.filter(hit)
        answered.append(_answer(typed, code))
        frame = frame.filter(~hit)
    return [*answered, _invalid(frame)]


def _collected(frames: list[pl.LazyFrame]) -> list[pl.DataFrame]:
    # One by one: `pl.collect_all` runs them on several threads, each compiling the patterns again.
    return [frame.collect() for frame in frames]


def _partitions(frame: pl.DataFrame, by: str) -> list[tuple[str, pl.LazyFrame]]:
    return [(k, group.lazy()) for (k,), group in frame.partition_by(by, as_dict=True).items()]


def _split_numbers(digits: pl.DataFrame, answered: list[pl.DataFrame]) -> pl.DataFrame:
    """`cc`, `nnn` and the `key` of the rules to go on with, as `_maybe_extract_country_code`
    leaves them; invalid numbers go to `answered`, regions without rules are dropped."""
    plus = pl.col("value").str.starts_with("+")
    known = pl.col("region_key").is_in(SUPPORTED_REGIONS)
    # No region to read a number without `+` in: parse refuses it.
    answered.append(_invalid(digits.filter(~plus & ~known)))
    # `+` with a region would make parse retry a number it cannot read as national: not ported.
    international = digits.lazy().filter(plus & (pl.col("region_key") == ""))
    stage = [_with_country_code(international.with_columns(rest=pl.col("value").str.slice(1)))]
    for region, group in _partitions(digits.filter(~plus & known), "region_key"):
        if (rules := rules_for(region)) is not None:
            stage.extend(_from_region(group, region, rules))
    numbers = pl.concat(_collected(stage))
    answered.append(_invalid(numbers.filter(pl.col("cc").is_null())))
    return numbers.filter(pl.col("cc").is_not_null())


def _significant_numbers(numbers: pl.DataFrame, answered: list[pl.DataFrame]) -> pl.DataFrame:
    """`cc` and `nnn`, the national significant number, as `parse` returns them."""
    stage = [
        _national_significant(group, rules)
        for key, group in _partitions(numbers, "key")
        if (rules := rules_for(key)) is not None
    ]
    empty = pl.DataFrame(schema={"idx": pl.UInt32, "cc": pl.String, "nnn": pl.String})
    numbers = pl.concat([empty, *_collected(stage)])
    answered.append(_invalid(numbers.filter(pl.col("nnn").is_null())))
    return numbers.filter(pl.col("nnn").is_not_null())


def _typed_numbers(numbers: pl.DataFrame, answered: list[pl.DataFrame]) -> None:
    """`number_type` and E.164 of parsed numbers, by calling code."""
    stage = []
    for code, group in _partitions(numbers, "cc"):
        entries = [rules_for(key) for key in country_keys()[code]]
        if None in entries:
            continue
        if len(entries) == 1:
            kind = line_type(pl.col("nnn"), entries[0]).alias("phone_type")
            stage.append(_answer(group.with_columns(kind), code))
        else:
            answered.extend(_typed(group.collect(), entries, code))
    answered.extend(_collected(stage))


def parse_fast(values: pl.Series, regions: pl.Series) -> pl.DataFrame:
    """`parse_phone` of (value, region_key) pairs, per pair `phone`, `phone_type`, and `fast`;
    where `fast` is False, phone and phone_type are null and the pair needs `parse_phone`.

    Like `parse`, in three steps: the calling code and the rest of the digits (`_split_numbers`),
    the national significant number (`_significant_numbers`), its type (`_typed_numbers`); each
    step is one polars query per region or calling code."""
    frame = pl.DataFrame({"value": values, "region_key": regions}).with_row_index("idx")
    answered: list[pl.DataFrame] = [pl.DataFrame(schema=_ANSWER)]
    numbers = _split_numbers(frame.filter(pl.col("value").str.contains(_DIGIT_STRING)), answered)
    _typed_numbers(_significant_numbers(numbers, answered), answered)
    found = pl.concat([a.cast(_ANSWER) for a in answered])
    too_long = pl.col("phone").str.len_bytes() > E164_MAX_DIGITS + 1  # as `parse_phone` refuses
    return frame.join(found, on="idx", how="left", maintain_order="left").select(
        pl.when(too_long).then(None).otherwise(pl.col("phone")).alias("phone"),
        pl.when(too_long).then(pl.lit("unknown")).otherwise(pl.col("phone_type"))
        .alias("phone_type"),
        pl.col("phone_type").is_not_null().alias("fast"),
    )
