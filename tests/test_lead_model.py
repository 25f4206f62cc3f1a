"""Learned lead scores and churn risk on small simulated tenants: the time split, the fallback,
the explanations, determinism and re-use of stored models."""

from __future__ import annotations

import datetime
import itertools
import json
import shutil

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.lead_simulator import PROFILES, load, simulate
from crm_pipeline.marts.tenant_settings import default_settings, sql_params, tenant_settings
from crm_pipeline.pipeline import marts_stage
from crm_pipeline.scoring import explain
from crm_pipeline.scoring.features import (
    anchor_date,
    build_contact_facts,
    drop_temp_tables,
    history_start,
    plan_cutoffs,
)
from crm_pipeline.scoring.model import Factor, calibration, learn, max_calibration_gap
from crm_pipeline.scoring.refresh import train_model
from crm_pipeline.scoring.store import data_digest, fingerprint
from crm_pipeline.warehouse import connect, create_tables, frame, run

AS_OF = datetime.date(2026, 11, 16)  # a Monday: the models' training date
LEARNED = {"min_conversions": 50, "min_holdout_conversions": 20, "min_auc_gain": 0.0}


def fresh(path, sim=None):
    con = connect(path)
    create_tables(con)
    if sim is not None:
        load(con, "t1", sim)
    return con


@pytest.fixture(scope="module")
def sim():
    return simulate(PROFILES["healthcare_smb"], AS_OF, seed=7, contacts=800)


@pytest.fixture(scope="module")
def trained(sim, tmp_path_factory):
    """A warehouse whose tenant ran once at AS_OF (both models trained), closed."""
    path = tmp_path_factory.mktemp("lead") / "trained.duckdb"
    con = fresh(path, sim)
    marts_stage(con, "t1", AS_OF, "r1")
    con.close()
    return path


@pytest.fixture
def trained_con(trained, tmp_path):
    path = tmp_path / "copy.duckdb"
    shutil.copy(trained, path)
    con = connect(path)
    yield con
    con.close()


def one(con, query: str, params: dict | None = None) -> dict:
    rows = frame(con, query, params).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


def params_of(con, tenant="t1") -> tuple[dict, dict]:
    settings = tenant_settings(con, tenant)
    return {"tenant_id": tenant, "as_of": AS_OF, **sql_params(settings)}, settings


# --- a tenant whose buyers the rule misjudges --------------------------------------------------


def test_the_learned_score_is_used_where_it_beats_the_rule_and_counting(trained_con):
    model = one(trained_con, "SELECT * FROM marts.lead_score_model")
    assert model["score_method"] == "learned" and model["retrained"]
    assert model["auc_learned"] > model["auc_rule"]
    assert model["auc_learned"] >= model["auc_activity_count"] + 0.05
    assert "held-out AUC" in model["method_reason"]
    assert model["holdout_from"] < model["holdout_to"] <= AS_OF - datetime.timedelta(days=90)
    assert model["train_conversions"] >= 50 and model["holdout_conversions"] >= 20
    deciles = model["calibration"]
    assert [d["decile"] for d in deciles] == list(range(1, 11))
    assert sum(d["leads"] for d in deciles) == model["holdout_leads"]
    predicted = [d["predicted"] for d in deciles]
    assert predicted == sorted(predicted)
    assert model["calibration_max_gap"] == pytest.approx(max(
        abs(d["observed"] - d["predicted"]) for d in deciles if d["leads"] >= 100))


def test_open_leads_get_the_learned_probability_and_everyone_else_the_rule(trained_con):
    rows = frame(trained_con, """
        SELECT s.*, l.stage FROM marts.lead_scores AS s JOIN marts.lifecycle AS l
        USING (tenant_id, contact_id)""")
    learned = rows.filter(pl.col("score_method") == "learned")
    rule = rows.filter(pl.col("score_method") == "rule")
    assert set(learned["stage"]) <= {"lead", "prospect"} and learned.height > 0
    assert set(rule["stage"]) <= {"customer", "advocate", "churned"}
    p = learned["conversion_probability"]
    assert p.null_count() == 0 and 0 < p.min() and p.max() < 1
    assert rule["conversion_probability"].null_count() == rule.height
    # the rank is within each method: the open lead most likely to convert ranks 1.0
    best = learned.sort("conversion_probability", descending=True).row(0, named=True)
    assert best["score_percentile"] == 1.0
    ordered = learned.sort("conversion_probability")["score_percentile"]
    assert ordered.is_sorted()
    # hot_leads reads the percentile through the tenant's threshold, unchanged
    hot = set(frame(trained_con, "SELECT contact_id FROM marts.contact_segments "
                                 "WHERE segment = 'hot_leads'")["contact_id"])
    recent = set(frame(trained_con, "SELECT contact_id FROM marts.engagement "
                                    "WHERE days_since_last_activity <= 14")["contact_id"])
    top = set(rows.filter(pl.col("score_percentile") >= 0.8)["contact_id"])
    assert hot == recent & top


