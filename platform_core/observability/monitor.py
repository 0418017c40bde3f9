"""The anomaly monitor: per-application detector state fed from the metric store.

:meth:`AnomalyMonitor.observe` reads the points stored since its previous call for that
application and feeds them, oldest first, to one :class:`StreamingAnomalyDetector` per metric and
to a :class:`MultivariateDetector` over the application's metric vector. It returns the explained
alarms raised by the new points and each metric's verdict at the latest point.

The store is the truth and the detector state a cache: a process without state for an application
(just started, or another replica ran the previous ticks) rebuilds it by replaying up to
``warmup`` of stored history, and reports only what the last ``report_on_restart`` of that
replay raised (so a restart neither repeats a day of old alarms nor loses the minutes the previous
process may not have seen). Given the same stored points, replaying and observing incrementally
reach the same state and the same verdicts (as long as the history is shorter than ``warmup``).

The multivariate detector sees 5-minute means of the metric vector, fed as soon as a window is
complete. Scoring one vector with its isolation forest costs ~9 ms (per call overhead of
scikit-learn's 100 trees), so per-minute vectors would make a one-day warm-up take 13 s per
application; per 5 minutes it takes about 1.5 s (the streaming detectors' share is 0.3 s), and
single-metric anomalies are caught per minute by the streaming detectors anyway. Pass
``multivariate_seconds=None`` to go without it. The work runs in a worker thread, never on the
event loop.

A series raises no alarm in its first ``probation`` (an hour: everything is new to a detector
then), and until it is ``mature_after`` old (a day) only with a score of at least
``young_alarm_score``: until it has seen a whole day, each new daily high or low and each new time
of day is novel to the detectors, and these alarms score 0.5-0.72 on the twin while real faults
(a latency or error spike, CPU pinned at the limit) score above 0.75. The higher bar applies to
opening an episode; the points after it count as anomalous by the detector's own verdict.

Memory is bounded: at most ``max_apps`` applications are kept (least recently observed dropped
first), and an application not observed for ``idle_timeout`` is forgotten. One application's
state is about 3 MB after a day and levels off near 5 MB (the detectors' windows are full after
about a week). ``max_apps`` must exceed the number of applications one process observes in
turn, or each would be evicted before its next tick and warmed up again every time.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from platform_core.cluster.schemas import MetricName
from platform_core.observability.anomaly import Detection, StreamingAnomalyDetector
from platform_core.observability.anomaly.multivariate import (
    MultivariateDetection,
    MultivariateDetector,
)
from platform_core.observability.store import AppKey, MetricStore, Series

MONITORED_METRICS: tuple[MetricName, ...] = (
    "cpu",
    "memory",
    "request_rate",
    "latency_p95",
    "error_rate",
)
MULTIVARIATE = "multivariate"
Row = tuple[datetime, dict[str, float]]


@dataclass(frozen=True)
class AppAnomalies:
    """What one ``observe`` call found for one application.

    ``detections``: alarms raised by the new points, oldest first (a streaming detector reports
    an episode once, and again only when it gets worse; multivariate alarms carry a reason that
    starts with ``multivariate:``). ``anomalous``: metrics whose verdict at the latest point is
    anomalous. ``latest``: every metric's verdict at the latest point. ``scores``: per metric
    (and ``multivariate``) the unsuppressed score of every new point, for charts.
    """

    app: AppKey
    new_points: int
    latest_time: datetime | None
    detections: tuple[Detection, ...] = ()
    anomalous: tuple[str, ...] = ()
    latest: dict[str, Detection] = field(default_factory=dict)
    scores: dict[str, list[tuple[datetime, float]]] = field(default_factory=dict)
    warmed_up: bool = False


@dataclass
class _Window:
    """The 5-minute window of metric vectors being collected for the multivariate detector."""

    index: int
    sums: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    last: datetime | None = None
    fed: bool = False


@dataclass
class _AppState:
    detectors: dict[str, StreamingAnomalyDetector]
    multivariate: MultivariateDetector | None
    last_time: datetime | None = None
    window: _Window | None = None
    latest: dict[str, Detection] = field(default_factory=dict)
    opened: dict[str, datetime] = field(default_factory=dict)  # episodes an alarm opened
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    touched: float = 0.0


@dataclass
class _Feed:
    """What feeding a batch of rows produced (only rows after ``report_after`` are reported)."""

    detections: list[Detection] = field(default_factory=list)
    scores: dict[str, list[tuple[datetime, float]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    reported: int = 0


class AnomalyMonitor:
    """Streaming anomaly detection over the metric store, one detector set per application."""

    def __init__(
        self,
        store: MetricStore | None,
        *,
        warmup: timedelta = timedelta(hours=24),
        report_on_restart: timedelta = timedelta(minutes=10),
        step_seconds: int = 60,
        metrics: Sequence[str] = MONITORED_METRICS,
        multivariate_seconds: int | None = 300,
        probation: timedelta = timedelta(hours=1),
        mature_after: timedelta = timedelta(hours=24),
        young_alarm_score: float = 0.75,
        max_apps: int = 1000,
        idle_timeout: timedelta = timedelta(hours=2),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if multivariate_seconds is not None and multivariate_seconds % step_seconds:
            raise ValueError("multivariate_seconds must be a multiple of step_seconds")
        self.store = store
        self.warmup = warmup
        self.report_on_restart = report_on_restart
        self.step_seconds = step_seconds
        self.metrics = tuple(metrics)
        self.multivariate_seconds = multivariate_seconds
        self.probation_points = math.ceil(probation.total_seconds() / step_seconds)
        self.mature_points = math.ceil(mature_after.total_seconds() / step_seconds)
        self.young_alarm_score = young_alarm_score
        self.max_apps = max_apps
        self.idle_timeout = idle_timeout.total_seconds()
        self._clock = clock
        self._states: OrderedDict[AppKey, _AppState] = OrderedDict()
        self._last_sweep = -math.inf

    def __len__(self) -> int:
        """How many applications have detector state in this process."""
        return len(self._states)

    def forget(self, app: AppKey) -> None:
        self._states.pop(app, None)

    async def observe(self, app: AppKey) -> AppAnomalies:
        """Feed the points stored since the last call; see the module docstring."""
        state = self._states.get(app)
        if state is None:
            state = self._states[app] = self._new_state()
        self._states.move_to_end(app)
        state.touched = self._clock()
        self._sweep()
        async with state.lock:
            return await self._observe(app, state)

    async def assess(self, app: AppKey, series: Series, *, report_after: datetime) -> AppAnomalies:
        """One-off: run fresh detectors over ``series`` (from any source) and report the points
        after ``report_after``; the monitor's own per-application state is not touched."""
        state = self._new_state()
        fed = await asyncio.to_thread(self._feed, state, _rows(series), report_after)
        return self._result(app, state, fed, warming=True)

    async def _observe(self, app: AppKey, state: _AppState) -> AppAnomalies:
        if self.store is None:
            raise RuntimeError("this monitor has no store: use assess()")
        warming = state.last_time is None
        if state.last_time is None:
            latest = await self.store.last_timestamp(app)
            if latest is None:
                return AppAnomalies(app, 0, None)
            start, end = latest - self.warmup, latest
            report_after = latest - self.report_on_restart
        else:
            # One query per tick: everything after the last point fed, at most a warm-up's worth
            # (the rest follows on the next call).
            start = state.last_time + timedelta(milliseconds=1)
            end = state.last_time + self.warmup
            report_after = state.last_time
        series = await self.store.read(app, self.metrics, start, end, self.step_seconds)
        rows = _rows(series)
        if not rows:
            return AppAnomalies(app, 0, state.last_time, latest=dict(state.latest))
        fed = await asyncio.to_thread(self._feed, state, rows, report_after)
        return self._result(app, state, fed, warming=warming)

    def _result(self, app: AppKey, state: _AppState, fed: _Feed, *, warming: bool) -> AppAnomalies:
        anomalous = tuple(m for m, d in state.latest.items() if self._alarming(state, m, d))
        return AppAnomalies(
            app,
            fed.reported,
            state.last_time,
            tuple(fed.detections),
            anomalous,
            dict(state.latest),
            dict(fed.scores),
            warming,
        )

    def _new_state(self) -> _AppState:
        detectors = {m: StreamingAnomalyDetector(m) for m in self.metrics}
        multivariate = MultivariateDetector(self.metrics) if self.multivariate_seconds else None
        return _AppState(detectors, multivariate)

    # -- feeding (runs in a worker thread; the app's lock is held) -----------------------------

    def _feed(self, state: _AppState, rows: list[Row], report_after: datetime) -> _Feed:
        feed = _Feed()
        for moment, values in rows:
            report = moment > report_after
            feed.reported += report
            for metric, value in values.items():
                detector = state.detectors.get(metric)
                if detector is None:
                    continue
                score = detector.update(value, moment)
                alarm = score >= self._threshold(detector.count, detector.config.alert_threshold)
                if not (report or alarm):
                    continue
                detection = detector.explain()
                if detection is None:
                    continue
                if alarm and detection.since is not None:
                    state.opened[metric] = detection.since
                if not report:
                    continue
                feed.scores[metric].append((moment, detection.raw_score))
                state.latest[metric] = detection
                if alarm:
                    feed.detections.append(detection)
            self._collect(state, moment, values, report, feed)
            state.last_time = moment
        return feed

    def _collect(
        self,
        state: _AppState,
        moment: datetime,
        values: dict[str, float],
        report: bool,
        feed: _Feed,
    ) -> None:
        """Add a row to its 5-minute window; feed the window once it is complete."""
        if state.multivariate is None or self.multivariate_seconds is None:
            return
        size = self.multivariate_seconds
        index = math.floor(moment.timestamp() / size)
        window = state.window
        if window is not None and window.index != index:
            self._flush(state, window, report, feed)
        if window is None or window.index != index:
            window = state.window = _Window(index)
        for metric, value in values.items():
            window.sums[metric] += value
            window.counts[metric] += 1
        window.last = moment
        if moment.timestamp() + self.step_seconds >= (index + 1) * size:
            self._flush(state, window, report, feed)

    def _flush(self, state: _AppState, window: _Window, report: bool, feed: _Feed) -> None:
        if window.fed or state.multivariate is None:
            return
        window.fed = True
        means = {m: window.sums[m] / n for m, n in window.counts.items() if n}
        verdict = state.multivariate.update(means, window.last)
        if not report or window.last is None:
            return
        feed.scores[MULTIVARIATE].append((window.last, verdict.score))
        alarm = _multivariate_alarm(verdict)
        age = max((d.count for d in state.detectors.values()), default=0)
        threshold = self._threshold(age, state.multivariate.config.alert_threshold)
        if alarm is not None and alarm.score >= threshold:
            feed.detections.append(alarm)

    def _threshold(self, points_seen: int, threshold: float) -> float:
        """No alarm during the probation (a detector's first hour is all novelty); then, until
        ``mature_after``, only strong evidence: before a series has seen a whole day, every new
        daily high, low or time of day looks novel to a detector."""
        if points_seen <= self.probation_points:
            return math.inf
        if points_seen >= self.mature_points:
            return threshold
        return max(threshold, self.young_alarm_score)

    def _alarming(self, state: _AppState, metric: str, detection: Detection) -> bool:
        """Anomalous at the latest point: by the detector's verdict, within an episode that an
        alarm opened (a young series' bar applies to opening an episode, not to every point of
        it, so a fault stays anomalous while it lasts and a caller can wait for confirmation)."""
        if not detection.is_anomaly:
            return False
        detector = state.detectors[metric]
        if detection.raw_score >= self._threshold(detector.count, detector.config.alert_threshold):
            return True
        return detection.since is not None and state.opened.get(metric) == detection.since

    # -- memory bound ----------------------------------------------------------------------------

    def _sweep(self) -> None:
        now = self._clock()
        while len(self._states) > self.max_apps:
            self._states.popitem(last=False)
        if now - self._last_sweep < 60:
            return
        self._last_sweep = now
        idle = [app for app, s in self._states.items() if now - s.touched > self.idle_timeout]
        for app in idle:
            if not self._states[app].lock.locked():
                del self._states[app]


def _rows(series: dict[str, list[tuple[datetime, float]]]) -> list[Row]:
    """Align per-metric series into rows (time, {metric: value}), oldest first."""
    by_time: dict[datetime, dict[str, float]] = defaultdict(dict)
    for metric, points in series.items():
        for moment, value in points:
            by_time[moment][metric] = value
    return sorted(by_time.items())


def _multivariate_alarm(verdict: MultivariateDetection) -> Detection | None:
    """The culprit of a new multivariate episode, as a Detection (None otherwise)."""
    culprit = verdict.culprit
    if not verdict.is_anomaly or culprit is None or verdict.since != verdict.timestamp:
        return None
    return replace(
        culprit,
        score=verdict.score,
        raw_score=verdict.score,
        reason=f"multivariate: {culprit.reason}",
    )
