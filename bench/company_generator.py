"""A labelled generator of company data with the traps account linking meets (issue 16).

Each company has a true identity (`company_no`) and a trap kind:
- plain           one company, one domain;
- multi_country   one company, two or three country domains (acme.com, acme.de, acme.fr), its
                  contacts writing the name with the country's legal form (Acme Inc., ACME GmbH);
                  the companies file gives the main website for the country domains of 60% of them;
- parent / subsidiary  two companies with related names and domains of their own (Nova, Nova
                  Robotics at novarobotics.com); half the subsidiaries' file rows give the parent's
                  website (a real enrichment habit): they must stay apart;
- rebrand         one company under an old and a new name and domain (Oldco at oldco.com, Newco at
                  newco.io); half the old domains' file rows give the new website;
- same_name       two companies of one name with different domains (Delta at delta.com, Delta at
                  deltataps.com), each with its own website in the file: they must stay two.
Every company's contacts vary the legal suffix, case and punctuation of its name; 30% write from a
shared free-mail domain (a third of those give no company). Deterministic for a seed.
"""

from __future__ import annotations

import datetime

import numpy as np
import polars as pl

AT = datetime.datetime(2026, 11, 15, 6)
FREE = ("gmail.com", "yahoo.com", "outlook.com", "gmx.de", "hotmail.co.uk", "icloud.com")
FORMS = {"com": (" Inc", " Inc.", " LLC", " Corp.", ""),
         "de": (" GmbH", " AG", " GmbH & Co. KG", ""),
         "fr": (" SA", " SAS", " S.A.R.L.", ""), "co.uk": (" Ltd", " Limited", " PLC", ""),
         "io": ("", " Inc."), "com.au": (" Pty Ltd", "")}
SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "ber", "dex", "fan", "gor", "hul",
             "jin", "kor", "lum", "mar", "nox", "pel", "quin", "ros", "sul", "tor", "vex")


def _word(i: int) -> str:
    """A made-up company word, distinct for each i (its digits in base len(SYLLABLES))."""
    parts = []
    while True:
        i, r = divmod(i, len(SYLLABLES))
        parts.append(SYLLABLES[r])
        if i == 0:
            break
    return "".join(parts).capitalize() + ("a" if len(parts) == 1 else "")


def company_domains(n: int, rng: np.random.Generator) -> pl.DataFrame:
    """One row per (company, domain): company_no, kind, domain, name (what its contacts call it),
    main (the company's main domain), and website (the file's website for that domain, or null
    when the file has no row for it)."""
    rows = []
    no = 0
    word = 0
    while no < n:
        kind = rng.choice(["plain", "multi_country", "parent", "rebrand", "same_name"],
                          p=[0.70, 0.12, 0.06, 0.06, 0.06])
        base = _word(word)
        word += 1
        low = base.lower()
        in_file = rng.random() < 0.5
        if kind == "plain":
            d = f"{low}.{rng.choice(['com', 'co.uk', 'de', 'fr', 'io', 'com.au'])}"
            rows.append((no, "plain", d, base, d, f"https://www.{d}" if in_file else None))
            no += 1
        elif kind == "multi_country":
            countries = ["com", "de", "fr"][: rng.integers(2, 4)]
            main = f"{low}.com"
            linked = rng.random() < 0.6
            for tld in countries:
                d = f"{low}.{tld}"
                site = f"https://www.{main}" + ("" if d == main else f"/{tld}")
                rows.append((no, "multi_country", d, base, main,
                             site if (linked or d == main) else None))
            no += 1
        elif kind == "parent":
            d, sub = f"{low}.com", f"{low}robotics.com"
            rows.append((no, "parent", d, base, d, f"https://{d}" if in_file else None))
            parent_site = rng.random() < 0.5
            rows.append((no + 1, "subsidiary", sub, f"{base} Robotics", sub,
                         f"https://{d}/robotics" if parent_site else f"https://{sub}"))
            no += 2
        elif kind == "rebrand":
            old, new_word = f"{low}.com", _word(word)
            word += 1
            new = f"{new_word.lower()}.io"
            redirect = rng.random() < 0.5
            rows.append((no, "rebrand", old, base, new, f"https://{new}" if redirect else None))
            rows.append((no, "rebrand", new, new_word, new, f"https://{new}"))
            no += 1
        else:
            first, second = f"{low}.com", f"{low}{_word(word + 7)[:4].lower()}.com"
            rows.append((no, "same_name", first, base, first, f"https://www.{first}"))
            rows.append((no + 1, "same_name", second, base, second, f"https://{second}"))
            no += 2
    return pl.DataFrame(rows, schema={"company_no": pl.Int64, "kind": pl.String,
                                      "domain": pl.String, "name": pl.String, "main": pl.String,
                                      "website": pl.String}, orient="row")


def contacts(n: int, domains: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """n contacts: tenant_id, contact_id, email, company, timestamps, plus the truth
    (company_no, kind, free)."""
    pick = rng.integers(0, domains.height, n)
    free = rng.random(n) < 0.30
    gives = ~free | (rng.random(n) < 2 / 3)
    sub = rng.random(n) < 0.1
    caps = rng.random(n) < 0.1
    dots = rng.random(n) < 0.05
    form_pick = rng.integers(0, 1000, n)
    d = domains.to_dict(as_series=False)
    email, company = [], []
    for i in range(n):
        row = int(pick[i])
        domain = d["domain"][row]
        tld = domain.split(".", 1)[1]
        forms = FORMS.get(tld, ("",))
        name = d["name"][row] + forms[form_pick[i] % len(forms)]
        name = name.upper() if caps[i] else name
        name = name.lower() + "." if dots[i] else name
        email.append(f"p{i}@{FREE[i % len(FREE)]}" if free[i]
                     else f"p{i}@{'mail.' if sub[i] else ''}{domain}")
        company.append(name if gives[i] else None)
    return pl.DataFrame({
        "tenant_id": "t1", "contact_id": [f"c{i}" for i in range(n)], "email": email,
        "company": pl.Series(company, dtype=pl.String), "first_seen_at": AT, "updated_at": AT,
        "company_no": pl.Series(d["company_no"], dtype=pl.Int64).gather(pick),
        "kind": pl.Series(d["kind"]).gather(pick), "free": free,
    })


def companies_file(domains: pl.DataFrame) -> pl.DataFrame:
    """The enrichment file: one row per domain the generator gave a website (name as the
    domain's country writes it)."""
    return (domains.filter(pl.col("website").is_not_null())
            .select(pl.col("name").alias("Company Name"), pl.col("domain").alias("Domain"),
                    pl.col("website").alias("Website")))
