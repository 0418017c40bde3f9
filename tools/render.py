"""Compact renderings of cluster objects, and trimming to an output budget."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from platform_core.cluster.schemas import Application, ClusterEvent, PodInfo, Revision

DEFAULT_BUDGET_CHARS = 6000


def ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = int((now - moment).total_seconds())
    if seconds < 120:
        return f"{seconds}s ago"
    if seconds < 7200:
        return f"{seconds // 60}m ago"
    if seconds < 172800:
        return f"{seconds // 3600}h ago"
    return f"{seconds // 86400}d ago"


def application_line(app: Application) -> str:
    line = (
        f"{app.name}: {app.ready_replicas}/{app.replicas} ready, image {app.image}, "
        f"revision {app.revision}"
    )
    if app.autoscaling is not None:
        line += f", autoscaling {app.autoscaling.min_replicas}-{app.autoscaling.max_replicas}"
    return line


def pod_line(pod: PodInfo) -> str:
    line = f"{pod.name}: {pod.status}, ready={pod.ready}, restarts={pod.restarts}"
    if pod.last_termination_reason:
        line += f", last termination: {pod.last_termination_reason}"
    return line


def event_line(event: ClusterEvent, now: datetime) -> str:
    count = f" (x{event.count})" if event.count > 1 else ""
    return (
        f"{ago(event.last_timestamp, now)} {event.type} {event.reason} "
        f"{event.involved_object.kind}/{event.involved_object.name}: {event.message}{count}"
    )


def trim_lines(
    lines: Sequence[str], budget: int, *, keep: str = "last", narrowing: str
) -> tuple[list[str], str | None]:
    """As many whole lines as fit ``budget`` characters, and a note when some were cut.

    ``keep="last"`` keeps the newest lines of a log; ``"first"`` the head of a list.
    """
    chosen: list[str] = []
    used = 0
    ordered = list(reversed(lines)) if keep == "last" else list(lines)
    for line in ordered:
        cost = len(line) + 1
        if used + cost > budget and chosen:
            break
        chosen.append(line[: budget - 1] if cost > budget else line)
        used += min(cost, budget)
    if keep == "last":
        chosen.reverse()
    if len(chosen) == len(lines):
        return chosen, None
    note = (
        f"showing {len(chosen)} of {len(lines)} lines to stay within the output budget; {narrowing}"
    )
    return chosen, note


def rollout_line(revisions: Sequence[Revision], now: datetime) -> str:
    """The current revision, when it rolled out, and what it replaced."""
    if not revisions:
        return "rollout history: none"
    current = next((r for r in revisions if r.current), revisions[-1])
    when = ago(current.created_at, now)
    line = f"current revision {current.revision} ({current.image}), rolled out {when}"
    older = [r for r in revisions if r.revision < current.revision]
    if older:
        previous = older[-1]
        line += f"; previous revision {previous.revision} ({previous.image})"
    else:
        line += "; no previous revision"
    return line
