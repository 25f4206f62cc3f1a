"""Where each value of a golden contact comes from, in words (`crm contact show`): the source
file and the survivorship rule that chose it ("from HubSpot export 2026-03-01, seen in 3 of 4
records"), or the person or agent who set it by hand. The same choice as a run makes
(`field_choice`), replayed for one contact on the tenant's read-only extract."""

from __future__ import annotations

import duckdb
import polars as pl

from crm_pipeline.contacts.profile import contact_profile, tenant_extract
from crm_pipeline.contacts.resolve.field_choice import build_picks
from crm_pipeline.contacts.resolve.survive import held_sources, source_rows
from crm_pipeline.home import Home
from crm_pipeline.tenants import survivorship_settings
from crm_pipeline.warehouse import frame, run

VENDOR_NAMES = {"hubspot": "HubSpot", "salesforce": "Salesforce", "pipedrive": "Pipedrive",
                "zoho": "Zoho", "mailchimp": "Mailchimp", "google": "Google", "outlook": "Outlook",
                "linkedin": "LinkedIn"}


def profile_with_origins(home: Home, tenant_id: str, contact_id: str) -> dict:
    """`contact_profile` with `field_sources`: each field's origin in words, by field."""
    profile = contact_profile(home, tenant_id, contact_id)
    tenant_id, con = tenant_extract(home, tenant_id, contact_id)
    try:
        profile["field_sources"] = {
            e["field"]: e["text"]
            for e in field_sources(con, tenant_id, profile["contact"]["contact_id"])}
    finally:
        con.close()
    return profile


def field_sources(con: duckdb.DuckDBPyConnection, tenant_id: str, contact_id: str) -> list[dict]:
    """One entry per field with a value: {field, value, rule, source, text}."""
    con.register("_golden_ids", pl.DataFrame({"contact_id": [contact_id]}))
    try:
        held = held_sources(con, tenant_id)
        con.register("_held", held)
        try:
            source_rows(con, tenant_id, 1)
            build_picks(con, tenant_id)
            picks = frame(con, """
                SELECT p.field, p.value, p.rule, p.seen_rows, p.agreeing_rows, p.total_rows,
                       i.file_name, i.vendor, i.imported_at, s.source_system
                FROM _survive_pick AS p
                JOIN raw.imports AS i ON i.tenant_id = $t AND i.import_id = p.import_id
                JOIN staging.contact_rows AS s
                  ON s.tenant_id = $t AND s.import_id = p.import_id AND s.row_number = p.row_number
                ORDER BY p.field""", {"t": tenant_id})
        finally:
            con.unregister("_held")
            run(con, "DROP TABLE IF EXISTS _survive_pick")
            run(con, "DROP TABLE IF EXISTS _survive_src")
    finally:
        con.unregister("_golden_ids")
    priority = survivorship_settings(con, tenant_id)["source_priority"]
    manual = {r[0]: r[1:] for r in run(con, """
        SELECT field, actor, actor_kind, set_at FROM core.manual_fields
        WHERE tenant_id = $t AND contact_id = $c""", {"t": tenant_id, "c": contact_id})}
    out = []
    for p in picks.iter_rows(named=True):
        if p["field"] in manual:
            continue
        out.append({"field": p["field"], "value": p["value"], "rule": p["rule"],
                    "source": p["file_name"], "text": _text(p, priority)})
    for field, (actor, kind, at) in sorted(manual.items()):
        out.append({"field": field, "value": None, "rule": "hand", "source": None,
                    "text": f"set by hand by {actor} ({kind}) on {at:%Y-%m-%d}"})
    return sorted(out, key=lambda e: e["field"])


def _text(p: dict, priority: dict) -> str:
    vendor = (p["vendor"] or "").strip().lower()
    where = (f"{VENDOR_NAMES.get(vendor, vendor.title())} export" if vendor
             else f"file {p['file_name']}")
    text = f"from {where} {p['imported_at']:%Y-%m-%d}"
    if vendor:
        text += f" ({p['file_name']})"
    seen, total = p["seen_rows"], p["total_rows"]
    text += ", its only record" if total == 1 else f", seen in {seen} of {total} records"
    rule = p["rule"]
    if rule == "source_priority":
        names = {vendor, (p["source_system"] or "").lower(), p["file_name"].lower()}
        listed = priority.get(p["field"], priority.get("*", []))
        matched = next((s for s in listed if s.strip().lower() in names), vendor)
        text += f"; source priority: {matched}"
    elif rule == "majority" and p["agreeing_rows"] > seen:
        text += f" ({p['agreeing_rows'] - seen} more with a small difference)"
    elif rule == "newest":
        text += "; the newest (this field changes over time)"
    elif rule == "complete":
        text += "; the most complete, then the newest"
    elif rule == "held":
        text += "; only a row held for review gives it (marts.merge_review)"
    return text
