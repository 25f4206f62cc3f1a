"""Contact records: originals in a home file, duplicates, messy values, planted rows, ids.

Duplicates come in the kinds a resolver must find (DUPLICATE_KINDS); planted rows hold one trap
each; source ids rise with creation time, as the CRMs hand them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from random import Random

from .clock import AS_OF_DT
from .people import Company, EmailBook, Person, personal_email, random_created
from .phones import format_phone, phone_style
from .pools import NICKNAMES, SUFFIX_VARIANTS, TITLES
from .rng import pick, rng_for
from .tenants import FileSpec, Tenant


def encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


@dataclass
class Row:
    spec: FileSpec
    person: Person | None
    role: str  # original | duplicate | special
    variation: str
    created: datetime
    first: str = ""
    last: str = ""
    email: str = ""
    email_home: str = ""
    phone: str = ""
    mobile: str = ""
    company: str = ""
    assoc_company: str = ""
    title: str = ""
    street: str = ""
    notes: str = ""
    extra: dict = field(default_factory=dict)  # overrides of formatted values
    expected: str = ""  # quarantine reason code, when the row must be quarantined
    ragged: bool = False
    email_matches: bool = False  # the row's email normalizes to the person's email
    phones_written: tuple = ()  # Phone tuples the row carries in a readable form
    source_id: str = ""
    row_number: int = 0


DUPLICATE_KINDS = [
    ("email_case", 18),
    ("email_plus", 8),
    ("phone_format", 14),
    ("nickname", 12),
    ("typo", 10),
    ("swapped", 7),
    ("company_variant", 10),
    ("fuzzy_only", 9),
    ("exact", 6),
    ("all_caps", 6),
]


def mangle_case(rng: Random, email: str) -> str:
    local, domain = email.split("@")
    style = rng.choice(["title", "upper", "domain"])
    if style == "upper":
        return email.upper()
    if style == "domain":
        return f"{local}@{domain.capitalize()}"
    return ".".join(part.capitalize() for part in local.split(".")) + "@" + domain.capitalize()


def typo(rng: Random, name: str) -> str:
    """One-letter slip: dropped, doubled, swapped or wrong letter (never the first letter)."""
    if len(name) < 4:
        return name + name[-1]
    i = rng.randrange(1, len(name) - 1)
    op = rng.choice(["drop", "double", "swap", "replace"])
    if op == "drop":
        out = name[:i] + name[i + 1 :]
    elif op == "double":
        out = name[:i] + name[i] + name[i:]
    elif op == "swap":
        out = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    else:
        out = name[:i] + rng.choice("aeiourstnl") + name[i + 1 :]
    return out if out != name else name[:i] + name[i + 1 :]


def company_variant(rng: Random, company: Company) -> str:
    variant = company.base + rng.choice(SUFFIX_VARIANTS.get(company.suffix, [""]))
    return variant.upper() if rng.random() < 0.3 else variant


def base_row(rng: Random, tenant: Tenant, person: Person, spec: FileSpec) -> Row:
    row = Row(
        spec,
        person,
        "original",
        "",
        person.created,
        first=person.first,
        last=person.last,
        email=person.email,
        title=person.title,
        street=person.street,
    )
    row.email_matches = bool(person.email)
    if person.company:
        row.company = person.company.name
        row.assoc_company = person.company.name if rng.random() < 0.9 else ""
    phones = []
    has_mobile_column = any("Mobile" in c for c in spec.columns)
    if person.phone:
        row.phone = format_phone(person.phone, phone_style(rng, tenant), tenant.country)
        phones.append(person.phone)
    if person.mobile and has_mobile_column:
        row.mobile = format_phone(person.mobile, phone_style(rng, tenant), tenant.country)
        phones.append(person.mobile)
    elif person.mobile and not row.phone:
        row.phone = format_phone(person.mobile, phone_style(rng, tenant), tenant.country)
        phones.append(person.mobile)  # files without a mobile column carry the mobile as the phone
    row.phones_written = tuple(phones)
    return row


def duplicate_fits(p: Person, kind: str) -> bool:
    has_phone = bool(p.phone or p.mobile) and not p.shares_phone
    return {
        "email_case": bool(p.email),
        "email_plus": bool(p.email) and has_phone,
        "phone_format": has_phone,
        "nickname": p.first in NICKNAMES and bool(p.email),
        "typo": has_phone,
        "swapped": bool(p.email),
        "company_variant": bool(p.company and p.email),
        "fuzzy_only": bool(p.company),
        "exact": True,
        "all_caps": bool(p.email),
    }[kind]


def make_duplicate(
    rng: Random, tenant: Tenant, person: Person, spec: FileSpec, kind: str, emails: EmailBook
) -> Row:
    row = base_row(rng, tenant, person, spec)
    row.role, row.variation = "duplicate", kind
    row.created = person.created + timedelta(days=rng.randint(3, 700), minutes=rng.randint(0, 600))
    if row.created >= AS_OF_DT:
        row.created = AS_OF_DT - timedelta(hours=rng.randint(2, 300))
    has_phone = bool(person.phone or person.mobile) and not person.shares_phone
    if kind == "email_case" and person.email:
        row.email = mangle_case(rng, person.email)
        if rng.random() < 0.3:
            row.email = f"  {row.email} "
    elif kind == "email_plus" and person.email and has_phone:
        local, domain = person.email.split("@")
        row.email = f"{local}+{rng.choice(['crm', 'news', 'webinar', 'events'])}@{domain}"
        row.email_matches = False
    elif kind == "phone_format" and has_phone:
        row.email = (
            emails.claim(personal_email(rng, tenant.country, person.first, person.last))
            if rng.random() < 0.6
            else ""
        )
        row.email_matches = False
        if person.phone:
            row.phone = format_phone(person.phone, phone_style(rng, tenant), tenant.country)
    elif kind == "nickname" and person.first in NICKNAMES and person.email:
        row.first = NICKNAMES[person.first]
    elif kind == "typo" and has_phone:
        if rng.random() < 0.7:
            row.last = typo(rng, person.last)
        else:
            row.first = typo(rng, person.first)
        row.email, row.email_matches = "", False
    elif kind == "swapped" and person.email:
        row.first, row.last = person.last, person.first
    elif kind == "company_variant" and person.company and person.email:
        row.company = company_variant(rng, person.company)
        row.assoc_company = person.company.name
        row.phone, row.mobile, row.phones_written = "", "", ()
    elif kind == "fuzzy_only" and person.company:
        row.first = NICKNAMES.get(person.first) or typo(rng, person.first)
        row.email = (
            emails.claim(personal_email(rng, tenant.country, row.first, person.last))
            if rng.random() < 0.5
            else ""
        )
        row.email_matches = False
        row.phone, row.mobile, row.phones_written = "", "", ()
        row.company = company_variant(rng, person.company)
        row.assoc_company = ""
    elif kind == "exact":
        row.variation = "exact"
    elif kind == "all_caps" and person.email:
        row.first, row.last = person.first.upper(), person.last.upper()
    else:
        row.email = mangle_case(rng, person.email) if person.email else row.email
        row.variation = "email_case" if person.email else "exact"
    if not encodable(" ".join([row.first, row.last, row.company, row.email]), spec.encoding):
        return None
    return row


def apply_messy_values(rng: Random, row: Row) -> None:
    """Everyday mess on original rows: shouting, lower case, stray spaces."""
    roll = rng.random()
    if roll < 0.03:
        row.first, row.last = row.first.upper(), row.last.upper()
        row.variation = "all_caps"
    elif roll < 0.06:
        row.first, row.last = row.first.lower(), row.last.lower()
        row.variation = "all_lower"
    elif roll < 0.10:
        row.first, row.last = f" {row.first}", f"{row.last}  "
        row.variation = "whitespace"
    elif roll < 0.12 and row.email:
        row.email = f" {row.email}\t"
        row.variation = "email_whitespace"


def make_rows(tenant: Tenant, people: list[Person]) -> list[Row]:
    rng = rng_for("rows", tenant.tenant_id)
    emails = EmailBook()
    emails.used = {p.email for p in people if p.email}
    specs = tenant.files
    rows = []
    for person in people:
        spec = rng.choices(specs, [s.share for s in specs])[0]
        if person.trap == "cjk_name":
            spec = specs[0]
        if not encodable(
            f"{person.first} {person.last} {person.company.name if person.company else ''}",
            spec.encoding,
        ):
            spec = next(s for s in specs if encodable(person.first + person.last, s.encoding))
        row = base_row(rng, tenant, person, spec)
        if person.trap not in ("cjk_name", "common_name", "cross_tenant_twin"):
            apply_messy_values(rng, row)
        row.variation = row.variation or "clean"
        person.rows.append(row)
        rows.append(row)
    # duplicates: about 15% of all rows; the kind first, then someone it fits
    wanted = round(len(people) * 0.176)
    candidates = [p for p in people if p.trap not in ("cjk_name", "common_name")]
    namesake = next(p for p in people if p.trap == "common_name")
    planned = [
        ("email_case", namesake)
    ]  # the one true duplicate among the namesakes shares the email
    while len(planned) < wanted:
        kind = pick(rng, DUPLICATE_KINDS)
        fits = [
            p
            for p in candidates
            if len(p.rows) + sum(1 for _, q in planned if q is p) < 3 and duplicate_fits(p, kind)
        ]
        planned.append((kind, rng.choice(fits)))
    for kind, person in planned:
        home = person.rows[0].spec
        other = [s for s in specs if s is not home]
        spec = rng.choice(other) if rng.random() < 0.55 else home
        row = make_duplicate(rng, tenant, person, spec, kind, emails) or make_duplicate(
            rng, tenant, person, home, kind, emails
        )
        person.rows.append(row)
        rows.append(row)
    rows.extend(special_rows(rng, tenant, people))
    return rows


def special_rows(rng: Random, tenant: Tenant, people: list[Person]) -> list[Row]:
    """Rows planted for one trap each; the README lists them."""
    specs = {s.path.split("/")[1]: s for s in tenant.files}
    out: list[Row] = []

    def person_row(pick_from, file_key, variation):
        person = pick_from.pop(0)
        row = person.rows[0] if person.rows[0].spec is specs[file_key] else None
        if row is None:
            row = base_row(rng, tenant, person, specs[file_key])
            row.role, row.created = "duplicate", person.created + timedelta(days=30)
            person.rows.append(row)
            out.append(row)
        row.variation = variation
        return row

    def no_identity(file_key, variation, first=""):
        company = rng.choice([p.company for p in people if p.company])
        row = Row(
            specs[file_key],
            None,
            "special",
            variation,
            random_created(rng),
            first=first,
            company=company.name,
            title=rng.choice(TITLES["de" if tenant.country == "DE" else "en"]),
            expected="missing_identity",
        )
        out.append(row)
        return row

    plain = [
        p
        for p in people
        if not p.trap
        and len(p.rows) == 1
        and p.email
        and p.phone
        and p.first.isascii()
        and p.last.isascii()
        and p.company
    ]
    rng.shuffle(plain)
    if tenant.tenant_id == "acme_us":
        hs, sf = "hubspot_contacts.csv", "salesforce_contacts_report.csv"
        plain = [p for p in plain if p.rows[0].spec is specs[hs]]
        r = person_row(plain, hs, "invalid_email_no_domain")
        r.email, r.email_matches = r.email.strip().split("@")[0] + "@", False
        r = person_row(plain, hs, "invalid_email_at_word")
        r.email, r.email_matches = (
            f"{r.first.strip().lower()} at {r.email.strip().split('@')[1]}",
            False,
        )
        r = person_row(plain, hs, "invalid_email_double_at")
        r.email, r.email_matches = r.email.replace("@", "@@"), False
        r = person_row(plain, hs, "phone_not_a_number")
        r.phone, r.phones_written = "n/a", ()
        r = person_row(plain, hs, "phone_too_short")
        r.phone, r.phones_written = "123", ()
        r = person_row(plain, hs, "formula_company")
        r.company, r.assoc_company = '=HYPERLINK("http://x","y")', ""
        r = person_row(plain, hs, "sql_in_notes")
        r.notes = "Robert'); DROP TABLE contacts;-- asked for a call back"
        r = person_row(plain, hs, "embedded_newline_and_comma")
        r.street = f"{r.street}, Suite 400\nAttn: Accounts Payable"
        r = person_row(plain, hs, "zip_plus_four")
        r.extra["postcode"] = "02134-1203"
        r.extra["city"], r.extra["state"] = "Boston", "MA"
        no_identity(hs, "missing_identity_company_only")
        no_identity(hs, "missing_identity_whitespace_name", first="   ")
        r = no_identity(sf, "ragged_row_unquoted_comma")
        r.first, r.last, r.email = "Laura", "Becker", "laura.becker@stonebridgefreight.com"
        r.company, r.street, r.phone = "Stonebridge Freight LLC", "88 Summer St", "(617) 555-0199"
        r.extra.update(city="Boston", state="MA", postcode="02110", lead_source="Trade Show")
        r.expected, r.ragged = "unparseable_row", True
        r.title = "VP Sales, Operations"
    elif tenant.tenant_id == "brit_gb":
        sf, hs = "salesforce_contacts_report.csv", "hubspot_contacts.csv"
        plain = [p for p in plain if p.rows[0].spec is specs[sf]]
        r = person_row(plain, sf, "formula_title")
        r.title = "+cmd|' /C calc'!A0"
        r = person_row(plain, sf, "mobile_not_a_number")
        r.mobile = "n/a"
        r.phones_written = tuple(ph for ph in r.phones_written if ph != r.person.mobile)
        r = person_row(plain, sf, "phone_double_zero_prefix")
        person = r.person
        r.phone = format_phone(person.phone, "double_zero", "GB")
        r = person_row(plain, sf, "invalid_email_at_word")
        r.email, r.email_matches = (
            f"{r.first.strip().lower()} at {r.email.strip().split('@')[1]}",
            False,
        )
        r = person_row(plain, sf, "postcode_lower_no_space")
        r.extra["postcode"] = r.person.postcode.replace(" ", "").lower()
        no_identity(sf, "missing_identity_company_only")
    else:
        pd, hs = "pipedrive_people.csv", "hubspot_contacts.csv"
        plain_pd = [p for p in plain if p.rows[0].spec is specs[pd]]
        plain_hs = [p for p in plain if p.rows[0].spec is specs[hs]]
        r = person_row(plain_pd, pd, "embedded_delimiter_and_newline")
        r.extra["address_full"] = (
            f"c/o Weiß & Partner; 3. OG\n{r.person.street}, {r.person.postcode} "
            f"{r.person.city.name}"
        )
        r = person_row(plain_pd, pd, "formula_organization")
        r.company = "@SUM(1+1)*cmd|' /C calc'!A0"
        r = person_row(plain_pd, pd, "phone_not_a_number")
        r.phone, r.phones_written = "keine Angabe", ()
        r = person_row(plain_pd, pd, "euro_sign_cp1252")
        r.title = "Einkauf (Budget > 50.000 €)"
        no_identity(pd, "missing_identity_company_only")
        r = person_row(plain_hs, hs, "invalid_email_no_domain")
        r.email, r.email_matches = r.email.strip().split("@")[0] + "@", False
        r = person_row(plain_hs, hs, "phone_too_short")
        r.phone, r.phones_written = "123", ()
    return out


def assign_ids(tenant: Tenant, rows: list[Row]) -> None:
    """Records sorted by creation, ids rising with creation time, as CRMs hand them out."""
    rng = rng_for("ids", tenant.tenant_id)
    for spec in tenant.files:
        mine = sorted(
            (r for r in rows if r.spec is spec),
            key=lambda r: (r.created, r.person.pid if r.person else ""),
        )
        if spec.id_style == "pipedrive":
            n = 1000
        elif spec.id_style == "hubspot19":
            n = 4876876000000100000
        else:
            n = 51000000 if tenant.tenant_id == "acme_us" else 78000000
        for r in mine:
            n += rng.randint(1, 40) if spec.id_style != "hubspot19" else rng.randint(1, 900000)
            if spec.id_style == "sfid":  # 15-character id plus the 3-character case-safe suffix
                alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                body = "".join(rng.choice(alphabet) for _ in range(5))
                suffix = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345") for _ in range(3))
                r.source_id = f"0035g00000{body}{suffix}"
            else:
                r.source_id = str(n)
        if spec.vendor == "salesforce":
            mine.sort(key=lambda r: (r.last.strip().lower(), r.first.strip().lower(), r.source_id))
        for i, r in enumerate(mine, start=1):
            r.row_number = i
