"""Benchmark the simulated cluster at platform scale.

Builds a twin with 50 workspaces x 20 applications x 3 replicas (1,000 Deployments, 3,000 pods),
one CronJob per workspace (every 5 minutes, a 20 s shell job) and a handful of injected faults
(OOM kills, CPU spikes, bad releases) so that the measured minutes include real activity, lets it
settle for ten virtual minutes, then measures:

* the wall time of ``advance_sync(60)`` over several virtual minutes (median and p95);
* the memory held by the twin (tracemalloc, measured while building; tracing is off while timing)
  and the process's peak RSS;
* one metrics range query (1 h, 60 s step, per pod) and one snapshot, for scale.

The last line of the output is one JSON object with the figures (units in the keys).

Run: ``.venv/bin/python bench/twin.py`` (``--minutes N`` to time more minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import time
import tracemalloc
from typing import Any

from platform_core.cluster import ApplicationSpec, CronJobSpec, SimulatedCluster

WORKSPACES = 50
APPS = 20
REPLICAS = 3
FAULTS = ("oom_kill", "cpu_spike", "crash_loop", "memory_leak", "latency_spike", "error_spike")


async def build(seed: int) -> SimulatedCluster:
    twin = SimulatedCluster(seed=seed, node_cpu="32", node_memory="128Gi")
    for w in range(WORKSPACES):
        await twin.provision_workspace(f"ws-{w:02d}")
    await twin.advance(60)
    for w in range(WORKSPACES):
        ws = f"ws-{w:02d}"
        for a in range(APPS):
            spec = ApplicationSpec(
                name=f"app-{a:02d}", image=f"ghcr.io/acme/svc-{a}:1.0.{w}", replicas=REPLICAS
            )
            await twin.create_application(ws, "default", spec)
        job = CronJobSpec(
            name="report",
            schedule="*/5 * * * *",
            image="busybox:1.36",
            command=["sh", "-c", "echo start; sleep 20; echo done"],
        )
        await twin.create_cronjob(ws, "default", job)
    await twin.advance(120)
    for i, kind in enumerate(FAULTS * 3):  # 18 faulty applications out of 1,000
        twin.inject_fault(f"ws-{(7 * i) % WORKSPACES:02d}", "default", f"app-{i % APPS:02d}", kind)
    await twin.advance(480)
    return twin


def measure(minutes: int, seed: int) -> dict[str, Any]:
    tracemalloc.start()
    started = time.perf_counter()
    twin = asyncio.run(build(seed))
    build_s = time.perf_counter() - started
    memory_mb = tracemalloc.get_traced_memory()[0] / 2**20
    tracemalloc.stop()

    timings = []
    for _ in range(minutes):
        begin = time.perf_counter()
        twin.advance_sync(60)
        timings.append((time.perf_counter() - begin) * 1000)
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]

    begin = time.perf_counter()
    asyncio.run(twin.get_metrics("ws-00", "default", "app-00", step_seconds=60, per_pod=True))
    query_ms = (time.perf_counter() - begin) * 1000
    begin = time.perf_counter()
    snapshot = json.dumps(twin.snapshot())
    snapshot_ms = (time.perf_counter() - begin) * 1000
    pods = sum(
        len(ns.pods) for ws in twin.state.workspaces.values() for ns in ws.namespaces.values()
    )
    return {
        "advance_one_minute_p50_ms": round(statistics.median(timings), 2),
        "advance_one_minute_p95_ms": round(p95, 2),
        "advance_one_minute_max_ms": round(timings[-1], 2),
        "minutes_measured": minutes,
        "memory_mb": round(memory_mb, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "metrics_query_1h_per_pod_ms": round(query_ms, 2),
        "snapshot_ms": round(snapshot_ms, 1),
        "snapshot_mb": round(len(snapshot) / 2**20, 2),
        "build_s": round(build_s, 2),
        "workspaces": WORKSPACES,
        "applications": WORKSPACES * APPS,
        "pods": pods,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--minutes", type=int, default=20, help="virtual minutes to time")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    figures = measure(options.minutes, options.seed)
    print(
        f"twin: {figures['workspaces']} workspaces, {figures['applications']} applications, "
        f"{figures['pods']} pods"
    )
    print(
        f"advance one virtual minute: median {figures['advance_one_minute_p50_ms']} ms, "
        f"p95 {figures['advance_one_minute_p95_ms']} ms over {options.minutes} minutes"
    )
    print(f"memory: {figures['memory_mb']} MB traced, peak RSS {figures['peak_rss_mb']} MB")
    print(
        f"metrics query (1 h, per pod): {figures['metrics_query_1h_per_pod_ms']} ms; "
        f"snapshot: {figures['snapshot_mb']} MB in {figures['snapshot_ms']} ms"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
