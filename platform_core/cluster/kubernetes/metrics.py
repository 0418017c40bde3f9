"""Application metrics: Prometheus range queries, or the metrics API for the current value.

* With ``prometheus_url`` every series is a ``query_range`` (``promql``) over the requested
  window, its grid aligned to multiples of the step like the twin's. The queries run
  concurrently; Prometheus' ``bad_data`` answers become ``InvalidInput``, anything else that goes
  wrong ``Unavailable``, after the same bounded retries as API calls.
* Without Prometheus only "now" can be answered: a window holding a single step is served from
  ``metrics.k8s.io`` (``kubectl top``: CPU and memory per pod) plus the pods' readiness and
  restart counts. Request rate, latency and error rate have no source then; asking for them, or
  for a longer range, is ``Unavailable`` with a message that says what to configure.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from platform_core.cluster.kubernetes import promql, vcluster
from platform_core.cluster.kubernetes.client import Kube
from platform_core.cluster.kubernetes.objects import is_true, name
from platform_core.cluster.kubernetes.observe import ObserveOps
from platform_core.cluster.manifests import LABEL_APP
from platform_core.cluster.quantity import memory_bytes, parse_quantity
from platform_core.cluster.schemas import (
    METRIC_UNITS,
    ApplicationMetrics,
    MetricName,
    MetricPoint,
    MetricSeries,
)
from platform_core.errors import InvalidInput, Unavailable

Obj = dict[str, Any]
ALL_METRICS: tuple[MetricName, ...] = tuple(METRIC_UNITS)
DEFAULT_RANGE = timedelta(hours=1)
Points = dict[float, float]


def _series(metric: MetricName, pod: str | None, points: Points) -> MetricSeries:
    return MetricSeries(
        metric=metric,
        unit=METRIC_UNITS[metric],
        pod=pod,
        points=[
            MetricPoint(timestamp=datetime.fromtimestamp(t, UTC), value=round(v, 6))
            for t, v in sorted(points.items())
        ],
    )


class MetricsOps(ObserveOps):
    """``get_metrics`` of ``ClusterGateway``."""

    async def get_metrics(
        self,
        workspace: str,
        namespace: str,
        application: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        step_seconds: int = 60,
        metrics: Sequence[MetricName] | None = None,
        per_pod: bool = False,
    ) -> ApplicationMetrics:
        wanted = tuple(metrics) if metrics is not None else ALL_METRICS
        unknown = [m for m in wanted if m not in ALL_METRICS]
        if unknown:
            raise InvalidInput(f"unknown metric(s) {unknown}; expected some of {list(ALL_METRICS)}")
        if step_seconds < 1:
            raise InvalidInput("step_seconds must be at least 1")
        kube = await self._cluster(workspace)
        await kube.call(kube.apps.read_namespaced_deployment, application, namespace)
        now = await self.now()
        stop = min(end or now, now)
        begin = start or stop - DEFAULT_RANGE
        if stop < begin:
            raise InvalidInput("end must not be before start")
        first = math.ceil(begin.timestamp() / step_seconds) * step_seconds
        count = (
            int((stop.timestamp() - first) // step_seconds) + 1 if stop.timestamp() >= first else 0
        )
        if count > promql.MAX_POINTS:
            raise InvalidInput(
                f"exceeded maximum resolution of {promql.MAX_POINTS} points per series; "
                "use a larger step or a shorter range"
            )
        if self._prometheus_url is None:
            if (stop - begin).total_seconds() >= step_seconds:
                raise Unavailable(
                    "metric ranges need Prometheus, and none is configured "
                    "(set AIOPS_PROMETHEUS_URL); without it only the current value is "
                    "available: pass start == end"
                )
            series = await self._current(
                kube, namespace, application, wanted, per_pod, now, explicit=metrics is not None
            )
        else:
            sel = promql.selector(
                application, namespace, workspace, vcluster.host_namespace(workspace)
            )
            series = await self._ranges(
                sel, namespace, workspace, wanted, per_pod, first, stop.timestamp(), step_seconds
            )
        return ApplicationMetrics(
            application=application,
            namespace=namespace,
            start=begin,
            end=stop,
            step_seconds=step_seconds,
            series=series,
        )

    # ------------------------------------------------------------------ prometheus

    async def _ranges(
        self,
        sel: str,
        namespace: str,
        workspace: str,
        wanted: tuple[MetricName, ...],
        per_pod: bool,
        start: float,
        end: float,
        step: int,
    ) -> list[MetricSeries]:
        queries: list[tuple[MetricName, bool, str]] = []
        for metric in wanted:
            if metric in promql.SUMMED or per_pod:
                queries.append((metric, True, promql.by_pod(metric, sel)))
            if metric not in promql.SUMMED:
                queries.append((metric, False, promql.application_level(metric, sel)))
        answers = await asyncio.gather(
            *(self._query_range(q, start, end, step) for _, _, q in queries)
        )
        pods: dict[MetricName, dict[str, Points]] = {m: {} for m in wanted}
        totals: dict[MetricName, Points] = {m: {} for m in wanted}
        for (metric, grouped, _), result in zip(queries, answers, strict=True):
            for item in result:
                points = {
                    float(t): float(v) for t, v in item.get("values", []) if math.isfinite(float(v))
                }
                if grouped:
                    pod = promql.virtual_pod(
                        str(item["metric"].get("pod", "")), namespace, workspace
                    )
                    pods[metric][pod] = points
                    if metric in promql.SUMMED:
                        for t, v in points.items():
                            totals[metric][t] = totals[metric].get(t, 0.0) + v
                else:
                    totals[metric] = points
        series = [_series(m, None, totals[m]) for m in wanted]
        if per_pod:
            names = sorted({pod for by in pods.values() for pod in by})
            for pod in names:
                series += [_series(m, pod, pods[m].get(pod, {})) for m in wanted]
        return series

    async def _query_range(self, query: str, start: float, end: float, step: int) -> list[Obj]:
        url = f"{self._prometheus_url}/api/v1/query_range"
        params = {"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": str(step)}
        timeout = httpx.Timeout(self._timeouts.read, connect=self._timeouts.connect)
        for attempt in range(self._retry.attempts):
            last = attempt + 1 == self._retry.attempts
            try:
                response = await self._http.get(url, params=params, timeout=timeout)
            except httpx.HTTPError as exc:
                if last:
                    raise Unavailable(f"Prometheus did not answer ({type(exc).__name__})") from None
                await asyncio.sleep(self._retry.delay(attempt))
                continue
            if response.status_code in {429, 502, 503, 504} and not last:
                await asyncio.sleep(self._retry.delay(attempt))
                continue
            try:
                body = response.json()
            except ValueError:
                body = {}
            if response.status_code == 400 or body.get("errorType") == "bad_data":
                raise InvalidInput(f"Prometheus refused the query: {body.get('error', '')}")
            if response.status_code != 200 or body.get("status") != "success":
                raise Unavailable(
                    f"Prometheus failed (HTTP {response.status_code}): {body.get('error', '')}"
                )
            result: list[Obj] = body.get("data", {}).get("result", [])
            return result
        raise Unavailable("Prometheus: no attempt was made")  # pragma: no cover

    # ------------------------------------------------------------------ metrics API

    async def _current(
        self,
        kube: Kube,
        namespace: str,
        application: str,
        wanted: tuple[MetricName, ...],
        per_pod: bool,
        now: datetime,
        *,
        explicit: bool,
    ) -> list[MetricSeries]:
        missing = [
            m for m in wanted if m not in {"cpu", "memory", "available_replicas", "restarts"}
        ]
        if missing and explicit:  # asked for by name: say so; with the default set, leave them out
            raise Unavailable(
                f"{', '.join(missing)} need Prometheus, and none is configured "
                "(set AIOPS_PROMETHEUS_URL)"
            )
        query = f"{LABEL_APP}={application}"
        usage = await kube.items(
            kube.custom.list_namespaced_custom_object,
            "metrics.k8s.io",
            "v1beta1",
            namespace,
            "pods",
            label_selector=query,
        )
        pods = await kube.items(kube.core.list_namespaced_pod, namespace, label_selector=query)
        t = now.timestamp()
        per: dict[str, dict[MetricName, float]] = {}
        for found in pods:
            statuses = (found.get("status") or {}).get("containerStatuses") or []
            per[name(found)] = {
                "available_replicas": 1.0 if is_true(found, "Ready") else 0.0,
                "restarts": float(sum(int(c.get("restartCount") or 0) for c in statuses)),
            }
        for item in usage:
            values = per.setdefault(name(item), {})
            containers = item.get("containers") or []
            values["cpu"] = sum(float(parse_quantity(c["usage"]["cpu"])) for c in containers)
            values["memory"] = float(sum(memory_bytes(c["usage"]["memory"]) for c in containers))
        kept = [m for m in wanted if m not in missing]
        series = [
            _series(m, None, {t: sum(v[m] for v in per.values() if m in v)} if per else {})
            for m in kept
        ]
        if per_pod:
            for pod in sorted(per):
                series += [_series(m, pod, {t: per[pod][m]} if m in per[pod] else {}) for m in kept]
        return series
