"""BG/NBD (Fader, Hardie & Lee 2005): purchase counts, fitted by maximum likelihood.

Time is in whatever unit the inputs use (the pipeline uses days). The log-likelihood is evaluated
on sufficient statistics: the terms that depend on the frequency alone are summed per distinct
frequency, the rest per distinct (frequency, recency, T) pattern, so a million customers with
integer day counts cost a few hundred thousand evaluations per step. Gradients and Hessians are
analytic; the fit climbs by Newton's method on log-parameters (a few steps from a nearby start),
with SciPy's L-BFGS-B within bounds as the fallback (`fit_bgnbd`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.optimize import minimize
from scipy.special import digamma, expit, gammaln, hyp2f1, polygamma

LOG_BOUND = 18.0


def dot(u: np.ndarray, v: np.ndarray) -> float:
    """Inner product without BLAS: OpenBLAS threads make long np.dot slow on a busy machine."""
    return float(
        np.einsum("i,i->", u, v)
    )  # log-parameters are kept within +-18 of their data-scaled start (e^18 ~ 6.6e7)


@dataclass(frozen=True)
class BgNbdParams:
    """Gamma(r, alpha) purchase rates and Beta(a, b) drop-out probabilities; alpha in time units."""

    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class BgNbdFit:
    """The fitted parameters with what a reader needs to trust them."""

    params: BgNbdParams
    log_likelihood: float
    customers: int
    converged: bool
    iterations: int
    message: str
    gradient_norm: float
    covariance: np.ndarray | None = None  # of (log r, log alpha, log a, log b); see below


@dataclass(frozen=True)
class _Stats:
    """Sufficient statistics of (frequency, recency, T) for the log-likelihood.

    When recency and T are whole numbers (days), `grid` holds 0..max T and the `*_at` arrays index
    into it, so log(alpha + t) is computed once per distinct day count, not once per pattern.
    """

    x_values: np.ndarray  # distinct frequencies and their counts
    x_counts: np.ndarray
    zero_T: np.ndarray  # distinct T of customers without repeat purchases, and counts
    zero_w: np.ndarray
    rep_x: np.ndarray  # distinct (x, recency, T) of customers with repeat purchases, and counts
    rep_tx: np.ndarray
    rep_T: np.ndarray
    rep_w: np.ndarray
    rep_wx: np.ndarray  # counts x frequency
    rep_x_at: np.ndarray  # index of each pattern's x in x_values
    grid: np.ndarray | None
    rep_tx_at: np.ndarray | None
    rep_T_at: np.ndarray | None
    customers: int


GRID_LIMIT = 1_000_000


def _stats(frequency, recency, T) -> _Stats:
    x = np.asarray(frequency, dtype=float)
    tx = np.asarray(recency, dtype=float)
    T = np.asarray(T, dtype=float)
    if not (x.shape == tx.shape == T.shape and x.ndim == 1):
        raise ValueError("frequency, recency and T must be 1-d arrays of the same length")
    if x.size and (
        np.any(x < 0)
        or np.any(x != np.floor(x))
        or np.any(tx < 0)
        or np.any(tx > T)
        or np.any((x == 0) & (tx != 0))
    ):
        raise ValueError(
            "need integer frequency >= 0, 0 <= recency <= T, and recency 0 when frequency is 0"
        )
    gridded = T.size > 0 and _integer_valued(tx, T) and T.max() <= GRID_LIMIT
    x_values, _, x_at = distinct(x) if _integer_valued(x) else np.unique(x, True, True)
    x_counts = np.bincount(x_at.ravel())
    zero = x == 0
    zero_T, zero_w = np.unique(T[zero], return_counts=True)
    size = int(T.max()) + 1 if gridded else 0
    if gridded and (x.max() + 1) * size * size < 2**62:  # one integer key per pattern: a sort
        key = (x[~zero].astype(np.int64) * size + tx[~zero].astype(np.int64)) * size + T[
            ~zero
        ].astype(np.int64)
        key, counts = np.unique(key, return_counts=True)
        rep_T = (key % size).astype(float)
        rep_tx = (key // size % size).astype(float)
        rep_x = (key // (size * size)).astype(float)
    else:
        rep = (
            pl.DataFrame({"x": x[~zero], "tx": tx[~zero], "T": T[~zero]})
            .group_by("x", "tx", "T")
            .len()
            .sort("x", "tx", "T")
        )
        rep_x, rep_tx, rep_T = (rep[c].to_numpy() for c in ("x", "tx", "T"))
        counts = rep["len"].to_numpy()
    rep_w = counts.astype(float)
    grid = np.arange(T.max() + 1.0) if gridded else None
    return _Stats(
        x_values=x_values,
        x_counts=x_counts.astype(float),
        zero_T=zero_T,
        zero_w=zero_w.astype(float),
        rep_x=rep_x,
        rep_tx=rep_tx,
        rep_T=rep_T,
        rep_w=rep_w,
        rep_wx=rep_w * rep_x,
        rep_x_at=np.searchsorted(x_values, rep_x),
        grid=grid,
        rep_tx_at=rep_tx.astype(np.int64) if gridded else None,
        rep_T_at=rep_T.astype(np.int64) if gridded else None,
        customers=x.size,
    )


def _log_and_inverse(alpha: float, values: np.ndarray, at: np.ndarray | None, grid) -> tuple:
    """log(alpha + t) and 1 / (alpha + t), via the grid of day counts when there is one."""
    if at is None:
        shifted = alpha + values
        return np.log(shifted), 1.0 / shifted
    shifted = alpha + grid
    return np.log(shifted).take(at), (1.0 / shifted).take(at)


def _log_likelihood_and_gradient(log_params: np.ndarray, s: _Stats) -> tuple[float, np.ndarray]:
    """Total log-likelihood and its gradient with respect to the log-parameters."""
    return _log_likelihood_terms(log_params, s, hessian=False)[:2]


def _log_likelihood_gradient_hessian(
    log_params: np.ndarray, s: _Stats
) -> tuple[float, np.ndarray, np.ndarray]:
    """Total log-likelihood, its gradient and Hessian with respect to the log-parameters."""
    return _log_likelihood_terms(log_params, s, hessian=True)


def _log_likelihood_terms(log_params: np.ndarray, s: _Stats, hessian: bool):
    r, alpha, a, b = np.exp(log_params)
    xv, nx = s.x_values, s.x_counts
    ll = dot(
        nx,
        gammaln(r + xv)
        - gammaln(r)
        + r * np.log(alpha)
        + gammaln(a + b)
        + gammaln(b + xv)
        - gammaln(b)
        - gammaln(a + b + xv),
    )
    g_r = dot(nx, digamma(r + xv) - digamma(r) + np.log(alpha))
    g_alpha = nx.sum() * r / alpha
    g_a = dot(nx, digamma(a + b) - digamma(a + b + xv))
    g_b = dot(nx, digamma(a + b) + digamma(b + xv) - digamma(b) - digamma(a + b + xv))

    # customers without repeat purchases: log P = A1 + A2 + A3 with A3 = -r log(alpha + T)
    log_aT0 = np.log(alpha + s.zero_T)
    ll -= r * dot(s.zero_w, log_aT0)
    g_r -= dot(s.zero_w, log_aT0)
    g_alpha -= r * dot(s.zero_w, 1.0 / (alpha + s.zero_T))

    # with repeat purchases: log P = A1 + A2 + log(e^A3 + e^A4), still alive (A3) or dropped out
    # after the last purchase (A4); written as A3 + softplus(A4 - A3) to stay finite.
    w, wx = s.rep_w, s.rep_wx
    log_aT, inv_aT = _log_and_inverse(alpha, s.rep_T, s.rep_T_at, s.grid)
    log_atx, inv_atx = _log_and_inverse(alpha, s.rep_tx, s.rep_tx_at, s.grid)
    with np.errstate(divide="ignore", invalid="ignore"):  # b + x - 1 <= 0 only for x = 0, unused
        inv_b = 1.0 / (b + xv - 1.0)
        log_drop = np.log(a) + np.log(inv_b)
    rx = r + s.rep_x
    log_gap = log_atx - log_aT
    d = log_drop.take(s.rep_x_at) - rx * log_gap  # A4 - A3
    softplus = np.maximum(d, 0.0) + np.log1p(np.exp(-np.abs(d)))
    w4 = np.exp(d - softplus)  # posterior probability of the drop-out branch
    ww4 = w * w4
    ll += -r * dot(w, log_aT) - dot(wx, log_aT) + dot(w, softplus)
    g_r -= dot(w, log_aT) + dot(ww4, log_gap)
    g_alpha -= r * dot(w, inv_aT) + dot(wx, inv_aT) + dot(ww4 * rx, inv_atx - inv_aT)
    g_a += ww4.sum() / a
    inv_bx = inv_b.take(s.rep_x_at)
    g_b -= dot(ww4, inv_bx)
    natural = np.array([g_r, g_alpha, g_a, g_b])
    p = np.array([r, alpha, a, b])
    gradient = natural * p
    if not hessian:
        return float(ll), gradient, None

    # Second derivatives in (r, alpha, a, b). Per distinct frequency (trigamma terms):
    h = np.zeros((4, 4))
    t_ab = polygamma(1, a + b) - polygamma(1, a + b + xv)
    h[0, 0] = dot(nx, polygamma(1, r + xv) - polygamma(1, r))
    h[0, 1] = nx.sum() / alpha
    h[1, 1] = -nx.sum() * r / alpha**2
    h[2, 2] = h[2, 3] = dot(nx, t_ab)
    h[3, 3] = dot(nx, t_ab + polygamma(1, b + xv) - polygamma(1, b))
    # customers without repeat purchases
    inv_aT0 = 1.0 / (alpha + s.zero_T)
    h[0, 1] -= dot(s.zero_w, inv_aT0)
    h[1, 1] += r * dot(s.zero_w, inv_aT0 * inv_aT0)
    # with repeat purchases: -(r + x) log(alpha + T) + softplus(d), whose second derivative is
    # w4 (1 - w4) d_i d_j + w4 d_ij, with d_r = -gap, d_alpha = -(r + x) gap', d_a = 1/a and
    # d_b = -1 / (b + x - 1), gap' and gap'' the derivatives of the gap in alpha.
    u = ww4 * (1.0 - w4)
    gap1 = inv_atx - inv_aT
    gap2 = inv_aT * inv_aT - inv_atx * inv_atx
    rx_gap1 = rx * gap1
    h[0, 0] += dot(u, log_gap * log_gap)
    h[0, 1] += dot(u, log_gap * rx_gap1) - dot(ww4, gap1) - dot(w, inv_aT)
    h[0, 2] -= dot(u, log_gap) / a
    h[0, 3] += dot(u, log_gap * inv_bx)
    h[1, 1] += dot(u, rx_gap1 * rx_gap1) - dot(ww4, rx * gap2) + dot(w * rx, inv_aT * inv_aT)
    h[1, 2] -= dot(u, rx_gap1) / a
    h[1, 3] += dot(u, rx_gap1 * inv_bx)
    h[2, 2] += (u.sum() - ww4.sum()) / a**2
    h[2, 3] -= dot(u, inv_bx) / a
    h[3, 3] += dot(u + ww4, inv_bx * inv_bx)
    h = np.triu(h) + np.triu(h, 1).T
    return float(ll), gradient, h * np.outer(p, p) + np.diag(gradient)


def log_likelihood(params: BgNbdParams, frequency, recency, T) -> float:
    """Total BG/NBD log-likelihood of the customers (in the time unit of the inputs)."""
    log_params = np.log([params.r, params.alpha, params.a, params.b])
    return _log_likelihood_and_gradient(log_params, _stats(frequency, recency, T))[0]


WARM_START_CUSTOMERS = 50_000
NEWTON_ITERATIONS = 50
MAX_STEP = 3.0  # largest Newton step in a log-parameter


@dataclass(frozen=True)
class _Optimum:
    theta: np.ndarray
    converged: bool
    iterations: int
    message: str
    gradient_norm: float


def _verdict(theta, value, gradient, bounds, success: bool) -> tuple[bool, float, bool]:
    """(converged, largest gradient component of the mean, at a bound), as both optimizers
    judge it: success (or a stall with a tiny gradient), gradient below 1e-3, off the bounds."""
    finite = bool(np.all(np.isfinite(theta)) and np.isfinite(value))
    grad_norm = float(np.max(np.abs(gradient))) if finite else float("inf")
    at_bound = any(
        abs(v - lo) < 1e-6 or abs(v - hi) < 1e-6 for v, (lo, hi) in zip(theta, bounds, strict=True)
    )
    converged = finite and not at_bound and (success or grad_norm < 1e-5) and grad_norm < 1e-3
    return bool(converged), grad_norm, at_bound


def _maximize(
    log_likelihood_and_gradient, n: int, start: np.ndarray, max_iterations: int
) -> _Optimum:
    """Maximise a log-likelihood over log-parameters with L-BFGS-B (shared by both models).

    Minimises the mean negative log-likelihood, as lifetimes does, within +-LOG_BOUND of the
    start. Converged means SciPy reported success (or stalled with a tiny gradient), the largest
    gradient component of the mean is below 1e-3 and no parameter sits at a bound.
    """

    def objective(theta):
        ll, grad = log_likelihood_and_gradient(theta)
        return -ll / n, -grad / n

    bounds = [(v - LOG_BOUND, v + LOG_BOUND) for v in start]
    result = minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": max_iterations, "ftol": 1e-15, "gtol": 1e-9},
    )
    converged, grad_norm, at_bound = _verdict(
        result.x, result.fun, result.jac, bounds, bool(result.success)
    )
    message = str(result.message) + ("; a parameter reached its bound" if at_bound else "")
    return _Optimum(result.x, converged, int(result.nit), message, grad_norm)


def _newton(terms, n: int, start: np.ndarray, max_iterations: int = NEWTON_ITERATIONS):
    """(optimum, Hessian there) by Newton's method, or None when it does not converge.

    With the exact Hessian the optimum of a million customers is a handful of likelihood
    evaluations away from a start near it (a sample's or an earlier date's fit), where L-BFGS-B
    takes dozens. Where the log-likelihood is not concave the Hessian's eigenvalues are taken in
    absolute value (still an ascent direction); each step is at most MAX_STEP in every
    log-parameter and is halved until the likelihood does not fall. None (the caller then runs
    `_maximize`) when the gradient is not down to L-BFGS-B's tolerance within `max_iterations`,
    a step would leave the +-LOG_BOUND box around the start, or the top is flat (the Hessian
    there is not negative definite). `terms(theta)` gives
    (log-likelihood, gradient, Hessian) of the total.
    """
    bounds = [(v - LOG_BOUND, v + LOG_BOUND) for v in start]
    low, high = start - LOG_BOUND, start + LOG_BOUND
    theta = np.asarray(start, dtype=float)
    with np.errstate(all="ignore"):  # trial points may overflow: they are checked and halved
        ll, grad, hess = terms(theta)
        for iteration in range(max_iterations + 1):
            if not (np.isfinite(ll) and np.all(np.isfinite(grad)) and np.all(np.isfinite(hess))):
                return None
            if np.max(np.abs(grad)) / n < 1e-9:  # L-BFGS-B's gtol, on the mean
                break
            if iteration == max_iterations:
                return None
            values, vectors = np.linalg.eigh(-(hess + hess.T) / 2)
            values = np.maximum(np.abs(values), 1e-10 * max(np.abs(values).max(), 1e-300))
            step = vectors @ ((vectors.T @ grad) / values)
            step *= min(1.0, MAX_STEP / np.max(np.abs(step)))
            for _ in range(40):
                candidate = theta + step
                if np.all(candidate > low) and np.all(candidate < high):
                    new = terms(candidate)
                    # at the optimum a sum over a million customers only moves by its rounding
                    if np.isfinite(new[0]) and new[0] >= ll - 1e-13 * abs(ll):
                        break
                step = step / 2
            else:  # no step gains anything: stalled at the optimum up to rounding
                break
            theta, (ll, grad, hess) = candidate, new
    converged, grad_norm, _ = _verdict(theta, ll, grad / n, bounds, True)
    if not converged or covariance_from_hessian(hess) is None:  # a flat top is no maximum
        return None
    return _Optimum(theta, True, iteration, "Newton: converged", grad_norm), hess


def optimum(terms, likelihood_and_gradient, n: int, starts, max_iterations: int):
    """(optimum, Hessian there or None) from the first start (a callable giving log-parameters,
    or None to skip it) from which Newton's method converges, else by L-BFGS-B from the last."""
    theta = None
    for start in starts:
        candidate = start()
        if candidate is None:
            continue
        theta = candidate
        newton = _newton(terms, n, theta)
        if newton is not None:
            return newton
    opt = _maximize(likelihood_and_gradient, n, theta, max_iterations)
    return opt, (terms(opt.theta)[2] if opt.converged else None)


