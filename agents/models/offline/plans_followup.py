"""Follow-ups: requests that only make sense after an earlier one.

"do the same for api" repeats the previous request for another application; "make that 4"
changes the number of the scale asked for before; "put it back" undoes the last change; "run
it" runs the CronJob (or function) just talked about; "go ahead" / "just do it" carries out
the previous request, with its fix when it was a diagnosis. Each becomes an ordinary intent and
goes through the ordinary plan, so resolution, permissions and approvals are the same.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from agents.models.offline.actions import CAPABILITIES, Action, Plan, Say
from agents.models.offline.conversation import Conversation
from agents.models.offline.intent import Intent
from agents.models.offline.intents import detect

FOLLOW_UPS = frozenset({"repeat", "amend", "revert", "run_it", "affirm", "cancel", "help"})
_WRITES = (
    "scale_application",
    "restart_application",
    "rollback_application",
    "set_resources",
    "set_autoscaling",
)


def _dispatch(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
    from agents.models.offline.plans import next_action

    return next_action(intent, convo, tools)


def _previous(convo: Conversation) -> Intent | None:
    """The latest earlier request that stood on its own."""
    for request in convo.earlier_requests():
        intent = detect(request)
        if intent.kind not in FOLLOW_UPS and intent.kind != "greeting":
            return intent
    return None


def _last_write(convo: Conversation) -> tuple[str, dict[str, Any]] | None:
    return next(((t, a) for t, a in reversed(convo.earlier_calls()) if t in _WRITES), None)


def _place(args: dict[str, Any]) -> dict[str, Any]:
    return {key: args.get(key) for key in ("workspace", "project")}


def plan_repeat(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
    previous = _previous(convo)
    if previous is None:
        return Say("What should I do the same way? " + CAPABILITIES)
    target = intent.app or next(iter(intent.candidates), None)
    by_name = previous.name is not None and previous.app is None  # a CronJob or a function
    again = replace(
        previous,
        app=None if by_name else target,
        name=target if by_name else previous.name,
        candidates=intent.candidates,
        owner=intent.owner,
        text=intent.text,
        workspace=intent.workspace or previous.workspace,
        project=intent.project or previous.project,
    )
    return _dispatch(again, convo, tools)


def plan_amend(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
    last = next(
        ((t, a) for t, a in reversed(convo.earlier_calls()) if t == "scale_application"), None
    )
    if last is None or intent.replicas is None:
        return Say("What should I change? " + CAPABILITIES)
    _, args = last
    scale = Intent(
        "scale",
        app=args.get("application"),
        replicas=intent.replicas,
        text=intent.text,
        **_place(args),
    )
    return _dispatch(scale, convo, tools)


def plan_revert(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
    last = _last_write(convo)
    if last is None:
        return Say("I have not changed anything in this conversation that I could put back.")
    tool, args = last
    app = args.get("application")
    if tool == "scale_application":
        before = _count_before(convo, app)
        if before is None:
            return Say(f"I don't know how many replicas {app} had before; how many should it run?")
        scale = Intent("scale", app=app, replicas=before, text=intent.text, **_place(args))
        return _dispatch(scale, convo, tools)
    rollback = Intent("rollback", app=app, text=intent.text, **_place(args))
    return _dispatch(rollback, convo, tools)


def _count_before(convo: Conversation, app: str | None) -> int | None:
    for answer in convo.earlier_answers():
        match = re.search(rf"\bscaled {re.escape(app or '')} in \S+ from (\d+) to \d+", answer)
        if match:
            return int(match.group(1))
    return None


def plan_run_it(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
    last = convo.last_object()
    if last is None or last[0] == "application":
        return Say("What should I run? Name the CronJob or the function.")
    kind, name = last
    run = Intent(
        "trigger_cronjob" if kind == "cronjob" else "invoke_function", name=name, text=intent.text
    )
    return _dispatch(run, convo, tools)


def plan_affirm(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
    previous = _previous(convo)
    if previous is None:
        return Say("What should I go ahead with? " + CAPABILITIES)
    if previous.kind in ("diagnose", "diagnose_cronjob"):
        previous.extra = {**previous.extra, "fix": True}
    return _dispatch(previous, convo, tools)


FOLLOW_UP_PLANS: dict[str, Plan] = {
    "repeat": plan_repeat,
    "amend": plan_amend,
    "revert": plan_revert,
    "run_it": plan_run_it,
    "affirm": plan_affirm,
}
