"""data/sample/README.md: each file's format and traps, counted from the rows (cannot drift)."""

from __future__ import annotations

from .contacts import Row
from .people import Person
from .tenants import TENANTS

FILE_FORMATS = {
    "acme_us/hubspot_contacts.csv": "HubSpot contacts export: UTF-8, LF, `Create Date` like "
    "`2024-03-12 09:14` "
    "(no zone), sizes typed as `250`, `1,000`, `100-499`, `5000+`, US ZIP codes with leading "
    "zeros (`02134`).",
    "acme_us/salesforce_contacts_report.csv": "Salesforce report export (every field quoted, "
    "CRLF, US dates "
    "`3/12/2024`) with an added `Contact ID` column; ends with the report footer.",
    "brit_gb/salesforce_contacts_report.csv": "Salesforce report export (quoted, CRLF, UK dates "
    "`12/03/2024`, "
    "`Email Opt Out` 0/1, `Employees` like `1,000`) with a `Contact ID` column; ends with the "
    "real footer: a blank "
    'line, `"Grand Totals (N records)"`, `"Confidential Information - Do Not Distribute"`, the '
    "copyright line.",
    "brit_gb/hubspot_contacts.csv": "HubSpot export whose `Record ID`s have 19 digits (they "
    "lose precision as "
    "floats; read ids as text).",
    "deutsch_de/pipedrive_people.csv": "Pipedrive people export: `;`-delimited, **cp1252** (not "
    "valid UTF-8), "
    "CRLF; umlauts and ß (Müller, Jürgen, Weiß); sizes as ranges (`100-499`, `5000+`); PLZ with "
    "leading zero "
    "(`01067`); `Person - Marketing status` Subscribed/Unsubscribed/No consent; private "
    "addresses under "
    "`Person - Email - Home`.",
    "deutsch_de/hubspot_contacts.csv": "HubSpot export in UTF-8 **with a BOM**; holds the names "
    "cp1252 cannot "
    "encode (Ayşe, Yılmaz, Şahin).",
}
ROW_TRAP_LABELS = {
    "invalid_email_no_domain": "email without a domain (`x@`)",
    "invalid_email_at_word": "email written `name at domain`",
    "invalid_email_double_at": "email with `@@`",
    "phone_not_a_number": "phone that is words (`n/a`, `keine Angabe`)",
    "phone_too_short": "phone `123`",
    "mobile_not_a_number": "mobile `n/a`",
    "phone_double_zero_prefix": "phone with `0044` prefix",
    "formula_company": '`=HYPERLINK("http://x","y")` as company',
    "formula_title": "`+cmd\\|' /C calc'!A0` as title",
    "formula_organization": "`@SUM(1+1)*cmd\\|...` as organization",
    "sql_in_notes": "SQL (`'); DROP TABLE contacts;--`) in `Notes`",
    "embedded_newline_and_comma": "quoted street with an embedded newline and comma",
    "embedded_delimiter_and_newline": "quoted address with an embedded `;` and newline",
    "zip_plus_four": "ZIP+4 `02134-1203`",
    "postcode_lower_no_space": "postcode in lower case without its space",
    "euro_sign_cp1252": "`€` in a title",
    "missing_identity_company_only": "no name, email or phone (missing_identity)",
    "missing_identity_whitespace_name": "name of spaces only, no email or phone (missing_identity)",
    "ragged_row_unquoted_comma": "ragged row: unquoted comma in `Title`, one field too many "
    "(unparseable_row)",
    "all_caps": "ALL-CAPS name",
    "all_lower": "all-lower-case name",
    "whitespace": "name padded with spaces",
    "email_whitespace": "email padded with spaces and a tab",
}
PERSON_TRAP_LABELS = {
    "common_name": "record of a namesake (several different people, one name)",
    "shared_main_line": "colleague reached on the company switchboard number",
    "cross_tenant_twin": "person also in another tenant (same email)",
    "cjk_name": "CJK name (王 秀英)",
}


def file_traps(rows: list[Row]) -> str:
    """The traps a file holds, counted from its rows, so the README cannot drift from the data."""
    counts: dict[str, int] = {}
    for r in rows:
        if r.role != "duplicate" and r.variation in ROW_TRAP_LABELS:
            counts[ROW_TRAP_LABELS[r.variation]] = counts.get(ROW_TRAP_LABELS[r.variation], 0) + 1
        if r.person and r.person.trap:
            label = PERSON_TRAP_LABELS[r.person.trap]
            counts[label] = counts.get(label, 0) + 1
    return "; ".join(f"{label} ×{n}" for label, n in counts.items())


