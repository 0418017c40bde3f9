"""Univariate streaming anomaly detector: one object per metric series.

Per point, two kinds of evidence are measured (see :mod:`.features`) and expressed as
"evidence" ``u`` = -log10 of a probability-like quantity, so they can be compared:

* subsequence novelty: the nearest-neighbour distance of (previous value, value, time of day)
  is turned into a tail probability against the series' own history of such distances
  (:class:`.calibration.ParetoTail`). The probability is multiplied by the series' age in units
  of ``age_reference`` points (capped): the longer we watch a series, the more "once in a
  thousand points" events we are bound to see, so a fixed evidence bar would alarm more and
  more often. This is a mild, bounded multiple-testing correction.
* range novelty: a value beyond the min/max of the last ``range_window`` points by more than
  ``range_tolerance`` of that range gets ``range_evidence`` plus ``range_evidence_per_decade``
  per tenfold excess.

The larger evidence wins and maps to a score ``u / (u + evidence_scale)`` in [0, 1): 0.5 means
``u == evidence_scale``, i.e. (for a young series) a pattern rarer than 1 in 100. That default
alert level, like every other default below, was chosen once while developing on NAB and is
the same for every metric. Finally, an episode is reported once: a point's score is emitted only
if it beats every raw score of the previous ``suppression`` points, otherwise it is 0. NAB (and
an on-call engineer) gains nothing from the 2nd..nth alarm about the same event.

Everything is causal: the score of point i depends on points 0..i only. Memory is bounded by
the window sizes; each update costs one vectorised pass over ``history`` stored subsequences.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from platform_core.observability.anomaly.calibration import ParetoTail
from platform_core.observability.anomaly.features import (
    FloatArray,
    RangeTracker,
    SubsequenceNovelty,
)
from platform_core.observability.anomaly.results import Detection
from platform_core.observability.anomaly.timeutil import TimestampLike, day_phase, to_datetime


@dataclass(frozen=True)
class StreamingConfig:
    """The single configuration used for every metric (no per-series tuning)."""

    subsequence_length: int = 2
    history: int = 6000
    day_weight: float = 0.1
    calibration_window: int = 6000
    tail_fraction: float = 0.05
    max_alpha: float = 4.0
    range_window: int = 10000
    range_tolerance: float = 0.02
    range_evidence: float = 4.0
    range_evidence_per_decade: float = 2.0
    age_reference: int = 1000
    age_cap: float = 10.0
    evidence_scale: float = 2.0
    suppression: int = 100
    alert_threshold: float = 0.5
    expected_neighbours: int = 20


@dataclass(frozen=True, slots=True)
class _Evidence:
    knn: float
    range: float
    distance: float


class StreamingAnomalyDetector:
    """Scores each new value of one metric in [0, 1]; see the module docstring for the method."""

    def __init__(self, metric: str = "value", config: StreamingConfig | None = None) -> None:
        self.metric = metric
        self.config = config or StreamingConfig()
        cfg = self.config
        self._range = RangeTracker(cfg.range_window)
        self._novelty = SubsequenceNovelty(cfg.subsequence_length, cfg.history, cfg.day_weight)
        self._tail = ParetoTail(cfg.calibration_window, cfg.tail_fraction, max_alpha=cfg.max_alpha)
        self._raw_recent: deque[tuple[int, float]] = deque()
        self._values: deque[float] = deque(maxlen=cfg.subsequence_length)
        self._context_before_last: list[float] = []
        self._count = 0
        self._last: tuple[float, float, float, _Evidence] | None = None
        self._last_time: datetime | None = None
        self._last_phase: float | None = None
        self._last_alert = -(10**18)
        self._episode_start: datetime | None = None

    @property
    def count(self) -> int:
        """Number of points seen."""
        return self._count

    def update(self, value: float, timestamp: TimestampLike = None) -> float:
        """Feed the next point; return its alerting score in [0, 1].

        Non-finite values are ignored (score 0, state unchanged): a gap is not an anomaly of
        the metric, and must not poison the history.
        """
        value = float(value)
        if not math.isfinite(value):
            return 0.0
        moment = to_datetime(timestamp)
        phase = day_phase(moment)
        self._context_before_last = self._context()
        self._values.append(value)
        evidence = self._measure(value, phase)
        raw = self._score(max(0.0, evidence.knn, evidence.range))
        score = self._suppress(raw)
        self._track_episode(raw, moment)
        self._last = (value, raw, score, evidence)
        self._last_time, self._last_phase = moment, phase
        self._count += 1
        return score

    def _measure(self, value: float, phase: float | None) -> _Evidence:
        cfg = self.config
        excess = self._range.excess(value)
        self._range.push(value)
        distance = self._novelty.update(value, phase, self._range.span())
        p = self._tail.tail(distance)
        self._tail.push(distance)
        age = min(max((self._count + 1) / cfg.age_reference, 1.0), cfg.age_cap)
        knn = -math.log10(max(p * age, 1e-300))
        rng = 0.0
        if excess > cfg.range_tolerance:
            decades = math.log10(excess / cfg.range_tolerance)
            rng = cfg.range_evidence + cfg.range_evidence_per_decade * decades
        return _Evidence(knn, rng, distance)

    def _score(self, evidence: float) -> float:
        return evidence / (evidence + self.config.evidence_scale)

    def _suppress(self, raw: float) -> float:
        """Emit ``raw`` only if it beats every raw score of the last ``suppression`` points."""
        window = self._raw_recent
        while window and window[0][0] < self._count - self.config.suppression:
            window.popleft()
        emitted = raw if not window or raw > window[0][1] else 0.0
        while window and window[-1][1] <= raw:
            window.pop()
        window.append((self._count, raw))
        return emitted

    def _track_episode(self, raw: float, moment: datetime | None) -> None:
        if raw < self.config.alert_threshold:
            return
        if self._count - self._last_alert > self.config.suppression:
            self._episode_start = moment
        self._last_alert = self._count

    def _context(self) -> list[float]:
        """The values a next point would be matched after (the last ``length - 1``)."""
        need = self.config.subsequence_length - 1
        values = list(self._values)
        return values[len(values) - need :] if need > 0 else []

    def expected_range(self, timestamp: TimestampLike = None) -> tuple[float, float]:
        """Band of values that would look normal as the *next* point.

        It is the spread of what followed the most similar past situations (same recent value,
        same time of day; ``timestamp`` defaults to the last point's time of day), widened by
        the range tolerance.
        """
        context = self._context()
        phase = self._last_phase if timestamp is None else day_phase(to_datetime(timestamp))
        return self._band(context, phase)

    def explain(self) -> Detection | None:
        """Explain the last point (None before the first one)."""
        if self._last is None:
            return None
        value, raw, score, evidence = self._last
        low, high = self._band(self._context_before_last, self._last_phase)
        is_anomaly = raw >= self.config.alert_threshold
        return Detection(
            metric=self.metric,
            index=self._count - 1,
            timestamp=self._last_time,
            observed=value,
            expected_low=low,
            expected_high=high,
            score=score,
            raw_score=raw,
            is_anomaly=is_anomaly,
            since=self._episode_start if is_anomaly else None,
            reason=self._reason(evidence, is_anomaly, value, low, high),
        )

    def _band(self, context: Sequence[float], phase: float | None) -> tuple[float, float]:
        cfg = self.config
        low, high = self._range.low, self._range.high
        if low is None or high is None:
            return (math.nan, math.nan)
        need = cfg.subsequence_length - 1
        if len(context) < need:
            return (low, high)
        ctx: FloatArray = np.asarray(context[-need:] if need else [], dtype=np.float64)
        nxt = self._novelty.neighbour_values(
            ctx, phase, self._range.span(), cfg.expected_neighbours
        )
        if nxt.size == 0:
            return (low, high)
        margin = cfg.range_tolerance * self._range.span()
        return (float(nxt.min()) - margin, float(nxt.max()) + margin)

    def _reason(
        self, evidence: _Evidence, is_anomaly: bool, value: float, low: float, high: float
    ) -> str:
        if not is_anomaly:
            return "within normal behaviour"
        if evidence.range >= evidence.knn:
            top = self._range.high
            side = "above" if top is not None and value >= top else "below"
            return f"value {side} the range of the last {self.config.range_window} points"
        where = "outside" if value < low or value > high else "inside"
        return (
            f"unusual pattern for this time of day (value {where} the expected band; "
            f"nearest past match distance {evidence.distance:.4g})"
        )


def score_series(
    values: Iterable[float],
    timestamps: Iterable[TimestampLike] | None = None,
    config: StreamingConfig | None = None,
) -> FloatArray:
    """Run a fresh detector over a whole series; return the per-point scores."""
    detector = StreamingAnomalyDetector(config=config)
    vals = list(values)
    times: list[TimestampLike] = list(timestamps) if timestamps is not None else [None] * len(vals)
    if len(times) != len(vals):
        raise ValueError("values and timestamps differ in length")
    return np.fromiter(
        (detector.update(v, t) for v, t in zip(vals, times, strict=True)),
        dtype=np.float64,
        count=len(vals),
    )
