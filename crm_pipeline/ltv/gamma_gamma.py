"""Gamma-Gamma (Fader, Hardie & Lee 2005; Hardie's note 025): spend per purchase, by ML.

Only customers with a repeat purchase and a positive average repeat spend enter the fit: the model
is a Gamma distribution of positive amounts, and a refund-heavy customer (net spend zero or below)
has no place in it. Such customers are predicted 0 per purchase by `expected_order_value`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln

from .bgnbd import WARM_START_CUSTOMERS, _dot, _maximize, log_parameter_covariance


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
    x_values, x_counts = np.unique(x, return_counts=True)
    log_m = np.log(m)
    return _Stats(
        x_values, x_counts.astype(float), float(_dot(x, log_m)), float(log_m.sum()), x, x * m
    )


def _log_likelihood_and_gradient(log_params: np.ndarray, s: _Stats) -> tuple[float, np.ndarray]:
    """Total log-likelihood (density of the average spends) and its gradient in log-parameters."""
    p, q, v = np.exp(log_params)
    xv, nx = s.x_values, s.x_counts
    px = p * xv
    ll = _dot(nx, gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v) + px * np.log(xv))
    ll += p * s.sum_x_log_m - s.sum_log_m
    g_p = _dot(nx, xv * (digamma(px + q) - digamma(px) + np.log(xv))) + s.sum_x_log_m
    g_q = _dot(nx, digamma(px + q) - digamma(q) + np.log(v))
    g_v = q * nx.sum() / v
    log_xmv = np.log(s.xm + v)
    sum_x_log = _dot(s.x, log_xmv)
    sum_log = log_xmv.sum()
    ll -= p * sum_x_log + q * sum_log
    g_p -= sum_x_log
    g_q -= sum_log
    g_v -= _dot(p * s.x + q, 1.0 / (s.xm + v))
    return float(ll), np.array([g_p * p, g_q * q, g_v * v])


def log_likelihood(params: GammaGammaParams, frequency, monetary) -> float:
    """Total Gamma-Gamma log-likelihood of the customers' average repeat spends."""
    log_params = np.log([params.p, params.q, params.v])
    return _log_likelihood_and_gradient(log_params, _stats(frequency, monetary))[0]


def fit_gamma_gamma(frequency, monetary, *, max_iterations: int = 1000) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma fit on customers selected by `fit_mask`.

    Amounts are rescaled internally to mean 1 (only v depends on the currency) and the start
    matches the mean spend; for many customers a fit on a sample gives the start, as for BG/NBD.
    Converged also requires q > 1 (otherwise the mean spend per purchase is undefined).
    """
    x = np.asarray(frequency, dtype=float)
    m = np.asarray(monetary, dtype=float)
    if x.size == 0:
        raise ValueError("cannot fit Gamma-Gamma without customers")
    scale = float(m.mean())
    s = _stats(x, m / scale)
    start = np.log([1.0, 2.0, 1.0])  # mean spend p v / (q - 1) = 1 after scaling
    if x.size > WARM_START_CUSTOMERS:
        sample = np.random.default_rng(0).choice(x.size, WARM_START_CUSTOMERS, replace=False)
        sample_fit = fit_gamma_gamma(x[sample], m[sample], max_iterations=max_iterations)
        if sample_fit.converged:
            p = sample_fit.params
            start = np.log([p.p, p.q, p.v / scale])
    opt = _maximize(
        lambda theta: _log_likelihood_and_gradient(theta, s), x.size, start, max_iterations
    )
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
    covariance = (
        log_parameter_covariance(lambda theta: _log_likelihood_and_gradient(theta, s)[1], opt.theta)
        if opt.converged
        else None
    )
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
