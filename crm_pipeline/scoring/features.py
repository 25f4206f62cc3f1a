"""Leads' and customers' features as of past dates, computed from the tables exactly as the
pipeline would have seen them then.

A cut-off is a day. What a contact looked like at a cut-off is read from what the warehouse
holds up to the end of that day (UTC) and nothing later: activities dated by then, the contact
known by then (`known_since`), profile fields as they were then (a later audited update is undone
with the value it replaced). The same SQL (`sql/models/scoring/features.sql`) gives the training
rows at past cut-offs and the rows scored at a run's as-of date, so a model is applied to exactly
what it learned from; a test recomputes past features after adding later data and finds them
unchanged.

The time plan (`plan_cutoffs`): cut-offs every `STEP_DAYS` days back from `HORIZON_DAYS` before the
training date (the anchor), whose labels (what happened in the `HORIZON_DAYS` days after each) are
therefore all observed by the anchor. The newest `HOLDOUT_CUTOFFS` form the held-out period; the
model that is validated learns only from cut-offs whose label windows end before the held-out
period begins. The model that is then used learns from every cut-off.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from crm_pipeline.marts.tenant_settings import query_params
from crm_pipeline.sql import sql_text
from crm_pipeline.warehouse import frame, run

HORIZON_DAYS = 90  # "becomes a customer within 90 days", "churns in the next 90 days"
STEP_DAYS = 30  # one cut-off a month
HOLDOUT_CUTOFFS = 3  # the held-out period: the newest three cut-offs (60 days of cut-offs)
MAX_CUTOFFS = 24  # at most two years of cut-offs for a model to learn from
WARMUP_DAYS = 60  # a cut-off needs this much of the tenant's history before it

# Activity kinds and the windows each is counted over (days; None: ever): e-mails and calls each
# way over 90 days and ever (the marts count direction over those), the others over 30, 90 and
# 365 days.
COUNT_KINDS = {
    "email_in": (90, None), "email_out": (90, None), "call_in": (90, None),
    "call_out": (90, None), "meeting": (30, 90, 365), "support": (30, 90, 365),
    "webinar": (30, 90, 365), "download": (30, 90, 365), "form_submission": (30, 90, 365),
}
# The rule's components (sql/models/marts/contact_lead_score.sql), in points.
RULE_COMPONENTS = ("fit_company_size", "fit_role", "fit_industry", "engagement_recency",
                   "engagement_frequency", "engagement_depth")


@dataclass(frozen=True)
class Plan:
    """The cut-offs a model learns and is validated on, for one training date (`anchor`)."""

    anchor: datetime.date
    holdout: tuple[datetime.date, ...]  # the held-out period, newest first
    validation_train: tuple[datetime.date, ...]  # what the validated model learns from
    deploy: tuple[datetime.date, ...]  # what the model in use learns from (every cut-off)

    @property
    def cutoffs(self) -> tuple[datetime.date, ...]:
        return tuple(sorted(set(self.deploy) | set(self.holdout) | set(self.validation_train)))

    @property
    def usable(self) -> bool:
        """Whether there is a held-out period and something before it to learn from."""
        return bool(self.holdout) and len(self.holdout) == HOLDOUT_CUTOFFS and bool(
            self.validation_train)


def anchor_date(as_of: datetime.date, retrain_days: int) -> datetime.date:
    """The training date for a run at `as_of`: the latest day on or before it whose ordinal is a
    multiple of `retrain_days` from 0001-01-01 (for 7: the Monday on or before). Every as-of
    date of the same period uses the model of the same anchor, so the scores of a date do not
    depend on which runs came before."""
    return as_of - datetime.timedelta(days=(as_of.toordinal() - 1) % max(1, int(retrain_days)))


def plan_cutoffs(anchor: datetime.date, history_start: datetime.date | None) -> Plan:
    """The cut-offs for a model trained at `anchor` on a history beginning `history_start`."""
    if history_start is None:
        return Plan(anchor, (), (), ())
    first = history_start + datetime.timedelta(days=WARMUP_DAYS)
    step = datetime.timedelta(days=STEP_DAYS)
    last = anchor - datetime.timedelta(days=HORIZON_DAYS)
    holdout = tuple(d for d in (last - k * step for k in range(HOLDOUT_CUTOFFS)) if d >= first)
    train_end = last - (HOLDOUT_CUTOFFS - 1) * step - datetime.timedelta(days=HORIZON_DAYS)
    validation = tuple(d for d in (train_end - k * step for k in range(MAX_CUTOFFS)) if d >= first)
    deploy = tuple(d for d in (last - k * step for k in range(MAX_CUTOFFS)) if d >= first)
    return Plan(anchor, holdout, validation, deploy)


def history_start(con: duckdb.DuckDBPyConnection, tenant_id: str) -> datetime.date | None:
    """The day of the tenant's first activity (None without any)."""
    rows = run(con, "SELECT CAST(min(occurred_at) AS DATE) FROM core.activities "
                    "WHERE tenant_id = $t", {"t": tenant_id})
    return rows[0][0] if rows else None


