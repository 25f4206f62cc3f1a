"""Phones: stored as (country, area, local digits), written in many styles, drawn distinct.

A PhoneBook hands out a tenant's numbers, each at most once, from ranges safe to publish.
"""

from __future__ import annotations

from random import Random

from .pools import MOBILE_AREAS, City
from .rng import pick
from .tenants import Tenant

Phone = tuple  # (country code "US"/"GB"/"DE", area, local)
CALLING_CODE = {"US": "1", "GB": "44", "DE": "49"}
PHONE_STYLES = {
    "US": [
        ("paren", 30),
        ("dash", 25),
        ("dot", 6),
        ("intl", 12),
        ("intl_dash", 6),
        ("one_paren", 4),
        ("digits", 8),
        ("e164", 7),
        ("ext", 2),
    ],
    "GB": [
        ("national", 40),
        ("national_compact", 10),
        ("intl", 20),
        ("intl_zero", 8),
        ("double_zero", 8),
        ("paren", 6),
        ("e164", 8),
    ],
    "DE": [
        ("national", 30),
        ("slash", 15),
        ("dash", 6),
        ("intl", 20),
        ("intl_zero", 10),
        ("double_zero", 8),
        ("paren", 4),
        ("e164", 7),
    ],
}


def group_local(country: str, area: str, local: str) -> str:
    if country == "US":
        return f"{local[:3]}-{local[3:]}"
    if country == "GB":
        if len(area) == 2:
            return f"{local[:4]} {local[4:]}"
        if len(area) == 3:
            return f"{local[:3]} {local[3:]}"
        return local  # mobiles: 07911 123456
    return local


def format_phone(phone: Phone, style: str, tenant_country: str) -> str:
    country, area, local = phone
    if country != tenant_country and style not in ("intl", "e164", "double_zero"):
        style = "intl"  # a foreign number is always written with its country code
    cc = CALLING_CODE[country]
    if country == "US":
        lo = group_local(country, area, local)
        return {
            "paren": f"({area}) {lo}",
            "dash": f"{area}-{lo}",
            "dot": f"{area}.{local[:3]}.{local[3:]}",
            "intl": f"+1 {area} {local[:3]} {local[3:]}",
            "intl_dash": f"+1-{area}-{lo}",
            "one_paren": f"1 ({area}) {lo}",
            "digits": f"{area}{local}",
            "e164": f"+1{area}{local}",
            "ext": f"{area}-{lo} x{int(local[-2:]) + 10}",
            "double_zero": f"001 {area} {lo}",
        }.get(style, f"({area}) {lo}")
    lo = group_local(country, area, local)
    return {
        "national": f"0{area} {lo}",
        "national_compact": f"0{area}{local}",
        "intl": f"+{cc} {area} {lo}",
        "intl_zero": f"+{cc} (0){area} {lo}",
        "double_zero": f"00{cc} {area} {lo}",
        "paren": f"(0{area}) {lo}",
        "e164": f"+{cc}{area}{local}",
        "slash": f"0{area}/{local}",
        "dash": f"0{area}-{local[:-3]}-{local[-3:]}" if len(local) > 4 else f"0{area}-{local}",
    }.get(style, f"0{area} {lo}")


def phone_style(rng: Random, tenant: Tenant, avoid: str = "") -> str:
    styles = [(s, w) for s, w in PHONE_STYLES[tenant.country] if s != avoid]
    return pick(rng, styles)


class PhoneBook:
    """Hands out distinct numbers per tenant from the fictional/drama ranges where they exist."""

    def __init__(self, rng: Random):
        self.rng = rng
        self.used: set = set()

    def _draw(self, country: str, areas: tuple) -> Phone:
        for _ in range(200):
            area, prefix, digits = self.rng.choice(areas)
            if country == "US":
                local = prefix + f"{self.rng.randrange(100):02d}"
            else:
                first = str(self.rng.randint(2, 9)) if not prefix else ""
                local = (
                    prefix
                    + first
                    + "".join(str(self.rng.randrange(10)) for _ in range(digits - len(first)))
                )
            phone = (country, area, local)
            if phone not in self.used:
                self.used.add(phone)
                return phone
        raise RuntimeError(f"phone range exhausted for {areas}")

    def landline(self, country: str, city: City) -> Phone:
        return self._draw(country, city.areas)

    def mobile(self, country: str, city: City) -> Phone:
        if country == "US":
            return self._draw(country, city.areas)
        for _ in range(200):
            if country == "GB":
                area = self.rng.choice(MOBILE_AREAS["GB"]) + str(self.rng.randrange(10))
                local = "".join(str(self.rng.randrange(10)) for _ in range(6))
            else:
                area = self.rng.choice(MOBILE_AREAS["DE"])
                local = str(self.rng.randint(1, 9)) + "".join(
                    str(self.rng.randrange(10)) for _ in range(7)
                )
            phone = (country, area, local)
            if phone not in self.used:
                self.used.add(phone)
                return phone
        raise RuntimeError("mobile range exhausted")