def test_each_learned_score_names_its_top_factors_in_words(trained_con):
    rows = frame(trained_con, """
        SELECT s.contact_id, s.top_factors, s.conversion_probability, c.industry
        FROM marts.lead_scores AS s JOIN core.contacts AS c USING (tenant_id, contact_id)
        WHERE s.score_method = 'learned'""")
    assert all(1 <= len(f) <= explain.TOP for f in rows["top_factors"])
    assert all(w[:2] in ("+ ", "- ") for f in rows["top_factors"] for w in f)
    # healthcare raises the chance in this tenant, and the words say so with the contact's value
    top = rows.sort("conversion_probability", descending=True).head(50)
    assert any("+ industry: healthcare" in f for f in top["top_factors"])
    for factors, industry in rows.select("top_factors", "industry").iter_rows():
        for w in factors:
            if w.startswith(("+ industry: ", "- industry: ")):
                assert w.endswith(industry)


def test_webinars_are_named_with_their_count_where_they_drive_the_score(trained_con):
    facts = frame(trained_con, """
        SELECT contact_id, count(*) AS webinars FROM core.activities
        WHERE type = 'webinar' AND occurred_at >= $since AND occurred_at < $end
        GROUP BY contact_id""", {"since": AS_OF - datetime.timedelta(days=30),
                                 "end": AS_OF + datetime.timedelta(days=1)})
    named = frame(trained_con, "SELECT contact_id, top_factors FROM marts.lead_scores "
                               "WHERE score_method = 'learned'").join(facts, on="contact_id")
    said = [(f, n) for f, n in named.select("top_factors", "webinars").iter_rows()
            if any("webinar" in w for w in f)]
    assert said, "webinars drive conversion here; some leads' factors must name them"
    for factors, n in said:
        words = next(w for w in factors if "webinar" in w)
        expected = f"attended {n} webinar{'s' if n != 1 else ''} in the last 30 days"
        assert words == f"+ {expected}"


def test_customers_get_a_learned_churn_probability_and_one_off_buyers_the_flag(trained_con):
    model = one(trained_con, "SELECT * FROM marts.retention_model")
    risk = frame(trained_con, "SELECT * FROM marts.retention_risk")
    assert model["churn_method"] == "learned"
    assert model["auc_learned"] > model["auc_declining"]
    learned = risk.filter(pl.col("churn_method") == "learned")
    assert learned.height > 0 and learned["churn_probability"].null_count() == 0
    assert all(len(f) >= 1 for f in learned["top_factors"])
    rule = risk.filter(pl.col("churn_method") == "rule")
    assert rule["churn_probability"].null_count() == rule.height
    assert all(len(f) == 1 and "% of its usual rate" in f[0] or "to compare with" in f[0]
               for f in rule["top_factors"])


# --- determinism and stored models --------------------------------------------------------------


def scores(con) -> list[tuple]:
    return run(con, "SELECT contact_id, lead_score, score_method, conversion_probability, "
                    "score_percentile, top_factors FROM marts.lead_scores ORDER BY contact_id")


def churn(con) -> list[tuple]:
    return run(con, "SELECT contact_id, churn_method, churn_probability, top_factors "
                    "FROM marts.retention_risk ORDER BY contact_id")


