"""Quality and speed of entity resolution on the labelled generator (or the sample's truth).

    .venv/bin/python bench/bench_resolve.py --rows 100000 --noise normal
    .venv/bin/python bench/bench_resolve.py --rows 100000 --noise high --incremental
    .venv/bin/python bench/bench_resolve.py --sample-home /tmp/demo_home   # after `crm --home ... demo`
    .venv/bin/python bench/bench_resolve.py --rows 100000 --splink   # Splink beside ours
    .venv/bin/python bench/bench_resolve.py --rows 1010000 --tenants 1 --new-rows 10000
    .venv/bin/python bench/bench_resolve.py --kind people --rows 10000 --splink

`--kind people` runs on `bench/people_generator.py`'s rows instead: name, postal address and birth
date only (no email, phone or company), with its traps (twins, parent and child, neighbours).

Rows go the real way, as a run takes them: raw.contact_rows (mapped values), `normalize_import` for
every tenant, then every tenant resolved (`decide`, the next tenant on a worker thread, while
`apply_decision` writes this one), each step of each tenant in its own transaction. `--incremental` resolves each tenant's first file, then its second against it;
`--new-rows K` makes that second file K rows drawn at random (new people and duplicates of people
already resolved), so "K new rows into N existing" is timed on its own (`second_resolve`).
Prints pairwise precision, recall and F1 (pairs of rows placed in one contact vs pairs of rows of
one person), cluster-level figures (share of people whose rows form exactly one contact), the
traps (common-name crowds, shared main lines, the same person in two tenants), timings and peak
memory (`max_rss_mb`: this process's peak RSS from staging to the last commit; the rows are
generated in a spawned process, whose Python dicts would otherwise count). Not run by the tests;
the lead runs the 1M-row figures.

`--splink` (needs `uv sync --group bench`) then runs the Splink baseline
(`bench/splink_baseline.py`) on the same generated rows, after ours and in a spawned process of its
own, so each side's peak memory is its own; its figures go under "splink", scored the same way.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import people_generator  # noqa: E402
from bench.resolve_generator import TENANTS, generate  # noqa: E402
from crm_pipeline.contacts.importer import normalize_import, stage_contact_file  # noqa: E402
from crm_pipeline.contacts.imports import register_import  # noqa: E402
from crm_pipeline.contacts.resolve.ahead import decisions_ahead  # noqa: E402
from crm_pipeline.contacts.resolve.apply import apply_decision  # noqa: E402
from crm_pipeline.tenants import ensure_tenant  # noqa: E402
from crm_pipeline.trust.audit import ChangeContext  # noqa: E402
from crm_pipeline.warehouse import connect, create_tables, frame, run  # noqa: E402

FIELDS = (
    "source_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "job_title",
    "city",
    "country",
    "created_at",
)
PEOPLE_FIELDS = ("source_id", "first_name", "last_name", "street", "city", "postcode", "state",
                 "country", "birthdate", "created_at")  # fmt: skip
REGION = {"gen_us": "US", "gen_gb": "GB", "gen_de": "DE", "gen_us2": "US"} | {
    tenant: country for tenant, country in people_generator.TENANTS
}


def stage(con, rows: pl.DataFrame, import_no: int, at: datetime) -> list[tuple[str, str]]:
    """Write one file per tenant into raw and staging; returns (tenant, import_id)."""
    out = []
    part = rows.filter(pl.col("import_no") == import_no)
    fields = FIELDS if "email" in rows.columns else PEOPLE_FIELDS
    for (tenant,), sub in part.group_by("tenant_id", maintain_order=True):
        import_id = f"imp_{tenant}_{import_no}"
        raw = sub.with_row_index("row_number", offset=1).select(
            pl.lit(tenant).alias("tenant_id"),
            pl.lit(import_id).alias("import_id"),
            pl.col("row_number").cast(pl.Int64),
            "source_id",
            pl.lit("generator").alias("source_system"),
            pl.struct(*fields).struct.json_encode().alias("record"),
            pl.struct(*fields).struct.json_encode().alias("mapped"),
        )
        con.register("_raw", raw)
        run(con, "INSERT INTO raw.contact_rows BY NAME SELECT * FROM _raw")
        con.unregister("_raw")
        register_import(
            con,
            tenant_id=tenant,
            import_id=import_id,
            kind="contact",
            file_name=f"{import_id}.csv",
            file_sha256=import_id,
            rows_in=raw.height,
            at=at,
        )
        out.append((tenant, import_id))
    return out


CSV_HEADER = {"source_id": "Record ID", "first_name": "First Name", "last_name": "Last Name",
              "email": "Email", "phone": "Phone Number", "company": "Company Name",
              "job_title": "Job Title", "city": "City", "country": "Country/Region",
              "created_at": "Create Date"}


def ensure_tenants(con, rows: pl.DataFrame) -> None:
    for tenant in rows["tenant_id"].unique(maintain_order=True).to_list():
        ensure_tenant(con, tenant, home_country=REGION.get(tenant, "US"))


def write_csvs(rows: pl.DataFrame, folder: Path) -> dict[str, Path]:
    """Each tenant's rows as a HubSpot export (tenant -> file)."""
    files = {}
    for (tenant,), sub in rows.group_by("tenant_id", maintain_order=True):
        files[tenant] = folder / f"{tenant}.csv"
        sub.select([pl.col(c).alias(h) for c, h in CSV_HEADER.items()]).write_csv(files[tenant])
    return files


