"""What the generator intended, for tests: the manifest and the ground-truth tables.

Never imported by the pipeline: data/sample/truth/ labels every contact record and every planted
activity line.
"""

from __future__ import annotations

import csv
import io

from .activity_log import Trap
from .contacts import Row
from .tenants import TENANTS


def manifest_text() -> str:
    lines = [
        "# The embedded sample: written by data/generate_sample.py, do not edit by hand.",
        'as_of: "2026-11-15"          # the sample\'s as-of date: demo runs use it so segments '
        "are reproducible",
        "tenants:",
    ]
    for t in TENANTS:
        fields = f"tenant_id: {t.tenant_id}, name: {t.name}, home_country: {t.country}"
        lines.append(f"  - {{{fields}, base_currency: {t.currency}}}")
    lines.append("imports:          # in order; the demo imports each file for its tenant")
    for t in TENANTS:
        for spec in t.files:
            lines.append(f"  - {{tenant_id: {t.tenant_id}, kind: contacts, file: {spec.path}}}")
    for t in TENANTS:
        path = f"{t.tenant_id}/activities.jsonl"
        lines.append(f"  - {{tenant_id: {t.tenant_id}, kind: activities, file: {path}}}")
    lines += [
        "ground_truth:     # what the generator intended; for tests, never imported",
        "  contact_rows: truth/contact_rows.csv",
        "  activity_traps: truth/activity_traps.csv",
    ]
    return "\n".join(lines) + "\n"


def truth_rows_csv(rows_by_tenant: dict[str, list[Row]]) -> str:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "tenant_id",
            "file",
            "row_number",
            "source_id",
            "person_id",
            "role",
            "variation",
            "person_trap",
            "same_person_in",
            "expected_quarantine",
        ]
    )
    for t in TENANTS:
        for r in sorted(rows_by_tenant[t.tenant_id], key=lambda r: (r.spec.path, r.row_number)):
            p = r.person
            w.writerow(
                [
                    t.tenant_id,
                    r.spec.path,
                    r.row_number,
                    r.source_id,
                    p.pid if p else "",
                    r.role,
                    r.variation,
                    p.trap if p else "",
                    p.twin if p else "",
                    r.expected,
                ]
            )
    return buf.getvalue()


def truth_traps_csv(traps_by_tenant: dict[str, list[Trap]]) -> str:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["tenant_id", "file", "line_number", "activity_id", "expected", "note"])
    for t in TENANTS:
        for trap in sorted(traps_by_tenant[t.tenant_id], key=lambda x: x.line_number):
            w.writerow(
                [
                    t.tenant_id,
                    f"{t.tenant_id}/activities.jsonl",
                    trap.line_number,
                    trap.activity_id,
                    trap.expected,
                    trap.note,
                ]
            )
    return buf.getvalue()
