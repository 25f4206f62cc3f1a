"""The whole sample in one pass, stage by stage, and the command line that writes it."""

from __future__ import annotations

from pathlib import Path

from .activity_log import build_activity_log
from .contact_files import write_contact_file
from .contacts import Row, assign_ids, make_rows
from .people import add_cross_tenant_twins, make_people
from .readme import readme_text
from .tenants import TENANT_BY_ID, TENANTS
from .truth import manifest_text, truth_rows_csv, truth_traps_csv

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample"  # data/sample/


def generate(out_dir: Path) -> dict:
    out_dir = Path(out_dir)
    people_by_tenant = {t.tenant_id: make_people(t) for t in TENANTS}
    add_cross_tenant_twins(people_by_tenant)
    rows_by_tenant: dict[str, list[Row]] = {}
    for t in TENANTS:
        rows = make_rows(t, people_by_tenant[t.tenant_id])
        assign_ids(t, rows)
        rows_by_tenant[t.tenant_id] = rows
        for spec in t.files:
            write_contact_file(out_dir, t, spec, rows)
    stats, traps_by_tenant = {}, {}
    order = [t.tenant_id for t in TENANTS]
    for i, t in enumerate(TENANTS):
        other = TENANT_BY_ID[order[(i + 1) % len(order)]]
        mine = {p.email for p in people_by_tenant[t.tenant_id] if p.email}
        foreign = next(
            p.email
            for p in people_by_tenant[other.tenant_id]
            if p.email and p.email not in mine and not p.trap and p.rows and not p.rows[0].expected
        )
        text, traps, s = build_activity_log(
            t, people_by_tenant[t.tenant_id], foreign, other.tenant_id
        )
        (out_dir / t.tenant_id / "activities.jsonl").write_text(
            text, encoding="utf-8", newline="\n"
        )
        stats[t.tenant_id], traps_by_tenant[t.tenant_id] = s, traps
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    (out_dir / "truth" / "contact_rows.csv").write_text(
        truth_rows_csv(rows_by_tenant), encoding="utf-8", newline="\n"
    )
    (out_dir / "truth" / "activity_traps.csv").write_text(
        truth_traps_csv(traps_by_tenant), encoding="utf-8", newline="\n"
    )
    (out_dir / "manifest.yaml").write_text(manifest_text(), encoding="utf-8", newline="\n")
    (out_dir / "README.md").write_text(
        readme_text(rows_by_tenant, people_by_tenant, stats), encoding="utf-8", newline="\n"
    )
    return {"rows": {t: len(r) for t, r in rows_by_tenant.items()}, "activities": stats}


def main(argv: list[str]) -> int:
    """`argv` as in sys.argv: an optional output directory, by default data/sample/."""
    out = Path(argv[1]) if len(argv) > 1 else SAMPLE_DIR
    summary = generate(out)
    for tenant_id, s in summary["activities"].items():
        print(
            f"{tenant_id}: {summary['rows'][tenant_id]} contact records, {s['lines']} activity "
            f"lines"
        )
    return 0
