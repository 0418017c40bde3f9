"""What a plan does next, and the small pieces every plan is built from.

A plan looks at the intent and the conversation so far and returns one action: a tool call, or
the answer once it has what it needs. Plans never read instructions out of tool output: results
only tell them facts (a status, a replica count, a failure signature, the names that exist).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents.models.offline.conversation import Conversation, Step
from agents.models.offline.intent import Intent


@dataclass(frozen=True)
class Call:
    tool: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Say:
    text: str


Action = Call | Say
Plan = Callable[[Intent, Conversation, set[str]], Action]
Build = Callable[[Intent, Conversation], "dict[str, Any] | str"]

CAPABILITIES = (
    "I can list and inspect workspaces, projects and applications; read logs, events and "
    "metrics; look for anomalies; diagnose why an application or CronJob fails; scale, restart "
    "or roll back applications, set autoscaling and resource limits; create, change and trigger "
    "CronJobs; deploy, invoke and delete functions; and show the organization's usage. "
    'Changes wait for approval. Try: "why is web failing in workspace demo?" or '
    '"scale api to 3 replicas".'
)


def where(intent: Intent, convo: Conversation) -> dict[str, Any]:
    """The workspace and project: named in the request, or the ones used before."""
    args: dict[str, Any] = {}
    workspace = intent.workspace or convo.remembered("workspace")
    project = intent.project or convo.remembered("project")
    if workspace:
        args["workspace"] = workspace
    if project:
        args["project"] = project
    return args


def clean(args: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in args.items() if value is not None}


def outcome(step: Step) -> str:
    """The answer after a single tool call: its result, or what went wrong, in plain words."""
    body = step.body().strip()
    if step.status == "error" and "did not approve" in body:
        return "OK, I did not do it: the change was not approved."
    if step.status == "error":
        return f"That did not work: {body}"
    note = step.note()
    return body + (f"\n({note})" if note else "")


def answered(step: Step | None) -> bool:
    return step is not None and step.status is not None


def settled(step: Step | None, convo: Conversation) -> bool:
    """Answered, and not by "no such thing" (which sends the plan to look the name up)."""
    if step is None or step.status is None:
        return False
    return step.ok or not any(value in convo.not_found() for value in step.args.values())


def unavailable(tool: str) -> Say:
    return Say(
        f"I can't do that here: the {tool.replace('_', ' ')} tool is not available to you "
        "(your role does not allow it, or this conversation is read-only)."
    )


def single(tool: str, build: Build) -> Plan:
    """A one-call plan: call ``tool`` with ``build``'s arguments (or say what is missing)."""

    def plan(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
        done = convo.last(tool)
        if answered(done):
            assert done is not None
            return Say(outcome(done))
        if tool not in tools:
            return unavailable(tool)
        args = build(intent, convo)
        if isinstance(args, str):
            return Say(args)
        return Call(tool, clean(args))

    return plan
