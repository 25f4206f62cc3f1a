"""The activity line format as a JSON Schema, and `crm import activities --check`: the schema is
shipped and valid, `--check` agrees with the importer on every reason a line alone decides, the
sample logs pass but for their planted bad lines, and a check changes nothing."""

from __future__ import annotations

import csv
import json
from importlib.resources import files
from pathlib import Path

import pytest
from helpers import HUBSPOT_HEADER, crm, working, write_csv, write_jsonl
from jsonschema import Draft202012Validator

from crm_pipeline.activities.schema import (
    FORMAT_REASONS,
    activity_schema,
    check_activity_file,
    line_problem,
)
from crm_pipeline.trust.roles import ACTIVITY_TYPES

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
AS_OF = "2026-11-15"
CONTACTS = [
    "101,Ann,Lee,ann.lee@example.com,+1 415 555 2671,Acme Inc.,CEO,250,Boston,US,2024-03-12 09:14",
    "103,Bob,Stone,bob@example.com,415-555-0100,Beta LLC,Engineer,12,Austin,US,2024-01-02 08:00",
]


def good(activity_id: str, **fields) -> dict:
    base = {"activity_id": activity_id, "tenant_id": "t1", "type": "email",
            "occurred_at": "2026-10-01T10:00:00Z", "source_id": "101", "actor": "jane"}
    return {k: v for k, v in (base | fields).items() if v is not ...}


def raw(activity_id: str, fragment: str) -> str:
    """A line written by hand (values json.dumps would not write)."""
    return (f'{{"activity_id": "{activity_id}", "tenant_id": "t1", "type": "purchase", '
            f'"occurred_at": "2026-10-01T10:00:00Z", "source_id": "101", {fragment}}}')