def readme_text(
    rows_by_tenant: dict[str, list[Row]],
    people_by_tenant: dict[str, list[Person]],
    stats: dict[str, dict],
) -> str:
    lines = [
        "# Sample data",
        "",
        "Written by `python data/generate_sample.py` (deterministic: change the generator and "
        "rerun, never edit "
        "by hand). As-of date **2026-11-15**; `manifest.yaml` lists the tenants and the import "
        "order. Three "
        "tenants: `acme_us` (USD), `brit_gb` (GBP), `deutsch_de` (EUR).",
        "",
        "| file | records | format, and the traps it holds (counts are records) |",
        "| --- | ---: | --- |",
    ]
    for t in TENANTS:
        rows = rows_by_tenant[t.tenant_id]
        for spec in t.files:
            mine = sorted((r for r in rows if r.spec is spec), key=lambda r: r.row_number)
            dups = sum(1 for r in mine if r.role == "duplicate")
            lines.append(
                f"| `{spec.path}` | {len(mine)} | {FILE_FORMATS[spec.path]} {dups} duplicate "
                f"records. "
                f"Traps: {file_traps(mine)}. |"
            )
        s = stats[t.tenant_id]
        lines.append(
            f"| `{t.tenant_id}/activities.jsonl` | {s['lines']} lines | JSON lines from "
            f"2025-05-15 to the as-of "
            f"date, plus {s['future_meetings']} future meetings with status `scheduled` "
            f"(legitimate); every "
            "activity type; zones `Z`, `+00:00`, local offsets, some with milliseconds; "
            "contacts named by "
            "`source_id` (mostly), `email` (odd case, spaces) or a raw `phone`. Bad lines, one "
            "per quarantine "
            "reason: truncated JSON"
            + (", a JSON array" if t.tenant_id == "brit_gb" else "")
            + ", no `tenant_id`, another tenant's `tenant_id`, unreadable timestamp, timestamp "
            "without zone, "
            "an email dated 2029, type `fax`, unknown `source_id`, the email of another "
            "tenant's contact, a reused "
            "`activity_id` with new content, an identical re-delivered line (merged, not "
            "quarantined), a purchase "
            "in `XYZ`. |"
        )
    lines += [
        "| `truth/contact_rows.csv` | | Per contact record: the person it really is "
        "(`person_id`), `original` / "
        "`duplicate` / `special`, how it varies, the person's trap, the same person in another "
        "tenant, and the "
        "expected quarantine reason. `row_number` counts records after the header (a record "
        "with an embedded "
        "newline counts once; footer lines are not records). |",
        "| `truth/activity_traps.csv` | | Every planted line with its physical line number and "
        "expected outcome. |",
        "",
        "## People and duplicates",
        "",
        "| tenant | people | records | duplicate records | customers |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for t in TENANTS:
        ppl, rows = people_by_tenant[t.tenant_id], rows_by_tenant[t.tenant_id]
        lines.append(
            f"| {t.tenant_id} | {len(ppl)} | {len(rows)} | "
            f"{sum(1 for r in rows if r.role == 'duplicate')} | "
            f"{sum(1 for p in ppl if p.customer)} |"
        )
    lines += [
        "",
        "Duplicates (`variation` in the truth file) differ by: email case or spaces "
        "(`email_case`); "
        "plus-addressing, same phone (`email_plus`); another phone format with another or no email "
        "(`phone_format`); nickname, Robert/Bob, Katherine/Kate (`nickname`); a one-letter "
        "typo, same phone "
        "(`typo`); first and last name swapped (`swapped`); company suffix, `Inc.` / `, Inc` / "
        "none, sometimes "
        "in capitals (`company_variant`); re-entry (`exact`); capitals (`all_caps`); and "
        "`fuzzy_only` (nickname "
        "or typo, other email, no phone: only fuzzy matching on name and company finds them). "
        "All but "
        "`fuzzy_only` share an email or a phone after normalization. Not duplicates: namesakes "
        "at different "
        "companies, colleagues sharing a switchboard number, and one person in two tenants "
        "(`same_person_in`), "
        "who must stay two contacts.",
        "",
        "Activities follow each person's profile, so every contract segment has members at "
        "2026-11-15: hot "
        "leads (bursts in the last 14 days), existing customers (BG/NBD-like repeat purchases, "
        "Gamma-Gamma-like "
        "order values, refunds, subscriptions started and ended), enterprise prospects, open "
        "support tickets, "
        "cold and stale records, and declining engagement (customers busy every month from day "
        "-210 to day -30, "
        "silent since). Actors: users (`jane.rep`, ...), agents `mercer` (emails, calls and "
        "meetings with "
        "leads), `cheryl` (support, customer emails), `binky` (calls, meetings), and the system "
        "`pipeline` "
        "(purchases, refunds, subscriptions, webinars, downloads, forms, bounces, some emails).",
        "",
    ]
    return "\n".join(lines)