def stage_csv(con, files: dict[str, Path], at: datetime) -> list[tuple[str, str]]:
    """The files imported as `crm import` does (read, header recognition, raw rows); returns
    (tenant, import_id)."""
    out = []
    for tenant, path in files.items():
        result = stage_contact_file(con, tenant_id=tenant, path=path, at=at,
                                    region=REGION.get(tenant, "US"))
        out.append((tenant, result["import_id"]))
    return out


def normalize_and_resolve(con, imports: list[tuple[str, str]], at: datetime) -> dict:
    """As a run does: every tenant normalized, then every tenant resolved (the next tenant
    decided on a worker thread while this one is written), each in its own transaction."""
    timings = {"normalize": 0.0, "resolve": 0.0, "resolve_cpu": 0.0}
    key = b"bench-key"
    t0 = time.perf_counter()
    for tenant, import_id in imports:
        run(con, "BEGIN TRANSACTION")
        normalize_import(
            con,
            tenant_id=tenant,
            import_id=import_id,
            home_region=REGION.get(tenant, "US"),
            key=key,
            run_id="bench",
            at=at,
        )
        run(con, "COMMIT")
    t1 = time.perf_counter()
    c1 = time.process_time()
    contexts = {
        tenant: ChangeContext(tenant, f"bench-{import_id}", "pipeline", "system", key, at)
        for tenant, import_id in imports
    }
    with decisions_ahead(con, contexts) as decided:
        for tenant, ctx in contexts.items():
            run(con, "BEGIN TRANSACTION")
            apply_decision(con, ctx, decided(tenant))
            run(con, "COMMIT")
    timings["normalize"] = t1 - t0
    timings["resolve"] = time.perf_counter() - t1
    timings["resolve_cpu"] = time.process_time() - c1
    return timings


