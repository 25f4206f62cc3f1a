import random
import re

import phonenumbers
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneMetadata, PhoneNumberFormat
from phonenumbers.phonenumberutil import COUNTRY_CODES_FOR_NON_GEO_REGIONS, SUPPORTED_REGIONS

from crm_pipeline.contacts.normalize import phone_rules
from crm_pipeline.contacts.normalize.phones import parse_phone

IDD_CANDIDATES = ("00", "011", "0011", "010", "001", "000", "009", "810", "119", "0010", "99")


def _mismatches(pairs: list[tuple[str, str]]) -> tuple[list, int]:
    """Pairs the fast path claims but answers unlike phonenumbers; how many it claims."""
    fast = phone_rules.parse_fast(
        pl.Series([v for v, _ in pairs], dtype=pl.String),
        pl.Series([r for _, r in pairs], dtype=pl.String),
    )
    wrong = [
        (value, region, (phone, kind), parse_phone(value, region))
        for (value, region), (phone, kind, claimed) in zip(pairs, fast.iter_rows(), strict=True)
        if claimed and (phone, kind) != parse_phone(value, region)
    ]
    return wrong, int(fast["fast"].sum())


def _perturbed(rng: random.Random, digits: str) -> str:
    """Up to two digits changed, inserted or dropped: near-valid numbers around the patterns."""
    chars = list(digits)
    for _ in range(rng.choice((0, 1, 1, 2))):
        at, op = rng.randrange(len(chars) + 1), rng.random()
        if op < 0.25 or not chars:
            chars.insert(at, rng.choice("0123456789"))
        elif op < 0.75:
            chars[min(at, len(chars) - 1)] = rng.choice("0123456789")
        else:
            del chars[min(at, len(chars) - 1)]
    return "".join(chars)


def _idds(metadata) -> list[str]:
    """Concrete international prefixes of a region, and the two common ones."""
    found = [i for i in IDD_CANDIDATES if re.fullmatch(metadata.international_prefix, i)]
    preferred = metadata.preferred_international_prefix or ""
    return [*found, *([preferred] if preferred.isdigit() else []), "00", "011"]


def _written_forms(rng: random.Random, region: str) -> list[str]:
    """A region's example numbers as people write them, digits only: national, with a carrier
    code, international without `+`, local part only."""
    forms = []
    for kind in phone_rules.TYPE_NAMES:
        example = phonenumbers.example_number_for_type(region, kind)
        if example is None:
            continue
        nsn = phonenumbers.national_significant_number(example)
        national = phonenumbers.format_number(example, PhoneNumberFormat.NATIONAL)
        carrier = phonenumbers.format_national_number_with_carrier_code(
            example, rng.choice(("15", "21", "0"))
        )
        forms += [nsn, national, carrier, nsn[-rng.randint(4, max(4, len(nsn) - 1)) :]]
    return [re.sub(r"\D", "", form) for form in forms]


