"""The embedded sample (data/sample/) is what the generator writes, and holds what the demo needs.

The demo's segments, quarantine counts and merge counts are only meaningful if the sample really
contains the traps the README promises; these tests read the committed files (and the generator's
ground truth in data/sample/truth/) to check that it does.
"""

import csv
import io
import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import email_validator
import phonenumbers
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from sample_generator.clock import utc_offset_hours  # data/ is on pytest's pythonpath

from crm_pipeline.paths import DATA_DIR, SAMPLE_DIR

GENERATOR = DATA_DIR / "generate_sample.py"  # the documented command, a shim over the package
AS_OF = datetime(2026, 11, 15, tzinfo=UTC)
ACTIVITY_TYPES = {
    "email", "call", "meeting", "support", "purchase", "webinar", "download", "form_submission",
    "subscription_start", "subscription_end", "email_bounce", "refund",
}  # fmt: skip
ACTIVITY_REASONS = {
    "unparseable_row", "missing_tenant", "tenant_mismatch", "bad_timestamp", "future_timestamp",
    "unknown_activity_type", "unknown_contact", "conflicting_duplicate", "unknown_currency",
}  # fmt: skip
SALESFORCE_FOOTER = (
    '\r\n"Grand Totals ({n} records)"\r\n"Confidential Information - Do Not Distribute"\r\n'
    '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."\r\n'
)
PLANTED_BAD_PHONES = {"phone_not_a_number", "phone_too_short", "mobile_not_a_number"}
PLANTED_BAD_EMAILS = {"invalid_email_no_domain", "invalid_email_at_word", "invalid_email_double_at"}
EMAIL_COLUMNS = {"Email", "Person - Email - Work", "Person - Email - Home"}
PHONE_COLUMNS = {
    "Phone Number", "Mobile Phone Number", "Phone", "Mobile", "Person - Phone - Work",
    "Person - Phone - Mobile",
}  # fmt: skip


# ------------------------------------------------------------------------------------------------
# reading the sample


@cache
def manifest() -> dict:
    return yaml.safe_load((SAMPLE_DIR / "manifest.yaml").read_text(encoding="utf-8"))


def tenants() -> list[dict]:
    return manifest()["tenants"]


def contact_files(tenant_id: str) -> list[str]:
    return [
        i["file"]
        for i in manifest()["imports"]
        if i["tenant_id"] == tenant_id and i["kind"] == "contacts"
    ]


def read_csv(path: Path, encoding: str = "utf-8") -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding=encoding), newline="")))


@cache
def truth_rows() -> tuple:
    return tuple(read_csv(SAMPLE_DIR / "truth" / "contact_rows.csv"))


@cache
def truth_traps() -> tuple:
    return tuple(read_csv(SAMPLE_DIR / "truth" / "activity_traps.csv"))


@cache
def records(file: str) -> tuple[list[str], list[list[str]]]:
    """Header and records of a contact export, read the way its vendor wrote it (footer dropped)."""
    encoding, delimiter = ("cp1252", ";") if "pipedrive" in file else ("utf-8-sig", ",")
    text = (SAMPLE_DIR / file).read_bytes().decode(encoding)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    header, body = rows[0], rows[1:]
    if "salesforce" in file:  # a report's footer starts at its first blank line
        body = body[: next(i for i, r in enumerate(body) if not "".join(r))]
    return header, body


def record_dicts(file: str) -> list[dict]:
    header, body = records(file)
    return [dict(zip(header, r, strict=True)) for r in body if len(r) == len(header)]


@cache
def activity_lines(tenant_id: str) -> tuple[str, ...]:
    path = SAMPLE_DIR / tenant_id / "activities.jsonl"
    return tuple(path.read_text(encoding="utf-8").splitlines())


@cache
def ordinary_activities(tenant_id: str) -> tuple[dict, ...]:
    """Lines that are not planted traps (the legitimate future meeting counts as ordinary)."""
    planted = {
        int(t["line_number"])
        for t in truth_traps()
        if t["tenant_id"] == tenant_id and t["expected"] != "accepted"
    }
    lines = activity_lines(tenant_id)
    return tuple(json.loads(x) for i, x in enumerate(lines, 1) if i not in planted)


def occurred(d: dict) -> datetime:
    return datetime.fromisoformat(d["occurred_at"].replace("Z", "+00:00"))


def size_of(value: str) -> int | None:
    """Lower bound of a company size as exports write it: 250, 1,000, 100-499, 5000+."""
    m = re.match(r"\s*(\d[\d,]*)", value or "")
    return int(m.group(1).replace(",", "")) if m else None


# ------------------------------------------------------------------------------------------------
# the generator and the files


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    subprocess.run([sys.executable, str(GENERATOR), str(out)], check=True, capture_output=True)
    return out