def _execute(con, name: str, params: dict, prefix: str = "") -> list:
    text = sql_text(f"models/scoring/{name}")
    return run(con, prefix + text, query_params(text, params, f"sql/models/scoring/{name}.sql"))


def build_contact_facts(con: duckdb.DuckDBPyConnection, tenant_id: str,
                        from_marts: bool = False) -> None:
    """The temp table `score_contact_facts`: each contact's known_since, first activity and first
    conversion; with `from_marts`, from the run's own activity counts (`mart_activity_counts`)
    rather than from every activity."""
    _execute(con, "contact_facts_at_as_of" if from_marts else "contact_facts",
             {"tenant_id": tenant_id}, "CREATE OR REPLACE TEMP TABLE score_contact_facts AS\n")


def contact_rate(con: duckdb.DuckDBPyConnection, target: str, cutoffs: tuple,
                 max_pairs: int) -> float:
    """The share of contacts a cohort keeps (by a hash of the contact id) so that it holds about
    `max_pairs` (cut-off, contact) pairs at most: every contact known (leads) or ever a customer
    (churn) counted once per cut-off, an upper bound of the cohort's size. 1 for all but large
    tenants."""
    where = "" if target == "conversion" else "WHERE first_conversion_at IS NOT NULL"
    contacts = run(con, f"SELECT count(*) FROM score_contact_facts {where}")[0][0]
    pairs = contacts * max(1, len(cutoffs))
    return 1.0 if pairs <= max_pairs else max_pairs / pairs


def build_cohort(con: duckdb.DuckDBPyConnection, target: str, tenant_id: str,
                 cutoffs: tuple[datetime.date, ...], params: dict, rate: float = 1.0) -> None:
    """The temp table `score_cohort` (cutoff, contact_id, label): open leads and whether they
    converted (target `conversion`), or observable customers and whether they churned
    (`churn`), at each cut-off, labelled over the `HORIZON_DAYS` days after it; with `rate`
    below 1, of that share of the contacts only (`contact_rate`)."""
    name, label = {"conversion": ("lead_cohort", "converted"),
                   "churn": ("churn_cohort", "churned")}[target]
    text = sql_text(f"models/scoring/{name}")
    values = {**params, "tenant_id": tenant_id, "cutoffs": sorted(cutoffs),
              "horizon_days": HORIZON_DAYS, "rate": rate}
    run(con, f"CREATE OR REPLACE TEMP TABLE score_cohort AS SELECT cutoff, contact_id, "
             f"{label} AS label FROM (\n{text}\n)",
        query_params(text, values, f"sql/models/scoring/{name}.sql"))


