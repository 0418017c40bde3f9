"""Capacity: load forecasts with the replicas they need, and rightsizing of requests and limits."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import Field

from platform_core.cluster.quantity import cpu_millis, format_cpu, format_memory
from platform_core.cluster.schemas import Application
from platform_core.observability.forecast import Forecast, forecast_series
from platform_core.observability.rightsizing import (
    PRICES,
    Recommendation,
    Resources,
    pod_usage,
    recommend,
)
from platform_core.observability.scaling import fit_capacity, plan_replicas
from platform_core.observability.store import Point, Series
from tools.applications import ApplicationArgs
from tools.base import ProjectArgs, ToolContext, tool
from tools.metric_source import History, load_history
from tools.results import ToolResult
from tools.targets import Target

FORECAST_STEP = 300
CHART_HISTORY = timedelta(hours=24)
PLAN_INTERVAL = timedelta(minutes=15)


class ForecastArgs(ApplicationArgs):
    horizon_minutes: int = Field(default=60, ge=15, le=1440, description="How far ahead")
    history_days: int = Field(default=7, ge=1, le=30, description="History to learn from")
    target_utilization: int = Field(
        default=70, ge=10, le=95, description="Target CPU per replica, % of its CPU request"
    )


@tool(risk="read", permission="workload.read", scope="project")
async def forecast_load(ctx: ToolContext, args: ForecastArgs, target: Target | None) -> ToolResult:
    """Forecast an application's request rate and CPU (daily profile + trend, with a 90%
    interval) and recommend replicas per 15 minutes from the CPU each request costs."""
    assert target is not None
    app = await ctx.gateway.get_application(
        target.cluster_workspace, target.namespace, args.application
    )
    end = await ctx.gateway.now()
    history = await load_history(
        ctx,
        target,
        args.application,
        ["request_rate", "cpu", "available_replicas"],
        end - timedelta(days=args.history_days),
        end,
        FORECAST_STEP,
        prefer_longest=True,
    )
    rate, cpu = history.series.get("request_rate", []), history.series.get("cpu", [])
    if len(rate) < 12 or len(cpu) < 12:
        return ToolResult.no_data(
            f"not enough history to forecast {args.application} (an hour is the minimum)",
            note=history.note,
        )
    horizon = timedelta(minutes=args.horizon_minutes)
    rate_fc = _forecast(rate, horizon)
    cpu_fc = _forecast(cpu, horizon)
    lines = [
        f"forecast for {args.application} in {target.where}, next {args.horizon_minutes} min "
        f"({rate_fc.level:.0%} interval), from {_days(history)} of history "
        f"from the {history.source}:",
        _range_line("request rate", rate_fc, "req/s"),
        _range_line("CPU", cpu_fc, "cores"),
        f"model: {rate_fc.model}",
    ]
    data: dict[str, object] = {
        "history": {
            "request_rate": _chart_points(rate, end - CHART_HISTORY),
            "cpu": _chart_points(cpu, end - CHART_HISTORY),
        },
        "forecast": {"request_rate": _forecast_points(rate_fc), "cpu": _forecast_points(cpu_fc)},
        "forecast_format": ["timestamp", "mean", "low", "high"],
        "level": rate_fc.level,
        "model": rate_fc.model,
        "current_replicas": app.replicas,
    }
    lines += _replica_plan(app, history, rate_fc, args, data)
    return ToolResult.ok("\n".join(lines), data, note=history.note)


def _forecast(points: list[Point], horizon: timedelta) -> Forecast:
    return forecast_series(
        [t for t, _ in points], [v for _, v in points], horizon=horizon, step_seconds=FORECAST_STEP
    )


def _replica_plan(
    app: Application,
    history: History,
    rate_fc: Forecast,
    args: ForecastArgs,
    data: dict[str, object],
) -> list[str]:
    """Lines about the replicas needed; fills ``data['replicas']``."""
    aligned = _align(history.series, ("cpu", "request_rate", "available_replicas"))
    fit = fit_capacity(*aligned)
    resources = app.resources
    request = (cpu_millis(resources.requests.cpu) or cpu_millis(resources.limits.cpu)) / 1000
    if fit is None or fit.cpu_per_request <= 0:
        data["replicas"] = []
        return ["replicas: CPU does not follow the request rate here; no recommendation"]
    target = args.target_utilization / 100
    try:
        plan = plan_replicas(
            rate_fc, fit, request, interval=PLAN_INTERVAL, target_utilisation=target
        )
    except ValueError as error:
        data["replicas"] = []
        return [f"replicas: {error}"]
    data["replicas"] = [
        {
            "start": step.start.isoformat(),
            "end": step.end.isoformat(),
            "replicas": step.replicas,
            "peak_request_rate": round(step.peak_request_rate, 4),
            "cpu_per_replica": round(step.cpu_per_replica, 4),
        }
        for step in plan
    ]
    data["capacity"] = {
        "cpu_per_request": fit.cpu_per_request,
        "idle_cpu_per_replica": fit.idle_cpu_per_replica,
        "cpu_request": request,
        "target_utilization": target,
    }
    needed = max(step.replicas for step in plan)
    changes = ", ".join(f"{s.start:%H:%M} {s.replicas}" for s in plan)
    lines = [
        f"capacity: {fit.cpu_per_request * 1000:.3g}m CPU per req/s + "
        f"{fit.idle_cpu_per_replica * 1000:.3g}m per idle replica; CPU request "
        f"{format_cpu(round(request * 1000))}, target {args.target_utilization}%",
        f"replicas needed (upper bound of the interval) per 15 min: {changes}; now {app.replicas}",
    ]
    auto = app.autoscaling
    if auto is not None and needed > auto.max_replicas:
        lines.append(f"the autoscaler's maximum ({auto.max_replicas}) is below the {needed} needed")
    elif auto is None and needed > app.replicas:
        lines.append(f"scale to {needed} replicas before the peak, or enable autoscaling")
    elif auto is None and needed < app.replicas:
        lines.append(f"{needed} replica(s) would do for the forecast period")
    return lines


def _align(series: Series, metrics: tuple[str, ...]) -> tuple[list[float], ...]:
    """Values of ``metrics`` at the timestamps they all share, in the order given."""
    maps = [dict(series.get(m, [])) for m in metrics]
    shared = sorted(set(maps[0]).intersection(*maps[1:]))
    return tuple([values[t] for t in shared] for values in maps)


def _range_line(name: str, fc: Forecast, unit: str) -> str:
    return (
        f"{name}: {min(fc.mean):.4g}-{max(fc.mean):.4g} {unit} "
        f"(interval {min(fc.low):.4g}-{max(fc.high):.4g})"
    )


def _days(history: History) -> str:
    return f"{history.span('request_rate').total_seconds() / 86400:.1f} days"


def _chart_points(points: list[Point], since: datetime) -> list[list[object]]:
    return [[t.isoformat(), round(v, 6)] for t, v in points if t >= since]


def _forecast_points(fc: Forecast) -> list[list[object]]:
    return [
        [t.isoformat(), round(m, 6), round(lo, 6), round(hi, 6)]
        for t, m, lo, hi in zip(fc.times, fc.mean, fc.low, fc.high, strict=True)
    ]


class RightsizingArgs(ProjectArgs):
    application: str | None = Field(
        default=None, description="One application; every application of the project if omitted"
    )
    days: int = Field(default=7, ge=1, le=30, description="Usage history to size from")
    headroom_percent: int = Field(default=20, ge=0, le=200, description="Margin above usage")


@tool(risk="read", permission="workload.read", scope="project")
async def recommend_rightsizing(
    ctx: ToolContext, args: RightsizingArgs, target: Target | None
) -> ToolResult:
    """Compare CPU/memory requests and limits with observed usage (p95/p99/max per pod) and
    recommend new ones with the monthly saving; for one application or a whole project."""
    assert target is not None
    ws, ns = target.cluster_workspace, target.namespace
    if args.application:
        apps = [await ctx.gateway.get_application(ws, ns, args.application)]
    else:
        apps = await ctx.gateway.list_applications(ws, ns)
    if not apps:
        return ToolResult.no_data(f"no applications in {target.where}")
    end = await ctx.gateway.now()
    step = 60 if args.days <= 7 else 300
    results: list[Recommendation] = []
    skipped: list[str] = []
    notes: set[str] = set()
    for app in apps:
        history = await load_history(
            ctx,
            target,
            app.name,
            ["cpu", "memory", "available_replicas"],
            end - timedelta(days=args.days),
            end,
            step,
            prefer_longest=True,
        )
        if history.note:
            notes.add(history.note)
        series = history.series
        usage = pod_usage(series["cpu"], series["memory"], series["available_replicas"])
        if usage is None or app.replicas == 0:
            skipped.append(app.name)
            continue
        results.append(
            recommend(
                app.name,
                app.replicas,
                Resources.of(app.resources),
                usage,
                headroom=args.headroom_percent / 100,
            )
        )
    if not results:
        return ToolResult.no_data(f"no usage history for {', '.join(skipped)} in {target.where}")
    summary, data = _rightsizing_report(results, skipped, target, args.days)
    return ToolResult.ok(summary, data, note="; ".join(sorted(notes)) or None)


def _rightsizing_report(
    results: list[Recommendation], skipped: list[str], target: Target, days: int
) -> tuple[str, dict[str, object]]:
    current = sum(r.current_monthly_cost for r in results)
    recommended = sum(r.recommended_monthly_cost for r in results)
    currency = PRICES.currency
    observed = max(r.usage.span for r in results).total_seconds() / 86400
    lines = [
        f"rightsizing in {target.where} from the last {days} day(s) ({observed:.1f} observed) "
        f"of per-pod usage; monthly cost of the requests at {PRICES.cpu_core_hour} "
        f"{currency}/core-hour and {PRICES.memory_gib_hour} {currency}/GiB-hour:"
    ]
    lines += [_recommendation_line(r) for r in results]
    lines.append(
        f"total: {current:.2f} {currency}/month now, {recommended:.2f} recommended: "
        f"{_saving(current - recommended, currency)}"
    )
    if skipped:
        lines.append(f"no usage history for: {', '.join(skipped)}")
    data: dict[str, object] = {
        "applications": [_recommendation_data(r) for r in results],
        "total": {
            "current_monthly_cost": round(current, 2),
            "recommended_monthly_cost": round(recommended, 2),
            "monthly_saving": round(current - recommended, 2),
        },
        "currency": currency,
        "prices": {
            "cpu_core_hour": PRICES.cpu_core_hour,
            "memory_gib_hour": PRICES.memory_gib_hour,
            "source": PRICES.source,
        },
        "chart": {
            "categories": [r.application for r in results],
            "series": [
                {"name": "current", "values": [round(r.current_monthly_cost, 2) for r in results]},
                {
                    "name": "recommended",
                    "values": [round(r.recommended_monthly_cost, 2) for r in results],
                },
            ],
        },
        "skipped": skipped,
    }
    return "\n".join(lines), data


def _recommendation_line(r: Recommendation) -> str:
    cur, rec, use = r.current, r.recommended, r.usage
    line = (
        f"- {r.application} ({r.replicas} replica(s)): CPU request "
        f"{format_cpu(cur.cpu_request)} -> {format_cpu(rec.cpu_request)} "
        f"(p95 {use.cpu_p95 * 1000:.0f}m), limit "
        f"{format_cpu(cur.cpu_limit)} -> {format_cpu(rec.cpu_limit)}; memory request "
        f"{format_memory(cur.memory_request)} -> {format_memory(rec.memory_request)} (p99 "
        f"{use.memory_p99 / 2**20:.0f}Mi), limit {format_memory(cur.memory_limit)} -> "
        f"{format_memory(rec.memory_limit)}; {_saving(r.monthly_saving, r.currency)}"
    )
    if r.notes:
        line += " (" + "; ".join(r.notes) + ")"
    return line


def _saving(amount: float, currency: str) -> str:
    if amount >= 0:
        return f"saves {amount:.2f} {currency}/month"
    return f"costs {-amount:.2f} {currency}/month more"


def _recommendation_data(r: Recommendation) -> dict[str, object]:
    use = r.usage
    return {
        "application": r.application,
        "replicas": r.replicas,
        "current": r.current.as_quantities(),
        "recommended": r.recommended.as_quantities(),
        "usage_per_pod": {
            "cpu_cores": {"p95": use.cpu_p95, "p99": use.cpu_p99, "max": use.cpu_max},
            "memory_bytes": {"p95": use.memory_p95, "p99": use.memory_p99, "max": use.memory_max},
            "samples": use.samples,
            "hours": round(use.span.total_seconds() / 3600, 1),
        },
        "current_monthly_cost": round(r.current_monthly_cost, 2),
        "recommended_monthly_cost": round(r.recommended_monthly_cost, 2),
        "monthly_saving": round(r.monthly_saving, 2),
        "notes": r.notes,
    }