def test_regenerating_rewrites_the_committed_sample_byte_for_byte(regenerated):
    fresh = sorted(p.relative_to(regenerated) for p in regenerated.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(SAMPLE_DIR) for p in SAMPLE_DIR.rglob("*") if p.is_file())
    assert fresh == committed
    changed = [p for p in fresh if (regenerated / p).read_bytes() != (SAMPLE_DIR / p).read_bytes()]
    assert changed == []


def test_manifest_names_three_tenants_the_as_of_date_and_existing_files():
    m = manifest()
    assert m["as_of"] == "2026-11-15"
    assert [t["base_currency"] for t in m["tenants"]] == ["USD", "GBP", "EUR"]
    ids = {t["tenant_id"] for t in m["tenants"]}
    for item in m["imports"]:
        assert item["tenant_id"] in ids
        assert item["kind"] in ("contacts", "activities")
        assert (SAMPLE_DIR / item["file"]).is_file(), item["file"]
    for tenant_id in ids:
        assert len(contact_files(tenant_id)) >= 2
        kinds = [i["kind"] for i in m["imports"] if i["tenant_id"] == tenant_id]
        assert kinds.count("activities") == 1
    for path in m["ground_truth"].values():
        assert (SAMPLE_DIR / path).is_file()


def test_total_sample_stays_small_enough_for_a_quick_demo():
    total = sum(p.stat().st_size for p in SAMPLE_DIR.rglob("*") if p.is_file())
    lines = sum(len(activity_lines(t["tenant_id"])) for t in tenants())
    assert total < 5_500_000
    assert 15_000 <= lines <= 40_000


def test_salesforce_reports_end_with_the_real_footer_counting_their_records():
    for file in (
        "brit_gb/salesforce_contacts_report.csv",
        "acme_us/salesforce_contacts_report.csv",
    ):
        text = (SAMPLE_DIR / file).read_bytes().decode("utf-8")
        n = sum(1 for r in truth_rows() if r["file"] == file)
        assert text.endswith(SALESFORCE_FOOTER.format(n=n)), file


