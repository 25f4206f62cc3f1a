"""A labelled generator of people known by name, postal address and birth date only.

    from bench.people_generator import generate
    rows = generate(10_000, seed=7)   # polars frame, one row per record

Records as mail-order, membership, donor or badge-scan lists hold them: no email, no phone, no
company. Deterministic (seeded streams). Several tenants (US, GB, DE), each with its own share of
duplicates between 10% and 40%; every row carries `person_id`, the person it really is, and
`import_no` (0 for the first file, 1 for a later one), as `bench/resolve_generator.py` does.

Duplicates vary as keyed-in and scanned lists do: one-letter typos, OCR errors (0/O, 1/l, rn/m),
missing values, first and last name swapped, nicknames (Robert/Bob), initials, street types
written out or abbreviated ("St"/"Street", "Rd"/"Road", "Str."/"Straße"), capitals, a city typo,
a postcode one digit off, a birth date with day and month swapped, one digit off, or the year
only. And the traps (`trap`): twins (one address, one birth year, different first names), a parent
and a child of the same name at one address (different birth dates, "Jr" on some rows),
neighbours (same street, another house number, often the same surname), and namesakes (common
names drawn Zipf-like, in other towns).
"""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import polars as pl

from bench.resolve_generator import FIRST, LAST_COMMON, NICKS, SYLLABLES, _cap, _surname, _typo

TENANTS = (("ppl_us", "US"), ("ppl_gb", "GB"), ("ppl_de", "DE"))

# (city, state, postcode prefix) per country; a postcode is the prefix plus random characters.
PLACES = {
    "US": [("Springfield", "IL", "627"), ("Boston", "MA", "021"), ("Austin", "TX", "787"),
           ("Denver", "CO", "802"), ("Seattle", "WA", "981"), ("Chicago", "IL", "606"),
           ("Atlanta", "GA", "303"), ("Portland", "OR", "972"), ("Columbus", "OH", "432"),
           ("Madison", "WI", "537"), ("Fresno", "CA", "937"), ("Tucson", "AZ", "857"),
           ("Omaha", "NE", "681"), ("Raleigh", "NC", "276"), ("Tampa", "FL", "336"),
           ("Buffalo", "NY", "142")],
    "GB": [("London", "Greater London", "SW"), ("Leeds", "West Yorkshire", "LS"),
           ("Bristol", "Bristol", "BS"), ("Manchester", "Greater Manchester", "M"),
           ("Glasgow", "Scotland", "G"), ("Cardiff", "Wales", "CF"),
           ("Sheffield", "South Yorkshire", "S"), ("Norwich", "Norfolk", "NR"),
           ("Brighton", "East Sussex", "BN"), ("Oxford", "Oxfordshire", "OX")],
    "DE": [("Berlin", "Berlin", "10"), ("Hamburg", "Hamburg", "20"), ("München", "Bayern", "80"),
           ("Köln", "Nordrhein-Westfalen", "50"), ("Leipzig", "Sachsen", "04"),
           ("Dresden", "Sachsen", "01"), ("Stuttgart", "Baden-Württemberg", "70"),
           ("Hannover", "Niedersachsen", "30"), ("Bremen", "Bremen", "28"),
           ("Nürnberg", "Bayern", "90")],
}  # fmt: skip
# Street types: (written out, abbreviated forms).
STREET_TYPES = {
    "US": [("Street", ["St", "St."]), ("Road", ["Rd", "Rd."]), ("Avenue", ["Ave", "Av."]),
           ("Lane", ["Ln"]), ("Drive", ["Dr", "Dr."]), ("Court", ["Ct"]),
           ("Boulevard", ["Blvd"])],
    "GB": [("Road", ["Rd"]), ("Street", ["St"]), ("Lane", ["Ln"]), ("Close", ["Cl"]),
           ("Avenue", ["Ave"]), ("Gardens", ["Gdns"]), ("Crescent", ["Cres"])],
    "DE": [("straße", ["str.", "strasse", "str"]), ("weg", ["weg"]), ("allee", ["allee"]),
           ("platz", ["pl."]), ("ring", ["ring"])],
}  # fmt: skip
STREET_WORDS = (
    "oak maple cedar pine elm birch willow church mill park station market high bridge river "
    "lake hill meadow garden castle north south west east spring king queen victoria albert "
    "washington lincoln jefferson franklin grant harbor forest sunset ridge valley"
).split()
DE_STREET_WORDS = (
    "Haupt Bahnhof Schiller Goethe Linden Kirch Berg Garten Wald Schul Mühlen Rosen Birken "
    "Eichen Post Markt Feld Wiesen Bach Sonnen Friedrich Luisen Kaiser Mozart Beethoven"
).split()
DE_FIRST = (
    "klaus jurgen stefan wolfgang uwe dieter petra sabine ursula monika heike birgit andreas "
    "michael thomas christian martin frank markus sebastian tobias jan lukas anna julia laura "
    "katharina sandra nicole stefanie claudia susanne maria"
).split()
OCR = (("0", "O"), ("O", "0"), ("1", "l"), ("l", "1"), ("rn", "m"), ("m", "rn"), ("5", "S"),
       ("8", "B"))  # fmt: skip
