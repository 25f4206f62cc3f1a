"""Gamma-Gamma (Fader, Hardie & Lee 2005; Hardie's note 025): spend per purchase, by ML.

Only customers with a repeat purchase and a positive average repeat spend enter the fit: the model
is a Gamma distribution of positive amounts, and a refund-heavy customer (net spend zero or below)
has no place in it. Such customers are predicted 0 per purchase by `expected_order_value`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln, polygamma

from crm_pipeline.value.ltv.bgnbd import (
    WARM_START_CUSTOMERS,
    covariance_from_hessian,
    distinct,
    dot,
    optimum,
)


@dataclass(frozen=True)
class GammaGammaParams:
    """Spend per purchase ~ Gamma(p, nu); nu ~ Gamma(q, v). v is in currency units."""

    p: float
    q: float
    v: float

    @property
    def mean_order_value(self) -> float:
        """Population mean spend per purchase (infinite unless q > 1)."""
        return self.p * self.v / (self.q - 1.0) if self.q > 1.0 else float("inf")


@dataclass(frozen=True)
class GammaGammaFit:
    """The fitted parameters with what a reader needs to trust them."""

    params: GammaGammaParams
    log_likelihood: float
    customers: int
    converged: bool
    iterations: int
    message: str
    gradient_norm: float
    covariance: np.ndarray | None = None  # of (log p, log q, log v), as for BG/NBD


@dataclass(frozen=True)
class _Stats:
    x_values: np.ndarray
    x_counts: np.ndarray
    sum_x_log_m: float
    sum_log_m: float
    x: np.ndarray
    xm: np.ndarray


def fit_mask(frequency, monetary) -> np.ndarray:
    """Customers Gamma-Gamma can be fitted on: a repeat purchase and positive average spend."""
    x = np.asarray(frequency, dtype=float)
    m = np.asarray(monetary, dtype=float)
    with np.errstate(invalid="ignore"):
        return (x > 0) & np.isfinite(m) & (m > 0)


def _stats(frequency, monetary) -> _Stats:
    x = np.asarray(frequency, dtype=float)
    m = np.asarray(monetary, dtype=float)
    if x.shape != m.shape or x.ndim != 1:
        raise ValueError("frequency and monetary must be 1-d arrays of the same length")
    if not np.all(fit_mask(x, m)):
        raise ValueError(
            "Gamma-Gamma needs frequency > 0 and monetary > 0; select rows with fit_mask()"
        )
    if np.all(x == np.floor(x)):
        x_values, _, x_at = distinct(x)
        x_counts = np.bincount(x_at)
    else:
        x_values, x_counts = np.unique(x, return_counts=True)
    log_m = np.log(m)
    return _Stats(
        x_values, x_counts.astype(float), float(dot(x, log_m)), float(log_m.sum()), x, x * m
    )


def _log_likelihood_and_gradient(log_params: np.ndarray, s: _Stats) -> tuple[float, np.ndarray]:
    """Total log-likelihood (density of the average spends) and its gradient in log-parameters."""
    return _log_likelihood_terms(log_params, s, hessian=False)[:2]


def _log_likelihood_gradient_hessian(log_params: np.ndarray, s: _Stats):
    """Total log-likelihood, its gradient and Hessian in log-parameters."""
    return _log_likelihood_terms(log_params, s, hessian=True)


def _log_likelihood_terms(log_params: np.ndarray, s: _Stats, hessian: bool):
    p, q, v = np.exp(log_params)
    xv, nx = s.x_values, s.x_counts
    px = p * xv
    ll = dot(nx, gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v) + px * np.log(xv))
    ll += p * s.sum_x_log_m - s.sum_log_m
    g_p = dot(nx, xv * (digamma(px + q) - digamma(px) + np.log(xv))) + s.sum_x_log_m
    g_q = dot(nx, digamma(px + q) - digamma(q) + np.log(v))
    g_v = q * nx.sum() / v
    log_xmv = np.log(s.xm + v)
    sum_x_log = dot(s.x, log_xmv)
    sum_log = log_xmv.sum()
    ll -= p * sum_x_log + q * sum_log
    g_p -= sum_x_log
    g_q -= sum_log
    inv_xmv = 1.0 / (s.xm + v)
    g_v -= dot(p * s.x + q, inv_xmv)
    natural = np.array([p, q, v])
    gradient = np.array([g_p, g_q, g_v]) * natural
    if not hessian:
        return float(ll), gradient, None
    n = nx.sum()
    t_pxq = polygamma(1, px + q)
    h = np.zeros((3, 3))
    h[0, 0] = dot(nx, xv * xv * (t_pxq - polygamma(1, px)))
    h[0, 1] = dot(nx, xv * t_pxq)
    h[0, 2] = -dot(s.x, inv_xmv)
    h[1, 1] = dot(nx, t_pxq - polygamma(1, q))
    h[1, 2] = n / v - inv_xmv.sum()
    h[2, 2] = -q * n / v**2 + dot(p * s.x + q, inv_xmv * inv_xmv)
    h = np.triu(h) + np.triu(h, 1).T
    return float(ll), gradient, h * np.outer(natural, natural) + np.diag(gradient)


def log_likelihood(params: GammaGammaParams, frequency, monetary) -> float:
    """Total Gamma-Gamma log-likelihood of the customers' average repeat spends."""
    log_params = np.log([params.p, params.q, params.v])
    return _log_likelihood_and_gradient(log_params, _stats(frequency, monetary))[0]