def test_a_date_scores_the_same_whether_its_model_was_stored_or_trained_afresh(
        trained_con, sim, tmp_path):
    day = AS_OF + datetime.timedelta(days=1)  # same training date: the stored model is used
    marts_stage(trained_con, "t1", day, "r2")
    reused = one(trained_con, "SELECT * FROM marts.lead_score_model WHERE run_id = 'r2'")
    assert not reused["retrained"] and reused["trained_as_of"] == AS_OF
    con = fresh(tmp_path / "afresh.duckdb", sim)
    marts_stage(con, "t1", day, "r2")
    afresh = one(con, "SELECT * FROM marts.lead_score_model WHERE run_id = 'r2'")
    assert afresh["retrained"]
    assert {k: v for k, v in afresh.items() if k != "retrained"} == {
        k: v for k, v in reused.items() if k != "retrained"}
    assert scores(con) == scores(trained_con)
    assert churn(con) == churn(trained_con)
    stored = run(con, "SELECT target, fingerprint, model FROM core.score_models ORDER BY 1")
    assert stored == run(trained_con, "SELECT target, fingerprint, model FROM core.score_models "
                                      "ORDER BY 1")
    con.close()


def test_another_tenants_data_never_reaches_a_tenants_model_or_scores(trained_con):
    before = scores(trained_con), churn(trained_con)
    other = simulate(PROFILES["enterprise"], AS_OF, seed=5, contacts=300)  # the same contact ids
    load(trained_con, "t2", other)
    marts_stage(trained_con, "t1", AS_OF, "r1")
    model = one(trained_con, "SELECT * FROM marts.lead_score_model WHERE tenant_id = 't1'")
    assert not model["retrained"]  # what t1 learns from did not change
    after = (run(trained_con, "SELECT contact_id, lead_score, score_method, "
                              "conversion_probability, score_percentile, top_factors "
                              "FROM marts.lead_scores WHERE tenant_id = 't1' ORDER BY 1"),
             run(trained_con, "SELECT contact_id, churn_method, churn_probability, top_factors "
                              "FROM marts.retention_risk WHERE tenant_id = 't1' ORDER BY 1"))
    assert after == before
    assert not run(trained_con, "SELECT 1 FROM core.score_models WHERE tenant_id = 't2'")


def test_only_data_the_model_learns_from_changes_its_fingerprint(trained_con):
    _, settings = params_of(trained_con)
    build_contact_facts(trained_con, "t1")
    plan = plan_cutoffs(AS_OF, history_start(trained_con, "t1"))
    last = max(plan.holdout)

    def digest():  # the facts from every activity: the run's came from the marts' counts
        build_contact_facts(trained_con, "t1")
        return fingerprint(data_digest(trained_con, "t1", AS_OF, last), "conversion", settings)

    stored = run(trained_con, "SELECT fingerprint FROM core.score_models "
                              "WHERE target = 'conversion'")[0][0]
    assert digest() == stored

    def add(type_, when, **extra):
        row = {"type": type_, "when": when, **extra}
        run(trained_con, "INSERT INTO core.activities (tenant_id, activity_id, contact_id, type, "
                         "occurred_at, content_hash, import_id, line_number) VALUES ('t1', "
                         "gen_random_uuid()::VARCHAR, 'c_0000001', $type, $when, 'h', 'i', 1)", row)

    add("webinar", datetime.datetime.combine(last + datetime.timedelta(days=10), datetime.time()))
    add("webinar", datetime.datetime.combine(AS_OF + datetime.timedelta(days=3), datetime.time()))
    assert digest() == stored  # activity after the newest cut-off is not learned from
    add("purchase", datetime.datetime.combine(AS_OF - datetime.timedelta(days=5),
                                              datetime.time()))
    assert digest() != stored  # a conversion by the training date is a label
    drop_temp_tables(trained_con)


def test_training_never_reads_what_happened_after_its_training_date(trained_con):
    params, settings = params_of(trained_con)
    build_contact_facts(trained_con, "t1")
    plan = plan_cutoffs(AS_OF, history_start(trained_con, "t1"))
    stored = json.loads(run(trained_con, "SELECT model FROM core.score_models "
                                         "WHERE target = 'conversion'")[0][0])
    after = datetime.datetime.combine(AS_OF + datetime.timedelta(days=1), datetime.time(9))
    run(trained_con, """
        INSERT INTO core.activities (tenant_id, activity_id, contact_id, type, occurred_at,
            amount, amount_base, content_hash, import_id, line_number)
        SELECT tenant_id, 'late-' || contact_id || t.type, contact_id, t.type, $after, 10, 10,
               'h', 'i', 1
        FROM core.contacts, (VALUES ('purchase'), ('webinar'), ('subscription_end')) AS t(type)
        """, {"after": after})
    build_contact_facts(trained_con, "t1")
    model, _ = train_model(trained_con, "conversion", "t1", plan, params, settings)
    drop_temp_tables(trained_con)
    assert json.loads(json.dumps(model, sort_keys=True)) == stored


