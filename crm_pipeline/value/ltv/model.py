"""Customer lifetime value per tenant: BG/NBD x Gamma-Gamma, or historical averages as a fallback.

`ltv_tables` gives the rows of `marts.ltv_model` and `marts.customer_ltv` for one tenant and as-of
date. Time is measured in days. The models are fitted when the tenant has at least
`MIN_REPEAT_CUSTOMERS` customers with a repeat purchase and a positive average repeat spend (the
customers Gamma-Gamma is fitted on, a subset of those BG/NBD learns drop-out from). Below that, or
when either fit does not converge (or Gamma-Gamma gives q <= 1, an undefined mean spend), the model
is `historical_average`: each customer's purchase rate and value per purchase day are their own,
shrunk toward the tenant's historical averages, and their chance of still being active falls with
the time since their last purchase (`fallback`: recency- and frequency-aware, in closed form). A
`LtvFallbackWarning` is issued and the reason is in the diagnostics. Customers whose net spend
is not positive (refunds) are expected to be worth 0.
"""

from __future__ import annotations

import datetime
import json
import warnings

import duckdb
import numpy as np
import polars as pl

from crm_pipeline.value.ltv.bgnbd import (
    BgNbdParams,
    expected_purchases_if_alive,
    fit_bgnbd,
    p_alive,
)
from crm_pipeline.value.ltv.fallback import (
    LIFETIME_DAYS,
    PRIOR_DAYS,
    PRIOR_PURCHASE_DAYS,
    fallback_predictions,
)
from crm_pipeline.value.ltv.gamma_gamma import (
    GammaGammaParams,
    expected_order_value,
    fit_gamma_gamma,
    fit_mask,
)
from crm_pipeline.value.ltv.summary import customer_summary

MIN_REPEAT_CUSTOMERS = 50


MODEL_FITTED = "bgnbd+gamma_gamma"


MODEL_FALLBACK = "historical_average"


HORIZONS_DAYS = (90, 365)


LTV_MODEL_SCHEMA = {
    "tenant_id": pl.String,
    "run_id": pl.String,
    "model": pl.String,
    "r": pl.Float64,
    "alpha": pl.Float64,
    "a": pl.Float64,
    "b": pl.Float64,
    "p": pl.Float64,
    "q": pl.Float64,
    "v": pl.Float64,
    "log_likelihood": pl.Float64,
    "customers": pl.Int64,
    "converged": pl.Boolean,
    "iterations": pl.Int32,
    "diagnostics": pl.String,
    "as_of": pl.Date,
}


CUSTOMER_LTV_SCHEMA = {
    "tenant_id": pl.String,
    "contact_id": pl.String,
    "frequency": pl.Int32,
    "recency_days": pl.Float64,
    "tenure_days": pl.Float64,
    "avg_order_value": pl.Float64,
    "historical_revenue": pl.Float64,
    "p_alive": pl.Float64,
    "expected_purchases_90d": pl.Float64,
    "expected_purchases_365d": pl.Float64,
    "expected_clv_365d": pl.Float64,
    "as_of": pl.Date,
}


class LtvFallbackWarning(UserWarning):
    """A tenant's LTV uses historical averages because the models could not be fitted."""


def _uncertainty(params, names: tuple[str, ...], covariance) -> dict:
    """Standard errors of the parameters and the covariance of their logs (None if unknown).

    The forecast draws parameter sets from the log covariance (`crm_pipeline.value.forecast`); the
    standard errors are its delta-method translation, parameter x sd of its log.
    """
    if covariance is None:
        return {"standard_errors": None, "log_parameter_covariance": None}
    sd = np.sqrt(np.diag(covariance))
    return {
        "standard_errors": {n: getattr(params, n) * e for n, e in zip(names, sd, strict=True)},
        "log_parameter_covariance": {"parameters": list(names), "matrix": covariance.tolist()},
    }


