"""Look-alike characters (homoglyphs): the form a reader sees, and text that passes for other text.

A Cyrillic `а` in `jаne.doe@acme.com` reads as the Latin `a`; a full-width `ｊ` as `j`. Unicode's
security data (UTS #39: confusables and scripts, as shipped by `confusable_homoglyphs`) says
which characters look like which and which script each belongs to. Only non-ASCII characters are
ever looked up, so ASCII text costs one `isascii()`, and the tables load on first need.
"""

from __future__ import annotations

import unicodedata
from functools import cache

# Scripts every text may use besides its own: digits, punctuation, combining marks.
_NEUTRAL_SCRIPTS = frozenset({"COMMON", "INHERITED"})
# Script mixes that are ordinary writing, not spoofing (UTS #39's highly restrictive level).
_ORDINARY_MIXES = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
_DIRECTION_MARKS = "\u200e\u200f"


def skeleton(text: str) -> str:
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