# --- the fallback ---------------------------------------------------------------------------------


def test_a_short_history_keeps_the_rule_and_says_so(tmp_path):
    young = simulate(PROFILES["young"], AS_OF, seed=3, contacts=300)
    con = fresh(tmp_path / "young.duckdb", young)
    marts_stage(con, "t1", AS_OF)
    model = one(con, "SELECT * FROM marts.lead_score_model")
    assert model["score_method"] == "rule" and not model["retrained"]
    assert model["method_reason"].startswith("history too short")
    assert model["auc_learned"] is None and model["calibration"] == []
    assert run(con, "SELECT DISTINCT score_method FROM marts.lead_scores") == [("rule",)]
    assert run(con, "SELECT count(*) FROM marts.lead_scores "
                    "WHERE conversion_probability IS NOT NULL") == [(0,)]
    assert one(con, "SELECT churn_method FROM marts.retention_model")["churn_method"] == "rule"
    assert not run(con, "SELECT 1 FROM core.score_models")  # nothing was trained
    con.close()


def test_too_few_conversions_keep_the_rule_and_say_how_many(trained_con):
    run(trained_con, "UPDATE core.tenants SET settings = $s",
        {"s": json.dumps({"learned_scores": {"min_conversions": 100000}})})
    marts_stage(trained_con, "t1", AS_OF, "r3")
    model = one(trained_con, "SELECT * FROM marts.lead_score_model WHERE run_id = 'r3'")
    assert model["score_method"] == "rule"
    assert model["method_reason"].startswith("fewer than 100000 conversions")
    assert run(trained_con, "SELECT DISTINCT score_method FROM marts.lead_scores") == [("rule",)]


def frame_of(n_train_pos: int, n_hold_pos: int, signal: float, seed: int = 0) -> pl.DataFrame:
    """Rows of a toy cohort: one feature `x` that drives the label with strength `signal`, a
    rule score that is noise, and the given numbers of converting contacts."""
    rng = np.random.default_rng(seed)
    rows = []
    for cutoff, positives in ((datetime.date(2025, 1, 1), n_train_pos),
                              (datetime.date(2025, 9, 1), n_hold_pos)):
        n = 40 * max(positives, 1)
        x = rng.normal(size=n)
        y = np.zeros(n, bool)
        y[np.argsort(-(signal * x + rng.normal(size=n)))[:positives]] = True
        rows.append(pl.DataFrame({"cutoff": [cutoff] * n, "contact_id": [f"c{i}" for i in range(n)],
                                  "label": y, "weight": np.ones(n), "x": x,
                                  "rule_score": rng.normal(size=n)}))
    return pl.concat(rows)


class ToyPlan:
    validation_train = (datetime.date(2025, 1, 1),)
    holdout = (datetime.date(2025, 9, 1),)
    deploy = (datetime.date(2025, 1, 1), datetime.date(2025, 9, 1))


TOY = [Factor("x", numeric=(("x", pl.col("x")),), phrase=pl.format("x is {}", pl.col("x")))]
TOY_BASELINES = {"rule": pl.col("rule_score")}


@pytest.mark.parametrize("train_pos, hold_pos, gain, reason", [
    (30, 40, 0.0, "fewer than 50 conversions to learn from before the held-out period (30)"),
    (80, 10, 0.0, "fewer than 20 conversions in the held-out period to validate on (10)"),
    (80, 40, 0.9, "does not beat the rule's"),
])
def test_the_rule_is_kept_when_history_or_the_model_falls_short(train_pos, hold_pos, gain,
                                                                reason):
    outcome = learn(frame_of(train_pos, hold_pos, 2.0), ToyPlan, TOY, TOY_BASELINES, "rule",
                    {**LEARNED, "min_auc_gain": gain})
    assert outcome.method == "rule" and outcome.model is None
    assert reason in outcome.reason


def test_a_model_that_beats_the_rule_is_refitted_on_every_cut_off_and_used():
    outcome = learn(frame_of(80, 40, 2.0), ToyPlan, TOY, TOY_BASELINES, "rule", LEARNED)
    assert outcome.method == "learned" and outcome.model is not None
    m = outcome.metrics
    assert m["auc_learned"] > 0.8 > 0.6 > m["auc_rule"]
    assert m["train_rows"] == m["validation_rows"] + m["holdout_rows"]
    assert outcome.model.coef[0] > 0


