"""Lifetime value when the models cannot be fitted (`historical_average`): still per customer.

With too few repeat customers BG/NBD and Gamma-Gamma cannot be fitted, but a customer's own
history still says much: how often they bought (frequency) and how long ago they last did
(recency). The fallback keeps the models' logic with the tenant-wide averages as priors, in closed
form, so it ranks customers as the models would (a one-time buyer who has not been seen for 545
days is worth less than a loyal customer who bought last week):

- Purchase rate, frequency-aware: the customer's repeat purchase days over their tenure, shrunk
  toward the tenant's historical rate `rate` (repeat purchase days per day of tenure) with the
  weight of `PRIOR_DAYS` days: `lambda = (x + rate * PRIOR_DAYS) / (T + PRIOR_DAYS)` (the
  posterior mean of a Poisson rate under a Gamma prior with mean `rate`).
- Still active, recency-aware: customers drop out at the constant rate `mu = 1 / LIFETIME_DAYS`
  (an assumed mean lifetime of two years: the data cannot tell it). Having not bought for
  `T - t_x` days since their last purchase, the probability that they are still active is the
  Pareto/NBD one for known rates: `p_alive = 1 / (1 + mu / (lambda + mu) * (exp((lambda + mu) *
  (T - t_x)) - 1))`; the longer the silence compared with their own rhythm, the lower.
- Expected purchase days within `h` days: `p_alive * lambda / mu * (1 - exp(-mu * h))` (an active
  customer buys at `lambda` until dropping out).
- Value per purchase day, frequency-aware: the customer's own net value per purchase day, shrunk
  toward the tenant's `value` with the weight of `PRIOR_PURCHASE_DAYS` purchase days (never below
  0), as Gamma-Gamma shrinks it.

A tenant where nobody bought twice has `rate = 0`: every customer is then expected to buy nothing
more, as the tenant's own history says.
"""

from __future__ import annotations

import numpy as np

PRIOR_DAYS = 365.0
PRIOR_PURCHASE_DAYS = 2.0
LIFETIME_DAYS = 730.0
_MAX_EXPONENT = 700.0  # exp() of more overflows a double: p_alive is 0 to the precision kept


def fallback_predictions(
    x: np.ndarray,
    tx: np.ndarray,
    T: np.ndarray,
    revenue: np.ndarray,
    rate: float,
    value: float,
    horizons: tuple[int, ...],
) -> tuple[np.ndarray, dict[int, np.ndarray], np.ndarray]:
    """(p_alive, {horizon: expected purchase days}, expected value per purchase day) per customer
    from their frequency `x`, age at last purchase `tx`, tenure `T` (days) and net `revenue`,
    with the tenant's historical `rate` and `value` as priors (see the module docstring)."""
    x = np.asarray(x, dtype=float)
    T = np.asarray(T, dtype=float)
    lam = (x + rate * PRIOR_DAYS) / (T + PRIOR_DAYS)
    mu = 1.0 / LIFETIME_DAYS
    silence = np.maximum(T - np.asarray(tx, dtype=float), 0.0)
    growth = np.expm1(np.minimum((lam + mu) * silence, _MAX_EXPONENT))
    palive = 1.0 / (1.0 + mu / (lam + mu) * growth)
    purchases = {h: palive * lam / mu * -np.expm1(-mu * h) for h in horizons}
    order_value = np.maximum(
        (np.asarray(revenue, dtype=float) + PRIOR_PURCHASE_DAYS * value)
        / (x + 1.0 + PRIOR_PURCHASE_DAYS),
        0.0,
    )
    return palive, purchases, order_value