def covariance_from_hessian(hessian: np.ndarray) -> np.ndarray | None:
    """Asymptotic covariance of the ML log-parameters: the inverse observed information (minus
    the Hessian of the total log-likelihood). None when the information is not positive definite
    (a flat or degenerate optimum: no normal approximation)."""
    information = -(hessian + hessian.T) / 2
    if not np.all(np.isfinite(information)):
        return None
    try:
        np.linalg.cholesky(information)
    except np.linalg.LinAlgError:
        return None
    covariance = np.linalg.inv(information)
    return (covariance + covariance.T) / 2


def _start(s: _Stats) -> np.ndarray:
    """Log-parameters to start from: rates matching the observed repeat rate, mild drop-out."""
    repeats = dot(s.x_values, s.x_counts)
    exposure = dot(s.zero_T, s.zero_w) + dot(s.rep_T, s.rep_w)
    rate = repeats / exposure if repeats > 0 and exposure > 0 else 1.0
    return np.log([1.0, 1.0 / rate, 1.0, 3.0])


def fit_bgnbd(
    frequency, recency, T, *, max_iterations: int = 1000, start: BgNbdParams | None = None
) -> BgNbdFit:
    """Maximum-likelihood BG/NBD fit; check `converged` before trusting the parameters.

    Newton's method (`_newton`) climbs from the first of these starts it converges from: `start`
    (e.g. an earlier fit of the same tenant), for more than WARM_START_CUSTOMERS customers a fit
    on a random sample of that size, and rates matching the data; SciPy's L-BFGS-B when none
    does. The optimum is the full data's whatever the start.
    """
    frequency = np.asarray(frequency, dtype=float)
    recency = np.asarray(recency, dtype=float)
    T = np.asarray(T, dtype=float)
    s = _stats(frequency, recency, T)
    if s.customers == 0:
        raise ValueError("cannot fit BG/NBD without customers")

    def terms(stats):
        return lambda th: _log_likelihood_gradient_hessian(th, stats)

    def likelihood(stats):
        return lambda th: _log_likelihood_and_gradient(th, stats)

    def given():
        valid = start is not None and all(
            np.isfinite(v) and v > 0 for v in (start.r, start.alpha, start.a, start.b)
        )
        return np.log([start.r, start.alpha, start.a, start.b]) if valid else None

    def from_sample():
        if s.customers <= WARM_START_CUSTOMERS:
            return None
        sample = np.random.default_rng(0).choice(s.customers, WARM_START_CUSTOMERS, replace=False)
        sample_s = _stats(frequency[sample], recency[sample], T[sample])
        sample_opt, _ = optimum(terms(sample_s), likelihood(sample_s), sample_s.customers,
                                 [lambda: _start(sample_s)], max_iterations)
        return sample_opt.theta if sample_opt.converged else None

    opt, hessian = optimum(terms(s), likelihood(s), s.customers,
                            [given, from_sample, lambda: _start(s)], max_iterations)
    r, alpha, a, b = np.exp(opt.theta)
    params = BgNbdParams(float(r), float(alpha), float(a), float(b))
    ll = (
        _log_likelihood_and_gradient(opt.theta, s)[0]
        if np.all(np.isfinite(opt.theta))
        else float("nan")
    )
    covariance = covariance_from_hessian(hessian) if opt.converged else None
    return BgNbdFit(
        params, ll, s.customers, opt.converged, opt.iterations, opt.message, opt.gradient_norm,
        covariance,
    )


