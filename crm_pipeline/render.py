"""Printing rows and profiles for people (tables) and programs (CSV, JSON)."""

from __future__ import annotations

import csv
import json
import sys

from rich.console import Console
from rich.table import Table

from .quarantine import spreadsheet_safe


def write_rows(out: Console, columns: list[str], rows: list[tuple], fmt: str) -> None:
    if fmt == "json":
        records = [dict(zip(columns, r, strict=True)) for r in rows]
        sys.stdout.write(json.dumps(records, default=str, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for r in rows:
            writer.writerow([spreadsheet_safe(None if v is None else str(v)) for v in r])
    else:
        t = Table(*columns)
        for r in rows:
            t.add_row(*["" if v is None else str(v) for v in r])
        out.print(t)
        out.print(f"[dim]{len(rows)} rows[/dim]")


def print_profile(out: Console, profile: dict) -> None:
    c = profile["contact"]
    name = " ".join(v for v in (c.get("first_name"), c.get("last_name")) if v) or "(no name)"
    out.print(f"[bold]{name}[/bold]  {c['contact_id']}  tenant {c['tenant_id']}")
    if profile.get("resolved_from_alias"):
        out.print(f"[dim](asked for {profile['resolved_from_alias']}, merged into this contact)[/dim]")
    t = Table(show_header=False, box=None)
    for k, v in c.items():
        if k not in ("tenant_id", "contact_id") and v not in (None, [], ""):
            t.add_row(k, str(v))
    out.print(t)
    if profile.get("segments"):
        out.print("segments: " + ", ".join(profile["segments"]))
    if profile.get("lead_score") is not None:
        out.print(f"lead score: {profile['lead_score']:.1f}")
    out.print(f"sources: {len(profile.get('sources', []))}")
    at = Table("when (UTC)", "type", "actor", "subject / notes", "amount", title="Timeline (newest first)")
    for a in profile.get("activities", []):
        amount = f"{a['amount']} {a['currency']}" if a.get("amount") is not None else ""
        when = a["occurred_at"]
        when = when.strftime("%Y-%m-%d %H:%M") if hasattr(when, "strftime") else str(when)
        at.add_row(when, a["type"], a.get("actor") or "",
                   a.get("subject") or a.get("notes") or "", amount)
    out.print(at)


def print_explanation(out: Console, explanation: dict) -> None:
    """One line per source: which record, and why it belongs to the contact."""
    out.print(f"[bold]{explanation['contact_id']}[/bold]")
    if explanation.get("resolved_from_alias"):
        out.print(f"[dim](asked for {explanation['resolved_from_alias']}, merged into this contact)[/dim]")
    for s in explanation["sources"]:
        source_id = f" (source id {s['source_id']})" if s.get("source_id") else ""
        out.print(f"• {s['source_key']}{source_id} {s['why']}")
