"""A tenant's activity log: JSON lines naming their contacts, with the bad lines mixed in.

Each line names its contact by source id, email or phone; each actor writes timestamps its own
way; one bad line per quarantine reason (and a harmless re-delivery) is planted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from random import Random

from .activities import ACTIVITY_TYPES, ActivityMaker, Event, planted_open_tickets
from .clock import LAST_MOMENT, iso_with_zone
from .contacts import mangle_case
from .people import Person
from .phones import Phone, format_phone, phone_style
from .rng import pick, rng_for
from .tenants import Tenant


class References:
    """How a line names its contact: mostly a source record id, else an email or a raw phone."""

    def __init__(self, tenant: Tenant, people: list[Person]):
        self.tenant = tenant
        # only what a readable record carries can identify; a phone two people share never does
        self.emails = {
            p.email
            for p in people
            if p.email and any(r.email_matches and not r.expected for r in p.rows)
        }
        written = {ph for p in people for r in p.rows if not r.expected for ph in r.phones_written}
        phone_people: dict[Phone, list] = {}
        for p in people:
            for ph in (p.phone, p.mobile):
                if ph and p.pid not in phone_people.get(ph, []):
                    phone_people.setdefault(ph, []).append(p.pid)
        self.unique_phones = {
            ph for ph, pids in phone_people.items() if len(pids) == 1 and ph in written
        }

    def choose(self, rng: Random, e: Event) -> tuple[str, str]:
        p = e.person
        valid_rows = [r for r in p.rows if not r.expected]
        roll = rng.random()
        if roll < 0.11 and p.email in self.emails:
            text = p.email
            style = rng.random()
            if style < 0.2:
                text = mangle_case(rng, text)
            elif style < 0.28:
                text = f" {text} "
            return "email", text
        if roll < 0.18:
            phones = [ph for ph in (p.mobile, p.phone) if ph and ph in self.unique_phones]
            if phones:
                return "phone", format_phone(
                    phones[0], phone_style(rng, self.tenant), self.tenant.country
                )
        # the record that existed when the activity happened, mostly the oldest one
        known = [r for r in valid_rows if r.created <= e.t] or valid_rows[:1]
        row = known[0] if rng.random() < 0.8 else rng.choice(known)
        return "source_id", row.source_id


def event_dict(
    e: Event, ref: tuple[str, str], tenant: Tenant, activity_id: str, rng: Random
) -> dict:
    if e.actor_kind == "system":
        style = "ms"
    elif e.actor_kind == "agent":
        style = pick(rng, [("z", 60), ("utc_offset", 15), ("local", 25)])
    else:
        style = pick(rng, [("local", 75), ("z", 25)])
    d = {
        "activity_id": activity_id,
        "tenant_id": tenant.tenant_id,
        "type": e.type,
        "occurred_at": iso_with_zone(e.t, style, tenant.zone),
        ref[0]: ref[1],
        "actor": e.actor,
    }
    if rng.random() > 0.08:
        d["actor_kind"] = e.actor_kind
    for key in ("direction", "subject", "notes"):
        if getattr(e, key):
            d[key] = getattr(e, key)
    if e.amount is not None:
        d["amount"], d["currency"] = e.amount, e.currency
    if e.ticket_id:
        d["ticket_id"] = e.ticket_id
    if e.status:
        d["status"] = e.status
    return d


def with_ref(d: dict, key: str, value: str) -> dict:
    """The same line naming its contact differently, keys kept in the log's usual order."""
    out = {}
    for k, v in d.items():
        if k in ("source_id", "email", "phone"):
            out[key] = value
        else:
            out[k] = v
    return out


def dumps(d: dict) -> str:
    return json.dumps(d, ensure_ascii=False, separators=(",", ":"))


@dataclass
class Trap:
    line: str
    expected: str  # reason code, or "merged"/"accepted" for the harmless ones
    note: str
    after_id: str = ""  # placed after the line with this activity_id
    line_number: int = 0
    activity_id: str = ""