CREATED = dt.date(2024, 1, 1)


def generate(n_rows: int, seed: int = 0, tenants: tuple = TENANTS) -> pl.DataFrame:
    """About `n_rows` labelled rows over the tenants (see the module docstring)."""
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    rows: list[dict] = []
    per_tenant = n_rows // len(tenants)
    for t_no, (tenant, country) in enumerate(tenants):
        dup_share = 0.10 + 0.30 * rng.random()  # share of rows that are duplicates
        n_people = int(per_tenant * (1 - dup_share) / 1.12)  # traps add about 12% more people
        people = _people(rng, nrng, tenant, country, n_people)
        n_dups = max(0, per_tenant - len(people))
        weights = np.array([0.2 if p["trap"] else 1.0 for p in people])
        dup_of = nrng.choice(len(people), n_dups, p=weights / weights.sum())
        source = 0
        for person in people:
            source += 1
            rows.append(_row(person, rng, f"{t_no}{source:08d}", 0, clean=True))
        for i in dup_of:
            source += 1
            rows.append(_row(people[i], rng, f"{t_no}{source:08d}", int(rng.random() < 0.5)))
    frame = pl.DataFrame(rows)
    order = nrng.permutation(frame.height)
    return frame[order].sort("tenant_id", "import_no", maintain_order=True)


