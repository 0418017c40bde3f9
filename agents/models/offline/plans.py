"""What the planner does next for each kind of request.

A plan is a function of the request and the steps taken so far in this turn: it returns the next
tool call, or the answer once it has what it needs. Plans never read instructions out of tool
output: results only tell them facts (a status, a replica count, a failure signature).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents.models.offline.conversation import Conversation, Step
from agents.models.offline.findings import diagnose_application, diagnose_cronjob
from agents.models.offline.intents import Intent


@dataclass(frozen=True)
class Call:
    tool: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Say:
    text: str


Action = Call | Say
Plan = Callable[[Intent, Conversation, set[str]], Action]

CAPABILITIES = (
    "I can list and inspect workspaces, projects and applications; read logs, events and "
    "metrics; look for anomalies; diagnose why an application or CronJob fails; scale, restart "
    "or roll back applications, set autoscaling and resource limits; create and trigger "
    "CronJobs; deploy, invoke and delete functions; and show the organization's usage. "
    'Changes wait for approval. Try: "why is web failing in workspace demo?" or '
    '"scale api to 3 replicas".'
)


def _where(intent: Intent, convo: Conversation) -> dict[str, Any]:
    args: dict[str, Any] = {}
    workspace = intent.workspace or convo.remembered("workspace")
    project = intent.project or convo.remembered("project")
    if workspace:
        args["workspace"] = workspace
    if project:
        args["project"] = project
    return args


def _app(intent: Intent, convo: Conversation) -> str | None:
    return intent.app or convo.remembered("application")


def _clean(args: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in args.items() if value is not None}


def _outcome(step: Step) -> str:
    """The answer after a single tool call: its result, or what went wrong, in plain words."""
    body = step.body().strip()
    if step.status == "error" and "did not approve" in body:
        return "OK, I did not do it: the change was not approved."
    if step.status == "error":
        return f"That did not work: {body}"
    note = step.note()
    return body + (f"\n({note})" if note else "")


def _unavailable(tool: str) -> Say:
    return Say(
        f"I can't do that here: the {tool.replace('_', ' ')} tool is not available to you "
        "(your role does not allow it, or this conversation is read-only)."
    )


def single(tool: str, build: Callable[[Intent, Conversation], dict[str, Any] | str]) -> Plan:
    """A one-call plan: call ``tool`` with ``build``'s arguments (or say what is missing)."""

    def plan(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
        done = convo.last(tool)
        if done is not None and done.status is not None:
            return Say(_outcome(done))
        if tool not in tools:
            return _unavailable(tool)
        args = build(intent, convo)
        if isinstance(args, str):
            return Say(args)
        return Call(tool, _clean(args))

    return plan


def _needs_app(
    intent: Intent, convo: Conversation, tools: set[str], then: Callable[[str], Action]
) -> Action:
    app = _app(intent, convo)
    if app:
        return then(app)
    listing = convo.last("list_applications")
    if listing is None and "list_applications" in tools:
        return Call("list_applications", _where(intent, convo))
    names = re.findall(r"^- ([a-z0-9-]+):", listing.body(), re.M) if listing else []
    return Say("Which application do you mean?" + (f" I see: {', '.join(names)}." if names else ""))


def plan_describe(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
    def then(app: str) -> Action:
        done = convo.last("describe_application")
        if done is None:
            if "describe_application" not in tools:
                return _unavailable("describe_application")
            return Call("describe_application", {"application": app, **_where(intent, convo)})
        if not done.ok:
            return Say(_outcome(done))
        if intent.extra.get("question") == "replicas":
            match = re.search(r": (\d+)/(\d+) ready", done.body())
            if match:
                where = re.search(r" in (\S+)$", done.body().splitlines()[0])
                place = f" in {where.group(1)}" if where else ""
                return Say(f"{app} has {match.group(2)} replicas ({match.group(1)} ready){place}.")
        return Say(done.body())

    return _needs_app(intent, convo, tools, then)


def plan_scale(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
    def then(app: str) -> Action:
        done = convo.last("scale_application")
        if done is not None and done.status is not None:
            return Say(_outcome(done))
        if "scale_application" not in tools:
            return _unavailable("scale_application")
        replicas = intent.replicas
        if replicas is None and intent.delta is not None:
            current = convo.last("describe_application")
            if current is None:
                return Call("describe_application", {"application": app, **_where(intent, convo)})
            match = re.search(r": \d+/(\d+) ready", current.body())
            if not match:
                return Say(_outcome(current))
            replicas = max(0, int(match.group(1)) + intent.delta)
        if replicas is None:
            return Say(f"To how many replicas should I scale {app}?")
        return Call(
            "scale_application", {"application": app, "replicas": replicas, **_where(intent, convo)}
        )

    return _needs_app(intent, convo, tools, then)


def _app_call(tool: str, extra: Callable[[Intent], dict[str, Any]] | None = None) -> Plan:
    def plan(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
        def then(app: str) -> Action:
            done = convo.last(tool)
            if done is not None and done.status is not None:
                return Say(_outcome(done))
            if tool not in tools:
                return _unavailable(tool)
            more = extra(intent) if extra else {}
            missing = [key for key, value in more.items() if value is ...]
            if missing:
                return Say(f"Please tell me the {' and '.join(missing)} for {app}.")
            return Call(tool, _clean({"application": app, **more, **_where(intent, convo)}))

        return _needs_app(intent, convo, tools, then)

    return plan


def _autoscale_args(intent: Intent) -> dict[str, Any]:
    low, high = intent.extra.get("min"), intent.extra.get("max")
    return {
        "min_replicas": low if low is not None else ...,
        "max_replicas": high if high is not None else ...,
        "target_cpu_utilization": intent.extra.get("cpu"),
    }


def _logs_args(intent: Intent) -> dict[str, Any]:
    return {
        "tail_lines": intent.lines,
        "since_minutes": intent.minutes,
        "previous": intent.extra.get("previous") or None,
        "contains": intent.extra.get("contains"),
    }


def plan_logs(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
    pod = intent.extra.get("pod")
    if pod:
        return single("get_pod_logs", lambda i, c: {"pod": pod, **_logs_args(i), **_where(i, c)})(
            intent, convo, tools
        )
    return _app_call("get_pod_logs", _logs_args)(intent, convo, tools)


def plan_diagnose(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
    def then(app: str) -> Action:
        where = {"application": app, **_where(intent, convo)}
        for tool in ("describe_application", "list_events"):
            if convo.last(tool) is None and tool in tools:
                return Call(tool, where)
        describe = convo.last("describe_application")
        if describe is not None and not describe.ok:
            return Say(_outcome(describe))
        if convo.last("get_pod_logs") is None and "get_pod_logs" in tools:
            restarted = bool(describe and re.search(r"restarts=[1-9]", describe.body()))
            return Call("get_pod_logs", {**where, "tail_lines": 40, "previous": restarted or None})
        if convo.last("get_metrics") is None and "get_metrics" in tools:
            return Call("get_metrics", {**where, "minutes": 60})
        finding = diagnose_application(app, convo)
        remedy = convo.last(finding.remedy.tool) if finding.remedy else None
        if remedy is not None and remedy.status is not None:
            return Say(f"{finding.text}\n\n{_outcome(remedy)}")
        if finding.remedy and intent.extra.get("fix"):
            if finding.remedy.tool not in tools:
                return Say(finding.text + "\n\n" + _unavailable(finding.remedy.tool).text)
            return Call(finding.remedy.tool, {**finding.remedy.args, **_where(intent, convo)})
        return Say(finding.text + (f"\n\n{finding.suggestion}" if finding.suggestion else ""))

    return _needs_app(intent, convo, tools, then)


def plan_diagnose_cronjob(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
    name = intent.name or convo.remembered("cronjob")
    if not name:
        return single("list_cronjobs", lambda i, c: _where(i, c))(intent, convo, tools)
    where = {"cronjob": name, **_where(intent, convo)}
    if convo.last("get_cronjob_history") is None:
        if "get_cronjob_history" not in tools:
            return _unavailable("get_cronjob_history")
        return Call("get_cronjob_history", {**where, "with_logs": True})
    if convo.last("list_events") is None and "list_events" in tools:
        return Call("list_events", {"kind": "Job", **_where(intent, convo)})
    return Say(diagnose_cronjob(name, convo))


def _named(
    key: str, what: str, build: Callable[[Intent], dict[str, Any]]
) -> Callable[[Intent, Conversation], dict[str, Any] | str]:
    def args(intent: Intent, convo: Conversation) -> dict[str, Any] | str:
        name = intent.name or convo.remembered(key)
        if not name:
            return f"Which {what} do you mean? Please give its name."
        return {key: name, **build(intent), **_where(intent, convo)}

    return args


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
        **_where(intent, convo),
    }


def _deploy_function(intent: Intent, convo: Conversation) -> dict[str, Any] | str:
    if not intent.name:
        return "What should the function be called?"
    if not intent.extra.get("source"):
        return (
            "Send the function's Python code in a ``` code block; it must define "
            "handle(request) and return a dict or a string."
        )
    return {"name": intent.name, "source": intent.extra["source"], **_where(intent, convo)}


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
        **({"workspace": intent.workspace or convo.remembered("workspace")}),
    }


PLANS: dict[str, Plan] = {
    "greeting": lambda i, c, t: Say("Hello! " + CAPABILITIES),
    "help": lambda i, c, t: Say(CAPABILITIES),
    "usage": single("get_usage", lambda i, c: {"days": max(1, (i.minutes or 0) // 1440) or 30}),
    "list_workspaces": single("list_workspaces", lambda i, c: {}),
    "get_workspace": single("get_workspace", lambda i, c: _where(i, c)),
    "provision_workspace": single(
        "provision_workspace",
        lambda i, c: (
            {"name": i.name, "plan": i.extra.get("plan", "shared")}
            if i.name
            else "What should the new workspace be called?"
        ),
    ),
    "delete_workspace": single(
        "delete_workspace",
        lambda i, c: (
            {"workspace": i.workspace} if i.workspace else "Which workspace should I delete?"
        ),
    ),
    "list_projects": single("list_projects", lambda i, c: _where(i, c)),
    "create_project": single("create_project", _create_project),
    "list_apps": single("list_applications", lambda i, c: _where(i, c)),
    "describe": plan_describe,
    "scale": plan_scale,
    "restart": _app_call("restart_application"),
    "rollback": _app_call(
        "rollback_application", lambda i: {"to_revision": i.extra.get("to_revision")}
    ),
    "autoscale": _app_call("set_autoscaling", _autoscale_args),
    "set_resources": _app_call(
        "set_resources",
        lambda i: {"memory_limit": i.extra.get("memory") or ..., "cpu_limit": i.extra.get("cpu")},
    ),
    "logs": plan_logs,
    "events": single(
        "list_events",
        lambda i, c: {
            "application": i.app,
            "warnings_only": i.extra.get("warnings") or None,
            **_where(i, c),
        },
    ),
    "metrics": _app_call(
        "get_metrics", lambda i: {"metrics": i.extra.get("metrics"), "minutes": i.minutes}
    ),
    "anomalies": _app_call("detect_anomalies", lambda i: {"minutes": i.minutes}),
    "diagnose": plan_diagnose,
    "list_cronjobs": single("list_cronjobs", lambda i, c: _where(i, c)),
    "create_cronjob": single("create_cronjob", _create_cronjob),
    "trigger_cronjob": single("trigger_cronjob", _named("cronjob", "CronJob", lambda i: {})),
    "cronjob_history": single("get_cronjob_history", _named("cronjob", "CronJob", lambda i: {})),
    "diagnose_cronjob": plan_diagnose_cronjob,
    "list_functions": single("list_functions", lambda i, c: _where(i, c)),
    "deploy_function": single("deploy_function", _deploy_function),
    "invoke_function": single(
        "invoke_function", _named("name", "function", lambda i: {"body": i.extra.get("body") or ""})
    ),
    "function_logs": single(
        "get_function_logs",
        _named(
            "name", "function", lambda i: {"build": i.extra.get("build"), "tail_lines": i.lines}
        ),
    ),
    "delete_function": single("delete_function", _named("name", "function", lambda i: {})),
}


def next_action(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
    return PLANS.get(intent.kind, PLANS["help"])(intent, convo, tools)
