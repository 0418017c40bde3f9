"""Logs, events, metrics and anomaly detection for an application."""

from __future__ import annotations

from datetime import datetime, timedelta
from statistics import fmean
from typing import Literal, get_args

from pydantic import Field

from platform_core.cluster.schemas import METRIC_UNITS, ClusterEvent, MetricName, MetricSeries
from platform_core.errors import InvalidInput
from platform_core.observability.monitor import MULTIVARIATE, AnomalyMonitor, AppAnomalies
from platform_core.observability.store import Series
from tools.applications import ApplicationArgs
from tools.base import ProjectArgs, ToolContext, tool
from tools.metric_source import app_key, load_history
from tools.render import DEFAULT_BUDGET_CHARS, event_line, trim_lines
from tools.results import ToolResult
from tools.targets import Target

MAIN_METRICS: tuple[MetricName, ...] = (
    "cpu",
    "memory",
    "request_rate",
    "latency_p95",
    "error_rate",
)


class LogsArgs(ProjectArgs):
    application: str | None = Field(default=None, description="Application whose pod to read")
    pod: str | None = Field(default=None, description="Exact pod name (instead of application)")
    container: str | None = None
    tail_lines: int = Field(default=100, ge=1, le=5000, description="Newest lines to return")
    since_minutes: int | None = Field(default=None, ge=1, le=10080)
    previous: bool = Field(default=False, description="Logs of the previous (crashed) container")
    contains: str | None = Field(default=None, max_length=200, description="Keep matching lines")


async def _choose_pod(ctx: ToolContext, target: Target, args: LogsArgs) -> tuple[str, bool]:
    """The pod to read: the given one, or the application's most troubled pod."""
    if args.pod:
        return args.pod, False
    if not args.application:
        raise InvalidInput("give an application or a pod", details={"field": "application"})
    pods = await ctx.gateway.list_pods(
        target.cluster_workspace, target.namespace, application=args.application
    )
    if not pods:
        raise InvalidInput(f"application {args.application!r} has no pods in {target.where}")
    worst = max(pods, key=lambda p: (not p.ready, p.restarts, p.created_at))
    return worst.name, worst.restarts > 0


@tool(risk="read", permission="workload.read", scope="project")
async def get_pod_logs(ctx: ToolContext, args: LogsArgs, target: Target | None) -> ToolResult:
    """Read container logs of a pod (or of an application's most troubled pod), newest last.
    Narrow with tail_lines, since_minutes, contains; previous=true reads a crashed container."""
    assert target is not None
    pod, restarted = await _choose_pod(ctx, target, args)
    logs = await ctx.gateway.get_logs(
        target.cluster_workspace,
        target.namespace,
        pod,
        container=args.container,
        tail_lines=args.tail_lines,
        since_seconds=args.since_minutes * 60 if args.since_minutes else None,
        previous=args.previous,
    )
    lines = [f"{line.timestamp:%H:%M:%S} {line.message}" for line in logs.lines]
    if args.contains:
        lines = [line for line in lines if args.contains.lower() in line.lower()]
    which = "previous container" if args.previous else "current container"
    if not lines:
        hint = " (it restarted: try previous=true)" if restarted and not args.previous else ""
        return ToolResult.no_data(f"no log lines from pod {pod}, {which}{hint}")
    kept, note = trim_lines(
        lines,
        DEFAULT_BUDGET_CHARS,
        keep="last",
        narrowing="narrow with a smaller tail_lines, since_minutes or contains",
    )
    if restarted and not args.previous:
        note = (note + "; " if note else "") + "the pod restarted: previous=true shows the crash"
    header = f"logs of pod {pod} ({logs.container}, {which}), {len(kept)} line(s):"
    return ToolResult.ok(header + "\n" + "\n".join(kept), {"pod": pod, "lines": kept}, note=note)


class EventsArgs(ProjectArgs):
    application: str | None = Field(
        default=None, description="Only events of this application, its pods and ReplicaSets"
    )
    kind: str | None = Field(default=None, description="Object kind, e.g. Pod or CronJob")
    warnings_only: bool = False
    limit: int = Field(default=30, ge=1, le=500)


@tool(risk="read", permission="workload.read", scope="project")
async def list_events(ctx: ToolContext, args: EventsArgs, target: Target | None) -> ToolResult:
    """List recent Kubernetes events of a project, newest last; filter by application, kind,
    warnings only."""
    assert target is not None
    events: list[ClusterEvent] = await ctx.gateway.list_events(
        target.cluster_workspace,
        target.namespace,
        kind=args.kind,
        name=args.application,
        type="Warning" if args.warnings_only else None,
    )
    if not events:
        return ToolResult.no_data(f"no matching events in {target.where}")
    now = await ctx.gateway.now()
    lines = [event_line(event, now) for event in events[-args.limit :]]
    kept, note = trim_lines(
        lines,
        DEFAULT_BUDGET_CHARS,
        keep="last",
        narrowing="filter by application or kind, or set warnings_only",
    )
    if len(events) > args.limit:
        note = (
            note + "; " if note else ""
        ) + f"{len(events) - args.limit} older event(s) not shown"
    data = [e.model_dump(mode="json") for e in events[-len(kept) :]]
    return ToolResult.ok(
        f"{len(kept)} event(s) in {target.where}:\n" + "\n".join(kept), data, note=note
    )


MetricChoice = Literal[
    "cpu", "memory", "request_rate", "latency_p95", "error_rate", "available_replicas", "restarts"
]


