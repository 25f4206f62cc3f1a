"""Write the embedded sample in data/sample/: contact exports and activity logs for three tenants.

The sample is what `crm demo` runs on, so it has to look like real exports (three vendors'
formats, encodings and date styles) and carry the problems real exports carry: duplicates
across and within files, messy values, footers, ragged rows, bad activity lines. Every such
trap is listed in data/sample/README.md and, row by row, in data/sample/truth/.

Deterministic: seeded `random.Random` streams, no clock, no Faker, standard library only, so
`python data/generate_sample.py [OUT_DIR]` (or `python -m sample_generator [OUT_DIR]` from data/)
rewrites the directory byte-identically every time (a test regenerates it into a temporary
directory and compares).

Modules, each importing only those above it:
    clock, rng       the as-of date and UTC offsets; seeded streams and weighted picks
    pools            reference pools: names, titles, industries, companies' words, cities, streets
    tenants          the three tenants and the contact files each exports
    phones           phone numbers: formats and a per-tenant book of distinct numbers
    people           companies, persons, emails, engagement profiles, person-level traps
    contacts         contact records: originals, duplicates, messy values, planted rows, ids
    contact_files    writing the contact CSVs in each vendor's spelling and dialect
    activities       each person's events, drawn from their profile
    activity_log     the JSON lines, their contact references, the bad lines, the log file text
    truth, readme    the manifest and ground-truth tables; data/sample/README.md
    build            generate() and main(): every stage in order, the files written
"""

from .build import generate, main

__all__ = ["generate", "main"]
