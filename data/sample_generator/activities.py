"""Activities: each person's events, drawn from their engagement profile.

Hot and cold leads, customers (purchases, refunds, subscriptions), decliners, support tickets,
and the tickets still open at the as-of date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .clock import AS_OF_DT, DAY, LAST_MOMENT, WINDOW_START, utc_offset_hours
from .people import Person
from .rng import pick, rng_for
from .tenants import Tenant

AGENTS = ("mercer", "cheryl", "binky")
SYSTEM_ACTOR = "pipeline"
CURRENCIES = ("USD", "GBP", "EUR")
ACTIVITY_TYPES = (
    "email",
    "call",
    "meeting",
    "support",
    "purchase",
    "webinar",
    "download",
    "form_submission",
    "subscription_start",
    "subscription_end",
    "email_bounce",
    "refund",
)


@dataclass
class Event:
    t: datetime
    type: str
    actor: str
    actor_kind: str
    person: Person
    direction: str = ""
    subject: str = ""
    notes: str = ""
    amount: float | None = None
    currency: str = ""
    ticket_id: str = ""
    status: str = ""


SUBJECTS = {
    "en": {
        "email_out": [
            "Follow-up",
            "Quick question",
            "Proposal",
            "Intro",
            "Pricing",
            "Re: demo",
            "Renewal",
            "Checking in",
            "Your trial",
            "Case study you asked for",
        ],
        "email_in": [
            "Re: Proposal",
            "Question about pricing",
            "Re: Follow-up",
            "Invoice",
            "Re: Intro",
            "Out of office",
        ],
        "meeting": ["Discovery call", "Demo", "QBR", "Onboarding", "Contract review", "Kick-off"],
        "webinar": [
            "Webinar: Pipeline hygiene 101",
            "Webinar: Q3 product update",
            "Webinar: Forecasting",
        ],
        "download": [
            "Whitepaper: Data quality",
            "Price list 2026",
            "Case study: Retail",
            "ROI calculator",
        ],
        "form": ["Contact us", "Demo request", "Newsletter signup", "Pricing enquiry"],
        "support": [
            "Cannot log in",
            "Invoice question",
            "Export fails",
            "Password reset",
            "Sync stuck",
            "Feature request",
        ],
        "call_notes": [
            "Left voicemail",
            "Discussed pricing",
            "Wants a demo next week",
            "Not interested right now",
            "Asked about integrations",
            "",
        ],
        "plan": ["Pro monthly", "Team annual", "Starter monthly"],
    },
    "de": {
        "email_out": [
            "Rückfrage Angebot",
            "Nachfassen",
            "Angebot",
            "Terminvorschlag",
            "Preise 2026",
            "Verlängerung",
        ],
        "email_in": [
            "AW: Angebot",
            "Frage zur Rechnung",
            "AW: Terminvorschlag",
            "Abwesenheitsnotiz",
        ],
        "meeting": [
            "Erstgespräch",
            "Produktdemo",
            "Quartalsgespräch",
            "Schulung",
            "Vertragsgespräch",
        ],
        "webinar": ["Webinar: Datenqualität", "Webinar: Neuerungen Q3"],
        "download": ["Whitepaper: Datenqualität", "Preisliste 2026", "Fallstudie Maschinenbau"],
        "form": ["Kontaktformular", "Demo-Anfrage", "Newsletter-Anmeldung"],
        "support": [
            "Login geht nicht",
            "Frage zur Rechnung",
            "Export schlägt fehl",
            "Passwort zurücksetzen",
        ],
        "call_notes": [
            "Mailbox",
            "Preise besprochen",
            "Möchte Demo nächste Woche",
            "Kein Bedarf",
            "",
        ],
        "plan": ["Pro monatlich", "Team jährlich"],
    },
}


class ActivityMaker:
    """Draws one tenant's events, person by person, from the person's engagement profile."""

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self.rng = rng_for("activities", tenant.tenant_id)
        self.words = SUBJECTS["de" if tenant.country == "DE" else "en"]
        self.ticket_seq = 1000
        self.support_user = tenant.users[-1][0]

    # -- time helpers --
    def when(self, start: datetime, end: datetime, business_hours: bool = True) -> datetime:
        if end <= LAST_MOMENT + DAY:  # only scheduled meetings lie ahead of the as-of date
            end = min(end, LAST_MOMENT)
            start = min(start, end - timedelta(hours=1))
        span = max((end - start).total_seconds(), 60.0)
        t = start + timedelta(seconds=self.rng.random() * span)
        if business_hours:
            local_hour = 8 + self.rng.random() * 10
            offset = utc_offset_hours(self.tenant.zone, t)
            t = t.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(
                hours=local_hour - offset
            )
            if t > end:
                t -= DAY
            if t < start:
                t = start + timedelta(minutes=self.rng.randint(1, 50))
        return t.replace(microsecond=self.rng.randrange(1000) * 1000)

    def poisson(self, start: datetime, end: datetime, per_month: float) -> list[datetime]:
        out, t = [], start
        if end <= start or per_month <= 0:
            return out
        while True:
            t += timedelta(days=self.rng.expovariate(per_month / 30.0))
            if t >= end:
                return out
            out.append(self.when(t, min(t + DAY, end)))

    # -- event kinds --
    def owner(self, p: Person) -> str:
        return self.tenant.users[p.owner][0]

    def engagement(self, p: Person, t: datetime, stage: str) -> Event:
        r, w = self.rng, self.words
        kind = pick(
            r,
            [
                ("email_out", 34),
                ("email_in", 16),
                ("call", 14),
                ("meeting", 6),
                ("webinar", 8),
                ("download", 9),
                ("form", 5),
                ("bounce", 1),
            ]
            if stage == "lead"
            else [
                ("email_out", 34),
                ("email_in", 22),
                ("call", 14),
                ("meeting", 10),
                ("webinar", 7),
                ("download", 5),
                ("form", 2),
                ("bounce", 1),
            ],
        )
        if kind == "email_out":
            actor = pick(
                r,
                [
                    (self.owner(p), 55),
                    ("mercer" if stage == "lead" else "cheryl", 30),
                    (SYSTEM_ACTOR, 15),
                ],
            )
            return Event(
                t,
                "email",
                actor,
                self.kind_of(actor),
                p,
                direction="outbound",
                subject=r.choice(w["email_out"]) if r.random() < 0.6 else "",
            )
        if kind == "email_in":
            actor = self.owner(p) if r.random() < 0.7 else SYSTEM_ACTOR
            return Event(
                t,
                "email",
                actor,
                self.kind_of(actor),
                p,
                direction="inbound",
                subject=r.choice(w["email_in"]) if r.random() < 0.6 else "",
            )
        if kind == "call":
            actor = pick(
                r, [(self.owner(p), 65), ("mercer", 25 if stage == "lead" else 5), ("binky", 10)]
            )
            note = r.choice(w["call_notes"]) if r.random() < 0.35 else ""
            return Event(
                t,
                "call",
                actor,
                self.kind_of(actor),
                p,
                direction=pick(r, [("outbound", 70), ("inbound", 30)]),
                notes=note,
            )
        if kind == "meeting":
            return self.meeting(p, t, "completed" if r.random() < 0.9 else "cancelled")
        if kind == "bounce":
            return Event(
                t,
                "email_bounce",
                SYSTEM_ACTOR,
                "system",
                p,
                subject="550 5.1.1 mailbox unavailable" if r.random() < 0.5 else "",
            )
        typ = {"webinar": "webinar", "download": "download", "form": "form_submission"}[kind]
        return Event(
            self.when(t, t + DAY, business_hours=False),
            typ,
            SYSTEM_ACTOR,
            "system",
            p,
            subject=r.choice(w[kind]),
        )

    def meeting(self, p: Person, t: datetime, status: str) -> Event:
        actor = pick(self.rng, [(self.owner(p), 75), ("binky", 15), ("mercer", 10)])
        return Event(
            t,
            "meeting",
            actor,
            self.kind_of(actor),
            p,
            subject=self.rng.choice(self.words["meeting"]),
            status=status,
        )

    @staticmethod
    def kind_of(actor: str) -> str:
        return "agent" if actor in AGENTS else "system" if actor == SYSTEM_ACTOR else "user"

    def future_meeting(self, p: Person) -> Event:
        t = self.when(AS_OF_DT + timedelta(days=2), AS_OF_DT + timedelta(days=30))
        return self.meeting(p, t, "scheduled")

    def support_ticket(self, p: Person, opened: datetime, never_close: bool = False) -> list[Event]:
        r = self.rng
        self.ticket_seq += r.randint(1, 7)
        ticket = f"{self.tenant.id_prefix.upper()}-T{self.ticket_seq}"
        subject = r.choice(self.words["support"])
        opener = pick(r, [("cheryl", 55), (self.support_user, 45)])
        events = [
            Event(
                opened,
                "support",
                opener,
                self.kind_of(opener),
                p,
                direction="inbound",
                subject=subject,
                ticket_id=ticket,
                status="open",
            )
        ]
        t = opened
        for _ in range(r.choice([0, 0, 1, 1, 2])):
            t = t + timedelta(hours=r.uniform(2, 60))
            if t >= AS_OF_DT:
                break
            actor = pick(r, [("cheryl", 60), (self.support_user, 40)])
            events.append(
                Event(
                    t,
                    "support",
                    actor,
                    self.kind_of(actor),
                    p,
                    direction="outbound",
                    subject=subject,
                    ticket_id=ticket,
                    status="open",
                )
            )
        close = t + timedelta(days=r.expovariate(1 / 4.0), hours=1)
        if not never_close and close < AS_OF_DT:
            actor = pick(r, [("cheryl", 60), (self.support_user, 40)])
            events.append(
                Event(
                    close,
                    "support",
                    actor,
                    self.kind_of(actor),
                    p,
                    direction="outbound",
                    subject=subject,
                    ticket_id=ticket,
                    status="closed",
                    notes="Resolved" if r.random() < 0.5 else "",
                )
            )
        return events

    # -- purchases: BG/NBD-like buying, Gamma-Gamma-like spend --
    def purchases(self, p: Person, first: datetime, stop: datetime) -> list[Event]:
        r, t = self.rng, first
        lam = r.gammavariate(0.9, 1 / 35.0)  # purchases per day, heterogeneous across customers
        drop = r.betavariate(1.0, 3.5)  # chance to drop out after each purchase
        scale = {"USD": 150.0, "GBP": 120.0, "EUR": 130.0}[self.tenant.currency]
        p_shape, q_shape = 6.0, 4.0
        gamma = scale * (q_shape - 1) / p_shape
        nu = r.gammavariate(q_shape, 1 / gamma)  # the customer's spend rate
        currency = self.tenant.currency
        if r.random() < 0.08:
            currency = r.choice([c for c in CURRENCIES if c != self.tenant.currency])
        out = []
        while t < stop:
            amount = max(4.99, round(r.gammavariate(p_shape, 1 / nu), 2))
            cur = currency if r.random() > 0.03 else r.choice(CURRENCIES)
            out.append(
                Event(
                    self.when(t, t + DAY, business_hours=False),
                    "purchase",
                    SYSTEM_ACTOR,
                    "system",
                    p,
                    amount=amount,
                    currency=cur,
                )
            )
            if r.random() < drop:
                break
            t += timedelta(days=r.expovariate(max(lam, 1 / 400.0)))
        return out

    def customer_extras(self, p: Person, buys: list[Event]) -> list[Event]:
        r, out = self.rng, []
        for b in buys:
            if r.random() < 0.045:
                t = b.t + timedelta(days=r.uniform(1, 20))
                if t < AS_OF_DT:
                    amount = (
                        b.amount if r.random() < 0.7 else round(b.amount * r.uniform(0.2, 0.8), 2)
                    )
                    out.append(
                        Event(
                            t,
                            "refund",
                            SYSTEM_ACTOR,
                            "system",
                            p,
                            amount=amount,
                            currency=b.currency,
                            notes="Damaged on arrival" if r.random() < 0.3 else "",
                        )
                    )
            if r.random() < 0.25:
                out.append(
                    Event(
                        b.t + timedelta(minutes=r.randint(1, 30)),
                        "email",
                        SYSTEM_ACTOR,
                        "system",
                        p,
                        direction="outbound",
                        subject="Order confirmation",
                    )
                )
        if buys and r.random() < 0.35:
            start = buys[0].t + timedelta(minutes=r.randint(1, 20))
            plan = r.choice(self.words["plan"])
            out.append(Event(start, "subscription_start", SYSTEM_ACTOR, "system", p, subject=plan))
            if r.random() < 0.3:
                end = start + timedelta(days=r.uniform(35, 400))
                if end < AS_OF_DT - DAY:
                    out.append(
                        Event(
                            end,
                            "subscription_end",
                            SYSTEM_ACTOR,
                            "system",
                            p,
                            subject=plan,
                            notes=r.choice(["Cancelled by customer", "Payment failed", ""]),
                        )
                    )
        return out

    # -- profiles --
    def events_for(self, p: Person) -> list[Event]:
        r = self.rng
        start = max(WINDOW_START, p.created)
        now = LAST_MOMENT
        ev: list[Event] = []
        if p.profile == "none":
            return ev
        if p.profile == "dormant":
            for _ in range(r.randint(1, 3)):
                ev.append(
                    self.engagement(p, self.when(start, AS_OF_DT - timedelta(days=120)), "lead")
                )
            return ev
        if p.profile == "lapsed":
            end = AS_OF_DT - timedelta(days=r.uniform(65, 240))
            if end - start < timedelta(days=30):
                start = end - timedelta(days=60)
            ev += [
                self.engagement(p, t, "lead")
                for t in self.poisson(start, end, r.uniform(0.45, 1.2))
            ]
            return ev
        if p.profile in ("steady", "hot"):
            ev += [
                self.engagement(p, t, "lead")
                for t in self.poisson(start, now, r.uniform(0.1, 0.58))
            ]
            if p.profile == "hot":
                recent = AS_OF_DT - timedelta(days=13)
                for _ in range(r.randint(3, 7)):
                    e = self.engagement(p, self.when(recent, now), "lead")
                    if e.type in ("email_bounce", "webinar") and r.random() < 0.5:
                        e.type, e.actor, e.actor_kind, e.subject = (
                            "form_submission",
                            SYSTEM_ACTOR,
                            "system",
                            r.choice(self.words["form"]),
                        )
                    ev.append(e)
                if r.random() < 0.4:
                    ev.append(self.future_meeting(p))
            elif r.random() < 0.06:
                ev.append(self.future_meeting(p))
            return ev
        if p.profile == "decliner":
            first = AS_OF_DT - timedelta(days=r.uniform(240, 330))
            buys = self.purchases(p, first, AS_OF_DT - timedelta(days=45))
            ev += buys + self.customer_extras(p, buys)
            ev += [self.engagement(p, t, "customer") for t in self.poisson(start, first, 0.5)]
            for m in range(6):  # busy every month of the 180 days before the last 30
                lo = AS_OF_DT - timedelta(days=210 - 30 * m)
                for _ in range(r.randint(3, 6)):
                    ev.append(
                        self.engagement(p, self.when(lo, lo + timedelta(days=30)), "customer")
                    )
            if r.random() < 0.4:
                ev.append(
                    self.engagement(
                        p,
                        self.when(AS_OF_DT - timedelta(days=29), AS_OF_DT - timedelta(days=20)),
                        "customer",
                    )
                )
            return ev
        # a customer
        latest_first = AS_OF_DT - timedelta(days=5)
        first = self.when(start, latest_first) if start < latest_first else latest_first
        buys = self.purchases(p, first, now)
        ev += buys + self.customer_extras(p, buys)
        alive_until = min(now, buys[-1].t + timedelta(days=r.expovariate(1 / 150.0)))
        ev += [
            self.engagement(p, t, "lead") for t in self.poisson(start, first, r.uniform(0.2, 0.8))
        ]
        ev += [
            self.engagement(p, t, "customer")
            for t in self.poisson(first, alive_until, r.uniform(0.25, 0.95))
        ]
        if r.random() < 0.2:
            for _ in range(r.choice([1, 1, 2])):
                ev += self.support_ticket(p, self.when(first, now))
        if r.random() < 0.06:
            ev.append(self.future_meeting(p))
        return ev


def planted_open_tickets(maker: ActivityMaker, people: list[Person]) -> list[Event]:
    """Tickets still open at the as-of date: some just opened, one forgotten for months."""
    rng = rng_for("open_tickets", maker.tenant.tenant_id)
    pool = [p for p in people if p.profile == "customer"]
    out = []
    for i, p in enumerate(rng.sample(pool, 5)):
        opened = (
            AS_OF_DT - timedelta(days=rng.uniform(1, 10))
            if i < 4
            else AS_OF_DT - timedelta(days=rng.uniform(40, 100))
        )
        out += maker.support_ticket(p, maker.when(opened, opened + DAY), never_close=True)
    return out
