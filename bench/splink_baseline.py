"""Splink 5 (DuckDB) on the generator's rows: the baseline our resolver is measured beside.

    from bench.splink_baseline import splink_clusters
    clusters, timings = splink_clusters(rows, threshold=0.9)

A setup a competent Splink user would write, given the same cleaned inputs as ours: names lower
case and trimmed; email, phone (E.164 for the row's country) and the company key from our own
normalizers, so the comparison is of matching, not of cleaning; nicknames are not given to Splink.
One model over all tenants, kept apart by `tenant_id` in every blocking rule, so no pair crosses
tenants. `per_tenant=True` fits one model per tenant instead, as our resolver does (the tenant's
own prior and u values): on this generator Splink's F1 is then higher at 10k rows (0.975 against
0.956) and lower at 100k (0.889 against 0.920).
`people=True` is the setup for `bench/people_generator.py`'s rows (name, address and birth
date only): Splink's documented comparisons for such data (`people_settings`).
Splink is imported inside the function: it is a bench-only dependency (`uv sync --group bench`).
"""

from __future__ import annotations

import datetime as dt
import logging
import resource
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crm_pipeline.contacts.normalize import companies, emails, phones  # noqa: E402

# The prior from rules that admit almost no false positives, and the share of true pairs we guess
# (without looking at the labels) they find: Splink's tutorials use 0.7.
DETERMINISTIC_RECALL = 0.7
# Splink advises 1e7 or more random pairs for u (per model).
U_MAX_PAIRS = 1e7
SEED = 7


def splink_input(rows: pl.DataFrame) -> pl.DataFrame:
    """The columns Splink compares, one row per generator row (`unique_id` = its position)."""
    mail = emails.normalize(rows["email"])
    first, last = (
        rows[c].str.strip_chars().str.to_lowercase().replace("", None)
        for c in ("first_name", "last_name")
    )
    return pl.DataFrame(
        {
            "unique_id": pl.int_range(rows.height, eager=True, dtype=pl.Int64),
            "tenant_id": rows["tenant_id"],
            "first_name": first,
            "last_name": last,
            "full_name": first + " " + last,
            # The mailbox: plus tags (and Gmail's dots) dropped, so `jo+news@x` is `jo@x`.
            "email": mail["email_local_base"] + "@" + mail["email_domain"],
            "email_local": mail["email_local_base"],
            "phone": phones.normalize(rows["phone"], rows["country"])["phone"],
            "company_key": companies.match_key(rows["company"]),
            "city": rows["city"].str.strip_chars().str.to_lowercase(),
        }
    )


