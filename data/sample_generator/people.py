"""The people behind the records: companies, persons, engagement profiles, person-level traps.

The traps: namesakes at different companies, colleagues on one switchboard number, a CJK name,
the same person (same email) in two tenants.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from random import Random

from .clock import AS_OF_DT
from .phones import Phone, PhoneBook
from .pools import (
    ACCENTED_FIRST,
    CITIES,
    COMPANY_WORDS_A,
    COMPANY_WORDS_B,
    DE_COMPANY_SECTORS,
    FIRST_NAMES,
    INDUSTRY_KEYS,
    LAST_NAMES,
    PARTICLE_LAST,
    PERSONAL_DOMAINS,
    STREETS,
    SUFFIXES,
    TITLES,
    TLD,
    City,
)
from .rng import pick, rng_for
from .tenants import Tenant


def ascii_fold(text: str) -> str:
    """Email-safe spelling of a name (Müller -> mueller), as people write their addresses."""
    for a, b in (
        ("ä", "ae"),
        ("ö", "oe"),
        ("ü", "ue"),
        ("Ä", "Ae"),
        ("Ö", "Oe"),
        ("Ü", "Ue"),
        ("ß", "ss"),
        ("ı", "i"),
    ):
        text = text.replace(a, b)
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c) and (c.isalnum() or c in ".-_"))


@dataclass
class Company:
    base: str
    suffix: str
    domain: str
    size: int
    size_style: str  # int | comma | range | blank (how a HubSpot user typed it)
    industry: str
    city: City
    street: str
    postcode: str
    main_phone: Phone
    email_pattern: str

    @property
    def name(self) -> str:
        return f"{self.base} {self.suffix}".strip() if self.suffix else self.base


@dataclass
class Person:
    pid: str
    tenant: str
    first: str
    last: str
    email: str  # canonical (lower-case, valid) or ""
    phone: Phone | None
    mobile: Phone | None
    company: Company | None
    title: str
    city: City
    country: str
    street: str
    postcode: str
    created: datetime
    owner: int  # index into the tenant's users
    lifecycle: str
    consent: str  # subscribed | unsubscribed | no_consent | ""
    lead_source: str
    customer: bool = False
    profile: str = ""
    shares_phone: bool = False
    trap: str = ""  # why the person exists (common_name, cjk_name, cross_tenant_twin, ...)
    twin: str = ""  # "tenant:pid" of the same person in another tenant
    rows: list = field(default_factory=list)


def size_range(size: int) -> str:
    for low, high, label in (
        (1, 9, "1-9"),
        (10, 49, "10-49"),
        (50, 99, "50-99"),
        (100, 499, "100-499"),
        (500, 999, "500-999"),
        (1000, 4999, "1000-4999"),
    ):
        if low <= size <= high:
            return label
    return "5000+"


def draw_company_size(rng: Random) -> int:
    low, high = pick(
        rng,
        [
            ((1, 9), 22),
            ((10, 49), 28),
            ((50, 99), 15),
            ((100, 499), 18),
            ((500, 999), 7),
            ((1000, 4999), 6),
            ((5000, 60000), 4),
        ],
    )
    size = rng.randint(low, high)
    if size >= 100:
        size = round(size, -1 if size < 1000 else -2)  # big companies report round numbers
    return max(size, 1)


def postcode_for(rng: Random, country: str, city: City) -> str:
    outward = rng.choice(city.postcodes)
    if country != "GB":
        return outward
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return f"{outward} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"


def street_for(rng: Random, country: str) -> str:
    name = rng.choice(STREETS[country])
    return f"{name} {rng.randint(1, 180)}" if country == "DE" else f"{rng.randint(1, 2400)} {name}"


def make_companies(rng: Random, tenant: Tenant, book: PhoneBook, count: int) -> list[Company]:
    country = tenant.country
    companies, domains = [], set()
    while len(companies) < count:
        if country == "DE" and rng.random() < 0.6:
            base = f"{rng.choice(LAST_NAMES['DE'])} {rng.choice(DE_COMPANY_SECTORS)}"
        else:
            base = f"{rng.choice(COMPANY_WORDS_A)} {rng.choice(COMPANY_WORDS_B)}"
        domain = ascii_fold(base.lower().replace(" ", "")) + TLD[country]
        if domain in domains:
            continue
        domains.add(domain)
        city = rng.choice(CITIES[country])
        companies.append(
            Company(
                base=base,
                suffix=rng.choice(SUFFIXES[country]),
                domain=domain,
                size=draw_company_size(rng),
                size_style=pick(rng, [("int", 70), ("comma", 10), ("range", 15), ("blank", 5)]),
                industry=rng.choice(INDUSTRY_KEYS),
                city=city,
                street=street_for(rng, country),
                postcode=postcode_for(rng, country, city),
                main_phone=book.landline(country, city),
                email_pattern=pick(
                    rng,
                    [
                        ("first.last", 50),
                        ("flast", 20),
                        ("first", 8),
                        ("first_last", 10),
                        ("firstl", 12),
                    ],
                ),
            )
        )
    return companies


def work_local(pattern: str, first: str, last: str) -> str:
    f, ln = ascii_fold(first).lower(), ascii_fold(last).lower().replace("'", "").replace("-", "")
    return {
        "first.last": f"{f}.{ln}",
        "flast": f"{f[:1]}{ln}",
        "first": f,
        "first_last": f"{f}_{ln}",
        "firstl": f"{f}{ln[:1]}",
    }[pattern]


def personal_email(rng: Random, country: str, first: str, last: str) -> str:
    f, ln = ascii_fold(first).lower(), ascii_fold(last).lower().replace("'", "")
    local = pick(
        rng,
        [
            (f"{f}.{ln}", 40),
            (f"{f}{ln}{rng.randint(1, 99)}", 30),
            (f"{f[:1]}{ln}{rng.randint(60, 99)}", 20),
            (f"{ln}.{f}", 10),
        ],
    )
    return f"{local}@{rng.choice(PERSONAL_DOMAINS[country])}"


class EmailBook:
    """Keeps emails distinct within a tenant (two people never share one unless a trap says so)."""

    def __init__(self):
        self.used: set = set()

    def claim(self, email: str) -> str:
        local, domain = email.split("@")
        candidate, n = email, 1
        while candidate in self.used:
            n += 1
            candidate = f"{local}{n}@{domain}"
        self.used.add(candidate)
        return candidate


LIFECYCLE_NONCUSTOMER = [
    ("subscriber", 14),
    ("lead", 44),
    ("mql", 18),
    ("sql", 10),
    ("opportunity", 8),
    ("other", 3),
    ("", 3),
]
LEAD_SOURCES = [
    ("Web", 35),
    ("Phone Inquiry", 10),
    ("Partner Referral", 12),
    ("Trade Show", 10),
    ("Word of mouth", 8),
    ("Advertisement", 8),
    ("Purchased List", 5),
    ("Other", 4),
    ("", 8),
]


def random_created(rng: Random) -> datetime:
    """Record creation time: most records are years old, some arrived in the last weeks."""
    start = datetime(2019, 1, 1, tzinfo=UTC)
    if rng.random() < 0.06:
        start = AS_OF_DT - timedelta(days=20)
    span = (AS_OF_DT - timedelta(hours=1) - start).total_seconds()
    t = start + timedelta(seconds=rng.random() * span)
    return t.replace(second=0, microsecond=0)


def make_people(tenant: Tenant) -> list[Person]:
    rng = rng_for("people", tenant.tenant_id)
    book = PhoneBook(rng_for("phones", tenant.tenant_id))
    emails = EmailBook()
    country = tenant.country
    companies = make_companies(rng, tenant, book, 170)
    # the busiest companies carry the size spellings every importer must read
    sizes = (250, 1000, 300, 8000, 1200)
    styles = ("int", "comma", "range", "range", "comma")
    for company, size, style in zip(companies, sizes, styles, strict=False):
        company.size, company.size_style = size, style
    # a few companies employ many contacts (Zipf-like), most employ one or two
    company_weights = [1.0 / (i + 1) ** 0.8 for i in range(len(companies))]
    lang = "de" if country == "DE" else "en"
    people = []
    for i in range(tenant.people):
        roll = rng.random()
        first = (
            rng.choice(ACCENTED_FIRST[country])
            if roll < 0.025
            else rng.choice(FIRST_NAMES[country])
        )
        last = (
            rng.choice(PARTICLE_LAST[country])
            if rng.random() < 0.012
            else rng.choice(LAST_NAMES[country])
        )
        company = rng.choices(companies, company_weights)[0] if rng.random() < 0.88 else None
        city = company.city if company and rng.random() < 0.8 else rng.choice(CITIES[country])
        email_kind = (
            pick(rng, [("work", 78), ("personal", 19), ("none", 3)])
            if company
            else pick(rng, [("personal", 95), ("none", 5)])
        )
        email = ""
        if email_kind == "work":
            email = emails.claim(
                f"{work_local(company.email_pattern, first, last)}@{company.domain}"
            )
        elif email_kind == "personal":
            email = emails.claim(personal_email(rng, country, first, last))
        phone = book.landline(country, city) if rng.random() < 0.72 else None
        mobile = book.mobile(country, city) if rng.random() < 0.3 else None
        customer = rng.random() < 0.30
        people.append(
            Person(
                pid=f"{tenant.id_prefix.upper()}-P{i + 1:04d}",
                tenant=tenant.tenant_id,
                first=first,
                last=last,
                email=email,
                phone=phone,
                mobile=mobile,
                company=company,
                title=rng.choice(TITLES[lang]) if rng.random() < 0.85 else "",
                city=city,
                country=country,
                street=street_for(rng, country),
                postcode=postcode_for(rng, country, city),
                created=random_created(rng),
                owner=rng.randrange(len(tenant.users) - 1),
                lifecycle=pick(rng, [("customer", 85), ("opportunity", 10), ("evangelist", 5)])
                if customer
                else pick(rng, LIFECYCLE_NONCUSTOMER),
                consent=pick(
                    rng, [("subscribed", 62), ("unsubscribed", 14), ("no_consent", 14), ("", 10)]
                ),
                lead_source=pick(rng, LEAD_SOURCES),
                customer=customer,
            )
        )
    add_shared_main_lines(rng, people)
    add_common_name_trap(rng, tenant, people, emails, book)
    if tenant.tenant_id == "acme_us":
        cjk = next(
            p for p in people[rng.randrange(len(people)) :] + people if not p.trap and p.email
        )
        cjk.first, cjk.last, cjk.trap = "秀英", "王", "cjk_name"
        cjk.email = emails.claim(f"xiuying.wang@{cjk.email.split('@')[1]}")
    assign_profiles(rng, people)
    return people


def add_shared_main_lines(rng: Random, people: list[Person]) -> None:
    """Colleagues reached through their company's switchboard: same phone, different people."""
    by_company: dict[str, list[Person]] = {}
    for p in people:
        if p.company:
            by_company.setdefault(p.company.domain, []).append(p)
    crowded = [staff for staff in by_company.values() if len(staff) >= 3]
    for staff in rng.sample(crowded, min(5, len(crowded))):
        for p in staff[:4]:
            p.phone, p.shares_phone = p.company.main_phone, True
            p.trap = p.trap or "shared_main_line"


