"""Container logs, generated on demand from what the container did.

Log lines are not stored. A container instance (``ContainerRun``) knows when it started and how it
ended, its pod knows its faults' effects, and the load model knows the traffic at every instant,
so the lines of any time window can be regenerated identically (each 15 s bucket has its own
seeded ``random.Random``). That gives:

* a startup banner when the container starts, a shutdown on SIGTERM, warnings about memory
  before an OOM kill, a fatal configuration error for a bad command;
* request logs sampled at up to a few lines per 15 s per pod, whose status codes and durations
  follow the modelled error rate and latency, with the exception message of a buggy release on
  its 5xx lines, slow-query warnings for a slow release and time-outs under CPU saturation;
* a Job's output from ``jobscript``.

Applications log as ``logfmt``, ``json`` or nginx-style ``combined`` access logs (chosen from the
image and the application's seed).
"""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime

import numpy as np

from platform_core.cluster.quantity import format_memory
from platform_core.cluster.twin import cronjobs
from platform_core.cluster.twin.core import TwinCore
from platform_core.cluster.twin.metrics import app_state
from platform_core.cluster.twin.model import BUCKET_SECONDS
from platform_core.cluster.twin.pods import memory_at
from platform_core.cluster.twin.state import App, ContainerRun, Namespace, Pod

MAX_LINES = 5000
_CHUNK = 900.0  # seconds generated per step when reading a tail backwards
_PATHS = (
    "/api/orders",
    "/api/orders/{id}",
    "/api/cart",
    "/api/users/{id}",
    "/api/products",
    "/api/products/{id}",
    "/api/checkout",
    "/api/search",
)
_NGINX_LEVELS = {"info": "notice", "warning": "warn", "fatal": "emerg"}
_SATURATION = ("context deadline exceeded", "upstream request timeout")
Line = tuple[float, str]


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fmt(style: str, t: float, level: str, msg: str, **fields: object) -> str:
    """One application log line in the app's style."""
    if style == "json":
        return json.dumps({"time": _iso(t), "level": level, "msg": msg, **fields})
    if style == "combined":
        stamp = datetime.fromtimestamp(t, UTC).strftime("%Y/%m/%d %H:%M:%S")
        extra = "".join(f", {k}: {v}" for k, v in fields.items())
        return f"{stamp} [{_NGINX_LEVELS.get(level, level)}] 1#1: {msg}{extra}"
    parts = [f"time={_iso(t)}", f"level={level}", f'msg="{msg}"']
    parts += [
        f'{k}="{v}"' if isinstance(v, str) and " " in v else f"{k}={v}" for k, v in fields.items()
    ]
    return " ".join(parts)


def _version(image: str) -> str:
    tail = image.rsplit("/", 1)[-1]
    return tail.split(":", 1)[1] if ":" in tail else "latest"


def _startup(app: App, ns: Namespace, pod: Pod, run: ContainerRun) -> list[Line]:
    style, t = app.load.style, run.start
    if style == "combined":
        return [
            (t + 0.05, "/docker-entrypoint.sh: Configuration complete; ready for start up"),
            (t + 0.1, fmt(style, t + 0.1, "info", f"nginx/{_version(pod.image)}")),
            (t + 0.12, fmt(style, t + 0.12, "info", "start worker processes")),
        ]
    port = app.template.port
    return [
        (
            t + 0.05,
            fmt(
                style, t + 0.05, "info", f"starting {app.name}", version=_version(pod.image), pid=1
            ),
        ),
        (t + 0.3, fmt(style, t + 0.3, "info", "configuration loaded", env="production")),
        (
            t + 0.9,
            fmt(
                style,
                t + 0.9,
                "info",
                "connected to database",
                host=f"postgres.{ns.name}.svc.cluster.local:5432",
                pool_size=10,
            ),
        ),
        (t + 1.2, fmt(style, t + 1.2, "info", "listening", addr=f":{port}")),
    ]


def _ending(app: App, pod: Pod, run: ContainerRun) -> list[Line]:
    style, end = app.load.style, run.end
    if end is None:
        return []
    if pod.crashes:
        rs = next((r for r in app.rsets.values() if r.name == pod.owner), None)
        argv = [*(rs.template.command or []), *(rs.template.args or [])] if rs is not None else []
        path = next(
            (a for a in argv if a.startswith("/etc") or a.endswith((".yaml", ".yml"))),
            "/etc/app/config.yaml",
        )
        at = max(run.start + 0.15, end - 0.1)
        return [
            (
                at,
                fmt(
                    style,
                    at,
                    "fatal",
                    "failed to load configuration",
                    path=path,
                    error=f"open {path}: no such file or directory",
                ),
            )
        ]
    if run.reason == "OOMKilled":
        limit = format_memory(pod.mem_lim)
        return [
            (
                end - dt,
                fmt(
                    style,
                    end - dt,
                    "warning",
                    "memory usage high",
                    rss_mb=int(memory_at(run, end - dt) / 2**20),
                    limit=limit,
                ),
            )
            for dt in (25.0, 9.0, 2.0)
            if end - dt > run.start + 1.5
        ]
    return [
        (end - 0.4, fmt(style, end - 0.4, "info", "received SIGTERM, shutting down gracefully")),
        (end - 0.1, fmt(style, end - 0.1, "info", "server stopped")),
    ]


