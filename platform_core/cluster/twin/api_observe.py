"""Pods, logs, events and metrics of the twin."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from platform_core.cluster.schemas import (
    ApplicationMetrics,
    ClusterEvent,
    EventType,
    LogLine,
    MetricName,
    PodInfo,
    PodLogs,
)
from platform_core.cluster.twin import logs, pods, views
from platform_core.cluster.twin import metrics as queries
from platform_core.cluster.twin.api_apps import AppAPI
from platform_core.errors import InvalidInput, NotFound

DEFAULT_RANGE = 3600.0


class ObserveAPI(AppAPI):
    """The observability half of ``ClusterGateway``."""

    async def list_pods(
        self, workspace: str, namespace: str, *, application: str | None = None
    ) -> list[PodInfo]:
        _, ns = self.namespace(workspace, namespace)
        selected = (
            p for p in ns.pods.values() if application is None or p.labels.get("app") == application
        )
        return [views.pod_info(self, ns, pod) for pod in selected]

    async def get_logs(
        self,
        workspace: str,
        namespace: str,
        pod: str,
        *,
        container: str | None = None,
        tail_lines: int | None = None,
        since_seconds: int | None = None,
        since_time: datetime | None = None,
        previous: bool = False,
    ) -> PodLogs:
        _, ns = self.namespace(workspace, namespace)
        found = ns.pods.get(pod)
        if found is None:
            raise NotFound(f'pods "{pod}" not found')
        name = pods.container_name(found)
        if container is not None and container != name:
            raise InvalidInput(f"container {container} is not valid for pod {pod}")
        if tail_lines is not None and tail_lines < 0:
            raise InvalidInput("tail_lines must not be negative")
        runs = [r for r in found.runs if r.start <= self.t]
        if previous:
            if len(runs) < 2:
                raise InvalidInput(
                    f'previous terminated container "{name}" in pod "{pod}" not found'
                )
            run = runs[-2]
        elif runs:
            run = runs[-1]
        else:
            waiting = {
                "ErrImagePull": "trying and failing to pull image",
                "ImagePullBackOff": "trying and failing to pull image",
            }
            reason = waiting.get(found.reason, found.reason or "ContainerCreating")
            raise InvalidInput(f'container "{name}" in pod "{pod}" is waiting to start: {reason}')
        if since_seconds is not None and since_time is not None:
            raise InvalidInput("at most one of since_seconds or since_time may be specified")
        since = self.t - since_seconds if since_seconds is not None else None
        if since_time is not None:
            since = since_time.timestamp()
        lines = logs.run_lines(self, ns, found, run, since=since, tail=tail_lines)
        return PodLogs(
            pod=pod,
            container=name,
            previous=previous,
            lines=[LogLine(timestamp=self.dt(t), message=text) for t, text in lines],
        )

    async def list_events(
        self,
        workspace: str,
        namespace: str,
        *,
        kind: str | None = None,
        name: str | None = None,
        type: EventType | None = None,
    ) -> list[ClusterEvent]:
        _, ns = self.namespace(workspace, namespace)
        selected = [
            ev
            for ev in ns.events.values()
            if (kind is None or ev.kind == kind)
            and (name is None or ev.name == name or ev.name.startswith(f"{name}-"))
            and (type is None or ev.type == type)
        ]
        selected.sort(key=lambda ev: (ev.last, ev.first))
        return [views.event(ns, ev, self) for ev in selected]

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
        _, ns, app = self.app(workspace, namespace, application)
        wanted = tuple(metrics) if metrics is not None else queries.ALL_METRICS
        unknown = [m for m in wanted if m not in queries.ALL_METRICS]
        if unknown:
            raise InvalidInput(
                f"unknown metric(s) {unknown}; expected some of {list(queries.ALL_METRICS)}"
            )
        stop = end.timestamp() if end is not None else self.t
        begin = start.timestamp() if start is not None else stop - DEFAULT_RANGE
        return queries.query(
            self, ns, app, start=begin, end=stop, step=step_seconds, metrics=wanted, per_pod=per_pod
        )
