"""Why each source joined a contact, in plain words, from core.match_evidence.

Reads the tenant's own extract (as `profile.contact_profile` does), so another tenant's id is
simply unknown.
"""

from __future__ import annotations

import json

import duckdb

from crm_pipeline.contacts.profile import resolve_contact_id, tenant_extract, unknown
from crm_pipeline.home import Home

RULE_WORDS = {
    "same_source_id": "is the same record of the same source system",
    "same_email": "has the same email address",
    "same_phone_name": "has the same phone number and a compatible name",
    "probabilistic": "matches on several fields",
}
FIELD_WORDS = {
    "first_name": "first name",
    "last_name": "last name",
    "email_local": "email name",
    "email_domain": "email domain",
    "phone": "phone",
    "company": "company",
    "job_title": "job title",
    "city": "city",
}


BIRTH_WORDS = {
    "same": "same birth date",
    "day_month_swapped": "birth date with day and month swapped",
    "one_digit_off": "birth date differs by one digit",
    "same_year": "same birth year (one side gives only the year)",
    "different": "birth dates differ",
}


def describe_address(sims: dict) -> list[str]:
    """The address and birth-date evidence in words ("same street and house number", "postcode
    differs by one digit", "same birth date"); what is missing on one side is left out."""
    words = []
    street, number = sims.get("street"), sims.get("house_number")
    if street is not None:
        close = street >= 0.88
        if close and number == 1:
            words.append(
                "same street and house number"
                if street >= 0.999
                else f"same house number, street name similar ({street:.2f})"
            )
        elif close and number == 0:
            words.append("same street but another house number")
        elif close:
            words.append("same street (house number missing on one side)")
        else:
            words.append("street differs")
    postcode = sims.get("postcode")
    if postcode == 1:
        words.append("same postcode")
    elif sims.get("postcode_near"):
        words.append("postcode differs by one digit")
    elif postcode is not None:
        words.append("postcode differs")
    if sims.get("state") is not None:
        words.append("same state" if sims["state"] == 1 else "state differs")
    if sims.get("birthdate") in BIRTH_WORDS:
        words.append(BIRTH_WORDS[sims["birthdate"]])
    return words


def describe_similarities(sims: dict) -> str:
    """One sentence on what agreed, what differed and what was missing."""
    agree, differ, missing = [], [], []
    for field, words in FIELD_WORDS.items():
        value = sims.get(field)
        if value is None:
            missing.append(words)
        elif value >= 0.999:
            agree.append(words)
        elif value >= 0.8:
            agree.append(f"{words} (similar, {value:.2f})")
        else:
            differ.append(words)
    parts = []
    if sims.get("swapped_names"):
        parts.append("first and last name are swapped")
    if sims.get("nickname"):
        parts.append("the first names are nicknames of one name")
    if agree:
        parts.append("agree: " + ", ".join(agree))
    address = describe_address(sims)
    if address:
        parts.append(", ".join(address))
    if differ:
        parts.append("differ: " + ", ".join(differ))
    if missing:
        parts.append("missing on one side (no evidence): " + ", ".join(missing))
    return "; ".join(parts)


def explanation(con: duckdb.DuckDBPyConnection, tenant_id: str, contact_id: str) -> dict:
    """Sources of the contact, each with the link that placed it and the words for it."""
    cid = resolve_contact_id(con, tenant_id, contact_id)
    if cid is None:
        raise unknown(tenant_id, contact_id)
    sources = con.execute(
        "SELECT source_key, source_id, match_rule, match_score FROM core.contact_sources "
        "WHERE tenant_id = $t AND contact_id = $c ORDER BY linked_at, source_key",
        {"t": tenant_id, "c": cid},
    ).fetchall()
    evidence = con.execute(
        "SELECT left_key, right_key, match_rule, match_score, similarities::VARCHAR "
        "FROM core.match_evidence WHERE tenant_id = $t AND contact_id = $c "
        "ORDER BY match_score DESC, left_key, right_key",
        {"t": tenant_id, "c": cid},
    ).fetchall()
    by_key: dict[str, list] = {}
    for left, right, rule, score, sims in evidence:
        by_key.setdefault(left, []).append((right, rule, score, sims))
        by_key.setdefault(right, []).append((left, rule, score, sims))
    out = []
    for key, source_id, rule, score in sources:
        entry = {
            "source_key": key,
            "source_id": source_id,
            "match_rule": rule,
            "match_score": score,
        }
        if rule == "new":
            entry["why"] = "created this contact (the first record of this person)"
        elif rule == "unmerged":
            entry["why"] = "was split out by crm unmerge"
        elif key in by_key:
            other, link_rule, link_score, sims = by_key[key][0]
            detail = describe_similarities(json.loads(sims)) if sims else ""
            entry["linked_to"] = other
            entry["why"] = (
                f"{RULE_WORDS.get(link_rule, link_rule)} as {other} "
                f"(score {link_score:.3f})" + (f": {detail}" if detail else "")
            )
        else:
            entry["why"] = f"joined by rule {rule}"
        out.append(entry)
    return {
        "contact_id": cid,
        "resolved_from_alias": contact_id if cid != contact_id else None,
        "sources": out,
    }


def explain_contact(home: Home, tenant_id: str, contact_id: str) -> dict:
    """`crm contact explain --tenant T ID`: why each source joined the contact."""
    tenant_id, con = tenant_extract(home, tenant_id, contact_id)
    try:
        return explanation(con, tenant_id, contact_id)
    finally:
        con.close()
