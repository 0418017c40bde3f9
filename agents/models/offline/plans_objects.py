"""Plans about workspaces, projects, CronJobs and functions."""

from __future__ import annotations

import re
from collections.abc import Callable
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
    single,
    unavailable,
    where,
)
from agents.models.offline.conversation import REFERS_BACK, Conversation, Step
from agents.models.offline.findings_jobs import history_answer
from agents.models.offline.intent import Intent
from agents.models.offline.language import has
from agents.models.offline.resolve import CRONJOBS, FUNCTIONS, WORKSPACES, Kind, listed, resolve


def named_call(
    kind: Kind,
    tool: str,
    key: str,
    build: Callable[[Intent], dict[str, Any]] | None = None,
    *,
    write: bool = False,
    answer: Callable[[str, Step], str] | None = None,
) -> Plan:
    """One call about a CronJob or function, checked against what exists when unclear."""

    def plan(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
        done = convo.last(tool)
        if settled(done, convo):
            assert done is not None
            return Say(answer(str(done.args.get(key)), done) if answer else outcome(done))
        if tool not in tools:
            return unavailable(tool)
        place = where(intent, convo)
        found = resolve(kind, intent, convo, tools, named=intent.name, place=place, write=write)
        if not isinstance(found, str):
            return found
        again = convo.last_about(tool, key, found)
        if answered(again):
            assert again is not None
            return Say(outcome(again))
        more = build(intent) if build else {}
        return Call(tool, clean({key: found, **more, **place}))

    return plan


def plan_delete_workspace(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
    done = convo.last("delete_workspace")
    if answered(done):
        assert done is not None
        return Say(outcome(done))
    if "delete_workspace" not in tools:
        return unavailable("delete_workspace")
    if intent.workspace:
        return Call("delete_workspace", {"workspace": intent.workspace})
    found = resolve(WORKSPACES, intent, convo, tools, named=None, place={}, write=True)
    if isinstance(found, str):
        return Call("delete_workspace", {"workspace": found})
    return found


def plan_list_apps(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
    """The applications of the place the request names ("what's running in shop?")."""
    done = convo.last("list_applications")
    if answered(done):
        assert done is not None
        return Say(outcome(done))
    if "list_applications" not in tools:
        return unavailable("list_applications")
    place = where(intent, convo)
    named = place_words(intent.text, intent.candidates)
    if intent.workspace or intent.project or not named:
        return Call("list_applications", place)
    spaces = convo.last(WORKSPACES.lister)
    if spaces is None and WORKSPACES.lister in tools:
        return Call(WORKSPACES.lister, {})
    workspaces = listed(spaces) if spaces else []
    workspace = next((c for c in named if c in workspaces), None)
    if workspace:
        return Call("list_applications", {**place, "workspace": workspace})
    projects = convo.last("list_projects")
    if projects is None and "list_projects" in tools:
        return Call("list_projects", place)
    project = next((c for c in named if projects and c in listed(projects)), None)
    if project:
        return Call("list_applications", {**place, "project": project})
    mine = f" Your organization's workspaces: {', '.join(workspaces)}." if workspaces else ""
    return Say(
        f"I don't see a workspace or project called {named[0]!r} among those visible to you.{mine}"
    )


def place_words(text: str, candidates: list[str]) -> list[str]:
    """The candidates in the position of a place: "running in shop", "apps of lab"."""
    return [c for c in candidates if has(text, rf"\b(in|on|of|from|at|inside)\s+{re.escape(c)}\b")]


def _create_cronjob(intent: Intent, convo: Conversation) -> dict[str, Any] | str:
    extra = intent.extra
    missing = [
        label
        for label, value in (
            ("a name", intent.name),
            ("a schedule (e.g. 'every day at 3am' or '0 3 * * *')", extra.get("schedule")),
            (
                "an image or an application to copy",
                extra.get("image") or extra.get("from_application"),
            ),
        )
        if not value
    ]
    if missing:
        return "To create the CronJob I need " + ", ".join(missing) + "."
    return {
        "name": intent.name,
        "schedule": extra["schedule"],
        "image": extra.get("image"),
        "from_application": extra.get("from_application"),
        "command": extra.get("command"),
        **where(intent, convo),
    }


def _deploy_function(intent: Intent, convo: Conversation) -> dict[str, Any] | str:
    name = intent.name
    if not name and has(intent.text, REFERS_BACK):
        name = convo.remembered("function")
    if not name:
        return "What should the function be called?"
    if not intent.extra.get("source"):
        return (
            "Send the function's Python code in a ``` code block; it must define "
            "handle(request) and return a dict or a string."
        )
    return {"name": name, "source": intent.extra["source"], **where(intent, convo)}


def _create_project(intent: Intent, convo: Conversation) -> dict[str, Any] | str:
    if not intent.name:
        return "What should the project be called?"
    extra = intent.extra
    return {
        "name": intent.name,
        "parent": extra.get("parent"),
        "cpu": extra.get("cpu"),
        "memory": extra.get("memory"),
        "pods": extra.get("pods"),
        "workspace": intent.workspace or convo.remembered("workspace"),
    }


def _provision(intent: Intent, convo: Conversation) -> dict[str, Any] | str:
    if not intent.name:
        return "What should the new workspace be called?"
    return {"name": intent.name, "plan": intent.extra.get("plan", "shared")}


OBJECT_PLANS: dict[str, Plan] = {
    "list_apps": plan_list_apps,
    "list_workspaces": single("list_workspaces", lambda i, c: {}),
    "get_workspace": single("get_workspace", lambda i, c: where(i, c)),
    "provision_workspace": single("provision_workspace", _provision),
    "delete_workspace": plan_delete_workspace,
    "list_projects": single("list_projects", lambda i, c: where(i, c)),
    "create_project": single("create_project", _create_project),
    "list_cronjobs": single("list_cronjobs", lambda i, c: where(i, c)),
    "create_cronjob": single("create_cronjob", _create_cronjob),
    "trigger_cronjob": named_call(CRONJOBS, "trigger_cronjob", "cronjob", write=True),
    "cronjob_history": named_call(
        CRONJOBS, "get_cronjob_history", "cronjob", answer=history_answer
    ),
    "list_functions": single("list_functions", lambda i, c: where(i, c)),
    "deploy_function": single("deploy_function", _deploy_function),
    "invoke_function": named_call(
        FUNCTIONS,
        "invoke_function",
        "name",
        lambda i: {"body": i.extra.get("body") or ""},
        write=True,
    ),
    "function_logs": named_call(
        FUNCTIONS,
        "get_function_logs",
        "name",
        lambda i: {"build": i.extra.get("build"), "tail_lines": i.lines},
    ),
    "delete_function": named_call(FUNCTIONS, "delete_function", "name", write=True),
}
