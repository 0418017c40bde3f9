"""Multivariate detector over one application's metric vector (cpu, memory, rate, latency...).

An IsolationForest sees combinations no single-metric detector can ("latency up while request
rate is flat"); per-metric tails catch the plain "one metric went through the roof" case
sharply and give the explanation. Both are judged against the same training window:

* the model is refit every ``refit_every`` points on the last ``window`` *past* points only
  (never the point being scored), on robustly standardised values (median / IQR), seeded, so
  scores are causal and deterministic;
* each metric is also predicted from the others by a ridge regression fitted on the same
  window, so a broken relationship ("CPU up, traffic flat") shows as a large residual even
  when every metric is inside its own usual range;
* the forest's anomaly score of the new point gets a tail probability against the forest's
  scores of its training points (:class:`.calibration.ExponentialTail`: those scores are
  bounded and light-tailed), and each metric's |robust z| one against that metric's training
  |z| (:class:`.calibration.ParetoTail`);
* the smallest probability (Bonferroni-corrected over the tests) gives the evidence
  ``u = -log10 p`` and the score ``u / (u + evidence_scale)``.

The metric with the smallest per-metric probability is named as the culprit, with its training
band (quantiles, widened by a margin of the IQR) as the expected range.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sklearn.ensemble import IsolationForest

from platform_core.observability.anomaly.calibration import ExponentialTail, ParetoTail
from platform_core.observability.anomaly.features import FloatArray
from platform_core.observability.anomaly.results import Detection
from platform_core.observability.anomaly.timeutil import TimestampLike, to_datetime


@dataclass(frozen=True)
class MultivariateConfig:
    """One configuration for every application."""

    window: int = 1000
    min_train: int = 100
    refit_every: int = 250
    n_estimators: int = 100
    max_samples: int = 256
    seed: int = 0
    evidence_scale: float = 3.0
    alert_threshold: float = 0.5
    band_quantiles: tuple[float, float] = (0.005, 0.995)
    band_margin: float = 0.1
    ridge: float = 0.1
    episode_gap: int = 10


@dataclass(frozen=True, slots=True)
class MultivariateDetection:
    """Verdict on one metric vector; ``metrics`` are per-metric explanations, most suspect first."""

    index: int
    timestamp: datetime | None
    score: float
    is_anomaly: bool
    since: datetime | None
    metrics: tuple[Detection, ...]

    @property
    def culprit(self) -> Detection | None:
        """The metric that best explains the verdict (None before the model exists)."""
        return self.metrics[0] if self.metrics else None


@dataclass(frozen=True)
class _Model:
    forest: IsolationForest
    median: FloatArray
    scale: FloatArray
    low: FloatArray
    high: FloatArray
    forest_tail: ExponentialTail
    metric_tails: tuple[ParetoTail, ...]
    coef: FloatArray
    resid_scale: FloatArray
    resid_tails: tuple[ParetoTail, ...]
    resid_band: FloatArray

    def residuals(self, z: FloatArray) -> FloatArray:
        """Standardised error of predicting each metric from the others (rows of ``z``)."""
        pred = np.einsum("...k,jk->...j", z, self.coef)
        return np.asarray((z - pred) / self.resid_scale, dtype=np.float64)


class MultivariateDetector:
    """Streaming multivariate detector; feed one ``{metric: value}`` sample per call."""

    def __init__(self, metrics: Sequence[str], config: MultivariateConfig | None = None) -> None:
        if not metrics or len(set(metrics)) != len(metrics):
            raise ValueError("metrics must be a non-empty list of distinct names")
        self.metrics = tuple(metrics)
        self.config = config or MultivariateConfig()
        self._history: deque[FloatArray] = deque(maxlen=self.config.window)
        self._model: _Model | None = None
        self._since_fit = 0
        self._count = 0
        self._last_alert = -(10**18)
        self._episode_start: datetime | None = None

    def update(
        self, sample: Mapping[str, float], timestamp: TimestampLike = None
    ) -> MultivariateDetection:
        """Score one sample (missing or non-finite metrics are imputed with the training median)."""
        moment = to_datetime(timestamp)
        x = np.array([float(sample.get(m, math.nan)) for m in self.metrics], dtype=np.float64)
        self._maybe_refit()
        detection = self._judge(x, moment)
        if np.isfinite(x).all():
            self._history.append(x)
        self._count += 1
        self._since_fit += 1
        return detection

    def _maybe_refit(self) -> None:
        cfg = self.config
        if len(self._history) < cfg.min_train:
            return
        if self._model is not None and self._since_fit < cfg.refit_every:
            return
        self._model = _fit(np.vstack(self._history), cfg)
        self._since_fit = 0

    def _judge(self, x: FloatArray, moment: datetime | None) -> MultivariateDetection:
        model = self._model
        if model is None:
            return MultivariateDetection(self._count, moment, 0.0, False, None, ())
        x = np.where(np.isfinite(x), x, model.median)
        z = (x - model.median) / model.scale
        forest_score = float(-model.forest.score_samples(z[None, :])[0])
        p_forest = model.forest_tail.tail(forest_score)
        p_level = [tail.tail(abs(float(v))) for tail, v in zip(model.metric_tails, z, strict=True)]
        resid = model.residuals(z)
        p_resid = [
            tail.tail(abs(float(v))) for tail, v in zip(model.resid_tails, resid, strict=True)
        ]
        p_metric = [min(a, b) * 2 for a, b in zip(p_level, p_resid, strict=True)]
        relational = [b < a for a, b in zip(p_level, p_resid, strict=True)]
        tests = 1 + len(p_metric)
        p = min(1.0, min(p_forest, *p_metric) * tests)
        score = self._to_score(p)
        is_anomaly = score >= self.config.alert_threshold
        since = self._episode(is_anomaly, moment)
        bands = _bands(model, z, relational)
        explained = self._explain(x, z, resid, p_metric, bands, moment, is_anomaly, since)
        return MultivariateDetection(self._count, moment, score, is_anomaly, since, explained)

    def _to_score(self, p: float) -> float:
        u = max(0.0, -math.log10(max(p, 1e-300)))
        return u / (u + self.config.evidence_scale)

    def _episode(self, is_anomaly: bool, moment: datetime | None) -> datetime | None:
        if not is_anomaly:
            return None
        if self._count - self._last_alert > self.config.episode_gap:
            self._episode_start = moment
        self._last_alert = self._count
        return self._episode_start

    def _explain(
        self,
        x: FloatArray,
        z: FloatArray,
        resid: FloatArray,
        p_metric: list[float],
        bands: tuple[FloatArray, FloatArray],
        moment: datetime | None,
        is_anomaly: bool,
        since: datetime | None,
    ) -> tuple[Detection, ...]:
        order = sorted(range(len(self.metrics)), key=lambda i: (p_metric[i], -abs(z[i])))
        out = []
        for rank, i in enumerate(order):
            metric_score = self._to_score(min(1.0, p_metric[i] * len(self.metrics)))
            culprit = rank == 0 and is_anomaly
            side = "above" if x[i] > (bands[0][i] + bands[1][i]) / 2 else "below"
            reason = (
                f"{self.metrics[i]} {side} its usual level ({z[i]:+.1f} robust sd, "
                f"{resid[i]:+.1f} sd off what the other metrics imply)"
                if culprit
                else "within normal behaviour"
            )
            out.append(
                Detection(
                    metric=self.metrics[i],
                    index=self._count,
                    timestamp=moment,
                    observed=float(x[i]),
                    expected_low=float(bands[0][i]),
                    expected_high=float(bands[1][i]),
                    score=metric_score,
                    raw_score=metric_score,
                    is_anomaly=culprit,
                    since=since if culprit else None,
                    reason=reason,
                )
            )
        return tuple(out)


def _bands(model: _Model, z: FloatArray, relational: list[bool]) -> tuple[FloatArray, FloatArray]:
    """Expected range per metric: its usual band, or - when the broken relationship is the
    stronger evidence - what the other metrics imply for it (prediction +- residual band)."""
    centre = model.median + model.scale * (model.coef @ z)
    half = model.resid_band * model.resid_scale * model.scale
    rel = np.asarray(relational)
    return np.where(rel, centre - half, model.low), np.where(rel, centre + half, model.high)


def _fit(data: FloatArray, cfg: MultivariateConfig) -> _Model:
    """Fit the forest and the tails on past samples (rows) only."""
    median = np.median(data, axis=0)
    q1, q3 = np.quantile(data, [0.25, 0.75], axis=0)
    iqr = q3 - q1
    floor = np.maximum(1e-6 * np.abs(median), 1e-9)
    scale = np.maximum(np.maximum(iqr / 1.349, data.std(axis=0) * 0.1), floor)
    z = (data - median) / scale
    forest = IsolationForest(
        n_estimators=cfg.n_estimators,
        max_samples=min(cfg.max_samples, len(data)),
        random_state=cfg.seed,
    ).fit(z)
    forest_tail = ExponentialTail([float(v) for v in -forest.score_samples(z)])
    metric_tails = tuple(_tail_of(np.abs(z[:, j])) for j in range(z.shape[1]))
    q_lo, q_hi = np.quantile(data, list(cfg.band_quantiles), axis=0)
    margin = cfg.band_margin * np.maximum(iqr, scale)
    coef = _cross_coefficients(z, cfg.ridge)
    raw_resid = z - z @ coef.T
    r_q1, r_q3 = np.quantile(raw_resid, [0.25, 0.75], axis=0)
    resid_scale = np.maximum((r_q3 - r_q1) / 1.349, 1e-3)
    resid = raw_resid / resid_scale
    resid_tails = tuple(_tail_of(np.abs(resid[:, j])) for j in range(z.shape[1]))
    return _Model(
        forest,
        median,
        scale,
        q_lo - margin,
        q_hi + margin,
        forest_tail,
        metric_tails,
        coef,
        resid_scale,
        resid_tails,
        np.quantile(np.abs(resid), cfg.band_quantiles[1], axis=0),
    )


def _cross_coefficients(z: FloatArray, ridge: float) -> FloatArray:
    """Row j: ridge coefficients predicting metric j from the other metrics (0 on itself)."""
    d = z.shape[1]
    coef = np.zeros((d, d))
    gram = z.T @ z / len(z)
    for j in range(d):
        others = [k for k in range(d) if k != j]
        if not others:
            continue
        a = gram[np.ix_(others, others)] + ridge * np.eye(d - 1)
        coef[j, others] = np.linalg.solve(a, gram[others, j])
    return coef


def _tail_of(values: FloatArray) -> ParetoTail:
    tail = ParetoTail(size=len(values), min_history=min(20, len(values)))
    for v in values:
        tail.push(float(v))
    return tail