def add_common_name_trap(
    rng: Random, tenant: Tenant, people: list[Person], emails: EmailBook, book: PhoneBook
) -> None:
    """Several different people with one very common name, at different companies."""
    first, last, count = {
        "US": ("Michael", "Smith", 4),
        "GB": ("David", "Jones", 3),
        "DE": ("Thomas", "Müller", 3),
    }[tenant.country]
    chosen, seen_companies = [], set()
    for p in people:
        if p.company and p.company.domain not in seen_companies and not p.shares_phone and p.email:
            chosen.append(p)
            seen_companies.add(p.company.domain)
        if len(chosen) == count:
            break
    for p in chosen:
        p.first, p.last, p.trap = first, last, "common_name"
        p.email = emails.claim(
            f"{work_local(p.company.email_pattern, first, last)}@{p.company.domain}"
        )
        p.phone = p.phone or book.landline(tenant.country, p.city)


PROFILES_NONCUSTOMER = [("none", 6), ("dormant", 14), ("lapsed", 22), ("steady", 47), ("hot", 11)]


def assign_profiles(rng: Random, people: list[Person]) -> None:
    for p in people:
        if p.customer:
            p.profile = "decliner" if rng.random() < 0.09 else "customer"
        else:
            p.profile = pick(rng, PROFILES_NONCUSTOMER)
            if p.profile == "dormant" and p.created > AS_OF_DT - timedelta(days=150):
                p.profile = "hot"  # a record created last month cannot have gone quiet for months
            if p.created > AS_OF_DT - timedelta(days=14) and p.profile in ("none", "lapsed"):
                p.profile = "steady"