def test_learning_twice_gives_the_same_model():
    rows = frame_of(80, 40, 1.0)
    first = learn(rows, ToyPlan, TOY, TOY_BASELINES, "rule", LEARNED)
    again = learn(rows, ToyPlan, TOY, TOY_BASELINES, "rule", LEARNED)
    assert first.model.to_json() == again.model.to_json() and first.metrics == again.metrics


def test_calibration_splits_the_weighted_population_into_ten_ordered_deciles():
    p = np.linspace(0.01, 0.5, 1000)
    y = np.random.default_rng(1).random(1000) < p
    deciles = calibration(y, p, np.full(1000, 2.0))
    assert [d["population"] for d in deciles] == [200] * 10
    assert [d["rows"] for d in deciles] == [100] * 10
    assert all(a["predicted"] < b["predicted"] for a, b in itertools.pairwise(deciles))
    assert max_calibration_gap(deciles) < 0.1
    assert max_calibration_gap(deciles, min_leads=201) is None


# --- words ----------------------------------------------------------------------------------------


def test_activity_counts_read_as_sentences():
    f = pl.DataFrame({"webinar_30d": [3, 1, 0, 0, 0], "webinar_90d": [5, 1, 2, 0, 0],
                      "webinar_365d": [5, 1, 2, 4, 0]})
    words = f.select(explain.kind_phrase("webinar", (30, 90, 365)).alias("w"))["w"].to_list()
    assert words == ["attended 3 webinars in the last 30 days",
                     "attended 1 webinar in the last 30 days",
                     "attended 2 webinars in the last 90 days",
                     "attended 4 webinars in the last 365 days",
                     "no webinars in the last 365 days"]
    e = pl.DataFrame({"email_in_90d": [0, 1], "email_in_ever": [2, 1]})
    assert e.select(explain.kind_phrase("email_in", (90, None)))["email_in_90d"].to_list() == [
        "received 2 e-mails from them so far", "received 1 e-mail from them in the last 90 days"]


def test_the_rule_names_its_largest_components_with_their_points():
    f = pl.DataFrame({
        "fit_company_size": [15.0, 0.0], "fit_role": [20.0, 0.0], "fit_industry": [0.0, 0.0],
        "engagement_recency": [17.78, 0.0], "engagement_frequency": [3.0, 0.0],
        "engagement_depth": [0.0, 0.0], "company_size": [300, None], "seniority": ["top", "none"],
        "industry": ["Retail", None], "days_since_last_activity": [10, None],
        "activities_90d": [2, 0], "depth_90d": [0, 0]})
    assert explain.rule_words(f).to_list() == [
        ["+ C-level, founder or owner title (20 points)",
         "+ last activity 10 days ago (17.8 points)",
         "+ company of 300 employees (15 points)"],
        [],
    ]


@given(effects=st.lists(st.lists(st.floats(-3, 3, allow_nan=False), min_size=4, max_size=4),
                        min_size=1, max_size=20))
def test_top_factors_are_the_largest_effects_strongest_first_with_their_sign(effects):
    e = np.array(effects)
    f = pl.DataFrame({"i": np.arange(len(effects))})
    phrases = [pl.lit("f0"), pl.lit("f1"), None, pl.lit("f3")]  # factor 2 is never listed
    words = explain.top_factor_words(f, e, phrases).to_list()
    for row, listed in zip(e, words, strict=True):
        ranked = sorted((0, 1, 3), key=lambda k: -abs(row[k]))
        kept = [k for i, k in enumerate(ranked)
                if abs(row[k]) >= explain.MIN_EFFECT or (i == 0 and row[k] != 0)]
        expected = [("+ " if row[k] > 0 else "- ") + f"f{k}" for k in kept]
        assert listed == expected[:explain.TOP]


def test_default_settings_describe_the_fallback_thresholds():
    learned = default_settings()["learned_scores"]
    assert learned == {"min_conversions": 50, "min_holdout_conversions": 20,
                       "min_auc_gain": 0, "retrain_days": 7}
    assert anchor_date(AS_OF, learned["retrain_days"]) == AS_OF
