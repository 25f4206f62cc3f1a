"""Benchmark of issue 15: agents' files at publish time, and one hand-made contact write.

    .venv/bin/python bench/bench_agents.py [--customers N] [--dir DIR] [--writes N]

The home of `bench_ltv_run.py` (N golden contacts who are all customers, their purchases
simulated; 1M by default) is built in a temporary folder and run once through Dagster as
`crm run` does, timing each progress message to the next: "publish: N agent files" closes the
step that builds every agent's file, so the run's share spent on them is read directly. Then
`publish_agent_files` is timed alone (twice), and `crm contact set` on one contact: in process
(`commands.write_contact`: lock, open the shard, check, normalize, write with its audit row,
record the chain head) and as a whole CLI process. Targets: agents' files <= 10% of the run; a
contact set < 1 s. Not run by the tests.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ltv import AS_OF, clock  # noqa: E402
from bench_ltv_run import TENANT, build_home  # noqa: E402

from crm_pipeline.cli import commands  # noqa: E402
from crm_pipeline.contacts.edits import Change  # noqa: E402
from crm_pipeline.progress import set_reporter  # noqa: E402
from crm_pipeline.trust.publish import publish_agent_files  # noqa: E402
from crm_pipeline.trust.roles import Roles  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: temp)")
    parser.add_argument("--writes", type=int, default=5, help="contact sets timed (each way)")
    args = parser.parse_args()

    work = args.dir or Path(tempfile.mkdtemp(prefix="bench_agents_"))
    t0 = time.perf_counter()
    home, purchases = build_home(work / "home", args.customers)
    print(f"setup: {args.customers:,} contacts, {purchases:,} purchases "
          f"({time.perf_counter() - t0:.1f} s, not timed)")
    from dagster_defs.launch import run_pipeline

    marks: list[tuple[str, float, float]] = []
    set_reporter(lambda message: marks.append((message, *clock())))
    print(f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    start = clock()
    try:
        outcome = run_pipeline(home, TENANT, AS_OF.isoformat())
    finally:
        set_reporter(None)
    end = clock()
    print(f"run {outcome.run_id}: success={outcome.success} {outcome.failures or ''}")
    points = [("start", *start), *marks, ("end", *end)]
    agents_wall = agents_cpu = 0.0
    for (message, wall, cpu), (nxt, next_wall, next_cpu) in zip(points, points[1:], strict=False):
        print(f"  {message:<36} {next_wall - wall:7.2f} / {next_cpu - cpu:7.2f}")
        if nxt.endswith("agent files"):
            agents_wall, agents_cpu = next_wall - wall, next_cpu - cpu
    whole_wall, whole_cpu = end[0] - start[0], end[1] - start[1]
    print(f"whole run: {whole_wall:.2f} s wall, {whole_cpu:.2f} s CPU; of which agents' files "
          f"{agents_wall:.2f} s wall ({100 * agents_wall / whole_wall:.1f}%), {agents_cpu:.2f} s "
          f"CPU ({100 * agents_cpu / whole_cpu:.1f}%) (target <= 10%)")
    roles = Roles.for_tenant(home, TENANT)
    for i in range(2):
        w0, c0 = clock()
        files = publish_agent_files(home, TENANT, roles)
        w1, c1 = clock()
        size = sum(f.stat().st_size for f in files if f.is_file())
        print(f"publish_agent_files alone #{i + 1}: {len(files)} files "
              f"({len({f.stat().st_ino for f in files})} distinct), {size / 1e6:.0f} MB, "
              f"{w1 - w0:.2f} s wall / {c1 - c0:.2f} s CPU")

    contact = "c_12345"
    times = []
    for i in range(args.writes):
        w0 = time.perf_counter()
        commands.write_contact(home, TENANT, Change("set", "dana", contact_id=contact,
                                                    fields={"job_title": f"Title {i}"}))
        times.append(time.perf_counter() - w0)
    print(f"crm contact set in process ({args.customers:,} contacts): median "
          f"{statistics.median(times):.3f} s, max {max(times):.3f} s over {len(times)} "
          "(target < 1 s)")
    cli = []
    for i in range(args.writes):
        w0 = time.perf_counter()
        done = subprocess.run([str(Path(sys.executable).with_name("crm")), "--home",
                               str(home.root), "contact", "set", "--tenant", TENANT, "--contact",
                               contact, "--actor", "dana", f"city=Town {i}"],
                              capture_output=True, text=True)
        cli.append(time.perf_counter() - w0)
        if done.returncode:
            print(done.stderr.strip())
    print(f"crm contact set as a CLI process: median {statistics.median(cli):.3f} s, max "
          f"{max(cli):.3f} s over {len(cli)} (interpreter start and imports included)")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (2 cores; above 2 means shared)")
    if args.dir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