def _fit(x, tx, T, m, min_repeat_customers: int, diagnostics: dict, start: dict | None):
    """The two fits, or the reason to fall back (None, None, reason)."""
    gg_rows = fit_mask(x, m)
    if gg_rows.sum() < min_repeat_customers:
        return (
            None,
            None,
            (
                f"only {int(gg_rows.sum())} customers with a repeat purchase and positive spend "
                f"(minimum {min_repeat_customers})"
            ),
        )
    start = start or {}
    bg_start = (
        BgNbdParams(*(float(start[k]) for k in ("r", "alpha", "a", "b")))
        if all(start.get(k) is not None for k in ("r", "alpha", "a", "b"))
        else None
    )
    bg = fit_bgnbd(x, tx, T, start=bg_start)
    diagnostics["bgnbd"] = {
        "converged": bg.converged,
        "iterations": bg.iterations,
        "message": bg.message,
        "gradient_norm": bg.gradient_norm,
        "log_likelihood": bg.log_likelihood,
        **_uncertainty(bg.params, ("r", "alpha", "a", "b"), bg.covariance),
    }
    if not bg.converged:
        return None, None, f"BG/NBD fit did not converge ({bg.message})"
    gg_start = (
        GammaGammaParams(*(float(start[k]) for k in ("p", "q", "v")))
        if all(start.get(k) is not None for k in ("p", "q", "v"))
        else None
    )
    gg = fit_gamma_gamma(x[gg_rows], m[gg_rows], start=gg_start)
    diagnostics["gamma_gamma"] = {
        "converged": gg.converged,
        "iterations": gg.iterations,
        "message": gg.message,
        "gradient_norm": gg.gradient_norm,
        "log_likelihood": gg.log_likelihood,
        "customers": gg.customers,
        "mean_order_value": gg.params.mean_order_value,
        **_uncertainty(gg.params, ("p", "q", "v"), gg.covariance),
    }
    if not gg.converged:
        return None, None, f"Gamma-Gamma fit did not converge ({gg.message})"
    return bg, gg, None


def _json(value) -> str:
    """JSON text with non-finite numbers written as null (JSON has no NaN or Infinity)."""

    def clean(v):
        if isinstance(v, dict):
            return {k: clean(i) for k, i in v.items()}
        if isinstance(v, list | tuple):
            return [clean(i) for i in v]
        if isinstance(v, float | np.floating):
            return float(v) if np.isfinite(v) else None
        if isinstance(v, np.integer | np.bool_):
            return v.item()
        return v

    return json.dumps(clean(value), allow_nan=False)


def _historical_rates(x, T, revenue) -> tuple[float, float]:
    """(repeat purchase days per day of tenure, net value per purchase day), tenant-wide."""
    exposure = float(T.sum())
    rate = float(x.sum()) / exposure if exposure > 0 else 0.0
    days = float((x + 1).sum())
    value = max(float(revenue.sum()) / days, 0.0) if days > 0 else 0.0
    return rate, value


def previous_parameters(con: duckdb.DuckDBPyConnection, tenant_id: str) -> dict | None:
    """The tenant's latest fitted parameters in `marts.ltv_model`, to start the next fit from."""
    rows = con.execute(
        "SELECT r, alpha, a, b, p, q, v FROM marts.ltv_model "
        "WHERE tenant_id = $tenant_id AND model = $model "
        "ORDER BY as_of DESC, run_id DESC LIMIT 1",
        {"tenant_id": tenant_id, "model": MODEL_FITTED},
    ).fetchall()
    names = ("r", "alpha", "a", "b", "p", "q", "v")
    return dict(zip(names, rows[0], strict=True)) if rows else None