# Lines the importer accepts (or merges) and --check must pass.
ACCEPTED = [
    good("ok_email", direction="outbound", subject="Hi"),
    good("ok_padded", type=" Email ", tenant_id=" t1 ", actor_kind="USER"),
    good("ok_purchase", type="purchase", amount=120.5, currency="usd"),
    good("ok_text_amount", type="refund", amount="10.00"),
    good("ok_edge_amount", type="purchase", amount=999_999_999_999.99),
    good("ok_email_ref", source_id=..., email=" ANN.LEE@example.com "),
    good("ok_phone_ref", source_id=..., phone="+14155552671"),
    good("ok_offset", occurred_at="2026-10-01T10:00:00+14:00"),
    good("ok_nepal", occurred_at="2026-10-01T10:00:00+0545"),
    good("ok_hours_only", occurred_at="2026-10-01T10:00:00-03"),
    good("ok_fraction", occurred_at="2026-10-01 10:00:00,123Z"),
    good("ok_first", occurred_at="1900-01-01T00:00:00Z"),
    good("ok_scheduled", type="meeting", status="scheduled", occurred_at="2027-06-01T10:00:00Z"),
    good("ok_nulls", subject=None, notes="", direction="   "),
    good("ok_extra", custom_field={"nested": [1, 2]}),
    good("ok_system", actor="pipeline", actor_kind="system", type="download"),
    *[good(f"ok_type_{t}", type=t, **({"amount": 5} if t in ("purchase", "refund") else {}))
      for t in ACTIVITY_TYPES],
]
# Lines the importer quarantines for a reason the line alone decides.
BAD = {
    "truncated": '{"activity_id": "t", "tenant_id": "t1"',
    "array": '[{"activity_id": "a"}]',
    "string": '"just text"',
    "number_line": "42",
    "repeated_key": raw("rk", '"amount": 5, "amount": 6'),
    "id_number": good(12),
    "id_array": good(["x"]),
    "id_blank": good("   "),
    "id_too_long": good("x" * 257),
    "id_missing": good(...),
    "no_tenant": good("nt", tenant_id=...),
    "blank_tenant": good("bt", tenant_id=" "),
    "other_tenant": good("ot", tenant_id="t2"),
    "no_time": good("nt2", occurred_at=...),
    "no_zone": good("nz", occurred_at="2026-10-01T10:00:00"),
    "words": good("w", occurred_at="yesterday afternoon"),
    "impossible_date": good("id", occurred_at="2026-02-30T10:00:00Z"),
    "month_13": good("m13", occurred_at="2026-13-45T25:61:00Z"),
    "offset_25h": good("o25", occurred_at="2026-10-01T10:00:00+25:00"),
    "offset_past_14h": good("o14", occurred_at="2026-10-01T10:00:00+14:01"),
    "offset_minutes_99": good("o99", occurred_at="2026-10-01T10:00:00+05:99"),
    "year_1899": good("y1899", occurred_at="1899-12-31T23:59:59Z"),
    "past_9999_in_utc": good("y9999", type="meeting", status="scheduled",
                             occurred_at="9999-12-31T23:00:00-05:00"),
    "time_number": good("tn", occurred_at=1700000000),
    "no_type": good("nty", type=...),
    "fax": good("fax", type="fax"),
    "type_object": good("to", type={"x": 1}),
    "actor_kind_robot": good("ak", actor_kind="robot"),
    "no_reference": good("nr", source_id=...),
    "blank_references": good("br", source_id=" ", email=""),
    "purchase_without_amount": good("pa", type="purchase"),
    "refund_blank_amount": good("ra", type="refund", amount=" "),
    "amount_words": good("aw", type="purchase", amount="a lot"),
    "amount_trillions": good("at", type="purchase", amount=2_000_000_000_000),
    "amount_text_trillions": good("att", type="purchase", amount="2e12"),
    "amount_nan_text": good("ant", type="purchase", amount="NaN"),
    "amount_infinity": good("ai", type="purchase", amount="-Infinity"),
    "amount_1e999": good("a999", type="purchase", amount="1e999"),
    "amount_bare_nan": raw("abn", '"amount": NaN'),
    "amount_1e400": raw("a400", '"amount": 1e400'),
    "amount_true": good("atr", type="email", amount=True),
    "email_amount_inf": good("eai", type="email", amount="inf"),
}
# What decides these is in the warehouse, not the line: --check passes them.
CONTEXT = [
    good("ctx_unknown_source", source_id="999"),
    good("ctx_future", occurred_at="2029-01-01T10:00:00Z"),
    good("ctx_currency", type="purchase", amount=5, currency="XYZ"),
    good("ctx_agent_grant", actor="cheryl", type="purchase", amount=5),
]


def line_text(line: dict | str) -> str:
    return line if isinstance(line, str) else json.dumps(line)


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """The corpus imported for real: {line text: (outcome, reason_code)}."""
    tmp = tmp_path_factory.mktemp("schema")
    home = tmp / "home"
    contacts = write_csv(tmp / "c.csv", HUBSPOT_HEADER, CONTACTS)
    assert crm(home, "import", "contacts", contacts, "--tenant", "t1", "--no-run")[0] == 0
    lines = [*ACCEPTED, *BAD.values(), *CONTEXT]
    log = write_jsonl(tmp / "corpus.jsonl", lines)
    code, _, err = crm(home, "import", "activities", log, "--tenant", "t1", "--as-of", AS_OF)
    assert code == 0, err
    con = working(home)
    reasons = dict(con.execute("SELECT row_number, reason_code FROM quarantine.rows "
                               "WHERE kind = 'activity'").fetchall())
    con.close()
    return {line_text(line): reasons.get(n) for n, line in enumerate(lines, start=1)}, log


