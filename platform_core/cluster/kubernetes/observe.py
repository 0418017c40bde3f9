"""Pods, container logs and events of a workspace.

* Pods are listed by namespace or by the ``app=<name>`` label every application's pods carry;
  ``PodInfo.status`` is what ``kubectl get pods`` prints (its printer's rules, simplified).
* Logs are read with ``timestamps=true`` so every line keeps the kubelet's time. The generated
  client has no ``sinceTime`` parameter, so ``since_time`` becomes ``sinceSeconds`` relative to
  ``now()``; the kubelet's own refusals (unknown container, no previous container, container
  still waiting) come back as 400 and surface as ``InvalidInput`` with its message.
* Events are filtered on the server with a field selector on ``involvedObject.kind`` and
  ``type``; the name filter (exact, or a prefix followed by ``-``) is applied here because field
  selectors only match whole values.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from platform_core.cluster.kubernetes.apps import AppOps
from platform_core.cluster.kubernetes.client import Kube
from platform_core.cluster.kubernetes.objects import (
    created,
    is_true,
    meta,
    name,
    owner_ref,
    parse_time,
    spec,
    status,
)
from platform_core.cluster.manifests import LABEL_APP
from platform_core.cluster.schemas import (
    ClusterEvent,
    ContainerStatus,
    EventType,
    LogLine,
    ObjectReference,
    PodInfo,
    PodLogs,
    TerminationInfo,
)
from platform_core.errors import InvalidInput

Obj = dict[str, Any]
_PHASES = {"Pending", "Running", "Succeeded", "Failed", "Unknown"}


def _termination(state: Obj, fallback: datetime) -> TerminationInfo:
    return TerminationInfo(
        reason=str(state.get("reason") or ("Completed" if state.get("exitCode") == 0 else "Error")),
        exit_code=int(state.get("exitCode") or 0),
        started_at=parse_time(state.get("startedAt")),
        finished_at=parse_time(state.get("finishedAt")) or fallback,
        message=str(state.get("message") or ""),
    )


def container_status(raw: Obj, fallback: datetime) -> ContainerStatus:
    state = raw.get("state") or {}
    kind = next((k for k in ("running", "terminated", "waiting") if k in state), "waiting")
    detail = state.get(kind) or {}
    last = (raw.get("lastState") or {}).get("terminated")
    return ContainerStatus(
        name=str(raw.get("name", "")),
        image=str(raw.get("image", "")),
        ready=bool(raw.get("ready")),
        restart_count=int(raw.get("restartCount") or 0),
        state=kind,
        reason=detail.get("reason") if kind != "running" else None,
        message=detail.get("message"),
        started_at=parse_time(detail.get("startedAt")),
        exit_code=detail.get("exitCode") if kind == "terminated" else None,
        last_termination=_termination(last, fallback) if last else None,
    )


def status_text(pod: Obj) -> str:
    """The STATUS column of ``kubectl get pods``."""
    if meta(pod).get("deletionTimestamp"):
        return "Terminating"
    state = status(pod)
    reason = str(state.get("reason") or state.get("phase") or "Pending")
    for raw in state.get("containerStatuses") or []:
        current = raw.get("state") or {}
        if (current.get("waiting") or {}).get("reason"):
            reason = current["waiting"]["reason"]
        elif "terminated" in current:
            ended = current["terminated"]
            reason = ended.get("reason") or (
                f"Signal:{ended['signal']}"
                if ended.get("signal")
                else f"ExitCode:{ended.get('exitCode', 0)}"
            )
    return reason


def pod_info(pod: Obj) -> PodInfo:
    state = status(pod)
    born = created(pod)
    containers = [container_status(c, born) for c in state.get("containerStatuses") or []]
    owner = owner_ref(pod) or {}
    last_reason = None
    for raw in state.get("containerStatuses") or []:
        ended = (raw.get("state") or {}).get("terminated") or (raw.get("lastState") or {}).get(
            "terminated"
        )
        if ended:
            last_reason = str(ended.get("reason") or "Error")
            break
    phase = str(state.get("phase") or "Pending")
    return PodInfo(
        name=name(pod),
        namespace=str(meta(pod).get("namespace", "")),
        phase=phase if phase in _PHASES else "Unknown",
        status=status_text(pod),
        ready=is_true(pod, "Ready"),
        restarts=sum(c.restart_count for c in containers),
        node=spec(pod).get("nodeName"),
        ip=state.get("podIP"),
        owner_kind=str(owner.get("kind", "")),
        owner_name=str(owner.get("name", "")),
        labels=dict(meta(pod).get("labels") or {}),
        created_at=born,
        containers=containers,
        last_termination_reason=last_reason,
    )


def parse_log(text: str) -> list[LogLine]:
    """``<RFC 3339 timestamp> <message>`` lines (``timestamps=true``) as ``LogLine``s."""
    lines: list[LogLine] = []
    for raw in text.splitlines():
        stamp, _, message = raw.partition(" ")
        moment = parse_time(stamp)
        if moment is None:  # a continuation without a timestamp: keep the previous time
            if lines:
                lines.append(LogLine(timestamp=lines[-1].timestamp, message=raw))
            continue
        lines.append(LogLine(timestamp=moment, message=message))
    return lines


def event_view(event: Obj) -> ClusterEvent:
    ref = event.get("involvedObject") or event.get("regarding") or {}
    series = event.get("series") or {}
    first = (
        parse_time(event.get("firstTimestamp"))
        or parse_time(event.get("eventTime"))
        or created(event)
    )
    last = (
        parse_time(event.get("lastTimestamp"))
        or parse_time(series.get("lastObservedTime"))
        or first
    )
    source = (event.get("source") or {}).get("component") or event.get("reportingComponent")
    kind: EventType = "Warning" if event.get("type") == "Warning" else "Normal"
    return ClusterEvent(
        type=kind,
        reason=str(event.get("reason") or ""),
        message=str(event.get("message") or ""),
        involved_object=ObjectReference(
            kind=str(ref.get("kind", "")),
            name=str(ref.get("name", "")),
            namespace=str(ref.get("namespace") or meta(event).get("namespace", "")),
        ),
        source=str(source or ""),
        count=int(event.get("count") or series.get("count") or 1),
        first_timestamp=first,
        last_timestamp=max(first, last),
    )


class ObserveOps(AppOps):
    """Pods, logs and events of ``ClusterGateway``."""

    async def list_pods(
        self, workspace: str, namespace: str, *, application: str | None = None
    ) -> list[PodInfo]:
        kube = await self._cluster(workspace)
        await self._namespace(kube, namespace)
        query = f"{LABEL_APP}={application}" if application is not None else None
        pods = await kube.items(kube.core.list_namespaced_pod, namespace, label_selector=query)
        return [pod_info(p) for p in sorted(pods, key=lambda p: (created(p), name(p)))]

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
        if since_seconds is not None and since_time is not None:
            raise InvalidInput("at most one of since_seconds or since_time may be specified")
        if tail_lines is not None and tail_lines < 0:
            raise InvalidInput("tail_lines must not be negative")
        kube = await self._cluster(workspace)
        found = await kube.call(kube.core.read_namespaced_pod, pod, namespace)
        names = [str(c.get("name")) for c in spec(found).get("containers") or []]
        chosen = container or (names[0] if names else "")
        if since_time is not None:
            ago = (await self.now() - since_time).total_seconds()
            if ago <= 0:
                return PodLogs(pod=pod, container=chosen, previous=previous, lines=[])
            since_seconds = math.ceil(ago)
        text = await self._log_text(
            kube, namespace, pod, chosen, tail=tail_lines, since=since_seconds, previous=previous
        )
        return PodLogs(pod=pod, container=chosen, previous=previous, lines=parse_log(text))

    async def _log_text(
        self,
        kube: Kube,
        namespace: str,
        pod: str,
        container: str | None,
        *,
        tail: int | None = None,
        since: int | None = None,
        previous: bool = False,
        timestamps: bool = True,
    ) -> str:
        return await kube.text(
            kube.core.read_namespaced_pod_log,
            pod,
            namespace,
            container=container or None,
            tail_lines=tail,
            since_seconds=since,
            previous=previous or None,
            timestamps=timestamps,
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
        kube = await self._cluster(workspace)
        await self._namespace(kube, namespace)
        fields = []
        if kind is not None:
            fields.append(f"involvedObject.kind={kind}")
        if type is not None:
            fields.append(f"type={type}")
        items = await kube.items(
            kube.core.list_namespaced_event, namespace, field_selector=",".join(fields) or None
        )
        events = [event_view(e) for e in items]
        if name is not None:
            events = [
                e
                for e in events
                if e.involved_object.name == name or e.involved_object.name.startswith(f"{name}-")
            ]
        events.sort(key=lambda e: (e.last_timestamp, e.first_timestamp))
        return events
