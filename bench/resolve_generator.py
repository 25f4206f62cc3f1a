"""A labelled generator of contact rows for measuring entity resolution.

    from bench.resolve_generator import generate
    rows = generate(100_000, noise="normal", seed=7)   # polars frame, one row per record

Deterministic (seeded numpy and random streams). Several tenants (US, GB, DE); every row carries
`person_id`, the person it really is, and `import_no` (0 for the first file, 1 for a later one),
so full and incremental runs can both be scored. Duplicates of a person vary as real exports do:
email case and spaces, plus-addressing, domain typos (`gmial.com`), another or no email, phone
formats of the person's country, another or no phone, nicknames (Robert/Bob), one-letter typos,
swapped first and last names, company suffix variants, capitals, missing fields, a changed title.
And the traps: crowds of common names at different companies, colleagues reached on the company's
main line, and the same person (same email) in two tenants, who must stay two contacts.

`noise="high"` gives more duplicates per person and more variations per duplicate.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

import numpy as np
import polars as pl

TENANTS = (("gen_us", "US"), ("gen_gb", "GB"), ("gen_de", "DE"), ("gen_us2", "US"))

FIRST = (
    "james mary robert patricia john jennifer michael linda william elizabeth david barbara richard "
    "susan joseph jessica thomas sarah charles karen christopher nancy daniel lisa matthew betty "
    "anthony margaret mark sandra donald ashley steven kimberly paul emily andrew donna joshua "
    "michelle kenneth dorothy kevin carol brian amanda george melissa edward deborah ronald "
    "stephanie timothy rebecca jason sharon jeffrey laura ryan cynthia jacob kathleen gary amy "
    "nicholas shirley eric angela jonathan helen stephen anna larry brenda justin pamela scott "
    "nicole brandon emma benjamin samantha samuel katherine gregory christine frank debra alexander "
    "rachel raymond catherine patrick carolyn jack janet dennis ruth jerry maria tyler heather "
    "aaron diane jose virginia adam julie henry joyce nathan victoria douglas olivia zachary kelly "
    "peter christina kyle lauren walter joan ethan evelyn jeremy judith harold megan keith cheryl "
    "christian andrea roger hannah noah martha gerald jacqueline carl frances terry gloria sean "
    "ann austin teresa arthur kathryn lawrence sara jesse janice dylan jean bryan alice joe "
    "madison jordan doris billy abigail bruce julia albert judy willie grace gabriel denise logan "
    "amber alan marilyn juan beverly wayne danielle roy theresa ralph sophia randy marie eugene "
    "diana vincent brittany russell natalie elijah isabella louis charlotte bobby rose philip "
    "alexis johnny kayla klaus jurgen stefan wolfgang uwe dieter petra sabine ursula monika "
    "heike birgit oliver harry george amelia isla ava mia ella lily freya ayse mehmet fatma"
).split()
LAST_COMMON = (
    "smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez "
    "gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson white harris "
    "sanchez clark ramirez lewis robinson walker young allen king wright scott torres nguyen hill "
    "flores green adams nelson baker hall rivera campbell mitchell carter roberts muller schmidt "
    "schneider fischer weber meyer wagner becker schulz hoffmann koch richter klein wolf evans "
    "davies wood hughes edwards turner parker collins stewart morris murphy cook rogers morgan "
    "peterson cooper reed bailey bell gomez kelly howard ward cox diaz richardson watson brooks"
).split()
SYLLABLES = (
    "ab al an ar as ba be bo bra ca ce cha co da de di do dra el en er fa fe fo ga ge go gra ha he "
    "ho ka ke ki ko la le li lo lu ma me mi mo mu na ne ni no nu or pa pe pi po ra re ri ro ru sa "
    "se si so sta ta te ti to tra va ve vi vo wa we wi wo ya za ze zo berg stein mann son ton ley"
).split()
WORDS = (
    "acme global north south east west blue red green silver gold river lake mountain summit "
    "peak harbor bridge stone iron oak pine cedar maple apex vertex nova orbit quantum fusion "
    "pixel data cloud logic vision bright clear prime core first united royal metro urban coastal "
    "alpine arctic solar lunar stellar atlas titan vector signal beacon anchor compass falcon "
    "eagle hawk lion tiger wolf bear fox"
).split()
SECTORS = (
    "systems solutions labs works group partners technologies industries logistics media".split()
)
SUFFIXES = {
    "US": ["Inc.", "LLC", "Corp.", "Co."],
    "GB": ["Ltd", "Limited", "PLC", "LLP"],
    "DE": ["GmbH", "AG", "KG", "GmbH & Co. KG"],
}
TITLES = (
    "CEO|CFO|CTO|VP Sales|Sales Manager|Account Executive|Marketing Manager|Software Engineer|"
    "Data Analyst|Office Manager|Head of Operations|Product Manager|HR Director|Consultant|"
    "Purchasing Manager|Customer Success Manager|Founder|Director of Finance"
).split("|")
CITIES = {
    "US": ["Boston", "Austin", "Denver", "Seattle", "Chicago", "Atlanta", "Portland"],
    "GB": ["London", "Leeds", "Bristol", "Manchester", "Glasgow", "Cardiff"],
    "DE": ["Berlin", "Hamburg", "München", "Köln", "Leipzig", "Dresden"],
}
US_AREAS = ["415", "212", "617", "303", "206", "312", "404", "503", "512", "646", "720", "857"]
GB_AREAS = ["20", "113", "117", "161", "141", "29"]
DE_AREAS = ["30", "40", "89", "221", "341", "351"]
PERSONAL_DOMAINS = [
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "hotmail.com",
    "icloud.com",
    "gmx.de",
    "web.de",
    "aol.com",
    "proton.me",
    "mail.com",
]
DOMAIN_TYPOS = {
    "gmail.com": ["gmial.com", "gmail.co", "gmal.com"],
    "yahoo.com": ["yaho.com"],
    "outlook.com": ["outlok.com"],
    "hotmail.com": ["hotmial.com", "hotmail.co"],
}
NICKS = {
    "robert": ["bob", "rob", "bobby"],
    "william": ["bill", "will", "billy"],
    "james": ["jim", "jimmy"],
    "richard": ["rick", "dick"],
    "michael": ["mike"],
    "elizabeth": ["liz", "beth", "betty"],
    "katherine": ["kate", "kathy"],
    "catherine": ["cathy", "kate"],
    "jennifer": ["jen", "jenny"],
    "thomas": ["tom", "tommy"],
    "christopher": ["chris"],
    "daniel": ["dan", "danny"],
    "matthew": ["matt"],
    "anthony": ["tony"],
    "joseph": ["joe"],
    "margaret": ["maggie", "peggy"],
    "steven": ["steve"],
    "andrew": ["andy", "drew"],
    "joshua": ["josh"],
    "kenneth": ["ken"],
    "edward": ["ed", "ted"],
    "timothy": ["tim"],
    "jonathan": ["jon"],
    "nicholas": ["nick"],
    "samuel": ["sam"],
    "alexander": ["alex"],
    "patrick": ["pat"],
    "patricia": ["patty", "trish"],
    "rebecca": ["becky"],
    "susan": ["sue"],
    "deborah": ["debbie", "deb"],
    "benjamin": ["ben"],
    "gregory": ["greg"],
    "samantha": ["sam"],
    "victoria": ["vicky", "tori"],
    "douglas": ["doug"],
    "zachary": ["zach"],
    "lawrence": ["larry"],
    "gerald": ["jerry"],
    "jacqueline": ["jackie"],
}


@dataclass
class Company:
    name: str
    base: str
    suffix: str
    domain: str
    main_line: str
    city: str


def _mailbox(email: str) -> str:
    """What a mail server delivers to: Gmail ignores dots in the local part."""
    local, _, domain = email.partition("@")
    return (local.replace(".", "") if domain == "gmail.com" else local) + "@" + domain


def _cap(name: str) -> str:
    return name[:1].upper() + name[1:]


def _surname(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 2, 3)))).lower()


def _phone(rng: random.Random, country: str) -> tuple[str, str, str]:
    if country == "US":
        return ("US", rng.choice(US_AREAS), f"{rng.randint(200, 999)}{rng.randint(0, 9999):04d}")
    if country == "GB":
        if rng.random() < 0.4:
            return ("GB", "7" + str(rng.randint(400, 999)), f"{rng.randint(0, 999999):06d}")
        area = rng.choice(GB_AREAS)
        digits = 8 if len(area) == 2 else 7
        first = "3" if area == "20" else str(rng.randint(2, 9))
        return ("GB", area, first + "".join(str(rng.randrange(10)) for _ in range(digits - 1)))
    if rng.random() < 0.4:
        return (
            "DE",
            rng.choice(["151", "160", "170", "171", "176"]),
            str(rng.randint(1, 9)) + "".join(str(rng.randrange(10)) for _ in range(7)),
        )
    area = rng.choice(DE_AREAS)
    return ("DE", area, str(rng.randint(2, 9)) + "".join(str(rng.randrange(10)) for _ in range(6)))


def format_phone(phone: tuple[str, str, str], rng: random.Random) -> str:
    """One of the ways people write the number (national, international, 00-prefix, ...)."""
    country, area, local = phone
    if country == "US":
        styles = [
            f"({area}) {local[:3]}-{local[3:]}",
            f"{area}-{local[:3]}-{local[3:]}",
            f"{area}.{local[:3]}.{local[3:]}",
            f"+1 {area} {local[:3]} {local[3:]}",
            f"+1{area}{local}",
            f"1 ({area}) {local[:3]}-{local[3:]}",
            f"001 {area} {local}",
        ]
    else:
        cc = "44" if country == "GB" else "49"
        styles = [
            f"0{area} {local}",
            f"+{cc} {area} {local}",
            f"+{cc} (0){area} {local}",
            f"00{cc} {area} {local}",
            f"(0{area}) {local}",
            f"+{cc}{area}{local}",
            f"0{area}/{local}" if country == "DE" else f"0{area}{local}",
        ]
    return rng.choice(styles)


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.random()
    if kind < 0.33:
        return text[:i] + text[i + 1 :]
    if kind < 0.66:
        return text[:i] + rng.choice(string.ascii_lowercase) + text[i + 1 :]
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def _email_local(rng: random.Random, first: str, last: str) -> str:
    return rng.choice(
        [
            f"{first}.{last}",
            f"{first[0]}{last}",
            f"{first}{last}",
            f"{first}_{last}",
            f"{first}.{last}{rng.randint(1, 99)}",
            f"{last}.{first}",
        ]
    )


def _companies(rng: random.Random, country: str, count: int) -> list[Company]:
    out, seen = [], set()
    while len(out) < count:
        base = f"{_cap(rng.choice(WORDS))} {_cap(rng.choice(WORDS))}"
        if rng.random() < 0.5:
            base += f" {_cap(rng.choice(SECTORS))}"
        if rng.random() < 0.3:
            base = f"{_cap(rng.choice(WORDS))}{rng.choice(WORDS)} {_cap(rng.choice(SECTORS))}"
        if base in seen:
            base = f"{base} {_cap(_surname(rng))}"
            if base in seen:
                continue
        seen.add(base)
        suffix = rng.choice(SUFFIXES[country])
        domain = base.lower().replace(" ", "") + (
            ".com" if country == "US" else ".co.uk" if country == "GB" else ".de"
        )
        out.append(
            Company(
                f"{base} {suffix}",
                base,
                suffix,
                domain,
                format_phone(_phone(rng, country), rng),
                rng.choice(CITIES[country]),
            )
        )
    return out


def _variant_company(rng: random.Random, c: Company) -> str:
    return rng.choice(
        [
            c.base,
            f"{c.base}, {c.suffix}",
            f"{c.base} {c.suffix}".upper(),
            f"{c.base} {c.suffix.rstrip('.')}",
            c.base.lower(),
        ]
    )


def generate(
    n_rows: int, noise: str = "normal", seed: int = 0, tenants: tuple = TENANTS
) -> pl.DataFrame:
    """About `n_rows` labelled contact rows over the tenants (see the module docstring)."""
    high = noise == "high"
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    rows: list[dict] = []
    per_tenant = n_rows // len(tenants)
    dup_rate = 0.45 if high else 0.3
    people_per_tenant = int(per_tenant / (1 + dup_rate * (1.6 if high else 1.3)))
    first_weights = 1.0 / np.arange(1, len(FIRST) + 1) ** 0.9
    first_weights /= first_weights.sum()
    last_weights = 1.0 / np.arange(1, len(LAST_COMMON) + 1) ** 0.8
    last_weights /= last_weights.sum()
    twins: list[dict] = []
    for t_no, (tenant, country) in enumerate(tenants):
        companies = _companies(rng, country, max(5, people_per_tenant // 8))
        used_emails: set[str] = set()
        people = []
        firsts = nrng.choice(len(FIRST), people_per_tenant, p=first_weights)
        lasts = nrng.choice(len(LAST_COMMON), people_per_tenant, p=last_weights)
        for p_no in range(people_per_tenant):
            first = FIRST[firsts[p_no]]
            last = LAST_COMMON[lasts[p_no]] if rng.random() < 0.45 else _surname(rng)
            company = rng.choice(companies) if rng.random() < 0.85 else None
            work = company is not None and rng.random() < 0.7
            local = _email_local(rng, first, last)
            domain = company.domain if work else rng.choice(PERSONAL_DOMAINS)
            email = f"{local}@{domain}"
            while _mailbox(email) in used_emails:
                email = f"{local}{rng.randint(1, 999)}@{domain}"
            used_emails.add(_mailbox(email))
            if rng.random() < 0.08:
                email = None
            shares_line = company is not None and rng.random() < 0.08  # colleague trap
            phone = (
                None
                if rng.random() < 0.12
                else (company.main_line if shares_line else format_phone(_phone(rng, country), rng))
            )
            person = {
                "tenant_id": tenant,
                "country": country,
                "person_id": f"{tenant}-P{p_no}",
                "first_name": _cap(first),
                "last_name": _cap(last),
                "email": email,
                "phone": phone,
                "company": company.name if company else None,
                "company_obj": company,
                "job_title": rng.choice(TITLES) if rng.random() < 0.8 else None,
                "city": (company.city if company else rng.choice(CITIES[country])),
                "trap": "shared_line" if shares_line else "",
            }
            people.append(person)
        # Common-name crowd: several different people with one name at different companies.
        for c_no in range(max(1, people_per_tenant // 400)):
            name = rng.choice(
                [
                    ("Michael", "Smith"),
                    ("John", "Miller"),
                    ("Thomas", "Müller"),
                    ("Sarah", "Jones"),
                    ("David", "Brown"),
                ]
            )
            for k in range(rng.randint(3, 6)):
                company = rng.choice(companies)
                local = f"{name[0].lower()}.{name[1].lower()}"
                email = f"{local}@{company.domain}"
                while email in used_emails:
                    email = f"{local}{rng.randint(1, 999)}@{company.domain}"
                used_emails.add(email)
                people.append(
                    {
                        "tenant_id": tenant,
                        "country": country,
                        "person_id": f"{tenant}-C{c_no}-{k}",
                        "first_name": name[0],
                        "last_name": name[1],
                        "email": email,
                        "phone": format_phone(_phone(rng, country), rng),
                        "company": company.name,
                        "company_obj": company,
                        "job_title": rng.choice(TITLES),
                        "city": company.city,
                        "trap": "common_name",
                    }
                )
        if t_no > 0:
            # The same person in two tenants (same email): must stay two contacts.
            for twin in twins[: max(1, people_per_tenant // 200)]:
                if _mailbox(twin["email"]) in used_emails:
                    continue  # someone here has that mailbox: the same email is the same person
                used_emails.add(_mailbox(twin["email"]))
                people.append(
                    twin
                    | {
                        "tenant_id": tenant,
                        "person_id": f"{tenant}-T-{twin['person_id']}",
                        "trap": "other_tenant",
                    }
                )
        twins = [p for p in people if p["email"]][: max(1, people_per_tenant // 200)]
        source = 0
        for person in people:
            source += 1
            rows.append(_row(person, rng, f"{t_no}{source:08d}", 0))
            if rng.random() < dup_rate:
                n_dups = (
                    1 + (rng.random() < (0.5 if high else 0.25)) + (high and rng.random() < 0.2)
                )
                for _ in range(n_dups):
                    source += 1
                    dup = _duplicate(person, rng, high)
                    rows.append(_row(dup, rng, f"{t_no}{source:08d}", int(rng.random() < 0.5)))
    frame = pl.DataFrame(rows)
    order = nrng.permutation(frame.height)
    return frame[order].sort("tenant_id", "import_no", maintain_order=True)


def _row(p: dict, rng: random.Random, source_id: str, import_no: int) -> dict:
    return {
        "tenant_id": p["tenant_id"],
        "import_no": import_no,
        "source_id": source_id,
        "first_name": p["first_name"],
        "last_name": p["last_name"],
        "email": p["email"],
        "phone": p["phone"],
        "company": p["company"],
        "job_title": p["job_title"],
        "city": p["city"],
        "country": p["country"],
        "created_at": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} 10:00",
        "person_id": p["person_id"],
        "trap": p["trap"],
    }


def _duplicate(p: dict, rng: random.Random, high: bool) -> dict:
    """Another record of the same person, with one to three variations."""
    d = dict(p)
    kinds = [
        "email_case",
        "email_plus",
        "email_domain_typo",
        "email_other",
        "email_missing",
        "phone_format",
        "phone_missing",
        "phone_other",
        "nickname",
        "typo_first",
        "typo_last",
        "swapped",
        "company_variant",
        "company_missing",
        "all_caps",
        "title_change",
        "title_missing",
        "exact",
    ]
    weights = [8, 5, 4, 6, 4, 10, 4, 3, 7, 5, 5, 3, 8, 3, 4, 4, 3, 4]
    count = rng.choice((1, 2, 2, 3, 3)) if high else rng.choice((1, 1, 2))
    for kind in rng.choices(kinds, weights, k=count):
        email, company = d["email"], p["company_obj"]
        if kind == "email_case" and email:
            local, _, dom = email.partition("@")
            d["email"] = f" {local.title()}@{dom.upper()} " if rng.random() < 0.5 else email.upper()
        elif kind == "email_plus" and email:
            local, _, dom = email.partition("@")
            d["email"] = f"{local}+{rng.choice(['news', 'crm', 'work', 'x'])}@{dom}"
        elif kind == "email_domain_typo" and email:
            local, _, dom = email.partition("@")
            d["email"] = f"{local}@{rng.choice(DOMAIN_TYPOS.get(dom, [_typo(rng, dom)]))}"
        elif kind == "email_other":
            first, last = p["first_name"].lower(), p["last_name"].lower()
            d["email"] = (
                f"{_email_local(rng, first, last)}{rng.randint(1, 9999)}@{rng.choice(PERSONAL_DOMAINS)}"
            )
        elif kind == "email_missing":
            d["email"] = None
        elif kind == "phone_format" and p["phone"]:
            d["phone"] = _reformat(p["phone"], p["country"], rng)
        elif kind == "phone_missing":
            d["phone"] = None
        elif kind == "phone_other":
            d["phone"] = format_phone(_phone(rng, p["country"]), rng)
        elif kind == "nickname" and p["first_name"].lower() in NICKS:
            d["first_name"] = _cap(rng.choice(NICKS[p["first_name"].lower()]))
        elif kind == "typo_first":
            d["first_name"] = _cap(_typo(rng, d["first_name"].lower()))
        elif kind == "typo_last":
            d["last_name"] = _cap(_typo(rng, d["last_name"].lower()))
        elif kind == "swapped":
            d["first_name"], d["last_name"] = d["last_name"], d["first_name"]
        elif kind == "company_variant" and company:
            d["company"] = _variant_company(rng, company)
        elif kind == "company_missing":
            d["company"] = None
        elif kind == "all_caps":
            d["first_name"], d["last_name"] = d["first_name"].upper(), d["last_name"].upper()
        elif kind == "title_change":
            d["job_title"] = rng.choice(TITLES)
        elif kind == "title_missing":
            d["job_title"] = None
    return d


def _reformat(phone: str, country: str, rng: random.Random) -> str:
    """The same number in another style (via its digits)."""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(phone, country)
    except phonenumbers.NumberParseException:
        return phone
    nsn = phonenumbers.national_significant_number(parsed)
    if country == "US":
        return format_phone(("US", nsn[:3], nsn[3:]), rng)
    split = (
        3
        if nsn.startswith(("7", "1")) and len(nsn) >= 10
        else (2 if nsn[:2] in ("20", "30", "40", "89") else 3)
    )
    return format_phone((country, nsn[:split], nsn[split:]), rng)
