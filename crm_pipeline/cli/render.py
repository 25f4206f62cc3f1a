"""Printing rows and profiles for people (tables) and programs (CSV, JSON).

Values come from imported files, queries and users, so nothing shown to people is ever read as
rich markup or emoji codes (the CLI's consoles have both off, and every cell is a `Text`), and
control characters are shown escaped so a value cannot drive the terminal (colours, links, titles).
CSV and JSON carry the values exactly as stored: no escaping, no truncation.
"""

from __future__ import annotations

import csv
import json
import re
import sys

from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

TABLE_ROWS = 50  # rows `crm sql` shows as a table unless --limit or --all says otherwise

# C0 and C1 controls (tab and newline excepted) and the bidirectional overrides that reorder text.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def shown(value) -> str:
    """A value as people see it: None as empty, control characters as visible escapes."""
    if value is None:
        return ""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                       else f"\\u{ord(m.group()):04x}", str(value))


def styled(*parts) -> Text:
    """One line from plain values and (value, style) pairs; values are never read as markup."""
    line = Text()
    for part in parts:
        if isinstance(part, tuple):
            line.append(shown(part[0]), style=part[1])
        else:
            line.append(shown(part))
    return line


def table(*columns: str, **options) -> Table:
    """A rich table whose headers are plain text (column names come from queries and files);
    a value too wide for its column is folded onto more lines, never cut short."""
    return Table(*[Column(header=Text(shown(c)), overflow="fold") for c in columns], **options)


def add_row(t: Table, values) -> None:
    t.add_row(*[v if isinstance(v, Text) else Text(shown(v)) for v in values])


