"""Resource usage of the fake's pods, served as metrics.k8s.io and as a fake Prometheus.

One deterministic model per pod (seeded by its name) gives CPU (about 35 % of the request),
working-set memory (about 42 % of the limit), an HTTP request rate, a 5xx ratio and a p95
latency while the container runs. The same numbers feed ``metrics.k8s.io`` (now), the HPA
controller (utilisation) and Prometheus (any range), so the three agree as they would on a
cluster.

The fake Prometheus implements ``/api/v1/query_range`` for the query *shapes* the gateway emits
(``platform_core.cluster.kubernetes.promql``), not PromQL in general: it finds the metric name and
the ``namespace``/``pod`` matchers, whether the query groups ``by (pod)``, and whether it is the
5xx ratio or a ``histogram_quantile`` (scaled by 1000). Series are labelled with the pod names a
host-wide Prometheus sees for vCluster pods (``<pod>-x-<namespace>-x-<vcluster>`` in the
vCluster's host namespace). Every query is recorded so tests can assert the exact PromQL.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from platform_core.cluster.naming import stable_seed
from tests.support.fake_kube.store import POD, Store

if TYPE_CHECKING:
    from tests.support.fake_kube.kubelet import Run
    from tests.support.fake_kube.world import FakeKube

Obj = dict[str, Any]
MAX_POINTS = 11_000
_SELECTOR = re.compile(r"([a-z_]+)\{([^}]*)\}")
_MATCHER = re.compile(r'([a-z_]+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')


def _wave(run: Run, t: float, salt: int, period: float) -> float:
    phase = (stable_seed(run.pod, salt) % 1000) / 1000 * 2 * math.pi
    return math.sin(2 * math.pi * t / period + phase)


class Usage:
    def __init__(self, world: FakeKube) -> None:
        self.world = world

    def cpu_cores(self, run: Run, t: float) -> float:
        return run.cpu_request / 1000 * (0.35 + 0.05 * _wave(run, t, 1, 1800))

    def memory_bytes(self, run: Run, t: float) -> float:
        return run.memory_limit * (0.42 + 0.03 * _wave(run, t, 2, 2400))

    def request_rate(self, run: Run, t: float) -> float:
        return 4.0 + 1.5 * _wave(run, t, 3, 3600)

    def error_ratio(self, run: Run, t: float) -> float:
        return 0.003 + 0.002 * _wave(run, t, 4, 900)

    def latency_seconds(self, run: Run, t: float) -> float:
        return 0.045 + 0.01 * _wave(run, t, 5, 1200)

    def cpu_utilisation(self, pod: Obj, t: float) -> float:
        run = self.world.kubelet.run_of(pod)
        return self.cpu_cores(run, t) * 1000 / max(1, run.cpu_request) * 100

    def pod_metrics(self, store: Store, namespace: str) -> list[Obj]:
        """``PodMetrics`` for the running pods of a namespace (``kubectl top pods``)."""
        now = self.world.t
        items = []
        for pod in store.list(POD, namespace):
            run = self.world.kubelet.run_of(pod)
            if not run.running_at(now):
                continue
            items.append(
                {
                    "metadata": {
                        "name": pod["metadata"]["name"],
                        "namespace": namespace,
                        "labels": dict(pod["metadata"].get("labels") or {}),
                    },
                    "timestamp": self.world.stamp(),
                    "window": "30s",
                    "containers": [
                        {
                            "name": run.container,
                            "usage": {
                                "cpu": f"{round(self.cpu_cores(run, now) * 1e9)}n",
                                "memory": f"{round(self.memory_bytes(run, now) / 1024)}Ki",
                            },
                        }
                    ],
                }
            )
        return items

    # ------------------------------------------------------------------ prometheus

    def host_pod(self, run: Run) -> str:
        return f"{run.pod}-x-{run.namespace}-x-{run.store}"

    def query_range(self, query: str, start: float, end: float, step: float) -> Obj:
        self.world.prometheus_queries.append(query)
        if step <= 0 or end < start:
            return _error("invalid parameter: end must not be before start, step > 0")
        if (end - start) / step + 1 > MAX_POINTS:
            return _error(
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing "
                "the query resolution (?step=XX)"
            )
        found = _SELECTOR.search(query)
        if found is None:
            return _error(f"unsupported query {query!r}")
        metric = found.group(1)
        matchers = _MATCHER.findall(found.group(2))
        runs = [r for r in self.world.kubelet.runs.values() if self._matches(r, matchers)]
        grid = [start + k * step for k in range(int((end - start) // step) + 1)]
        per_pod = "pod)" in query.replace(" ", "")
        scale = 1000.0 if "1000" in query else 1.0
        result: list[Obj] = []
        series: dict[str, list[tuple[float, float, float]]] = {}
        for run in runs:
            sampled = [(t, *self._value(metric, query, run, t)) for t in grid]
            series[self.host_pod(run)] = [(t, v, w) for t, v, w in sampled if not math.isnan(v)]
        if per_pod:
            for pod, points in series.items():
                if points:
                    result.append(
                        {
                            "metric": {"pod": pod},
                            "values": [[t, _num(v * scale)] for t, v, _ in points],
                        }
                    )
        else:
            weighted = metric == "http_request_duration_seconds_bucket" or "/" in query
            totals: dict[float, list[tuple[float, float]]] = {}
            for points in series.values():
                for t, v, w in points:
                    totals.setdefault(t, []).append((v, w))
            values: list[list[object]] = []
            for t in sorted(totals):
                pairs = totals[t]
                if weighted:
                    weight = sum(w for _, w in pairs)
                    total = sum(v * w for v, w in pairs) / weight if weight else math.nan
                else:
                    total = sum(v for v, _ in pairs)
                if not math.isnan(total):
                    values.append([t, _num(total * scale)])
            if values:
                result.append({"metric": {}, "values": values})
        return {"status": "success", "data": {"resultType": "matrix", "result": result}}

    def _matches(self, run: Run, matchers: list[tuple[str, str, str]]) -> bool:
        if run.kind != "service" or not run.store:
            return False
        labels = {
            "namespace": self.world.host_namespace_of(run.store),
            "pod": self.host_pod(run),
            "container": run.container,
        }
        for name, op, value in matchers:
            if name not in labels:
                continue
            actual = labels[name]
            if op == "=" and actual != value:
                return False
            if op == "!=" and actual == value:
                return False
            if op in {"=~", "!~"} and (re.fullmatch(value, actual) is not None) != (op == "=~"):
                return False
        return True

    def _value(self, metric: str, query: str, run: Run, t: float) -> tuple[float, float]:
        """The value of ``run``'s series at ``t`` (NaN when absent) and its weight."""
        exists = run.created <= t and (run.gone is None or t < run.gone)
        running = run.running_at(t)
        rate = self.request_rate(run, t) if running else math.nan
        if metric == "kube_pod_status_ready":
            return (1.0 if run.ready_at_time(t) else 0.0) if exists else math.nan, 1.0
        if metric == "kube_pod_container_status_restarts_total":
            return float(run.restarts) if exists else math.nan, 1.0
        if not running:
            return math.nan, 0.0
        if metric == "container_cpu_usage_seconds_total":
            return self.cpu_cores(run, t), 1.0
        if metric == "container_memory_working_set_bytes":
            return self.memory_bytes(run, t), 1.0
        if metric == "http_request_duration_seconds_bucket":
            return self.latency_seconds(run, t), rate
        if metric == "http_requests_total" and "/" in query:
            return self.error_ratio(run, t), rate
        if metric == "http_requests_total":
            return rate, 1.0
        return math.nan, 0.0


def _num(value: float) -> str:
    return repr(round(value, 9))


def _error(message: str) -> Obj:
    return {"status": "error", "errorType": "bad_data", "error": message}
