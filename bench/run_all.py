"""Run every benchmark at the sizes the issues name (see docs/benchmarks.md for the figures)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SCRIPTS = [
    ["bench_import.py", "--rows", "1000000"],
    ["bench_resolve.py", "--rows", "100000", "--splink"],
    ["bench_resolve.py", "--rows", "1000000", "--csv", "--splink"],
    ["bench_resolve.py", "--rows", "1000000", "--csv", "--tenants", "1"],
    ["bench_resolve.py", "--rows", "1010000", "--tenants", "1", "--new-rows", "10000"],
    ["bench_activities.py"],
    ["bench_ltv.py"],
    ["bench_ltv_run.py"],
    ["bench_marts.py", "--customers", "1000000"],
    ["bench_audit.py", "--rows", "1000000"],
    ["bench_lookup_timing.py"],
    ["bench_lead_scores.py", "accuracy", "--contacts", "20000"],
    ["bench_lead_scores.py", "scale", "--contacts", "1000000"],
    ["bench_report.py", "--customers", "1000000"],
    ["bench_forecasts.py"],
    ["bench_agents.py", "--customers", "1000000"],
    ["bench_accounts.py", "--contacts", "1000000"],
    ["bench_enrichment.py", "--rows", "100000"],
    ["bench_workflows.py", "--contacts", "1000000"],
    ["bench_shards.py", "small"],
    ["bench_shards.py", "files"],
    ["bench_shards.py", "many"],
]


def main() -> int:
    failed = 0
    for script, *args in SCRIPTS:
        path = BENCH / script
        if not path.exists():
            continue
        print(f"== {script} {' '.join(args)}", flush=True)
        failed |= subprocess.call([sys.executable, str(path), *args])
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
