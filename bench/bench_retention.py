"""Benchmark: the run's retention stage on a tenant with N contact rows (every 10th quarantined)
processed 309 days before the as-of date, on a copy of its shard; then a second pass.
Usage: python bench/bench_retention.py [ROWS] [WORKDIR]"""
import shutil
import sys
import time
from datetime import date
from pathlib import Path

from crm_pipeline.contacts.retention import RetentionDays, apply_retention
from crm_pipeline.home import Home
from crm_pipeline.trust.audit import ChangeContext
from crm_pipeline.warehouse import connect, transaction, utc_now

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
d = Path(sys.argv[2] if len(sys.argv) > 2 else "/tmp/ret_bench")
d.mkdir(parents=True, exist_ok=True)
home_dir = d / "home"
csv = d / "c.csv"
if not home_dir.exists():
    with csv.open("w") as f:
        f.write("Record ID,First Name,Last Name,Email,Company Name,Favourite Colour\n")
        for i in range(n):
            if i % 10 == 9:
                f.write(f",,,,Nobody {i},green\n")
            else:
                f.write(f"{i},First{i},Last{i},p{i}@example{i % 97}.com,Co {i % 500},teal\n")
    from crm_pipeline.cli.app import main
    try:
        main(["--home", str(home_dir), "import", "contacts", str(csv), "--tenant", "t1",
              "--as-of", "2026-01-10"])
    except SystemExit as e:
        assert e.code == 0, e.code
home = Home.resolve(home_dir)
shard = home.shard("t1")
copy = d / "copy.duckdb"
shutil.copy(shard, copy)
con = connect(copy)
ctx = ChangeContext("t1", "bench", "pipeline", "system", home.key(), utc_now())
for label in ("first", "second"):
    t0 = time.perf_counter()
    with transaction(con):
        out = apply_retention(con, ctx, home, date(2026, 11, 15), RetentionDays(90, 90, 90))
    print(label, f"{time.perf_counter() - t0:.2f}s", out)