class MetricsArgs(ApplicationArgs):
    metrics: list[MetricChoice] | None = Field(
        default=None,
        description="Which metrics; cpu, memory, request_rate, latency_p95, error_rate by default",
    )
    minutes: int = Field(default=60, ge=5, le=1440, description="How far back to look")
    step_seconds: int = Field(default=60, ge=15, le=3600)


def _describe_series(series: MetricSeries) -> str:
    values = [p.value for p in series.points]
    if not values:
        return f"{series.metric}: no samples"
    trend = values[-1] - values[0]
    direction = (
        "rising"
        if trend > 0.1 * (max(values) - min(values) or 1)
        else ("falling" if trend < -0.1 * (max(values) - min(values) or 1) else "flat")
    )
    return (
        f"{series.metric} ({series.unit}): last {values[-1]:.4g}, min {min(values):.4g}, "
        f"max {max(values):.4g}, mean {fmean(values):.4g}, {direction}"
    )


def _chart(series: list[MetricSeries]) -> list[dict[str, object]]:
    return [
        {
            "metric": s.metric,
            "unit": s.unit,
            "pod": s.pod,
            "points": [[p.timestamp.isoformat(), p.value] for p in s.points],
        }
        for s in series
    ]


@tool(risk="read", permission="workload.read", scope="project")
async def get_metrics(ctx: ToolContext, args: MetricsArgs, target: Target | None) -> ToolResult:
    """Metric time series of an application (CPU, memory, request rate, p95 latency, error
    rate) over the last minutes, summarised; the full series are returned for charts."""
    assert target is not None
    end = await ctx.gateway.now()
    result = await ctx.gateway.get_metrics(
        target.cluster_workspace,
        target.namespace,
        args.application,
        start=end - timedelta(minutes=args.minutes),
        end=end,
        step_seconds=args.step_seconds,
        metrics=args.metrics or list(MAIN_METRICS),
    )
    if not result.series:
        return ToolResult.no_data(f"no metrics for {args.application} in {target.where}")
    lines = [_describe_series(s) for s in result.series]
    return ToolResult.ok(
        f"metrics of {args.application} over the last {args.minutes} min:\n" + "\n".join(lines),
        {"series": _chart(result.series)},
    )


class AnomalyArgs(ApplicationArgs):
    minutes: int = Field(default=180, ge=30, le=1440, description="History to examine")


WARMUP = timedelta(hours=24)


@tool(risk="read", permission="workload.read", scope="project")
async def detect_anomalies(
    ctx: ToolContext, args: AnomalyArgs, target: Target | None
) -> ToolResult:
    """Look for anomalies in an application's metrics with the streaming detectors: which metric,
    since when, observed value and expected range."""
    assert target is not None
    end = await ctx.gateway.now()
    window = end - timedelta(minutes=args.minutes)
    history = await load_history(
        ctx, target, args.application, MAIN_METRICS, window - WARMUP, end, step_seconds=60
    )
    if not any(history.series.values()):
        return ToolResult.no_data(f"no metrics for {args.application} in {target.where}")
    key = app_key(ctx, target, args.application)
    found = await AnomalyMonitor(None).assess(key, history.series, report_after=window)
    before = max(history.span(m) for m in MAIN_METRICS) - timedelta(minutes=args.minutes)
    basis = f"detectors warmed on {_hours(before)} of history from the {history.source}"
    if before < WARMUP:
        basis += "; with less than a day of history only strong evidence raises an alarm"
    data = _anomaly_data(history.series, found, window)
    where = f"{args.application}'s metrics over the last {args.minutes} min"
    if not found.detections:
        return ToolResult(
            status="no_data",
            summary=f"no anomalies in {where} ({basis})",
            data=data,
            note=history.note,
        )
    lines = [detection.summary() for detection in found.detections[-10:]]
    now = ", ".join(found.anomalous) or "none"
    summary = (
        f"{len(found.detections)} anomaly signal(s) in {where} ({basis}); anomalous at the "
        f"latest point: {now}\n" + "\n".join(lines)
    )
    return ToolResult.ok(summary, data, note=history.note)


def _hours(span: timedelta) -> str:
    return f"{max(span.total_seconds(), 0) / 3600:.1f} h"


def _anomaly_data(series: Series, found: AppAnomalies, window: datetime) -> dict[str, object]:
    """Chart-ready: each metric's points in the window with the detector's score per point."""
    charts = []
    for metric in MAIN_METRICS:
        points = [(t, v) for t, v in series.get(metric, []) if t > window]
        scores = dict(found.scores.get(metric, []))
        charts.append(
            {
                "metric": metric,
                "unit": METRIC_UNITS[metric],
                "points": [[t.isoformat(), v, round(scores.get(t, 0.0), 3)] for t, v in points],
            }
        )
    return {
        "anomalies": [
            {
                "metric": d.metric,
                "timestamp": d.timestamp.isoformat() if d.timestamp else None,
                "observed": d.observed,
                "expected": [d.expected_low, d.expected_high],
                "score": round(d.score, 3),
                "since": d.since.isoformat() if d.since else None,
                "reason": d.reason,
            }
            for d in found.detections
        ],
        "anomalous_now": list(found.anomalous),
        "series": charts,
        "point_format": ["timestamp", "value", "anomaly_score"],
        "multivariate_scores": [
            [t.isoformat(), round(v, 3)] for t, v in found.scores.get(MULTIVARIATE, [])
        ],
    }


assert set(get_args(MetricChoice)) >= set(MAIN_METRICS)