def fit_gamma_gamma(
    frequency, monetary, *, max_iterations: int = 1000, start: GammaGammaParams | None = None
) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma fit on customers selected by `fit_mask`.

    Amounts are rescaled internally to mean 1 (only v depends on the currency). Starts as for
    BG/NBD: `start` (an earlier fit), a fit on a sample for many customers, then values matching
    the mean spend. Converged also requires q > 1 (otherwise the mean spend per purchase is
    undefined).
    """
    x = np.asarray(frequency, dtype=float)
    m = np.asarray(monetary, dtype=float)
    if x.size == 0:
        raise ValueError("cannot fit Gamma-Gamma without customers")
    scale = float(m.mean())
    s = _stats(x, m / scale)
    cold = np.log([1.0, 2.0, 1.0])  # mean spend p v / (q - 1) = 1 after scaling

    def terms(stats):
        return lambda th: _log_likelihood_gradient_hessian(th, stats)

    def likelihood(stats):
        return lambda th: _log_likelihood_and_gradient(th, stats)

    def given():
        valid = start is not None and all(
            np.isfinite(v) and v > 0 for v in (start.p, start.q, start.v)
        )
        return np.log([start.p, start.q, start.v / scale]) if valid else None

    def from_sample():
        if x.size <= WARM_START_CUSTOMERS:
            return None
        sample = np.random.default_rng(0).choice(x.size, WARM_START_CUSTOMERS, replace=False)
        sample_scale = float(m[sample].mean())
        sample_s = _stats(x[sample], m[sample] / sample_scale)
        sample_opt, _ = optimum(terms(sample_s), likelihood(sample_s), sample.size,
                                 [lambda: cold], max_iterations)
        shift = np.log([1.0, 1.0, sample_scale / scale])
        return sample_opt.theta + shift if sample_opt.converged else None

    opt, hessian = optimum(terms(s), likelihood(s), x.size, [given, from_sample, lambda: cold],
                            max_iterations)
    p, q, v = np.exp(opt.theta)
    params = GammaGammaParams(float(p), float(q), float(v * scale))
    message, converged = opt.message, opt.converged
    if q <= 1.0:
        message += "; q <= 1 leaves the mean spend per purchase undefined"
        converged = False
    finite = bool(np.all(np.isfinite(opt.theta)))
    ll = (
        _log_likelihood_and_gradient(opt.theta, s)[0] - x.size * np.log(scale)
        if finite
        else float("nan")
    )
    # rescaling the amounts shifts log v by a constant: the covariance is the same
    covariance = covariance_from_hessian(hessian) if opt.converged else None
    return GammaGammaFit(
        params, float(ll), int(x.size), converged, opt.iterations, message, opt.gradient_norm,
        covariance,
    )


def expected_order_value(params: GammaGammaParams, frequency, monetary) -> np.ndarray:
    """Expected spend per future purchase: the customer's average shrunk to the population mean.

    Customers without a repeat purchase get the population mean; customers with repeat purchases
    whose average net spend is not positive (refunds) get 0, as they were excluded from the fit.
    """
    x = np.asarray(frequency, dtype=float)
    m = np.asarray(monetary, dtype=float)
    p, q, v = params.p, params.q, params.v
    m_filled = np.where(np.isfinite(m), m, 0.0)
    conditional = p * (v + x * m_filled) / (p * x + q - 1.0)
    return np.where(x == 0, conditional, np.where(fit_mask(x, m), conditional, 0.0))


def simulate_average_spend(
    params: GammaGammaParams, frequency, rng: np.random.Generator
) -> np.ndarray:
    """Average spend of each customer's `frequency` purchases, drawn from the model (NaN for 0)."""
    x = np.asarray(frequency, dtype=float)
    nu = rng.gamma(params.q, 1.0 / params.v, x.size)
    total = rng.gamma(np.maximum(params.p * x, 1e-12), 1.0 / nu)
    return np.where(x > 0, total / np.maximum(x, 1.0), np.nan)
