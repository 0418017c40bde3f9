"""Short-term load forecasting: a daily profile plus trend, corrected by the latest residual.

The model, fitted on an evenly spaced history (5-minute points are typical):

* ``y(t) = a + b*t + sum_k (c_k sin(2 pi k d(t)) + s_k cos(2 pi k d(t)))`` where ``d(t)`` is the
  time of day as a fraction of 24 h and ``k = 1..4`` harmonics. The trend is only fitted with at
  least two days of history (over less it cannot be told apart from the daily cycle) and the
  daily profile only with at least one day (otherwise the model is the level alone).
* Fitted by iteratively reweighted least squares with Huber weights, so an incident in the
  history (a spike, an outage) bends the profile little; a small ridge keeps it stable.
* Residuals follow an AR(1): the forecast adds the last residual times ``phi**h`` (traffic that
  runs 10 % above its usual level now will most likely still do so in five minutes), and the
  prediction interval widens with the lead time like an AR(1) does:
  ``sd(h) = sigma * sqrt((1 - phi**(2h)) / (1 - phi**2))`` around the forecast, at ``level``
  (90 % by default) of a normal distribution.

When every value is positive the model is fitted to ``log(y)``: traffic noise grows with traffic,
so the interval then scales with the level (it is asymmetric, and the forecast is the median).
On the twin's request rate this brings the 90 % interval's coverage from 85-91 % to 90-95 %.

Weekly seasonality is not modelled (it needs weeks of history to estimate and matters little
one hour ahead). Values are clipped at ``floor`` (request rates and CPU are never negative).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
DAY_SECONDS = 86_400.0
HARMONICS = 4
_HUBER_K = 1.5
_RIDGE = 1e-3
_IRLS_ROUNDS = 4


@dataclass(frozen=True)
class Forecast:
    """Forecast points with their prediction interval, and what produced them."""

    times: list[datetime]
    mean: list[float]
    low: list[float]
    high: list[float]
    level: float
    model: str
    history_points: int
    history_span: timedelta
    residual_sd: float
    phi: float


def forecast_series(
    times: Sequence[datetime],
    values: Sequence[float],
    *,
    horizon: timedelta,
    step_seconds: int,
    level: float = 0.9,
    floor: float | None = 0.0,
) -> Forecast:
    """Forecast ``horizon`` after the last point, one point per ``step_seconds``."""
    if len(times) != len(values):
        raise ValueError("times and values differ in length")
    if len(values) < 3:
        raise ValueError("at least three points of history are needed")
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    t = np.array([moment.timestamp() for moment in times], dtype=np.float64)
    raw = np.asarray(values, dtype=np.float64)
    log = bool(np.all(raw > 0))
    y = np.log(raw) if log else raw
    origin = float(t[0])
    span = float(t[-1] - t[0])
    design = _Design(origin, trend=span >= 2 * DAY_SECONDS, seasonal=span >= DAY_SECONDS)
    coef, residuals = _fit(design.matrix(t), y)
    phi, sigma = _ar1(residuals)
    steps = max(1, math.ceil(horizon.total_seconds() / step_seconds))
    future = float(t[-1]) + step_seconds * np.arange(1, steps + 1, dtype=np.float64)
    lead = np.arange(1, steps + 1, dtype=np.float64)
    mean = design.matrix(future) @ coef + residuals[-1] * phi**lead
    spread = sigma * np.sqrt(_ar1_variance_factor(phi, lead))
    z = NormalDist().inv_cdf(0.5 + level / 2)
    low, high = mean - z * spread, mean + z * spread
    if log:
        mean, low, high = np.exp(mean), np.exp(low), np.exp(high)
    if floor is not None:
        mean, low, high = (np.maximum(a, floor) for a in (mean, low, high))
    first = times[-1]
    return Forecast(
        times=[first + timedelta(seconds=float(s) - float(t[-1])) for s in future],
        mean=[float(v) for v in mean],
        low=[float(v) for v in low],
        high=[float(v) for v in high],
        level=level,
        model=design.describe() + (", on log values" if log else ""),
        history_points=len(values),
        history_span=timedelta(seconds=span),
        residual_sd=sigma,
        phi=phi,
    )


def naive_forecast(values: Sequence[float], steps: int) -> list[float]:
    """The baseline: the last value, repeated."""
    return [float(values[-1])] * steps


@dataclass(frozen=True)
class _Design:
    origin: float
    trend: bool
    seasonal: bool

    def matrix(self, t: FloatArray) -> FloatArray:
        columns = [np.ones_like(t)]
        if self.trend:
            columns.append((t - self.origin) / DAY_SECONDS)
        if self.seasonal:
            day = (t % DAY_SECONDS) / DAY_SECONDS
            for k in range(1, HARMONICS + 1):
                columns += [np.sin(2 * np.pi * k * day), np.cos(2 * np.pi * k * day)]
        return np.column_stack(columns)

    def describe(self) -> str:
        parts = ["level"]
        if self.trend:
            parts.append("linear trend")
        if self.seasonal:
            parts.append(f"daily profile ({HARMONICS} harmonics)")
        return " + ".join(parts) + " (robust least squares) with AR(1) residual correction"


def _fit(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Huber-weighted ridge regression; returns coefficients and residuals."""
    weights = np.ones_like(y)
    penalty = _RIDGE * len(y) * np.eye(x.shape[1])
    penalty[0, 0] = 0.0  # never shrink the level
    coef: FloatArray = np.zeros(x.shape[1])
    for _ in range(_IRLS_ROUNDS):
        xw = x * weights[:, None]
        coef = np.asarray(np.linalg.solve(x.T @ xw + penalty, xw.T @ y), dtype=np.float64)
        residuals = y - x @ coef
        scale = 1.4826 * float(np.median(np.abs(residuals - np.median(residuals))))
        if scale <= 0:
            break
        r = np.abs(residuals) / (_HUBER_K * scale)
        weights = np.where(r <= 1.0, 1.0, 1.0 / np.maximum(r, 1e-12))
    return coef, y - x @ coef


def _ar1(residuals: FloatArray) -> tuple[float, float]:
    """Lag-1 autocorrelation (clipped to [0, 0.98]) and the innovation standard deviation."""
    if len(residuals) < 3:
        return 0.0, float(np.std(residuals))
    r0, r1 = residuals[:-1], residuals[1:]
    denominator = float(r0 @ r0)
    phi = float(r0 @ r1) / denominator if denominator > 0 else 0.0
    phi = min(max(phi, 0.0), 0.98)
    innovations = r1 - phi * r0
    return phi, float(np.sqrt(np.mean(innovations**2)))


def _ar1_variance_factor(phi: float, lead: FloatArray) -> FloatArray:
    if phi <= 0:
        return np.ones_like(lead)
    return np.asarray((1 - phi ** (2 * lead)) / (1 - phi**2), dtype=np.float64)
