"""Keeping trained models (core.score_models) and reporting them (marts.lead_score_model,
marts.retention_model).

A model is stored per tenant, target and training date (anchor) with a fingerprint of what it
learned from (`sql/models/scoring/fingerprint.sql`, plus the settings and the model version). A
run re-uses the stored model of its anchor when the fingerprint is unchanged and re-trains
otherwise; since training is a function of exactly what the fingerprint covers, a re-used model
is the one re-training would give, and an as-of date's scores never depend on which runs came
before it.
"""

from __future__ import annotations

import datetime
import hashlib
import json

import duckdb
import polars as pl

from crm_pipeline.marts.tenant_settings import query_params
from crm_pipeline.scoring.model import MODEL_VERSION
from crm_pipeline.sql import sql_text
from crm_pipeline.warehouse import run

TARGETS = ("conversion", "churn")


def data_digest(con: duckdb.DuckDBPyConnection, tenant_id: str, anchor: datetime.date,
                last: datetime.date) -> str:
    """Digest of the data a model trained at `anchor` learns from (`last`: its newest cut-off),
    the same for both targets. Needs `score_contact_facts`."""
    text = sql_text("models/scoring/fingerprint")
    params = {"tenant_id": tenant_id, "anchor": anchor, "last": last}
    return run(con, text, query_params(text, params, "sql/models/scoring/fingerprint.sql"))[0][0]


def fingerprint(data: str, target: str, settings: dict) -> str:
    """What a model of `target` learns from: the data's digest, the settings, the model's
    version."""
    payload = json.dumps({"data": data, "target": target, "version": MODEL_VERSION,
                          "settings": settings}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def load_model(con: duckdb.DuckDBPyConnection, tenant_id: str, target: str,
               anchor: datetime.date, digest: str) -> dict | None:
    """The stored model of this anchor, if it learned from the same data."""
    rows = run(con, "SELECT model FROM core.score_models WHERE tenant_id = $t AND target = $g "
                    "AND trained_as_of = $a AND fingerprint = $f",
               {"t": tenant_id, "g": target, "a": anchor, "f": digest})
    return json.loads(rows[0][0]) if rows else None


def save_model(con: duckdb.DuckDBPyConnection, tenant_id: str, target: str,
               anchor: datetime.date, digest: str, run_id: str | None, model: dict) -> None:
    """Store a trained model as its anchor's (replacing one trained on other data)."""
    run(con, "DELETE FROM core.score_models WHERE tenant_id = $t AND target = $g "
             "AND trained_as_of = $a", {"t": tenant_id, "g": target, "a": anchor})
    run(con, "INSERT INTO core.score_models VALUES ($t, $g, $a, $f, $r, $m)",
        {"t": tenant_id, "g": target, "a": anchor, "f": digest, "r": run_id,
         "m": json.dumps(model, sort_keys=True)})


# marts.<table> column -> key of the model's metrics
_COLUMNS = {
    "lead_score_model": {
        "method": "score_method", "population": "leads",
        "metrics": {"train_leads": "train_rows", "train_conversions": "train_positives",
                    "holdout_leads": "holdout_rows", "holdout_conversions": "holdout_positives",
                    "auc_learned": "auc_learned", "auc_rule": "auc_rule",
                    "auc_activity_count": "auc_activity_count"},
    },
    "retention_model": {
        "method": "churn_method", "population": "customers",
        "metrics": {"train_customers": "train_rows", "train_churned": "train_positives",
                    "holdout_customers": "holdout_rows", "holdout_churned": "holdout_positives",
                    "auc_learned": "auc_learned", "auc_declining": "auc_declining",
                    "auc_p_alive": "auc_p_alive"},
    },
}
MODEL_TABLES = {"conversion": "lead_score_model", "churn": "retention_model"}


def model_row(target: str, tenant_id: str, run_id: str | None, as_of: datetime.date,
              model: dict, retrained: bool) -> pl.DataFrame:
    """The run's row of marts.lead_score_model or marts.retention_model."""
    spec = _COLUMNS[MODEL_TABLES[target]]
    metrics = model.get("metrics", {})
    calibration = [
        {"decile": d["decile"], spec["population"]: d["population"], "rows": d["rows"],
         "predicted": d["predicted"], "observed": d["observed"]}
        for d in metrics.get("calibration", [])
    ]
    window = model.get("window", {})
    row = {
        "tenant_id": tenant_id, "run_id": run_id, "as_of": as_of,
        spec["method"]: model["method"], "method_reason": model["reason"],
        "trained_as_of": datetime.date.fromisoformat(model["anchor"]),
        "retrained": retrained, "horizon_days": model["horizon_days"],
        **{k: _date(window.get(k)) for k in ("train_from", "train_to", "holdout_from",
                                              "holdout_to")},
        **{column: metrics.get(key) for column, key in spec["metrics"].items()},
        "holdout_log_loss": metrics.get("holdout_log_loss"),
        "calibration_max_gap": metrics.get("calibration_max_gap"),
        "calibration": calibration,
    }
    struct = pl.Struct({"decile": pl.Int32, spec["population"]: pl.Int64, "rows": pl.Int64,
                        "predicted": pl.Float64, "observed": pl.Float64})
    schema = {"tenant_id": pl.Utf8, "run_id": pl.Utf8, "as_of": pl.Date,
              spec["method"]: pl.Utf8, "method_reason": pl.Utf8, "trained_as_of": pl.Date,
              "retrained": pl.Boolean, "horizon_days": pl.Int32,
              **dict.fromkeys(("train_from", "train_to", "holdout_from", "holdout_to"), pl.Date),
              **{c: (pl.Float64 if c.startswith("auc") else pl.Int64) for c in spec["metrics"]},
              "holdout_log_loss": pl.Float64, "calibration_max_gap": pl.Float64,
              "calibration": pl.List(struct)}
    return pl.DataFrame([row], schema=schema)


def _date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def write_model_row(con: duckdb.DuckDBPyConnection, target: str, row: pl.DataFrame) -> int:
    """The run's row replaces any earlier row of the same tenant, run and as-of date."""
    table = MODEL_TABLES[target]
    first = row.row(0, named=True)
    run(con, f"DELETE FROM marts.{table} WHERE tenant_id = $t AND as_of = $d "
             "AND run_id IS NOT DISTINCT FROM $r",
        {"t": first["tenant_id"], "d": first["as_of"], "r": first["run_id"]})
    con.register("_score_model_row", row)
    try:
        run(con, f"INSERT INTO marts.{table} BY NAME SELECT * FROM _score_model_row")
    finally:
        con.unregister("_score_model_row")
    return row.height