def settings():  # -> splink.SettingsCreator
    """Comparisons and prediction blocking rules comparable to our resolver's."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            # Exact full name (term frequency on the full name), swapped names, Jaro-Winkler on
            # both, then surname or forename alone (each with its own term frequencies).
            cl.ForenameSurnameComparison(
                "first_name", "last_name", forename_surname_concat_col_name="full_name"
            ),
            # Exact mailbox (term frequency), same username, Jaro-Winkler on address or username.
            cl.EmailComparison("email"),
            # A company's main line shared by colleagues says less than a mobile: term frequency.
            cl.ExactMatch("phone").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("company_key", [0.9]).configure(
                term_frequency_adjustments=True
            ),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("tenant_id", "email_local"),
            block_on("tenant_id", "phone"),
            block_on("tenant_id", "last_name", "substr(first_name, 1, 1)"),
            # Swapped first and last names, both ways round (the pair is scored once).
            "l.tenant_id = r.tenant_id and l.first_name = r.last_name "
            "and substr(l.last_name, 1, 1) = substr(r.first_name, 1, 1)",
            "l.tenant_id = r.tenant_id and l.last_name = r.first_name "
            "and substr(l.first_name, 1, 1) = substr(r.last_name, 1, 1)",
            block_on("tenant_id", "company_key", "last_name"),
            block_on("tenant_id", "company_key", "first_name"),
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def people_input(rows: pl.DataFrame) -> pl.DataFrame:
    """The columns Splink compares on name, address and birth-date lists: names, street and
    city lower case and trimmed, the postcode upper case, the birth date parsed by our own
    date reader (ISO text; a year alone is no date), so both sides read the same dates."""
    from crm_pipeline.contacts.normalize import dates

    def lower(col: str) -> pl.Series:
        return rows[col].str.strip_chars().str.to_lowercase().replace("", None)

    born = pl.concat(
        [
            dates.parse_dates(part["birthdate"], None, country, dt.date(2026, 1, 1))["value"]
            .to_frame("dob").with_columns(part["_row"])
            for (country,), part in rows.with_row_index("_row").group_by("country")
        ]
    ).sort("_row")["dob"]
    first, last = lower("first_name"), lower("last_name")
    return pl.DataFrame(
        {
            "unique_id": pl.int_range(rows.height, eager=True, dtype=pl.Int64),
            "tenant_id": rows["tenant_id"],
            "first_name": first,
            "surname": last,
            "full_name": first + " " + last,
            "street": lower("street"),
            "city": lower("city"),
            "postcode": rows["postcode"].str.strip_chars().str.to_uppercase(),
            "state": lower("state"),
            "dob": born.dt.to_string("%Y-%m-%d"),
        }
    )


def people_settings():  # -> splink.SettingsCreator
    """Splink's documented comparisons for people with addresses and birth dates (as in its
    tutorials on such data): names (swaps too), date of birth, postcode, street, city (the state
adds nothing a postcode does not say, and its EM level went unobserved)."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.ForenameSurnameComparison(
                "first_name", "surname", forename_surname_concat_col_name="full_name"
            ),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.PostcodeComparison("postcode"),
            cl.JaroWinklerAtThresholds("street", [0.9, 0.7]),
            cl.NameComparison("city").configure(term_frequency_adjustments=True),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("tenant_id", "postcode", "substr(surname, 1, 3)"),
            block_on("tenant_id", "dob"),
            block_on("tenant_id", "surname", "substr(first_name, 1, 1)"),
            block_on("tenant_id", "street"),
            "l.tenant_id = r.tenant_id and l.first_name = r.surname "
            "and substr(l.surname, 1, 1) = substr(r.first_name, 1, 1)",
            "l.tenant_id = r.tenant_id and l.surname = r.first_name "
            "and substr(l.first_name, 1, 1) = substr(r.surname, 1, 1)",
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def _train(linker, people: bool) -> None:
    from splink import block_on

    training = linker.training
    if people:
        training.estimate_probability_two_random_records_match(
            [block_on("tenant_id", "first_name", "surname", "dob")], recall=DETERMINISTIC_RECALL
        )
        training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=SEED)
        # Each session leaves out the comparison its rule is on (the tutorials' pair): names and
        # address are learnt on same-birth-date blocks, the birth date on same-name blocks.
        training.estimate_parameters_using_expectation_maximisation(block_on("tenant_id", "dob"))
        training.estimate_parameters_using_expectation_maximisation(
            block_on("tenant_id", "first_name", "surname")
        )
        return
    training.estimate_probability_two_random_records_match(
        [block_on("tenant_id", "email"), block_on("tenant_id", "first_name", "last_name", "phone")],
        recall=DETERMINISTIC_RECALL,
    )
    training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=SEED)
    # EM on blocks that are mostly one person: each comparison is left out of the session whose
    # rule it is on, so two are needed. A session on the full name instead (the usual tutorial
    # pick) learns from crowds of namesakes and gives visibly wrong m values (company disagreement
    # likelier than agreement among matches; a similar username as likely as not).
    training.estimate_parameters_using_expectation_maximisation(block_on("tenant_id", "email"))
    training.estimate_parameters_using_expectation_maximisation(block_on("tenant_id", "phone"))


def _clusters(frame: pl.DataFrame, threshold: float, people: bool = False) -> pl.DataFrame:
    """Train, predict and cluster one frame (a tenant, or all of them): unique_id, cluster_id."""
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI()
    db_api.duckdb_con.execute("SET enable_progress_bar = false")
    chosen = people_settings() if people else settings()
    linker = Linker(db_api.register(frame.to_arrow()), chosen, log_level=logging.WARNING)
    _train(linker, people)
    predicted = linker.inference.predict(threshold_match_probability=threshold)
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predicted, threshold_match_probability=threshold
    )
    out = pl.from_arrow(clustered.as_pyarrow_table()).select("unique_id", "cluster_id")
    db_api.duckdb_con.close()
    return out


def peak_rss_mb() -> int:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not carried over from the
    parent a spawned process was forked from)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def splink_clusters(
    rows: pl.DataFrame, threshold: float = 0.9, *, per_tenant: bool = False, people: bool = False
) -> tuple[pl.DataFrame, dict]:
    """(tenant_id, row = position in `rows`, cluster_id) per row, and Splink's timings.

    `per_tenant=True` fits one model per tenant (see the module docstring). The peak memory is
    the whole process's: run this in a fresh process to read Splink's alone.
    """
    t0, c0 = time.perf_counter(), time.process_time()
    frame = people_input(rows) if people else splink_input(rows)
    t1 = time.perf_counter()
    parts = (
        [part for _, part in frame.group_by("tenant_id", maintain_order=True)]
        if per_tenant
        else [frame]
    )
    found = pl.concat([_clusters(part, threshold, people) for part in parts])
    t2 = time.perf_counter()
    clusters = (
        frame.select("tenant_id", "unique_id")
        .join(found, on="unique_id", how="left", maintain_order="left")
        .select(
            "tenant_id",
            pl.col("unique_id").alias("row"),
            pl.col("cluster_id").cast(pl.Int64),
        )
    )
    timings = {
        "threshold": threshold,
        "per_tenant": per_tenant,
        "prepare_s": round(t1 - t0, 2),
        "splink_s": round(t2 - t1, 2),
        "wall_s": round(t2 - t0, 2),
        "cpu_s": round(time.process_time() - c0, 2),
        "max_rss_mb": peak_rss_mb(),
    }
    return clusters, timings