def _generated_pairs(seed: int, per_region: int) -> list[tuple[str, str]]:
    """(value, region_key) pairs as `phones._lookup_keys` makes them, over every region the
    library knows and every non-geographic calling code."""
    rng = random.Random(seed)
    codes = [str(c) for c in phonenumbers.COUNTRY_CODE_TO_REGION_CODE]
    pairs = []
    for region in sorted(SUPPORTED_REGIONS):
        metadata = PhoneMetadata.metadata_for_region(region)
        code = str(metadata.country_code)
        forms, idds = _written_forms(rng, region), _idds(metadata)
        prefixes = [metadata.national_prefix or "0", metadata.national_prefix_for_parsing or "0"]
        for _ in range(per_region):
            if rng.random() < 0.3 or not forms:
                number = "".join(rng.choices("0123456789", k=rng.randint(1, 20)))
            else:
                number = _perturbed(rng, rng.choice(forms))
            other = rng.choice(codes)
            shape = rng.randrange(9)
            pairs.append(
                [
                    (number, region),
                    (rng.choice(prefixes) + number, region),
                    (code + number, region),
                    (code + rng.choice(prefixes) + number, region),
                    (rng.choice(idds) + rng.choice((code, other)) + number, region),
                    (rng.choice(idds) + "0" + number, region),  # not an IDD: codes lack 0
                    ("+" + code + number, ""),
                    ("+" + other + number, ""),
                    ("+" + number, ""),
                ][shape]
            )
    for code in sorted(COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        example = phonenumbers.example_number_for_non_geo_entity(code)
        nsn = phonenumbers.national_significant_number(example) if example else "12345678"
        for _ in range(per_region // 2):
            number = _perturbed(rng, nsn)
            pairs += [(f"+{code}{number}", ""), (f"00{code}{number}", rng.choice(("DE", "US")))]
    return list(dict.fromkeys(p for p in pairs if p[0] not in ("", "+")))


def test_fast_path_equals_phonenumbers_on_generated_numbers_of_every_region():
    pairs = _generated_pairs(seed=20240611, per_region=48)
    wrong, claimed = _mismatches(pairs)
    assert wrong == []
    assert claimed >= 0.95 * len(pairs)  # the comparison covers nearly every pair


# Regions with national-prefix transforms (AR, BR, JP, AG, GG), shared calling codes (US/CA/AG,
# GB/GG/IM, RU/KZ, IT/VA, AU/CX), carrier codes (BR, CO), and codes `parse` refuses.
REGIONS = [
    *("US", "CA", "AG", "GB", "GG", "IM", "DE", "FR", "IT", "VA", "RU", "KZ", "AR", "BR"),
    *("JP", "CN", "KR", "AU", "CX", "IN", "CO", "NZ", "FI", "AX", "XX", ""),
]
PREFIXES = ["", "0", "00", "011", "1", "8", "810", "0015", "+", "+0"]
CODES = ["", "1", "44", "49", "54", "55", "7", "39", "61", "358", "800", "979"]


@st.composite
def lookup_pairs(draw) -> tuple[str, str]:
    value = draw(st.sampled_from(PREFIXES)) + draw(st.sampled_from(CODES))
    value += draw(st.text("0123456789", min_size=0, max_size=18))
    return value, "" if value.startswith("+") else draw(st.sampled_from(REGIONS))


@settings(max_examples=30, deadline=None)
@given(st.lists(lookup_pairs(), min_size=1, max_size=12))
def test_fast_path_equals_phonenumbers_for_any_digit_string(pairs):
    pairs = [p for p in dict.fromkeys(pairs) if p[0] not in ("", "+")]
    assert _mismatches(pairs)[0] == []


@pytest.mark.parametrize(
    ("value", "region"),
    [
        ("+49 30 1234567", ""),  # separators are stripped before, by `_lookup_keys`
        ("+49301234567ext12", ""),
        ("tel:+49301234567", ""),
        ("+49301234567", "DE"),  # `+` with a region: parse may retry it as national
        ("4930" + "1" * 40, "DE"),
    ],
)
def test_other_shapes_are_left_to_phonenumbers(value, region):
    fast = phone_rules.parse_fast(pl.Series([value]), pl.Series([region]))
    assert fast.row(0) == (None, None, False)


def test_digits_without_a_known_region_are_invalid_as_in_phonenumbers():
    fast = phone_rules.parse_fast(pl.Series(["4155552671", "4155552671"]), pl.Series(["", "XX"]))
    assert fast.rows() == [(None, "unknown", True)] * 2
    assert parse_phone("4155552671", "XX") == (None, "unknown")


def test_shared_calling_codes_pick_the_region_by_leading_digits():
    fast = phone_rules.parse_fast(
        pl.Series(["+12684641234", "+447624123456", "+77112345678"]), pl.Series(["", "", ""])
    )
    assert fast.rows() == [
        ("+12684641234", "mobile", True),  # Antigua, not the US
        ("+447624123456", "mobile", True),  # Isle of Man, not the UK
        ("+77112345678", "fixed_line", True),  # Kazakhstan, not Russia
    ]


def test_national_prefix_transform_completes_a_local_number():
    # Antigua: a 7-digit local number gets its area code 268 (`([457]\d{6})$|1` -> `268\1`).
    fast = phone_rules.parse_fast(pl.Series(["4641234"]), pl.Series(["AG"]))
    assert fast.row(0) == ("+12684641234", "mobile", True)


def test_an_international_prefix_followed_by_zero_is_read_as_national():
    # Uruguay dials abroad with 00, and its toll-free numbers start 0004: calling codes lack a 0.
    fast = phone_rules.parse_fast(pl.Series(["0004231234"]), pl.Series(["UY"]))
    assert fast.row(0) == ("+5980004231234", "toll_free", True)


def test_patterns_rust_regex_refuses_are_told_apart():
    assert phone_rules._compiles(["^(?:0[1-9]\\d{4})$"])
    assert not phone_rules._compiles(["^(?:0(?=1)\\d{4})$"])  # lookahead: Python only


def test_every_region_has_rules():
    # A region phonenumbers adds whose patterns Rust regex refuses would land here: not wrong
    # (it takes the per-value path), but slower; see the module docstring.
    keys = [*SUPPORTED_REGIONS, *map(str, COUNTRY_CODES_FOR_NON_GEO_REGIONS)]
    assert [key for key in keys if phone_rules.rules_for(key) is None] == []