def sample_cohort(con: duckdb.DuckDBPyConnection, max_positives: int,
                  max_negatives: int, rate: float = 1.0) -> dict[str, int]:
    """The temp table `score_pairs` (cutoff, contact_id, label, weight): the cohort, each class
    kept whole up to its cap, beyond it a deterministic sample (by a hash of contact and
    cut-off) weighted by the inverse of its rate, so weighted sums estimate the whole cohort
    (`rate`: the share of contacts the cohort kept, also in the weights). Returns the
    cohort's size per class (`positives`, `negatives`), as estimated for every contact."""
    counts = dict(run(con, "SELECT label, count(*) FROM score_cohort GROUP BY label"))
    positives, negatives = int(counts.get(True, 0)), int(counts.get(False, 0))
    rate_pos = min(1.0, max_positives / positives) if positives else 1.0
    rate_neg = min(1.0, max_negatives / negatives) if negatives else 1.0
    run(con, """
        CREATE OR REPLACE TEMP TABLE score_pairs AS
        SELECT row_number() OVER (ORDER BY cutoff, contact_id) - 1 AS i, cutoff, contact_id,
               label, 1.0 / (CASE WHEN label THEN $rate_pos ELSE $rate_neg END * $rate) AS weight
        FROM score_cohort
        WHERE (hash(contact_id, cutoff) % 1000003) / 1000003.0
              < CASE WHEN label THEN $rate_pos ELSE $rate_neg END
        """, {"rate_pos": rate_pos, "rate_neg": rate_neg, "rate": rate})
    return {"positives": int(round(positives / rate)), "negatives": int(round(negatives / rate)),
            "contact_rate": rate}


def build_scoring_pairs(con: duckdb.DuckDBPyConnection, as_of: datetime.date,
                        stages: list[str]) -> None:
    """The temp table `score_pairs`: the contacts of `mart_contacts` in the given lifecycle
    stages, at the as-of date."""
    run(con, """
        CREATE OR REPLACE TEMP TABLE score_pairs AS
        SELECT row_number() OVER (ORDER BY contact_id) - 1 AS i, CAST($as_of AS DATE) AS cutoff,
               contact_id, CAST(NULL AS BOOLEAN) AS label, 1.0 AS weight
        FROM mart_contacts WHERE list_contains(CAST($stages AS VARCHAR[]), stage)
        """, {"as_of": as_of, "stages": stages})


def pair_features(con: duckdb.DuckDBPyConnection, tenant_id: str, params: dict, *,
                  with_rule: bool = True, marts_as_of: datetime.date | None = None
                  ) -> pl.DataFrame:
    """Features of every pair of `score_pairs` (with its label and weight), ordered by cut-off
    and contact (`i`); with `with_rule`, also the rule's lead_score at each cut-off, from
    `sql/models/marts/contact_lead_score.sql` itself (`rule_score` and its components).

    The contact's own facts come from `features.sql`; the activity counts are worked out per
    cut-off (`activity_counts.sql`) and added up per pair here (`activity_columns`); with
    `marts_as_of` (every pair at that date, in a marts refresh), the run's own
    `mart_activity_counts` are read instead of counting again."""
    values = {**params, "tenant_id": tenant_id}
    _drop(con, "score_activity_counts")
    if marts_as_of is not None:
        run(con, "CREATE TEMP VIEW score_activity_counts AS SELECT DATE "
                 f"'{marts_as_of.isoformat()}' AS cutoff, * FROM mart_activity_counts")
    else:
        _execute(con, "activity_counts", values,
                 "CREATE TEMP TABLE score_activity_counts AS\n")
    text = sql_text("models/scoring/features")
    contacts = frame(con, f"SELECT f.*, p.label, p.weight FROM (\n{text}\n) AS f "
                          "JOIN score_pairs AS p USING (i)",
                     query_params(text, values, "sql/models/scoring/features.sql")).sort("i")
    rows = frame(con, sql_text("models/scoring/activity_rows"))
    cutoff_days = (contacts["cutoff"].cast(pl.Int32).to_numpy()).astype(np.int64)
    features = contacts.hstack(pl.DataFrame(activity_columns(rows, cutoff_days, params)))
    if not with_rule:
        return features
    _drop(con, "score_features")
    con.register("_score_features", features)
    try:
        run(con, "CREATE TEMP TABLE score_features AS SELECT * FROM _score_features")
    finally:
        con.unregister("_score_features")
    rule = sql_text("models/marts/contact_lead_score")
    query = (
        "WITH contact_activity AS (SELECT * FROM score_features),\n"
        f"rule AS (\n{rule}\n)\n"
        "SELECT r.i, r.lead_score AS rule_score, "
        + ", ".join(f"r.{c}" for c in RULE_COMPONENTS) + " FROM rule AS r"
    )
    scores = frame(con, query, query_params(query, values,
                                            "sql/models/marts/contact_lead_score.sql")).sort("i")
    return features.hstack(scores.drop("i"))