def _access(style: str, t: float, rng: random.Random, status: int, ms: float, ip: str) -> str:
    path = rng.choice(_PATHS).replace("{id}", str(rng.randrange(1, 99_999)))
    method = "POST" if path in {"/api/cart", "/api/checkout"} else "GET"
    size = rng.randrange(120, 9000) if status < 500 else rng.randrange(40, 200)
    if style == "combined":
        stamp = datetime.fromtimestamp(t, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
        return (
            f'10.42.{rng.randrange(256)}.{rng.randrange(2, 255)} - - [{stamp}] "{method} {path} '
            f'HTTP/1.1" {status} {size} "-" "Mozilla/5.0 (X11; Linux x86_64)" rt={ms / 1000:.3f}'
        )
    level = "error" if status >= 500 else "info"
    return fmt(
        style,
        t,
        level,
        "request completed",
        method=method,
        path=path,
        status=status,
        duration_ms=round(ms, 1),
        bytes=size,
        request_id=f"{rng.getrandbits(64):016x}",
    )


def _traffic(
    app: App, pod: Pod, run: ContainerRun, lo: float, hi: float, core: TwinCore
) -> list[Line]:
    ready_at = run.ready_at
    if ready_at is None or hi <= ready_at:
        return []
    first = math.floor(max(lo, ready_at) / BUCKET_SECONDS)
    last = math.floor((hi - 1e-9) / BUCKET_SECONDS)
    if last < first:
        return []
    buckets = np.arange(first, last + 1, dtype=np.float64)
    state = app_state(core, app, buckets * BUCKET_SECONDS)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(state.ready > 0, state.rps / state.ready, 0.0)
    errors = np.clip(state.errors - state.err_add + pod.err_add, 0.0, 1.0)
    latency = state.latency - state.lat_add + pod.lat_add
    lines: list[Line] = []
    for i, bucket in enumerate(buckets.astype(np.int64).tolist()):
        rng = random.Random(pod.seed * 1_000_003 + bucket)
        b0 = bucket * BUCKET_SECONDS
        count = min(6, int(0.5 + share[i] * 0.75 * rng.random() * 2))
        stamps = sorted(b0 + rng.random() * BUCKET_SECONDS for _ in range(count + 1))
        for t in stamps[:count]:
            if not lo <= t < hi or t < ready_at:
                continue
            failed = rng.random() < errors[i]
            ms = latency[i] / 2.5 * math.exp(rng.gauss(0.0, 0.45))
            lines.append((t, _access(app.load.style, t, rng, 500 if failed else 200, ms, pod.ip)))
            if failed:
                reason = pod.err_msg or rng.choice(_SATURATION)
                lines.append(
                    (
                        t + 0.001,
                        fmt(app.load.style, t + 0.001, "error", "unhandled error", error=reason),
                    )
                )
        lines += _symptoms(app, pod, run, stamps[-1], float(state.util[i]), rng, lo, hi)
    return lines


def _symptoms(
    app: App,
    pod: Pod,
    run: ContainerRun,
    t: float,
    util: float,
    rng: random.Random,
    lo: float,
    hi: float,
) -> list[Line]:
    if not lo <= t < hi:
        return []
    style = app.load.style
    out: list[Line] = []
    if pod.lat_add > 0 and rng.random() < 0.7:
        took = int(pod.lat_add * rng.uniform(0.9, 1.3))
        out.append(
            (
                t,
                fmt(
                    style,
                    t,
                    "warning",
                    "slow query",
                    duration_ms=took,
                    query="SELECT * FROM orders WHERE customer_id = $1 ORDER BY created_at",
                ),
            )
        )
    if util > 1.0 and rng.random() < 0.7:
        out.append(
            (
                t,
                fmt(
                    style,
                    t,
                    "warning",
                    "request timed out",
                    duration_ms=5000,
                    in_flight=int(64 * min(util, 4.0)),
                ),
            )
        )
    used = memory_at(run, t) / pod.mem_lim
    if run.mem_slope > 0 and used > 0.7 and rng.random() < 0.5:
        out.append(
            (
                t,
                fmt(
                    style,
                    t,
                    "warning",
                    "memory usage high",
                    rss_mb=int(min(used, 1.0) * pod.mem_lim / 2**20),
                    limit=format_memory(pod.mem_lim),
                    gc_pause_ms=int(40 + 400 * used),
                ),
            )
        )
    return out


def _run_window(
    core: TwinCore, ns: Namespace, pod: Pod, run: ContainerRun, lo: float, hi: float
) -> list[Line]:
    if pod.owner_kind == "Job":
        plan = cronjobs.plan_pod(core, ns, pod, run.start)
        lines = [(run.start + offset, text) for offset, text in plan.lines]
    else:
        app = ns.apps.get(pod.app)
        if app is None:
            return []
        startup = _startup(app, ns, pod, run)
        if pod.crashes:  # it dies while loading its configuration
            lines = startup[:1] + _ending(app, pod, run)
        else:
            lines = startup + _ending(app, pod, run) + _traffic(app, pod, run, lo, hi, core)
        lines += [(t, text) for t, text in app.planted_logs if run.start <= t]
    return sorted((line for line in lines if lo <= line[0] < hi), key=lambda line: line[0])


def run_lines(
    core: TwinCore,
    ns: Namespace,
    pod: Pod,
    run: ContainerRun,
    *,
    since: float | None,
    tail: int | None,
) -> list[Line]:
    """The lines of one container instance, after ``since``, the last ``tail`` of them."""
    start = run.start if since is None else max(run.start, since)
    end = min(run.end, core.t) if run.end is not None else core.t
    end += 1e-6
    if tail is None:
        return _run_window(core, ns, pod, run, start, end)[-MAX_LINES:]
    wanted = min(tail, MAX_LINES)
    collected: list[Line] = []
    hi = end
    while hi > start and len(collected) < wanted:
        lo = max(start, hi - _CHUNK)
        collected = _run_window(core, ns, pod, run, lo, hi) + collected
        hi = lo
    return collected[-wanted:] if wanted else []