def test_the_schema_is_shipped_in_the_package_and_is_valid():
    shipped = files("crm_pipeline.activities").joinpath("activity.schema.json")
    schema = json.loads(shipped.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema == activity_schema()
    assert schema["properties"]["type"]["enum"] == list(ACTIVITY_TYPES)


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_line_the_importer_quarantines_for_its_format_is_rejected_by_check_alike(imported,
                                                                                   case):
    outcome, _ = imported
    text = line_text(BAD[case])
    reason = outcome[text]
    assert reason in FORMAT_REASONS, (case, reason)
    problem = line_problem(text, "t1")
    assert problem is not None, case
    assert problem[0] == reason, (case, problem)
    assert "\n" not in problem[1]


def test_lines_the_importer_takes_pass_the_check(imported):
    outcome, _ = imported
    for line in ACCEPTED + CONTEXT:
        text = line_text(line)
        assert line_problem(text, "t1") is None, text
        if line in ACCEPTED:
            assert outcome[text] is None, text


def test_the_whole_corpus_file_is_counted_by_reason(imported):
    _, log = imported
    report = check_activity_file(log, "t1")
    assert report.lines == len(ACCEPTED) + len(BAD) + len(CONTEXT)
    assert report.invalid == len(BAD)
    assert sum(report.by_reason.values()) == len(BAD)
    assert len(report.first_bad) == 20 and report.first_bad[0][0] == len(ACCEPTED) + 1


def _planted(tenant: str) -> dict[int, str]:
    with (SAMPLE / "truth" / "activity_traps.csv").open(encoding="utf-8") as fh:
        return {int(r["line_number"]): r["expected"] for r in csv.DictReader(fh)
                if r["tenant_id"] == tenant}


@pytest.mark.parametrize("tenant", ["acme_us", "brit_gb", "deutsch_de"])
def test_the_sample_logs_pass_but_for_their_planted_format_errors(tenant):
    report = check_activity_file(SAMPLE / tenant / "activities.jsonl", tenant)
    # the planted unknown_contact lines name someone nobody (or another tenant) is: context
    always_the_line = FORMAT_REASONS[:5]  # the other three depend on the warehouse sometimes
    expected = {n: r for n, r in _planted(tenant).items() if r in always_the_line}
    assert {n: r for n, r, _ in report.first_bad} == expected
    assert report.invalid == len(expected) and report.valid == report.lines - len(expected)


def test_check_from_the_command_line_changes_nothing(tmp_path, capsys):
    home = tmp_path / "home"
    ok = write_jsonl(tmp_path / "ok.jsonl", ACCEPTED[:3])
    code, out, err = crm(home, "import", "activities", ok, "--tenant", "t1", "--check",
                         capsys=capsys)
    assert code == 0, err
    assert "3 lines checked, 3 valid, 0 invalid" in out
    bad = write_jsonl(tmp_path / "bad.jsonl", [ACCEPTED[0], BAD["fax"], BAD["no_zone"]])
    code, out, _ = crm(home, "import", "activities", bad, "--tenant", "t1", "--check",
                       capsys=capsys)
    assert code == 2
    assert "line 2: unknown_activity_type: type \"fax\"" in out
    assert "line 3: bad_timestamp:" in out and "bad_timestamp: 1" in out
    assert not home.exists()  # no home, no warehouse, nothing imported


@pytest.mark.parametrize("content, problem", [
    (b"", "only blank lines"),
    (b"\x00\x01\x02binary\x03" * 10, "binary"),
    (b"\n\n  \n", "only blank lines"),
])
def test_a_file_that_is_no_log_is_refused_in_one_line(tmp_path, capsys, content, problem):
    path = tmp_path / "x.jsonl"
    path.write_bytes(content)
    code, _, err = crm(tmp_path / "home", "import", "activities", path, "--tenant", "t1",
                       "--check", capsys=capsys)
    assert code == 2 and problem in err and str(path) in err
    assert len(err.strip().splitlines()) == 1


def test_the_documented_example_of_every_type_passes_the_check():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "activities.md").read_text("utf-8")
    examples = [json.loads(block) for block in doc.split("```json\n")[1:]
                for block in [block.split("\n```")[0]]]
    assert sorted(e["type"] for e in examples) == sorted(ACTIVITY_TYPES)
    for example in examples:
        assert line_problem(json.dumps(example), "acme_us") is None, example