def add_cross_tenant_twins(
    people_by_tenant: dict[str, list[Person]],
) -> list[tuple[Person, Person]]:
    """The same human (same email) known to two tenants: must stay two contacts, one per tenant."""
    rng = rng_for("twins")
    pairs = []
    for src_id, dst_id, count in (("acme_us", "brit_gb", 4), ("brit_gb", "deutsch_de", 3)):
        src_pool = [
            p
            for p in people_by_tenant[src_id]
            if p.email and not p.trap and p.profile not in ("none",)
        ]
        dst_pool = [
            p for p in people_by_tenant[dst_id] if not p.trap and p.profile not in ("none",)
        ]
        dst_emails = {p.email for p in people_by_tenant[dst_id]}
        pool = zip(rng.sample(src_pool, count * 3), rng.sample(dst_pool, count * 3), strict=True)
        for src, dst in pool:
            if src.email in dst_emails or src.twin:
                continue
            for attr in (
                "first",
                "last",
                "email",
                "phone",
                "mobile",
                "company",
                "title",
                "city",
                "country",
                "street",
                "postcode",
            ):
                setattr(dst, attr, getattr(src, attr))
            dst.trap = src.trap = "cross_tenant_twin"
            dst.twin, src.twin = f"{src_id}:{src.pid}", f"{dst_id}:{dst.pid}"
            dst_emails.add(src.email)
            pairs.append((src, dst))
            if sum(1 for a, _ in pairs if a.tenant == src_id) == count:
                break
    return pairs
