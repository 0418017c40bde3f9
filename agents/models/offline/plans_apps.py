"""Plans about one application: describe, scale, change, and read its logs and metrics."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from agents.models.offline.actions import (
    Action,
    Call,
    Plan,
    Say,
    answered,
    clean,
    outcome,
    settled,
    unavailable,
    where,
)
from agents.models.offline.conversation import Conversation
from agents.models.offline.intent import Intent
from agents.models.offline.resolve import APPS, owner_check, resolve
from agents.models.offline.summaries import (
    describe_answer,
    logs_answer,
    replicas_answer,
    version_answer,
)

Then = Callable[[str, Intent], Action]
# a log searched for a topic is read far back: the filter keeps the answer small
SEARCH_TAIL_LINES = 5000


def with_app(
    intent: Intent, convo: Conversation, tools: set[str], then: Then, *, write: bool = False
) -> Action:
    """Find out which application is meant (and where), then continue with it."""
    owner = owner_check(intent, convo, tools)
    if isinstance(owner, Call | Say):
        return owner
    if isinstance(owner, str):
        intent = replace(intent, workspace=owner)
    found = resolve(
        APPS, intent, convo, tools, named=intent.app, place=where(intent, convo), write=write
    )
    return then(found, intent) if isinstance(found, str) else found


def plan_describe(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
    def then(app: str, intent: Intent) -> Action:
        done = convo.last_about("describe_application", "application", app)
        if done is None:
            if "describe_application" not in tools:
                return unavailable("describe_application")
            return Call("describe_application", {"application": app, **where(intent, convo)})
        if not done.ok:
            return Say(outcome(done))
        body = done.body()
        question = intent.extra.get("question")
        short = (
            replicas_answer(app, body)
            if question == "replicas"
            else version_answer(app, body)
            if question == "version"
            else None
        )
        return Say(short or describe_answer(body))

    return with_app(intent, convo, tools, then)


def plan_scale(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
    def then(app: str, intent: Intent) -> Action:
        done = convo.last("scale_application")
        if answered(done):
            assert done is not None
            return Say(outcome(done))
        if "scale_application" not in tools:
            return unavailable("scale_application")
        count = intent.replicas
        if count is None and intent.delta is not None:
            current = convo.last_about("describe_application", "application", app)
            if current is None:
                return Call("describe_application", {"application": app, **where(intent, convo)})
            match = re.search(r": \d+/(\d+) ready", current.body())
            if not match:
                return Say(outcome(current))
            count = max(0, int(match.group(1)) + intent.delta)
        if count is None:
            return Say(f"To how many replicas should I scale {app}?")
        return Call(
            "scale_application", {"application": app, "replicas": count, **where(intent, convo)}
        )

    if "scale_application" not in tools:
        return unavailable("scale_application")
    return with_app(intent, convo, tools, then, write=True)


def app_call(tool: str, extra: Callable[[Intent], dict[str, Any]] | None = None) -> Plan:
    """One call about the application, with ``extra``'s arguments (``...`` marks a missing one)."""

    def plan(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
        def then(app: str, intent: Intent) -> Action:
            done = convo.last_about(tool, "application", app)
            if answered(done):
                assert done is not None
                return Say(outcome(done))
            more = extra(intent) if extra else {}
            missing = [key for key, value in more.items() if value is ...]
            if missing:
                return Say(f"Please tell me the {' and '.join(missing)} for {app}.")
            return Call(tool, clean({"application": app, **more, **where(intent, convo)}))

        if tool not in tools:
            return unavailable(tool)
        reads = ("get_", "list_", "detect_", "describe_")
        return with_app(intent, convo, tools, then, write=not tool.startswith(reads))

    return plan


def _logs_args(intent: Intent) -> dict[str, Any]:
    topic = intent.extra.get("contains")
    return {
        "tail_lines": intent.lines or (SEARCH_TAIL_LINES if topic else None),
        "since_minutes": intent.minutes,
        "previous": intent.extra.get("previous") or None,
        "contains": topic,
    }


def plan_logs(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
    done = convo.last("get_pod_logs")
    if settled(done, convo):
        assert done is not None
        return Say(logs_answer(done, asked_lines=intent.lines, topic=intent.extra.get("contains")))
    if "get_pod_logs" not in tools:
        return unavailable("get_pod_logs")
    pod = intent.extra.get("pod")
    if pod:
        return Call(
            "get_pod_logs", clean({"pod": pod, **_logs_args(intent), **where(intent, convo)})
        )

    def then(app: str, intent: Intent) -> Action:
        return Call(
            "get_pod_logs",
            clean({"application": app, **_logs_args(intent), **where(intent, convo)}),
        )

    return with_app(intent, convo, tools, then)


def plan_events(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
    done = convo.last("list_events")
    if settled(done, convo):
        assert done is not None
        return Say(outcome(done))
    if "list_events" not in tools:
        return unavailable("list_events")
    args = {"warnings_only": intent.extra.get("warnings") or None, **where(intent, convo)}
    if not intent.app and not intent.candidates:
        return Call("list_events", clean(args))

    def then(app: str, intent: Intent) -> Action:
        return Call("list_events", clean({"application": app, **args}))

    return with_app(intent, convo, tools, then)


plan_metrics = app_call(
    "get_metrics", lambda i: {"metrics": i.extra.get("metrics"), "minutes": i.minutes}
)
plan_anomalies = app_call("detect_anomalies", lambda i: {"minutes": i.minutes})
plan_restart = app_call("restart_application")
plan_rollback = app_call(
    "rollback_application", lambda i: {"to_revision": i.extra.get("to_revision")}
)
plan_autoscale = app_call(
    "set_autoscaling",
    lambda i: {
        "min_replicas": i.extra["min"] if i.extra.get("min") is not None else ...,
        "max_replicas": i.extra["max"] if i.extra.get("max") is not None else ...,
        "target_cpu_utilization": i.extra.get("cpu"),
    },
)
plan_set_resources = app_call(
    "set_resources",
    lambda i: {"memory_limit": i.extra.get("memory") or ..., "cpu_limit": i.extra.get("cpu")},
)
