"""Streaming novelty measurements: range excursions and subsequence nearest-neighbour distance.

Two complementary questions are asked of every new point:

* **Range novelty** - is the value outside everything seen in a long window? A new extreme is
  what an operator notices first on a dashboard, and it needs no model at all.
* **Subsequence novelty** - has a short run of values ending here (the previous point and
  this one), at this time of day, been seen before? The distance to its nearest neighbour in
  the recent history is small for anything that has happened before (a daily batch spike, a
  known oscillation) and large for a new shape or transition, even inside the usual range.
  Time of day is part of the match so "the nightly peak at noon" is new while the nightly peak
  at night is not.

Both keep bounded memory (fixed ring buffers and monotonic deques).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class RangeTracker:
    """Minimum and maximum over the last ``window`` values (monotonic deques, O(1) amortised)."""

    def __init__(self, window: int = 10000) -> None:
        if window < 1:
            raise ValueError("window must be >= 1")
        self.window = window
        self._count = 0
        self._max: deque[tuple[int, float]] = deque()
        self._min: deque[tuple[int, float]] = deque()

    @property
    def low(self) -> float | None:
        """Smallest value in the window, or None before the first value."""
        return self._min[0][1] if self._min else None

    @property
    def high(self) -> float | None:
        """Largest value in the window, or None before the first value."""
        return self._max[0][1] if self._max else None

    def span(self) -> float:
        """high - low (0 before two distinct values were seen)."""
        if not self._max:
            return 0.0
        return self._max[0][1] - self._min[0][1]

    def excess(self, value: float) -> float:
        """How far ``value`` lies outside [low, high], as a fraction of the span (0 inside)."""
        span = self.span()
        if span <= 0.0:
            return 0.0
        low, high = self._min[0][1], self._max[0][1]
        return max(0.0, value - high, low - value) / span

    def push(self, value: float) -> None:
        """Add a value and forget the ones older than the window."""
        i = self._count
        self._count += 1
        while self._max and self._max[-1][1] <= value:
            self._max.pop()
        self._max.append((i, value))
        while self._min and self._min[-1][1] >= value:
            self._min.pop()
        self._min.append((i, value))
        oldest = i - self.window + 1
        while self._max[0][0] < oldest:
            self._max.popleft()
        while self._min[0][0] < oldest:
            self._min.popleft()


class SubsequenceNovelty:
    """Distance from the latest ``length`` values (plus time of day) to their nearest past match.

    Candidates are the last ``history`` subsequences that do not overlap the current one
    (an overlapping one would trivially match). The time-of-day term is weighted by
    ``day_weight * scale`` where ``scale`` is the metric's current range, so it is expressed in
    the metric's own units: being 12 hours off costs about ``2 * day_weight`` of the range.
    """

    def __init__(
        self,
        length: int = 2,
        history: int = 3000,
        day_weight: float = 0.1,
        min_candidates: int = 10,
    ) -> None:
        if length < 1 or history < 1:
            raise ValueError("length and history must be >= 1")
        self.length = length
        self.history = history
        self.day_weight = day_weight
        self.min_candidates = min_candidates
        # columns: the subsequence values, then cos and sin of the day phase
        self._rows: FloatArray = np.zeros((history, length + 2))
        self._diff: FloatArray = np.zeros((history, length + 2))
        self._filled = 0
        self._head = 0
        self._recent: deque[float] = deque(maxlen=length)
        self._pending: deque[FloatArray] = deque()

    def update(self, value: float, phase: float | None, scale: float) -> float:
        """Add a value; return the nearest-neighbour distance of the subsequence ending here."""
        self._recent.append(value)
        if len(self._recent) < self.length:
            return 0.0
        row = np.empty(self.length + 2)
        row[: self.length] = self._recent
        row[self.length :] = _phase_point(phase)
        distance = 0.0
        if self._filled >= self.min_candidates:
            weights = self._weights(self.length, phase is not None, scale)
            distance = math.sqrt(float(self._squared_distances(row, weights).min()))
        self._pending.append(row)
        if len(self._pending) >= self.length:
            self._store(self._pending.popleft())
        return distance

    def neighbour_values(
        self, context: FloatArray, phase: float | None, scale: float, k: int
    ) -> FloatArray:
        """Last values of the ``k`` stored subsequences whose *earlier* values best match
        ``context`` (``length - 1`` values) at this time of day: what usually comes next."""
        n = self._filled
        if n == 0:
            return np.zeros(0)
        query = np.zeros(self.length + 2)
        query[: self.length - 1] = context
        query[self.length :] = _phase_point(phase)
        weights = self._weights(self.length - 1, phase is not None, scale)
        weights[self.length - 1] = 0.0  # the value being predicted is not part of the match
        d2 = self._squared_distances(query, weights)
        k = min(k, n)
        idx = np.argpartition(d2, k - 1)[:k]
        values: FloatArray = self._rows[idx, self.length - 1].copy()
        return values

    def _weights(self, n_values: int, has_phase: bool, scale: float) -> FloatArray:
        """Per-column weights: mean over the values, ``(day_weight * scale)^2`` on the phase."""
        weights = np.zeros(self.length + 2)
        if n_values > 0:
            weights[:n_values] = 1.0 / n_values
        if has_phase:
            weights[self.length :] = (self.day_weight * scale) ** 2
        return weights

    def _squared_distances(self, query: FloatArray, weights: FloatArray) -> FloatArray:
        n = self._filled
        diff = self._diff[:n]
        np.subtract(self._rows[:n], query, out=diff)
        np.square(diff, out=diff)
        d2: FloatArray = diff @ weights
        return d2

    def _store(self, row: FloatArray) -> None:
        self._rows[self._head] = row
        self._head = (self._head + 1) % self.history
        self._filled = min(self._filled + 1, self.history)


def _phase_point(phase: float | None) -> tuple[float, float]:
    """Map a day phase onto the unit circle so 23:59 is next to 00:00."""
    if phase is None:
        return 0.0, 0.0
    angle = 2.0 * math.pi * phase
    return math.cos(angle), math.sin(angle)