KIND_CODE = {"email": 0, "call": 1, "meeting": 2, "support": 3, "webinar": 4, "download": 5,
             "form_submission": 6, "purchase": 7, "refund": 8, "subscription_start": 9,
             "subscription_end": 10}  # `k` in activity_rows.sql
DAY_US = 86_400_000_000


def activity_columns(rows: pl.DataFrame, cutoff_days: np.ndarray, params: dict
                     ) -> dict[str, np.ndarray]:
    """The activity features of each pair, from its rows of activity counts (one per type, as
    `activity_rows.sql` gives them): sums over types with numpy (`bincount`, vectorised), the
    latest dates with `maximum.at`. `cutoff_days`: each pair's cut-off as days since 1970.

    What each is (the windows as in the marts: "in the last N days" is d <= N):
      activities_90d, depth_90d (meetings, webinars, downloads, forms and anything inbound),
      signals_ever (webinars, downloads, forms, inbound e-mails and calls), as
      sql/models/marts/contact_activity.sql; days_since_last_activity;
      e-mails and calls each way (`_in` inbound) in 90 days and ever; meetings, support,
      webinars, downloads, forms in 30, 90 and 365 days; purchases in 90 and 365 days, refunds in
      365; days since the last purchase; subscribed (the latest subscription_start not followed
      by a subscription_end) and its age; the decline rule's recent and baseline counts, rate
      and flag (as sql/models/marts/retention_risk.sql)."""
    n = cutoff_days.size
    i = rows["i"].to_numpy().astype(np.int64)
    k = rows["k"].to_numpy()
    col = {c: rows[c].to_numpy().astype(np.float64) for c in (
        "n_total", "n_total_inbound", "n_30d", "n_90d", "n_90d_inbound", "n_365d", "n_recent",
        "n_baseline")}
    last = rows["last_us"].to_numpy().astype(np.int64)

    def total(values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        if mask is None:
            return np.bincount(i, weights=values, minlength=n).astype(np.int64)
        return np.bincount(i[mask], weights=values[mask], minlength=n).astype(np.int64)

    def is_(*kinds: str) -> np.ndarray:
        return np.isin(k, [KIND_CODE[x] for x in kinds])

    def latest(mask: np.ndarray | None = None) -> np.ndarray:
        out = np.full(n, np.iinfo(np.int64).min)
        np.maximum.at(out, i if mask is None else i[mask], last if mask is None else last[mask])
        return out

    def days_since(us: np.ndarray) -> np.ndarray:  # NaN without any
        days = (cutoff_days - np.floor_divide(us, DAY_US)).astype(np.float64)
        return np.where(us == np.iinfo(np.int64).min, np.nan, days)

    deep = is_("meeting", "webinar", "download", "form_submission")
    signal_total = np.where(is_("webinar", "download", "form_submission"), col["n_total"],
                            np.where(is_("email", "call"), col["n_total_inbound"], 0.0))
    out: dict[str, np.ndarray] = {
        "days_since_last_activity": days_since(latest()),
        "activities_90d": total(col["n_90d"]),
        "depth_90d": total(np.where(deep, col["n_90d"], col["n_90d_inbound"])),
        "signals_ever": total(signal_total),
    }
    for kind, code in (("email", "email"), ("call", "call")):
        m = is_(code)
        out[f"{kind}_in_90d"] = total(col["n_90d_inbound"], m)
        out[f"{kind}_out_90d"] = total(col["n_90d"] - col["n_90d_inbound"], m)
        out[f"{kind}_in_ever"] = total(col["n_total_inbound"], m)
        out[f"{kind}_out_ever"] = total(col["n_total"] - col["n_total_inbound"], m)
    for kind in ("meeting", "support", "webinar", "download", "form_submission"):
        m = is_(kind)
        for w in (30, 90, 365):
            out[f"{kind}_{w}d"] = total(col[f"n_{w}d"], m)
    purchase = is_("purchase")
    out["purchases_90d"] = total(col["n_90d"], purchase)
    out["purchases_365d"] = total(col["n_365d"], purchase)
    out["refunds_365d"] = total(col["n_365d"], is_("refund"))
    out["days_since_last_purchase"] = days_since(latest(purchase))
    start, end = latest(is_("subscription_start")), latest(is_("subscription_end"))
    none = np.iinfo(np.int64).min
    subscribed = (start != none) & ((end == none) | (end < start))
    out["subscribed"] = subscribed
    out["subscription_days"] = np.where(subscribed, days_since(start), np.nan)
    recent_days = float(params["decline_recent_days"])
    baseline = total(col["n_baseline"]).astype(np.float64)
    out["recent_activities"] = total(col["n_recent"])
    rate = baseline * recent_days / float(params["decline_baseline_days"])
    out["baseline_monthly_rate"] = rate
    with np.errstate(divide="ignore", invalid="ignore"):
        out["declining"] = (rate > 0) & (out["recent_activities"] / rate
                                         < float(params["decline_ratio"]))
    return {name: (pl.Series(name, values).fill_nan(None).cast(pl.Int64)
                   if values.dtype == np.float64 and name.startswith("days_")
                   or name == "subscription_days" else pl.Series(name, values))
            for name, values in out.items()}


def _drop(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop a temp table or view of this name, whichever it is."""
    for kind, catalog in (("VIEW", "duckdb_views()"), ("TABLE", "duckdb_tables()")):
        if run(con, f"SELECT 1 FROM {catalog} WHERE temporary AND view_name = $n"
                    if kind == "VIEW" else
                    f"SELECT 1 FROM {catalog} WHERE temporary AND table_name = $n", {"n": name}):
            run(con, f"DROP {kind} {name}")


TEMP_TABLES = ("score_contact_facts", "score_cohort", "score_pairs", "score_features",
               "score_activity_counts")


def drop_temp_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the helpers' temp tables and views (one look at the catalog)."""
    found = run(con, "SELECT 'TABLE', table_name FROM duckdb_tables() WHERE temporary "
                     "AND list_contains($names, table_name) UNION ALL "
                     "SELECT 'VIEW', view_name FROM duckdb_views() WHERE temporary "
                     "AND list_contains($names, view_name)", {"names": list(TEMP_TABLES)})
    for kind, name in found:
        run(con, f"DROP {kind} {name}")


def features_at(con: duckdb.DuckDBPyConnection, tenant_id: str, cutoffs: list[datetime.date],
                contact_ids: list[str] | None, params: dict) -> pl.DataFrame:
    """Features (and the rule's score) of the given contacts (all when None) at each cut-off,
    ordered by cut-off and contact: for tests and inspection."""
    build_contact_facts(con, tenant_id)
    run(con, """
        CREATE OR REPLACE TEMP TABLE score_pairs AS
        SELECT row_number() OVER (ORDER BY k.cutoff, c.contact_id) - 1 AS i, k.cutoff,
               c.contact_id, CAST(NULL AS BOOLEAN) AS label, 1.0 AS weight
        FROM (SELECT unnest(CAST($cutoffs AS DATE[])) AS cutoff) AS k
        CROSS JOIN (SELECT contact_id FROM core.contacts WHERE tenant_id = $t
                    AND ($ids IS NULL OR contact_id IN (SELECT unnest(CAST($ids AS VARCHAR[]))))
                   ) AS c
        """, {"cutoffs": cutoffs, "t": tenant_id, "ids": contact_ids})
    try:
        return pair_features(con, tenant_id, params)
    finally:
        drop_temp_tables(con)