def activity_traps(
    rng: Random,
    tenant: Tenant,
    lines: list[dict],
    people: list[Person],
    foreign_email: str,
    other_tenant: str,
    next_id,
) -> list[Trap]:
    """One bad line per quarantine reason (and a re-delivery), built from otherwise valid lines."""
    emails = [
        d
        for d in lines
        if d["type"] == "email" and "source_id" in d and d["occurred_at"] < "2026-10"
    ]
    base = rng.choice(emails)
    purchase = rng.choice([d for d in lines if d["type"] == "purchase" and "source_id" in d])

    def variant(**changes) -> dict:
        d = dict(base)
        d["activity_id"] = next_id()
        for k, v in changes.items():
            if v is None:
                d.pop(k, None)
            else:
                d[k] = v
        return d

    traps = []
    broken = dumps(variant())
    traps.append(Trap(broken[: len(broken) // 2], "unparseable_row", "truncated JSON line"))
    if tenant.tenant_id == "brit_gb":
        traps.append(
            Trap(
                '["email","2026-03-01T10:00:00Z"]',
                "unparseable_row",
                "valid JSON, but an array, not an object",
            )
        )
    no_tenant = variant()
    no_tenant.pop("tenant_id")
    traps.append(Trap(dumps(no_tenant), "missing_tenant", "no tenant_id field"))
    traps.append(
        Trap(
            dumps(variant(tenant_id=other_tenant)),
            "tenant_mismatch",
            f"tenant_id {other_tenant} in {tenant.tenant_id}'s log",
        )
    )
    traps.append(
        Trap(
            dumps(variant(occurred_at=rng.choice(["yesterday afternoon", "2026-13-45T25:61:00Z"]))),
            "bad_timestamp",
            "unreadable timestamp",
        )
    )
    traps.append(
        Trap(
            dumps(variant(occurred_at="2026-10-02T14:30:00")),
            "bad_timestamp",
            "timestamp without a zone",
        )
    )
    traps.append(
        Trap(
            dumps(variant(occurred_at="2029-06-01T10:00:00Z")),
            "future_timestamp",
            "an email dated 2029",
        )
    )
    traps.append(
        Trap(dumps(variant(type="fax", direction="outbound")), "unknown_activity_type", "type fax")
    )
    traps.append(
        Trap(
            dumps(with_ref(variant(), "source_id", "99999999999")),
            "unknown_contact",
            "source_id that no record has",
        )
    )
    traps.append(
        Trap(
            dumps(with_ref(variant(), "email", foreign_email)),
            "unknown_contact",
            "email of a contact that exists only in another tenant",
        )
    )
    conflict = dict(base)
    conflict["notes"] = "edited after export"
    conflict["occurred_at"] = base["occurred_at"][:11] + "23:59:59Z"
    traps.append(
        Trap(
            dumps(conflict),
            "conflicting_duplicate",
            "activity_id seen before, different content",
            after_id=base["activity_id"],
        )
    )
    traps.append(
        Trap(
            dumps(purchase),
            "merged",
            "the same line delivered twice (harmless)",
            after_id=purchase["activity_id"],
        )
    )
    bad_cur = dict(purchase)
    bad_cur["activity_id"], bad_cur["currency"] = next_id(), "XYZ"
    traps.append(Trap(dumps(bad_cur), "unknown_currency", "purchase in currency XYZ"))
    for t in traps:
        try:
            t.activity_id = (
                json.loads(t.line).get("activity_id", "") if t.line.startswith("{") else ""
            )
        except json.JSONDecodeError:
            t.activity_id = ""
    return traps


def build_activity_log(
    tenant: Tenant, people: list[Person], foreign_email: str, other_tenant: str
) -> tuple[str, list[Trap], dict]:
    """A tenant's log in time order, as a system appends it, with the bad lines mixed in."""
    maker = ActivityMaker(tenant)
    events: list[Event] = []
    for p in people:
        if any(not r.expected for r in p.rows):
            events += maker.events_for(p)
    events += planted_open_tickets(maker, people)
    # follow-ups (confirmations, subscriptions) of a purchase in the last minutes stay in the past
    events = [e for e in events if e.t <= LAST_MOMENT or e.status == "scheduled"]
    events.sort(key=lambda e: (e.t, e.person.pid, e.type))
    rng = rng_for("lines", tenant.tenant_id)
    refs = References(tenant, people)
    seq = iter(range(1, 10**7))

    def next_id() -> str:
        return f"{tenant.id_prefix}-{next(seq):06d}"

    lines = [event_dict(e, refs.choose(rng, e), tenant, next_id(), rng) for e in events]
    traps = activity_traps(rng, tenant, lines, people, foreign_email, other_tenant, next_id)
    text_lines = [dumps(d) for d in lines]
    ids = [d["activity_id"] for d in lines]
    # place traps after their original when they have one, else anywhere in the later two thirds
    placed: list[tuple[int, int, Trap]] = []
    for k, trap in enumerate(traps):
        if trap.after_id:
            pos = ids.index(trap.after_id) + 1 + rng.randint(5, 400)
        else:
            pos = rng.randint(len(lines) // 3, len(lines))
        placed.append((min(pos, len(lines)), k, trap))
    placed.sort(key=lambda x: (x[0], x[1]))
    out, j = [], 0
    for i, line in enumerate(text_lines + [None]):
        while j < len(placed) and placed[j][0] == i:
            out.append(placed[j][2].line)
            placed[j][2].line_number = len(out)
            j += 1
        if line is not None:
            out.append(line)
    counts = {t: 0 for t in ACTIVITY_TYPES}
    for d in lines:
        counts[d["type"]] += 1
    future_meetings = sum(1 for e in events if e.type == "meeting" and e.status == "scheduled")
    for e_line, e in zip(lines, events, strict=True):
        if e.status == "scheduled":
            traps.append(
                Trap(
                    dumps(e_line),
                    "accepted",
                    "future meeting with status scheduled (legitimate)",
                    line_number=out.index(dumps(e_line)) + 1,
                    activity_id=e_line["activity_id"],
                )
            )
            break
    stats = {
        "lines": len(out),
        "events": len(lines),
        "by_type": counts,
        "future_meetings": future_meetings,
    }
    return "\n".join(out) + "\n", traps, stats