def _people(rng, nrng, tenant: str, country: str, n: int) -> list[dict]:
    """The tenant's people in households, with the traps added."""
    firsts = DE_FIRST + FIRST[:80] if country == "DE" else FIRST
    fw = 1.0 / np.arange(1, len(firsts) + 1) ** 0.9
    lw = 1.0 / np.arange(1, len(LAST_COMMON) + 1) ** 0.8
    fi = nrng.choice(len(firsts), n, p=fw / fw.sum())
    li = nrng.choice(len(LAST_COMMON), n, p=lw / lw.sum())
    # Enough streets that households rarely share one: about 40 people per street.
    per_town = max(12, n // (40 * len(PLACES[country])))
    streets = {c: _streets(rng, country, per_town) for c, _, _ in PLACES[country]}
    people, used = [], set()
    for k in range(n):
        last = LAST_COMMON[li[k]] if rng.random() < 0.5 else _surname(rng)
        place = rng.choice(PLACES[country])
        address = _address(rng, country, place, streets, used)
        people.append(_person(tenant, country, f"{tenant}-P{k}", firsts[fi[k]], last, address,
                              _birthdate(rng, 1935, 2006)))  # fmt: skip
    extra = []
    for k, base in enumerate(rng.sample(people, n // 25)):  # twins
        other = rng.choice([f for f in firsts if f[0] != base["first"][0]])
        born = base["birth"] if rng.random() < 0.7 else base["birth"] + dt.timedelta(days=1)
        base["trap"] = "twin"
        extra.append(base | {"person_id": f"{tenant}-W{k}", "first": other, "birth": born})
    for k, base in enumerate(rng.sample(people, n // 25)):  # parent and child, one name
        if base["trap"]:
            continue
        base["trap"] = "parent_child"
        born = _birthdate(rng, base["birth"].year + 20, base["birth"].year + 38)
        born = min(born, dt.date(2008, 12, 31))
        extra.append(base | {"person_id": f"{tenant}-J{k}", "birth": born, "junior": True})
    for k, base in enumerate(rng.sample(people, n // 25)):  # neighbours
        if base["trap"]:
            continue
        base["trap"] = "neighbour"
        first = rng.choice(firsts) if rng.random() < 0.5 else base["first"]
        last = base["last"] if rng.random() < 0.6 else _surname(rng)
        address = base["address"] | {"number": _other_number(rng, base["address"]["number"])}
        extra.append(base | {"person_id": f"{tenant}-N{k}", "first": first, "last": last,
                             "address": address, "birth": _birthdate(rng, 1935, 2006)})  # fmt: skip
    return people + extra


def _person(tenant, country, pid, first, last, address, birth) -> dict:
    return {"tenant_id": tenant, "country": country, "person_id": pid, "first": first,
            "last": last, "address": address, "birth": birth, "trap": "",
            "junior": False}  # fmt: skip


def _streets(rng, country: str, count: int) -> list[tuple[str, int]]:
    """(street name, street type index) of a town; a large town also has names made of two
    words ("Oak Meadow", "Lindenberg")."""
    words = DE_STREET_WORDS if country == "DE" else [_cap(w) for w in STREET_WORDS]
    kinds = len(STREET_TYPES[country])
    out = {(rng.choice(words), rng.randrange(kinds)) for _ in range(min(count, 12))}
    while len(out) < count:
        first, second = rng.choice(words), rng.choice(words).lower()
        name = f"{first}{second}" if country == "DE" else f"{first} {_cap(second)}"
        out.add((name, rng.randrange(kinds)))
    return sorted(out)


def _address(rng, country, place, streets, used) -> dict:
    city, state, prefix = place
    while True:
        name, kind = rng.choice(streets[city])
        number = rng.randint(1, 400 if country == "US" else 120)
        key = (city, name, kind, number)
        if key not in used:
            used.add(key)
            break
    return {"city": city, "state": state, "name": name, "kind": kind, "number": number,
            "postcode": _postcode(rng, country, prefix)}  # fmt: skip


def _postcode(rng, country: str, prefix: str) -> str:
    if country == "US":
        return prefix + f"{rng.randrange(100):02d}"
    if country == "DE":
        return prefix + f"{rng.randrange(1000):03d}"
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    inward = f"{rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"
    return f"{prefix}{rng.randint(1, 20)} {inward}"


def _other_number(rng, number: int) -> int:
    other = number + rng.choice((-4, -2, 2, 4, 1, -1, 10))
    return other if other > 0 else number + 2


def _birthdate(rng, first_year: int, last_year: int) -> dt.date:
    return dt.date(rng.randint(first_year, last_year), 1, 1) + dt.timedelta(days=rng.randrange(365))


def _row(p: dict, rng: random.Random, source_id: str, import_no: int, clean: bool = False) -> dict:
    """One record of the person: the first as it is (bar a missing part now and then), later
    ones with one to three variations."""
    first, last = _cap(p["first"]), _cap(p["last"])
    a = p["address"]
    street_type = STREET_TYPES[p["country"]][a["kind"]][0]
    street = {"name": a["name"], "type": street_type, "number": str(a["number"])}
    city, postcode, state = a["city"], a["postcode"], a["state"]
    birth: str | None = _date_text(rng, p["birth"], p["country"])
    if p["junior"] and rng.random() < 0.5:
        last = f"{last} Jr" if p["country"] != "DE" else last
    kinds = ["typo_first", "typo_last", "ocr_name", "ocr_street", "nickname", "initial",
             "swapped", "abbrev", "street_missing", "city_typo", "city_missing",
             "postcode_digit", "postcode_missing", "state_missing", "birth_swap", "birth_digit",
             "birth_year", "birth_missing", "caps", "first_missing", "exact"]  # fmt: skip
    weights = [6, 6, 4, 3, 6, 3, 3, 14, 3, 4, 3, 3, 4, 5, 3, 3, 3, 5, 4, 1, 6]
    chosen = rng.choices(kinds, weights, k=rng.choice((1, 1, 2, 2, 3)))
    if clean:
        chosen = ["abbrev"] if rng.random() < 0.3 else []
    for kind in chosen:
        if kind == "typo_first" and first:
            first = _cap(_typo(rng, first.lower()))
        elif kind == "typo_last" and last:
            last = _cap(_typo(rng, last.lower()))
        elif kind == "ocr_name" and last:
            last = _ocr(rng, last)
        elif kind == "ocr_street" and street:
            street["name"] = _ocr(rng, street["name"])
            street["number"] = _ocr(rng, street["number"])
        elif kind == "nickname" and first and first.lower() in NICKS:
            first = _cap(rng.choice(NICKS[first.lower()]))
        elif kind == "initial" and first:
            first = first[0] + rng.choice((".", ""))
        elif kind == "swapped" and first:
            first, last = last, first
        elif kind == "abbrev" and street:
            street["type"] = rng.choice(STREET_TYPES[p["country"]][a["kind"]][1])
        elif kind == "street_missing":
            street = None
        elif kind == "city_typo" and city:
            city = _cap(_typo(rng, city.lower()))
        elif kind == "city_missing":
            city = None
        elif kind == "postcode_digit" and postcode:
            postcode = _digit_off(rng, postcode)
        elif kind == "postcode_missing":
            postcode = None
        elif kind == "state_missing":
            state = None
        elif kind == "birth_swap" and p["birth"].day <= 12 and p["birth"].day != p["birth"].month:
            swapped = p["birth"].replace(month=p["birth"].day, day=p["birth"].month)
            birth = _date_text(rng, swapped, p["country"])
        elif kind == "birth_digit":
            birth = _date_text(rng, _date_digit_off(rng, p["birth"]), p["country"])
        elif kind == "birth_year":
            birth = str(p["birth"].year)
        elif kind == "birth_missing":
            birth = None
        elif kind == "caps":
            first, last = (first or "").upper() or None, (last or "").upper() or None
        elif kind == "first_missing":
            first = None
    return {
        "tenant_id": p["tenant_id"],
        "import_no": import_no,
        "source_id": source_id,
        "first_name": first,
        "last_name": last,
        "street": _street_text(rng, street, p["country"]) if street else None,
        "city": city,
        "postcode": postcode,
        "state": state,
        "country": p["country"],
        "birthdate": birth,
        "created_at": f"{CREATED + dt.timedelta(days=rng.randrange(300))} 10:00",
        "person_id": p["person_id"],
        "trap": p["trap"],
    }


def _street_text(rng, street: dict, country: str) -> str:
    """US/GB: "12 Oak Street"; DE: "Lindenstraße 12" (a separate "Linden Str. 12" now and then)."""
    name, kind, number = street["name"], street["type"], street["number"]
    if country != "DE":
        return f"{number} {name} {kind}"
    if rng.random() < 0.15:
        return f"{name} {_cap(kind)} {number}"
    return f"{name}{kind} {number}"


def _date_text(rng, day: dt.date, country: str) -> str:
    """ISO mostly; else the country's own numeric form."""
    if rng.random() < 0.7:
        return day.isoformat()
    if country == "US":
        return f"{day.month:02d}/{day.day:02d}/{day.year}"
    sep = "." if country == "DE" else "/"
    return f"{day.day:02d}{sep}{day.month:02d}{sep}{day.year}"


def _date_digit_off(rng, day: dt.date) -> dt.date:
    """A date with one digit of its ISO form keyed wrong (still a valid date)."""
    text = day.isoformat()
    for _ in range(20):
        i = rng.choice([2, 3, 6, 8, 9])
        wrong = text[:i] + str(rng.randrange(10)) + text[i + 1 :]
        try:
            other = dt.date.fromisoformat(wrong)
        except ValueError:
            continue
        if other != day and dt.date(1920, 1, 1) <= other <= dt.date(2010, 1, 1):
            return other
    return day


def _digit_off(rng, text: str) -> str:
    places = [i for i, ch in enumerate(text) if ch.isdigit()]
    i = rng.choice(places)
    digit = str((int(text[i]) + rng.randint(1, 9)) % 10)
    return text[:i] + digit + text[i + 1 :]


def _ocr(rng, text: str) -> str:
    options = [(a, b) for a, b in OCR if a in text]
    if not options:
        return _typo(rng, text.lower()) if len(text) >= 4 else text
    a, b = rng.choice(options)
    return text.replace(a, b, 1)


__all__ = ["TENANTS", "SYLLABLES", "generate"]
