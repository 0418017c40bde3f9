"""Turning raw novelty measurements into tail probabilities, with bounded memory.

A raw measurement (a nearest-neighbour distance, a z-score...) means nothing across metrics:
"0.3" is huge for a flat CPU series and noise for network bytes. Each stream therefore judges a
measurement against its *own* recent history of that measurement: the tail probability
P(D >= d). Inside the observed history the empirical rank is used; beyond its upper part a
Pareto tail (Hill estimator) extrapolates, so "twice the largest distance ever seen" is rarer
than "just above the 98th percentile" without trusting the few largest past values (which may
themselves be anomalies). Everything here is O(window) memory and roughly O(log n) per update
plus a short memmove.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections import deque


class SortedWindow:
    """The last ``size`` values, kept both in arrival order and sorted (for quantiles/ranks)."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("size must be >= 1")
        self.size = size
        self._fifo: deque[float] = deque()
        self._sorted: list[float] = []

    def __len__(self) -> int:
        return len(self._sorted)

    def push(self, value: float) -> None:
        """Add a value, evicting the oldest one when the window is full."""
        self._fifo.append(value)
        insort(self._sorted, value)
        if len(self._fifo) > self.size:
            old = self._fifo.popleft()
            del self._sorted[bisect_left(self._sorted, old)]

    def count_at_least(self, value: float) -> int:
        """How many stored values are >= ``value``."""
        return len(self._sorted) - bisect_left(self._sorted, value)

    def quantile(self, q: float) -> float:
        """Linear-interpolated quantile, ``q`` in [0, 1]; the window must not be empty."""
        data = self._sorted
        pos = min(max(q, 0.0), 1.0) * (len(data) - 1)
        lo = int(pos)
        hi = min(lo + 1, len(data) - 1)
        frac = pos - lo
        return data[lo] * (1.0 - frac) + data[hi] * frac

    def top(self, k: int) -> list[float]:
        """The ``k`` largest stored values, ascending."""
        return self._sorted[len(self._sorted) - k :]


class ParetoTail:
    """Tail probability of a non-negative measurement against its own recent history.

    ``tail(x)`` is the empirical P(D >= x) (with +1 smoothing) up to the top ``tail_fraction``
    of the window; above it, a Pareto tail fitted to those top values by the Hill estimator.
    ``max_alpha`` caps the fitted tail index: a very regular history would otherwise yield a
    near-vertical tail and call a tiny excess astronomically rare.
    """

    def __init__(
        self,
        size: int = 3000,
        tail_fraction: float = 0.02,
        min_tail: int = 5,
        max_alpha: float = 4.0,
        min_history: int = 20,
    ) -> None:
        self._window = SortedWindow(size)
        self.tail_fraction = tail_fraction
        self.min_tail = min_tail
        self.max_alpha = max_alpha
        self.min_history = min_history

    def __len__(self) -> int:
        return len(self._window)

    def push(self, value: float) -> None:
        """Record a measurement (call after :meth:`tail` so a value never judges itself)."""
        self._window.push(value)

    def tail(self, value: float) -> float:
        """P(D >= value) under the history; 1.0 until ``min_history`` values were seen."""
        n = len(self._window)
        if n < self.min_history:
            return 1.0
        k = min(n, max(self.min_tail, int(self.tail_fraction * n)))
        top = self._window.top(k)
        u = top[0]
        if value <= u or u <= 0.0:
            return (self._window.count_at_least(value) + 1) / (n + 1)
        log_u = math.log(u)
        hill = sum(math.log(v) for v in top) / k - log_u
        alpha = min(self.max_alpha, 1.0 / hill) if hill > 0.0 else self.max_alpha
        return float((k / (n + 1)) * (value / u) ** (-alpha))


class ExponentialTail:
    """Tail probability for bounded, light-tailed scores (e.g. IsolationForest scores).

    Empirical up to the ``upper`` quantile of a fixed reference sample; beyond it an
    exponential tail whose scale comes from the gap between the ``lower`` and ``upper``
    quantiles (robust to the few largest reference values). A Pareto tail would be far too
    lenient for scores squeezed into a narrow interval.
    """

    def __init__(self, reference: list[float], lower: float = 0.9, upper: float = 0.99) -> None:
        if not reference:
            raise ValueError("reference must not be empty")
        self._window = SortedWindow(len(reference))
        for value in reference:
            self._window.push(value)
        self.upper = upper
        self._q_upper = self._window.quantile(upper)
        gap = self._q_upper - self._window.quantile(lower)
        self._beta = max(gap / math.log((1.0 - lower) / (1.0 - upper)), 1e-12)

    def tail(self, value: float) -> float:
        """P(S >= value) under the reference sample, extrapolated beyond its upper quantile."""
        n = len(self._window)
        if value <= self._q_upper:
            return (self._window.count_at_least(value) + 1) / (n + 1)
        return (1.0 - self.upper) * math.exp(-(value - self._q_upper) / self._beta)