def test_pipedrive_export_is_cp1252_not_utf8_and_uses_semicolons():
    data = (SAMPLE_DIR / "deutsch_de" / "pipedrive_people.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = data.decode("cp1252")
    assert text.startswith("Person - ID;Person - Name;")
    for name in ("Müller", "Jürgen", "Weiß"):
        assert name in text


def test_contact_records_line_up_with_the_truth_and_only_the_planted_row_is_ragged():
    for t in tenants():
        for file in contact_files(t["tenant_id"]):
            header, body = records(file)
            truth = sorted(
                (r for r in truth_rows() if r["file"] == file), key=lambda r: int(r["row_number"])
            )
            assert len(body) == len(truth), file
            id_column = next(c for c in ("Record ID", "Contact ID", "Person - ID") if c in header)
            for record, row in zip(body, truth, strict=True):
                ragged = row["variation"] == "ragged_row_unquoted_comma"
                assert (len(record) != len(header)) == ragged, (file, row["row_number"])
                assert record[header.index(id_column)] == row["source_id"]
    ragged = [r for r in truth_rows() if r["expected_quarantine"] == "unparseable_row"]
    assert len(ragged) == 1


def test_source_ids_are_unique_per_tenant_and_one_file_has_19_digit_ids():
    seen = Counter((r["tenant_id"], r["source_id"]) for r in truth_rows())
    assert max(seen.values()) == 1
    long_ids = {r["file"] for r in truth_rows() if re.fullmatch(r"\d{19}", r["source_id"])}
    assert long_ids == {"brit_gb/hubspot_contacts.csv"}


def test_each_tenant_has_600_to_900_people_with_about_15_percent_duplicates_across_files():
    for t in tenants():
        rows = [r for r in truth_rows() if r["tenant_id"] == t["tenant_id"]]
        people = {r["person_id"] for r in rows if r["person_id"]}
        assert 600 <= len(people) <= 900
        duplicates = [r for r in rows if r["role"] == "duplicate"]
        assert 0.12 <= len(duplicates) / len(rows) <= 0.18
        files_of = defaultdict(set)
        for r in rows:
            files_of[r["person_id"]].add(r["file"])
        assert sum(1 for f in files_of.values() if len(f) > 1) >= 30
        kinds = {r["variation"] for r in duplicates}
        assert {
            "nickname",
            "typo",
            "swapped",
            "company_variant",
            "fuzzy_only",
            "email_plus",
        } <= kinds


def test_namesakes_and_shared_switchboard_numbers_belong_to_different_people():
    for t in tenants():
        rows = [r for r in truth_rows() if r["tenant_id"] == t["tenant_id"]]
        for trap in ("common_name", "shared_main_line"):
            assert len({r["person_id"] for r in rows if r["person_trap"] == trap}) >= 3


def test_one_email_is_a_contact_in_two_tenants():
    emails_by_tenant = {}
    for t in tenants():
        emails_by_tenant[t["tenant_id"]] = {
            v.strip().lower()
            for file in contact_files(t["tenant_id"])
            for d in record_dicts(file)
            for k, v in d.items()
            if k in EMAIL_COLUMNS and v.strip()
        }
    assert emails_by_tenant["acme_us"] & emails_by_tenant["brit_gb"]
    assert emails_by_tenant["brit_gb"] & emails_by_tenant["deutsch_de"]
    twins = [r for r in truth_rows() if r["same_person_in"]]
    assert {r["tenant_id"] for r in twins} == {t["tenant_id"] for t in tenants()}


def test_phones_and_emails_are_valid_except_the_planted_bad_values():
    bad_phones, bad_emails, planted_phones, planted_emails = [], [], 0, 0
    for t in tenants():
        for file in contact_files(t["tenant_id"]):
            header, body = records(file)
            truth = {r["row_number"]: r["variation"] for r in truth_rows() if r["file"] == file}
            planted_phones += sum(v in PLANTED_BAD_PHONES for v in truth.values())
            planted_emails += sum(v in PLANTED_BAD_EMAILS for v in truth.values())
            for n, record in enumerate(body, 1):
                if len(record) != len(header):
                    continue
                for column, value in zip(header, record, strict=True):
                    if column in PHONE_COLUMNS and value.strip():
                        if not valid_phone(value, t["home_country"]):
                            bad_phones.append(truth[str(n)])
                    elif column in EMAIL_COLUMNS and value.strip() and not valid_email(value):
                        bad_emails.append(truth[str(n)])
    assert set(bad_phones) == PLANTED_BAD_PHONES and len(bad_phones) == planted_phones
    assert set(bad_emails) == PLANTED_BAD_EMAILS and len(bad_emails) == planted_emails


def valid_phone(value: str, region: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(value, region))
    except phonenumbers.NumberParseException:
        return False


def valid_email(value: str) -> bool:
    try:
        email_validator.validate_email(value.strip(), check_deliverability=False)
    except email_validator.EmailNotValidError:
        return False
    return True


# ------------------------------------------------------------------------------------------------
# activity logs


def test_every_activity_type_appears_in_every_tenant_log():
    for t in tenants():
        types = {d["type"] for d in ordinary_activities(t["tenant_id"])}
        assert types == ACTIVITY_TYPES, t["tenant_id"]


def test_every_quarantine_reason_is_planted_in_every_tenant_at_its_recorded_line():
    for t in tenants():
        traps = [x for x in truth_traps() if x["tenant_id"] == t["tenant_id"]]
        assert {x["expected"] for x in traps} == ACTIVITY_REASONS | {"merged", "accepted"}
        lines = activity_lines(t["tenant_id"])
        for trap in traps:
            line = lines[int(trap["line_number"]) - 1]
            if trap["activity_id"]:
                assert json.loads(line)["activity_id"] == trap["activity_id"]
            else:
                assert trap["expected"] == "unparseable_row"
                with pytest.raises((json.JSONDecodeError, TypeError, KeyError)):
                    json.loads(line)["activity_id"]


def test_ordinary_lines_have_unique_ids_and_zoned_timestamps_up_to_the_as_of_date():
    for t in tenants():
        lines = ordinary_activities(t["tenant_id"])
        assert len({d["activity_id"] for d in lines}) == len(lines)
        assert all(d["tenant_id"] == t["tenant_id"] for d in lines)
        stamps = [d["occurred_at"] for d in lines]
        assert all(occurred(d).tzinfo is not None for d in lines)
        assert any(s.endswith("Z") for s in stamps) and any(s[-6] in "+-" for s in stamps)
        future = [d for d in lines if occurred(d) > AS_OF]
        assert future and all(d["type"] == "meeting" for d in future)
        assert all(d["status"] == "scheduled" for d in future)
        assert min(occurred(d) for d in lines) >= AS_OF - timedelta(days=550)


def test_ordinary_lines_name_a_contact_of_their_own_tenant():
    for t in tenants():
        tid, region = t["tenant_id"], t["home_country"]
        ids = {r["source_id"] for r in truth_rows() if r["tenant_id"] == tid}
        emails, phones = set(), set()
        for file in contact_files(tid):
            for d in record_dicts(file):
                for k, v in d.items():
                    if k in EMAIL_COLUMNS and v.strip():
                        emails.add(v.strip().lower())
                    elif k in PHONE_COLUMNS and valid_phone(v, region):
                        phones.add(e164(v, region))
        refs = Counter()
        for d in ordinary_activities(tid):
            if "source_id" in d:
                assert d["source_id"] in ids
            elif "email" in d:
                assert d["email"].strip().lower() in emails
            else:
                assert e164(d["phone"], region) in phones
            refs[next(k for k in ("source_id", "email", "phone") if k in d)] += 1
        assert refs["source_id"] > refs["email"] > refs["phone"] > 0


def e164(value: str, region: str) -> str:
    return phonenumbers.format_number(
        phonenumbers.parse(value, region), phonenumbers.PhoneNumberFormat.E164
    )


def test_purchases_and_refunds_carry_amounts_mostly_in_the_base_currency():
    for t in tenants():
        money = [
            d for d in ordinary_activities(t["tenant_id"]) if d["type"] in ("purchase", "refund")
        ]
        assert all(d["amount"] > 0 and d["currency"] in ("USD", "GBP", "EUR") for d in money)
        base = sum(1 for d in money if d["currency"] == t["base_currency"])
        assert 0.8 < base / len(money) < 1.0


def test_every_contract_segment_has_members_at_the_as_of_date():
    for t in tenants():
        segments = segment_members(t["tenant_id"])
        for name, members in segments.items():
            assert len(members) >= 3, (t["tenant_id"], name)


def segment_members(tenant_id: str) -> dict[str, set]:
    """A plain reading of the contract's segment rules, over people linked by source_id."""
    rows = [r for r in truth_rows() if r["tenant_id"] == tenant_id]
    person_of = {r["source_id"]: r["person_id"] for r in rows if not r["expected_quarantine"]}
    people = {p for p in person_of.values() if p}
    events = defaultdict(list)
    for d in ordinary_activities(tenant_id):
        if d.get("source_id") in person_of:
            events[person_of[d["source_id"]]].append((occurred(d), d))
    sizes = {}
    for file in contact_files(tenant_id):
        header, body = records(file)
        column = next((c for c in header if "mployees" in c), None)
        by_number = {r["row_number"]: r["person_id"] for r in rows if r["file"] == file}
        for n, record in enumerate(body, 1):
            if column and len(record) == len(header) and by_number[str(n)]:
                size = size_of(record[header.index(column)])
                if size is not None:
                    sizes[by_number[str(n)]] = size

    def past(p):
        return [(ts, d) for ts, d in events[p] if ts <= AS_OF]

    def last(p):
        return max((ts for ts, _ in past(p)), default=None)

    def since(days):
        return AS_OF - timedelta(days=days)

    customers = {
        p for p in people
        if any(d["type"] == "purchase" and ts > since(365) for ts, d in past(p))
    }  # fmt: skip
    open_tickets = set()
    for p in people:
        status = {}
        for _, d in sorted(past(p), key=lambda x: x[0]):
            if d["type"] == "support":
                status[d["ticket_id"]] = d["status"]
        if "open" in status.values():
            open_tickets.add(p)
    declining = set()
    for p in customers:
        stamps = [ts for ts, _ in past(p)]
        months = [
            sum(since(210 - 30 * m) < ts <= since(180 - 30 * m) for ts in stamps) for m in range(6)
        ]
        recent = sum(ts > since(30) for ts in stamps)
        if all(months) and recent < sum(months) / 6 / 2:
            declining.add(p)
    return {
        "hot_leads": {p for p in people - customers if last(p) and last(p) > since(14)},
        "existing_customers": customers,
        "enterprise_prospects": {p for p in people - customers if sizes.get(p, 0) >= 100},
        "support_active": open_tickets,
        "cold_leads": {p for p in people - customers if not last(p) or last(p) < since(60)},
        "stale_records": {p for p in people if not last(p) or last(p) < since(90)},
        "declining_engagement": declining,
    }


# ------------------------------------------------------------------------------------------------
# the generator's own clock arithmetic


@cache
def real_zones() -> dict:
    import zoneinfo

    names = {"us_eastern": "America/New_York", "uk": "Europe/London", "de": "Europe/Berlin"}
    try:
        return {zone: zoneinfo.ZoneInfo(name) for zone, name in names.items()}
    except zoneinfo.ZoneInfoNotFoundError:
        return {}


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(2019, 1, 1), max_value=datetime(2030, 12, 31)))
def test_local_offsets_follow_the_real_daylight_saving_rules(moment):
    if not real_zones():
        pytest.skip("no time zone database on this machine")
    t = moment.replace(tzinfo=UTC)
    for zone, tz in real_zones().items():
        offset = timedelta(hours=utc_offset_hours(zone, t))
        assert offset == t.astimezone(tz).utcoffset(), zone
