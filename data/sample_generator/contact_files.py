"""Writing the contact CSVs: each vendor's labels and value spellings, each file's dialect."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path
from random import Random

from .clock import utc_offset_hours
from .contacts import Row
from .people import Company, size_range
from .pools import INDUSTRIES, PERSONAL_DOMAINS
from .rng import pick, rng_for
from .tenants import FileSpec, Tenant

# column label -> key of the row's formatted values
COLUMN_KEYS = {
    "Record ID": "source_id",
    "Contact ID": "source_id",
    "Person - ID": "source_id",
    "First Name": "first",
    "Person - First name": "first",
    "Last Name": "last",
    "Person - Last name": "last",
    "Person - Name": "full_name",
    "Email": "email",
    "Person - Email - Work": "email",
    "Person - Email - Home": "email_home",
    "Phone Number": "phone",
    "Phone": "phone",
    "Person - Phone - Work": "phone",
    "Mobile Phone Number": "mobile",
    "Mobile": "mobile",
    "Person - Phone - Mobile": "mobile",
    "Lifecycle Stage": "lifecycle",
    "Person - Label": "lifecycle",
    "Lead Status": "lead_status",
    "Contact owner": "owner",
    "Contact Owner": "owner",
    "Person - Owner": "owner",
    "Create Date": "created",
    "Created Date": "created",
    "Person - Person created": "created",
    "Associated Company": "assoc_company",
    "Company Name": "company",
    "Account Name": "company",
    "Person - Organization": "company",
    "Job Title": "title",
    "Title": "title",
    "Person - Job title": "title",
    "Industry": "industry",
    "Organization - Industry": "industry",
    "Number of Employees": "size",
    "Employees": "size",
    "Organization - Number of employees": "size",
    "Street Address": "street",
    "Mailing Street": "street",
    "Person - Postal address": "address_full",
    "City": "city",
    "Mailing City": "city",
    "Person - Postal address - City/town/village/locality": "city",
    "State/Region": "state",
    "Mailing State/Province": "state",
    "Postal Code": "postcode",
    "Mailing Zip/Postal Code": "postcode",
    "Person - Postal address - ZIP/Postal code": "postcode",
    "Country/Region": "country",
    "Mailing Country": "country",
    "Person - Postal address - Country": "country",
    "Marketing contact status": "marketing_status",
    "Person - Marketing status": "consent",
    "Unsubscribed from all email": "unsubscribed",
    "Email Opt Out": "opt_out",
    "Lead Source": "lead_source",
    "Notes": "notes",
}

HUBSPOT_LIFECYCLE = {
    "subscriber": "Subscriber",
    "lead": "Lead",
    "mql": "Marketing Qualified Lead",
    "sql": "Sales Qualified Lead",
    "opportunity": "Opportunity",
    "customer": "Customer",
    "evangelist": "Evangelist",
    "other": "Other",
    "": "",
}
PIPEDRIVE_LABEL = {
    "subscriber": "Cold lead",
    "lead": "Warm lead",
    "mql": "Warm lead",
    "sql": "Hot lead",
    "opportunity": "Hot lead",
    "customer": "Customer",
    "evangelist": "Customer",
    "other": "",
    "": "",
}
LEAD_STATUS = [
    ("New", 25),
    ("Open", 20),
    ("In Progress", 15),
    ("Attempted to Contact", 12),
    ("Connected", 10),
    ("Open Deal", 6),
    ("Unqualified", 6),
    ("Bad Timing", 6),
]
COUNTRY_LABELS = {
    "US": [
        ("United States", 60),
        ("USA", 15),
        ("US", 10),
        ("United States of America", 5),
        ("", 10),
    ],
    "GB": [("United Kingdom", 60), ("UK", 15), ("GB", 5), ("England", 10), ("", 10)],
    "DE": [("Germany", 55), ("Deutschland", 30), ("DE", 5), ("", 10)],
}
PIPEDRIVE_CONSENT = {
    "subscribed": "Subscribed",
    "unsubscribed": "Unsubscribed",
    "no_consent": "No consent",
    "": "",
}


def format_created(t: datetime, style: str, zone: str) -> str:
    local = t + timedelta(hours=utc_offset_hours(zone, t))
    if style == "hubspot":
        return local.strftime("%Y-%m-%d %H:%M")
    if style == "pipedrive":
        return local.strftime("%Y-%m-%d %H:%M:%S")
    if style == "sf_us":
        return f"{local.month}/{local.day}/{local.year}"
    return local.strftime("%d/%m/%Y")


def format_size(company: Company | None, vendor: str) -> str:
    if company is None:
        return ""
    if vendor == "pipedrive":
        return size_range(company.size)
    if vendor == "salesforce":
        return f"{company.size:,}"
    return {
        "int": str(company.size),
        "comma": f"{company.size:,}",
        "range": size_range(company.size),
        "blank": "",
    }[company.size_style]


def formatted_values(rng: Random, tenant: Tenant, row: Row) -> dict[str, str]:
    spec, p = row.spec, row.person
    v = {
        "source_id": row.source_id,
        "first": row.first,
        "last": row.last,
        "email": row.email,
        "email_home": row.email_home,
        "phone": row.phone,
        "mobile": row.mobile,
        "company": row.company,
        "assoc_company": row.assoc_company,
        "title": row.title,
        "street": row.street,
        "notes": row.notes,
        "created": format_created(row.created, spec.date_style, tenant.zone),
    }
    v["full_name"] = " ".join(x for x in (row.first, row.last) if x)
    if p is None:
        v["owner"] = tenant.users[rng.randrange(len(tenant.users) - 1)][1]
        v["country"] = pick(rng, COUNTRY_LABELS[tenant.country])
        v.update(row.extra)
        return v
    company = p.company
    v["owner"] = tenant.users[p.owner][1]
    v["industry"] = (
        INDUSTRIES[company.industry][{"hubspot": 0, "salesforce": 1, "pipedrive": 2}[spec.vendor]]
        if company
        else ""
    )
    v["size"] = format_size(company, spec.vendor)
    v["city"] = p.city.name
    v["state"] = (
        (p.city.state if rng.random() < 0.7 else p.city.state_full)
        if p.country == "US"
        else (p.city.state_full if p.country == "GB" and rng.random() < 0.3 else "")
    )
    v["postcode"] = p.postcode
    v["country"] = pick(rng, COUNTRY_LABELS[p.country])
    v["address_full"] = (
        f"{p.street}, {p.postcode} {p.city.name}, {v['country'] or 'Deutschland'}"
        if p.country == "DE"
        else ""
    )
    if spec.vendor == "pipedrive":
        v["lifecycle"] = PIPEDRIVE_LABEL[p.lifecycle]
        v["consent"] = PIPEDRIVE_CONSENT[p.consent]
        domain = row.email.strip().lower().rpartition("@")[2]
        if row.email and domain in PERSONAL_DOMAINS[p.country] and rng.random() < 0.5:
            v["email_home"], v["email"] = v["email"], ""  # a private address filed under Home
    else:
        v["lifecycle"] = HUBSPOT_LIFECYCLE[p.lifecycle]
    v["lead_status"] = "" if p.customer else pick(rng, LEAD_STATUS)
    v["marketing_status"] = (
        "Non-marketing contact"
        if p.consent in ("unsubscribed", "no_consent")
        else "Marketing contact"
    )
    v["unsubscribed"] = "true" if p.consent == "unsubscribed" else ("false" if p.consent else "")
    v["opt_out"] = "1" if p.consent == "unsubscribed" else "0"
    v["lead_source"] = p.lead_source
    v.update(row.extra)
    return v


def write_contact_file(out_dir: Path, tenant: Tenant, spec: FileSpec, rows: list[Row]) -> int:
    rng = rng_for("format", spec.path)
    mine = sorted((r for r in rows if r.spec is spec), key=lambda r: r.row_number)
    buf = io.StringIO(newline="")
    writer = csv.writer(
        buf,
        delimiter=spec.delimiter,
        lineterminator=spec.newline,
        quoting=csv.QUOTE_ALL if spec.quote_all else csv.QUOTE_MINIMAL,
    )
    writer.writerow(spec.columns)
    for r in mine:
        v = formatted_values(rng, tenant, r)
        values = [v.get(COLUMN_KEYS[c], "") for c in spec.columns]
        if r.ragged:
            # hand-edited row: an unquoted comma in the title shifts every later field by one
            i = spec.columns.index("Title")
            head = spec.delimiter.join(f'"{x}"' for x in values[:i])
            tail = spec.delimiter.join(f'"{x}"' for x in values[i + 1 :])
            buf.write(f"{head}{spec.delimiter}{values[i]}{spec.delimiter}{tail}{spec.newline}")
        else:
            writer.writerow(values)
    if spec.footer:
        nl = spec.newline
        buf.write(
            f'{nl}"Grand Totals ({len(mine)} records)"{nl}'
            f'"Confidential Information - Do Not Distribute"{nl}'
            f'"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."{nl}'
        )
    data = buf.getvalue().encode(spec.encoding)
    if spec.bom:
        data = b"\xef\xbb\xbf" + data
    path = out_dir / spec.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return len(mine)