def pairwise(assign: pl.DataFrame) -> dict:
    """Pairwise and cluster figures of predicted `contact_id` vs true `person_id` per row."""

    def pairs(cols: list[str]) -> int:
        return int(
            assign.group_by(cols)
            .len()
            .select((pl.col("len") * (pl.col("len") - 1) // 2).sum())
            .item()
        )

    tp = pairs(["tenant_id", "contact_id", "person_id"])
    pred = pairs(["tenant_id", "contact_id"])
    true = pairs(["tenant_id", "person_id"])
    precision = tp / pred if pred else 1.0
    recall = tp / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    per_person = assign.group_by("tenant_id", "person_id").agg(
        pl.col("contact_id").n_unique().alias("contacts")
    )
    per_contact = assign.group_by("tenant_id", "contact_id").agg(
        pl.col("person_id").n_unique().alias("people")
    )
    exact = (
        assign.join(per_person, on=["tenant_id", "person_id"])
        .join(per_contact, on=["tenant_id", "contact_id"])
        .group_by("tenant_id", "person_id")
        .agg(((pl.col("contacts") == 1) & (pl.col("people") == 1)).all().alias("ok"))
    )
    return {
        "rows": assign.height,
        "people": per_person.height,
        "contacts": per_contact.height,
        "pair_precision": round(precision, 4),
        "pair_recall": round(recall, 4),
        "pair_f1": round(f1, 4),
        "true_pairs": true,
        "predicted_pairs": pred,
        "people_exact": round(float(exact["ok"].mean()), 4),
        "people_split": int((per_person["contacts"] > 1).sum()),
        "contacts_mixed": int((per_contact["people"] > 1).sum()),
    }


def traps(assign: pl.DataFrame) -> dict:
    """Common-name crowds and shared lines wrongly joined; cross-tenant twins never can be."""
    mixed = assign.group_by("tenant_id", "contact_id").agg(
        pl.col("person_id").n_unique().alias("people"), pl.col("trap")
    )
    bad = mixed.filter(pl.col("people") > 1).explode("trap")
    kinds = ("common_name", "shared_line") + (
        ("twin", "parent_child", "neighbour") if "street" in assign.columns else ()
    )
    return {
        **{f"{kind}_wrongly_joined": int((bad["trap"] == kind).sum()) for kind in kinds},
        "cross_tenant_contacts": int(
            assign.group_by("contact_id")
            .agg(pl.col("tenant_id").n_unique())
            .filter(pl.col("tenant_id") > 1)
            .height
        ),
    }


def generated(
    rows_n: int, noise: str, seed: int, tenants: tuple, kind: str = "crm"
) -> pl.DataFrame:
    """The generator's rows, made in a spawned process: building a million rows as Python dicts
    peaks at gigabytes that this process would then count (and keep) as its own."""
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="bench_rows_") as tmp:
        path = Path(tmp) / "rows.parquet"
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            pool.submit(_write_generated, path, rows_n, noise, seed, tenants, kind).result()
        return pl.read_parquet(path)


def _write_generated(
    path: Path, rows_n: int, noise: str, seed: int, tenants: tuple, kind: str = "crm"
) -> None:
    if kind == "people":
        people_generator.generate(rows_n, seed=seed, tenants=tenants).write_parquet(path)
    else:
        generate(rows_n, noise=noise, seed=seed, tenants=tenants).write_parquet(path)


def reset_peak_rss() -> None:
    """Start the peak-memory count now (Linux: the high-water mark of this process's RSS)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mb() -> int:
    """Peak RSS since `reset_peak_rss` (VmHWM), in MB; the lifetime peak where that is unknown."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def bench(
    rows_n: int,
    noise: str,
    incremental: bool,
    seed: int,
    errors: Path | None = None,
    splink_threshold: float | None = None,
    tenants: int | None = None,
    new_rows: int | None = None,
    memory_limit: str | None = None,
    csv: bool = False,
    kind: str = "crm",
) -> dict:
    all_tenants = people_generator.TENANTS if kind == "people" else TENANTS
    rows = generated(rows_n, noise, seed, all_tenants[: tenants or len(all_tenants)], kind)
    if new_rows:
        incremental = True
        later = np.random.default_rng(seed).permutation(rows.height) < new_rows
        rows = rows.with_columns(pl.Series("import_no", later.astype(np.int64)))
        rows = rows.sort("tenant_id", "import_no", maintain_order=True)
    # A warehouse file, as in real use (an in-memory database would count every table in RSS).
    db = Path(tempfile.mkdtemp(prefix="bench_resolve_")) / "warehouse.duckdb"
    con = connect(db)
    if memory_limit:
        run(con, f"SET memory_limit = '{memory_limit}'")
    create_tables(con)
    at = datetime(2026, 1, 1, 12)
    import_ids: dict[str, str] = {}
    if csv:
        files = write_csvs(rows.with_columns(pl.lit(0).alias("import_no")), db.parent)
        ensure_tenants(con, rows)
    reset_peak_rss()
    t0 = time.perf_counter()
    c0 = time.process_time()
    if incremental:
        timings = normalize_and_resolve(con, stage(con, rows, 0, at), at)
        later = datetime(2026, 1, 2, 12)
        second = normalize_and_resolve(con, stage(con, rows, 1, later), later)
        timings = {"first_" + k: round(v, 2) for k, v in timings.items()} | {
            "second_" + k: round(v, 2) for k, v in second.items()
        }
    else:
        at_rows = rows.with_columns(pl.lit(0).alias("import_no"))
        if csv:  # the whole path: files read and staged as `crm import` does, then the run
            imports = stage_csv(con, files, at)
            timings = {"import": round(time.perf_counter() - t0, 2)}
            import_ids = dict(imports)
        else:
            imports = stage(con, at_rows, 0, at)
            timings = {}
        timings |= {k: round(v, 2) for k, v in normalize_and_resolve(con, imports, at).items()}
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    truth = rows.with_columns(pl.col("import_no") if incremental else pl.lit(0).alias("import_no"))
    truth = truth.with_columns(
        (pl.col("tenant_id").replace_strict(import_ids) if import_ids else
         "imp_" + pl.col("tenant_id") + "_" + pl.col("import_no").cast(pl.Utf8)).alias("import_id"),
        (pl.int_range(pl.len()).over("tenant_id", "import_no") + 1)
        .cast(pl.Int64)
        .alias("row_number"),
    )
    placed = frame(
        con, "SELECT tenant_id, import_id, row_number, contact_id FROM core.contact_sources"
    )
    assign = truth.join(placed, on=["tenant_id", "import_id", "row_number"], how="inner")
    result = {
        "kind": kind,
        "rows_generated": rows.height,
        "noise": noise,
        "incremental": incremental,
        **pairwise(assign),
        **traps(assign),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        **timings,
        "max_rss_mb": peak_rss_mb(),
    }
    result["evidence_rows"] = run(con, "SELECT count(*) FROM core.match_evidence")[0][0]
    if errors:
        write_errors(con, assign, errors)
    con.close()
    shutil.rmtree(db.parent, ignore_errors=True)
    if splink_threshold is not None:
        result["splink"] = splink_figures(rows, splink_threshold, kind)
    return result