def write_rows(out: Console, columns: list[str], rows: list[tuple], fmt: str,
               limit: int | None = None) -> int:
    """Print rows as a table, CSV or JSON; at most `limit` rows (all if None). Returns how many
    rows were left out (the caller says so, on stderr for CSV and JSON)."""
    shown_rows = rows if limit is None else rows[:limit]
    left_out = len(rows) - len(shown_rows)
    if fmt == "json":
        records = [dict(zip(columns, r, strict=True)) for r in shown_rows]
        sys.stdout.write(json.dumps(records, default=str, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for r in shown_rows:  # exactly as stored: neutralizing formulas is for error files only
            writer.writerow(["" if v is None else str(v) for v in r])
    else:
        t = table(*columns)
        for r in shown_rows:
            add_row(t, r)
        out.print(t)
        if left_out:
            out.print(styled((f"{len(shown_rows)} of {len(rows)} rows shown; {left_out} more not "
                              "shown (--limit N or --all to see them, --format csv or json "
                              "for programs)", "dim")))
        else:
            out.print(styled((f"{len(rows)} rows", "dim")))
    return left_out


def print_profile(out: Console, profile: dict) -> None:
    c = profile["contact"]
    name = " ".join(v for v in (c.get("first_name"), c.get("last_name")) if v) or "(no name)"
    out.print(styled((name, "bold"), f"  {c['contact_id']}  tenant {c['tenant_id']}"))
    if profile.get("resolved_from_alias"):
        out.print(styled((f"(asked for {profile['resolved_from_alias']}, merged into this contact)",
                          "dim")))
    t = Table(show_header=False, box=None)
    origins = profile.get("field_sources") or {}
    for k, v in c.items():
        if k not in ("tenant_id", "contact_id") and v not in (None, [], ""):
            add_row(t, (k, v, origins.get(k, "")))
    out.print(t)
    for key in ("other_emails", "other_phones"):
        if profile.get(key):
            out.print(styled(f"{key.replace('_', ' ')}: " + ", ".join(profile[key])))
    if profile.get("segments"):
        out.print(styled("segments: " + ", ".join(profile["segments"])))
    if profile.get("lead_score") is not None:
        out.print(styled(f"lead score: {profile['lead_score']:.1f}"))
    if profile.get("account"):
        a = profile["account"]
        out.print(styled(f"account: {a['name']} ({a['account_id']}, {a['linked_by']})"))
    out.print(styled(f"sources: {len(profile.get('sources', []))}"))
    if profile.get("set_by_hand"):
        out.print(styled("set by hand: " + ", ".join(
            f"{m['field']} ({m['actor']})" for m in profile["set_by_hand"])))
    if profile.get("notes"):
        nt = table("when (UTC)", "author", "note", title="Notes (newest first)")
        for n in profile["notes"]:
            when = n["noted_at"]
            when = when.strftime("%Y-%m-%d %H:%M") if hasattr(when, "strftime") else str(when)
            add_row(nt, (when, f"{n['author']} ({n['author_kind']})", n["body"]))
        out.print(nt)
    at = table("when (UTC)", "type", "actor", "subject / notes", "amount",
               title="Timeline (newest first)")
    for a in profile.get("activities", []):
        amount = f"{a['amount']} {a['currency']}" if a.get("amount") is not None else ""
        when = a["occurred_at"]
        when = when.strftime("%Y-%m-%d %H:%M") if hasattr(when, "strftime") else str(when)
        add_row(at, (when, a["type"], a.get("actor") or "",
                     a.get("subject") or a.get("notes") or "", amount))
    out.print(at)


def print_account(out: Console, profile: dict) -> None:
    """An account: its fields, domains, engagement and contacts."""
    a = profile["account"]
    out.print(styled((a["name"], "bold"), f"  {a['account_id']}  tenant {a['tenant_id']}"))
    if profile.get("resolved_from_alias"):
        out.print(styled((f"(asked for {profile['resolved_from_alias']}, merged into this "
                          "account)", "dim")))
    t = Table(show_header=False, box=None)
    for k, v in a.items():
        if k not in ("tenant_id", "account_id", "name") and v not in (None, [], ""):
            add_row(t, (k, v))
    out.print(t)
    out.print(styled("domains: " + (", ".join(d["domain"] for d in profile["domains"]) or "none")))
    if profile.get("merged_ids"):
        out.print(styled("merged in: " + ", ".join(profile["merged_ids"])))
    if profile.get("firmographics"):
        ft = table("field", "value", "source", "observed", "not used because",
                   title="Company values observed (the account keeps one per field)")
        for f in profile["firmographics"]:
            add_row(ft, (f["field"], f["value"], f["source"], f["observed_on"],
                         f.get("problem") or ""))
        out.print(ft)
    e = profile.get("engagement")
    if e:
        out.print(styled(f"{e['contacts']} contacts, {e['engaged_contacts_90d']} engaged in 90 days, "
                         f"{e['customers']} customers, {e['open_leads']} open leads; "
                         f"{e['activities_90d']} activities in 90 days ({e['trend']})"))
    v = profile.get("value")
    if v:
        out.print(styled(f"tier {v['tier']} ({v['tier_reason']}); {v['customers']} customers, "
                         f"revenue {v['historical_revenue']} to date, {v['revenue_365d']} in 365 "
                         f"days; expected {v['expected_clv_365d']} over the next 365 days "
                         f"({v['forecast_share']:.1%} of the tenant's)"))
    ct = table("contact", "name", "email", "job title", "stage", "linked by", title="Contacts")
    for c in profile["contacts"]:
        add_row(ct, (c["contact_id"], c.get("name") or "", c.get("email") or "",
                     c.get("job_title") or "", c.get("stage") or "", c["linked_by"]))
    out.print(ct)
    if profile.get("more_contacts"):
        out.print(styled(("(more contacts: crm sql \"select * from core.contact_accounts ...\")",
                          "dim")))


def print_explanation(out: Console, explanation: dict) -> None:
    """One line per source: which record, and why it belongs to the contact."""
    out.print(styled((explanation["contact_id"], "bold")))
    if explanation.get("resolved_from_alias"):
        out.print(styled((f"(asked for {explanation['resolved_from_alias']}, merged into this "
                          "contact)", "dim")))
    for s in explanation["sources"]:
        source_id = f" (source id {s['source_id']})" if s.get("source_id") else ""
        out.print(styled(f"• {s['source_key']}{source_id} {s['why']}"))


def print_roles(out: Console, agents: list[dict]) -> None:
    """One row per agent: its role and grants (reads collapsed to `marts.*` when it has all;
    an agent that sees only its own work-queue rows says so)."""
    t = table("agent", "role", "reads", "personal", "edits", "creates", "writes",
              title="Agents and their grants")
    for a in agents:
        reads = ", ".join(a["reads"]) or "-"
        if a.get("own_rows_only"):
            reads += " (queue: own rows only)"
        add_row(t, (a["agent"], a["role"], reads,
                    "yes" if a["reads_personal"] else "no", ", ".join(a["edits"]) or "-",
                    "yes" if a["creates"] else "no", ", ".join(a["writes"]) or "-"))
    out.print(t)