def ltv_tables(
    con: duckdb.DuckDBPyConnection,
    tenant_id: str,
    as_of: datetime.date,
    run_id: str,
    *,
    min_repeat_customers: int = MIN_REPEAT_CUSTOMERS,
    start: dict | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(one row of `marts.ltv_model`, the rows of `marts.customer_ltv`) for a tenant at `as_of`.

    Purchases and refunds after `as_of` are ignored: an earlier date can be replayed (back-tests).
    `start` (parameters r, alpha, a, b, p, q, v, e.g. `previous_parameters`) only speeds the fits
    up: their optimum does not depend on it.
    """
    summary = customer_summary(con, tenant_id, as_of)
    x = summary["frequency"].to_numpy().astype(float)
    tx = summary["recency_days"].to_numpy()
    T = summary["tenure_days"].to_numpy()
    m = summary["avg_order_value"].fill_null(np.nan).to_numpy()
    revenue = summary["historical_revenue"].to_numpy()
    model_row, values = fitted_values(
        x, tx, T, m, revenue, tenant_id, as_of, run_id,
        min_repeat_customers=min_repeat_customers, start=start,
    )
    return model_row, customer_ltv_rows(tenant_id, as_of, summary, values)


def customer_ltv_rows(
    tenant_id: str, as_of: datetime.date, summary: pl.DataFrame, values: dict[str, np.ndarray]
) -> pl.DataFrame:
    """Rows of `marts.customer_ltv` from the customers' summary (contact_id and the columns of
    `customer_summary`) and their `fitted_values`."""
    return summary.select(
        pl.lit(tenant_id).alias("tenant_id"),
        "contact_id",
        "frequency",
        "recency_days",
        "tenure_days",
        "avg_order_value",
        "historical_revenue",
        pl.Series("p_alive", values["p_alive"]).fill_nan(None),
        pl.Series("expected_purchases_90d", values["expected_purchases_90d"]),
        pl.Series("expected_purchases_365d", values["expected_purchases_365d"]),
        pl.Series("expected_clv_365d", values["expected_clv_365d"]),
        pl.lit(as_of, dtype=pl.Date).alias("as_of"),
    ).cast(CUSTOMER_LTV_SCHEMA)


def fitted_values(
    x: np.ndarray,
    tx: np.ndarray,
    T: np.ndarray,
    m: np.ndarray,
    revenue: np.ndarray,
    tenant_id: str,
    as_of: datetime.date,
    run_id: str,
    *,
    min_repeat_customers: int = MIN_REPEAT_CUSTOMERS,
    start: dict | None = None,
) -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
    """(the `marts.ltv_model` row, each customer's p_alive,
    expected_purchases_90d, expected_purchases_365d and expected_clv_365d) from the customers'
    summary: frequency, recency, tenure, average order value (NaN without) and net revenue."""
    worthless = (revenue <= 0) | ((x > 0) & ~fit_mask(x, m))

    diagnostics: dict = {
        "time_unit": "days",
        "tenure": "whole days from the first purchase date to the as-of date, which is observed",
        "customers": int(x.size),
        "repeat_customers": int((x > 0).sum()),
        "gamma_gamma_customers": int(fit_mask(x, m).sum()),
        "nonpositive_spend_customers": int(worthless.sum()),
        "min_repeat_customers": min_repeat_customers,
        "warnings": [],
    }
    bg, gg, reason = _fit(x, tx, T, m, min_repeat_customers, diagnostics, start)
    params = dict.fromkeys(("r", "alpha", "a", "b", "p", "q", "v", "log_likelihood"))
    if reason is None:
        model = MODEL_FITTED
        with np.errstate(all="ignore"):  # non-finite results are checked just below
            palive = p_alive(bg.params, x, tx, T)
            if_alive = expected_purchases_if_alive(bg.params, np.array(HORIZONS_DAYS, float), x, T)
            purchases = {h: if_alive[i] * palive for i, h in enumerate(HORIZONS_DAYS)}
            order_value = expected_order_value(gg.params, x, m)
        converged, iterations = True, bg.iterations + gg.iterations
        finite = np.isfinite(palive) & np.isfinite(order_value)
        for values in purchases.values():
            finite &= np.isfinite(values)
        if not finite.all():
            # Degenerate fits (a, b in the millions: a near-constant drop-out rate) overflow the
            # hypergeometric function; the historical averages are then the honest answer.
            reason = (f"the fitted BG/NBD (a={bg.params.a:.3g}, b={bg.params.b:.3g}) gives "
                      f"non-finite predictions for {int((~finite).sum())} customers")
    if reason is None:
        params.update(
            r=bg.params.r,
            alpha=bg.params.alpha,
            a=bg.params.a,
            b=bg.params.b,
            p=gg.params.p,
            q=gg.params.q,
            v=gg.params.v,
            log_likelihood=bg.log_likelihood,
        )
    else:
        model = MODEL_FALLBACK
        rate, value = _historical_rates(x, T, revenue)
        palive, purchases, order_value = fallback_predictions(x, tx, T, revenue, rate, value,
                                                              HORIZONS_DAYS)
        fitted = [diagnostics.get(k) for k in ("bgnbd", "gamma_gamma")]
        converged = False if any(f is not None for f in fitted) else None
        iterations = (
            sum(f["iterations"] for f in fitted if f is not None) if converged is False else None
        )
        diagnostics["fallback_reason"] = reason
        diagnostics["historical_repeat_rate_per_day"] = rate
        diagnostics["historical_value_per_purchase_day"] = value
        diagnostics["fallback"] = {"prior_days": PRIOR_DAYS, "lifetime_days": LIFETIME_DAYS,
                                   "prior_purchase_days": PRIOR_PURCHASE_DAYS}
        message = (
            f"LTV for tenant {tenant_id} at {as_of}: {reason}; using historical averages instead."
        )
        diagnostics["warnings"].append(message)
        warnings.warn(message, LtvFallbackWarning, stacklevel=3)
    order_value = np.where(worthless, 0.0, order_value)

    model_row = pl.DataFrame(
        [
            {
                "tenant_id": tenant_id,
                "run_id": run_id,
                "model": model,
                **params,
                "customers": int(x.size),
                "converged": converged,
                "iterations": iterations,
                "diagnostics": _json(diagnostics),
                "as_of": as_of,
            }
        ],
        schema=LTV_MODEL_SCHEMA,
    )
    return model_row, {
        "p_alive": palive,
        "expected_purchases_90d": purchases[90],
        "expected_purchases_365d": purchases[365],
        "expected_clv_365d": purchases[365] * order_value,
    }