def splink_figures(rows: pl.DataFrame, threshold: float, kind: str = "crm") -> dict:
    """The Splink baseline on the same rows, in a fresh process (its own peak memory), scored as
    ours is. All rows are deduplicated in one batch, also after an `--incremental` run of ours."""
    from bench.splink_baseline import splink_clusters

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        clusters, timings = pool.submit(
            splink_clusters, rows, threshold, people=kind == "people"
        ).result()
    assign = (
        rows.with_row_index("row")
        .with_columns(pl.col("row").cast(pl.Int64))
        .join(clusters.drop("tenant_id"), on="row", how="inner")
        .with_columns(pl.col("cluster_id").cast(pl.Utf8).alias("contact_id"))
    )
    return {**pairwise(assign), **traps(assign), **timings}


def write_errors(con, assign: pl.DataFrame, path: Path) -> None:
    """Rows of wrongly joined contacts (with the evidence inside them) and of split people."""
    mixed = assign.filter(pl.col("person_id").n_unique().over("tenant_id", "contact_id") > 1)
    split = assign.filter(pl.col("contact_id").n_unique().over("tenant_id", "person_id") > 1)
    cols = ["tenant_id", "contact_id", "person_id", "import_id", "row_number", "first_name",
            "last_name", "email", "phone", "company", "job_title", "city", "trap"]  # fmt: skip
    if "street" in assign.columns:
        cols = ["tenant_id", "contact_id", "person_id", "import_id", "row_number", "first_name",
                "last_name", "street", "city", "postcode", "state", "birthdate", "trap"]  # fmt: skip
    evidence = frame(con, "SELECT * FROM core.match_evidence")
    path.mkdir(parents=True, exist_ok=True)
    mixed.select(cols).sort("tenant_id", "contact_id", "person_id").write_csv(path / "mixed.csv")
    split.select(cols).sort("tenant_id", "person_id", "contact_id").write_csv(path / "split.csv")
    evidence.join(
        mixed.select("tenant_id", "contact_id").unique(), on=["tenant_id", "contact_id"]
    ).write_csv(path / "mixed_evidence.csv")


def sample(home: Path) -> dict:
    """Figures on the demo sample: rows placed in a home built by `crm demo` vs its truth file."""
    import duckdb

    truth = pl.read_csv(
        Path(__file__).resolve().parent.parent / "data/sample/truth/contact_rows.csv",
        infer_schema=False,
    )
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    placed = con.sql(
        "SELECT cs.tenant_id, i.file_name, cs.row_number, cs.contact_id FROM core.contact_sources cs "
        "JOIN raw.imports i USING (tenant_id, import_id)"
    ).pl()
    truth = truth.with_columns(
        pl.col("file").str.split("/").list.last().alias("file_name"),
        pl.col("row_number").cast(pl.Int64),
    )
    assign = truth.join(placed, on=["tenant_id", "file_name", "row_number"]).with_columns(
        pl.col("person_trap").fill_null("").alias("trap")
    )
    return {**pairwise(assign), **traps(assign)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=10_000)
    p.add_argument("--noise", choices=("normal", "high"), default="normal")
    p.add_argument("--incremental", action="store_true")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--sample-home", type=Path)
    p.add_argument("--errors", type=Path, help="directory for CSVs of wrong merges and splits")
    p.add_argument("--tenants", type=int, help="use only the first N generator tenants")
    p.add_argument("--new-rows", type=int, help="second file of this many random rows")
    p.add_argument("--memory-limit", help="DuckDB memory_limit (default: DuckDB's, as crm runs)")
    p.add_argument("--splink", action="store_true", help="also run the Splink baseline")
    p.add_argument("--csv", action="store_true",
                   help="time the whole path: each tenant's rows as a HubSpot CSV, imported")
    p.add_argument("--splink-threshold", type=float, default=0.9, help="its match probability")
    p.add_argument("--kind", choices=("crm", "people"), default="crm",
                   help="people: name, address and birth date only (bench/people_generator.py)")
    a = p.parse_args()
    result = (
        sample(a.sample_home)
        if a.sample_home
        else bench(
            a.rows,
            a.noise,
            a.incremental,
            a.seed,
            a.errors,
            a.splink_threshold if a.splink else None,
            a.tenants,
            a.new_rows,
            a.memory_limit,
            a.csv,
            a.kind,
        )
    )
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