def p_alive(params: BgNbdParams, frequency, recency, T) -> np.ndarray:
    """Probability each customer has not dropped out (1 for customers without repeat purchases)."""
    x = np.asarray(frequency, dtype=float)
    tx = np.asarray(recency, dtype=float)
    T = np.asarray(T, dtype=float)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    with np.errstate(divide="ignore"):
        log_odds_dead = (
            np.log(a)
            - np.log(b + np.maximum(x, 1) - 1)
            + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        )
    return np.where(x == 0, 1.0, expit(-log_odds_dead))


def _integer_valued(*arrays: np.ndarray) -> bool:
    return all(np.all(arr == np.floor(arr)) and (arr.size == 0 or arr.min() >= 0) for arr in arrays)


def distinct(key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ascending distinct values, index of one element with each, each element's group) of
    whole numbers >= 0, as `np.unique` with its index and inverse but without sorting when the
    values span a range not much larger than their number (day counts, frequencies)."""
    key = np.asarray(key)
    if key.size == 0 or key.max() > 4 * key.size + 1_000_000:
        values, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        return values, first, inverse.ravel()
    whole = key.astype(np.int64)
    present = np.bincount(whole) > 0
    group = np.cumsum(present) - 1
    values = np.flatnonzero(present)
    some = np.empty(values.size, dtype=np.int64)
    inverse = group[whole]
    some[inverse] = np.arange(whole.size)
    return values.astype(key.dtype), some, inverse


def expected_purchases_if_alive(params: BgNbdParams, t, frequency, T) -> np.ndarray:
    """Expected purchases in the next `t` time units for a customer who is still alive.

    Uses the Euler transform of eq. (10) of Fader et al. (2005): the hypergeometric function's
    parameters then no longer grow with the frequency, which keeps it finite for heavy buyers.
    `t` is a number, or a 1-d array of horizons giving one row per horizon. Evaluated once per
    distinct (frequency, T) when both are whole numbers.
    """
    x = np.asarray(frequency, dtype=float)
    T = np.asarray(T, dtype=float)
    horizons = np.asarray(t, dtype=float)
    if horizons.ndim > 1 or x.ndim != 1 or x.shape != T.shape:
        raise ValueError(
            "t must be a number or 1-d array; frequency and T 1-d arrays of one length"
        )
    if x.size > 1000 and _integer_valued(x, T):
        _, first, inverse = distinct(x * (T.max() + 1.0) + T)
        return purchases_if_alive(params, horizons, x[first], T[first])[..., inverse]
    return purchases_if_alive(params, horizons, x, T)


def purchases_if_alive(
    params: BgNbdParams, horizons: np.ndarray, x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """`expected_purchases_if_alive` without its checks: horizons as a column (or one row per
    customer), parameters that may be arrays (one set per row, the forecast's draws)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    # removable singularity of the closed form; parameters may be arrays (one set per row)
    if np.ndim(a):
        a = np.where(np.abs(a - 1.0) < 1e-9, 1.0 + 1e-9, a)
    elif abs(a - 1.0) < 1e-9:
        a = 1.0 + 1e-9
    t_col = horizons[:, None] if horizons.ndim == 1 else horizons
    one_minus_z = (alpha + T) / (alpha + T + t_col)
    z = t_col / (alpha + T + t_col)
    hyp = hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)
    return (a + b + x - 1.0) / (a - 1.0) * (1.0 - one_minus_z ** (a - 1.0) * hyp)


def expected_purchases(params: BgNbdParams, t: float, frequency, recency, T) -> np.ndarray:
    """Expected (repeat) purchases in the next `t` time units given each customer's history."""
    return expected_purchases_if_alive(params, t, frequency, T) * p_alive(
        params, frequency, recency, T
    )


def expected_purchases_new_customer(params: BgNbdParams, t: float) -> float:
    """Expected repeat purchases within `t` of a customer's first purchase (eq. 9)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    hyp = hyp2f1(r, b, a + b - 1.0, t / (alpha + t))
    return float((a + b - 1.0) / (a - 1.0) * (1.0 - hyp * (alpha / (alpha + t)) ** r))


def simulate(params: BgNbdParams, T, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(frequency, recency) of customers observed for T time units, drawn from the model.

    Continuous time: used to check that fitting recovers known parameters.
    """
    T = np.asarray(T, dtype=float)
    rate = rng.gamma(params.r, 1.0 / params.alpha, T.size)
    drop = rng.beta(params.a, params.b, T.size)
    arrivals = rng.poisson(rate * T)
    lifetime_purchases = rng.geometric(
        drop
    )  # repeat purchases until (and including) the drop-out one
    x = np.minimum(arrivals, lifetime_purchases)
    # the x-th of `arrivals` uniform times on [0, T] is Beta(x, arrivals - x + 1) distributed
    last = rng.beta(np.maximum(x, 1), arrivals - x + 1.0)
    recency = np.where(x > 0, T * last, 0.0)
    return x.astype(float), recency
