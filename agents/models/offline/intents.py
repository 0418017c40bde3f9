"""What a request asks for: the intent and the things it names.

Detection is ordered from the most specific request to the most general, and each intent is
recognised by the verbs and nouns people use for it, with names, numbers and durations pulled
out of the sentence. An ambiguous or unknown request is ``help``, which the planner answers by
saying plainly what it can do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agents.models.offline.language import (
    NAME,
    code_block,
    count_after,
    cron_schedule,
    first_name,
    is_name,
    minutes,
    normalize,
    number,
)

Q = r"['\"`]?"
APP_NOUN = r"(?:app|application|deployment|service|workload|svc|deploy)"
FILLER = rf"(?:(?:up|down|out|in|back)\s+)?(?:(?:the|my|our|a|an)\s+)?(?:{APP_NOUN}\s+)?"
TROUBLE = (
    r"\b(why|what'?s wrong|what is wrong|investigate|diagnos\w*|debug|troubleshoot|root cause|fix"
    r"|repair|broken|failing|crash\w*|not working|down\b|unhealthy|errors?|slow|latency"
    r"|timeouts?|oom|keeps? restarting|pending|stuck)\b"
)
METRIC_WORDS = (
    r"\b(metrics?|cpu|memory|latency|request rate|traffic|error rate|throughput|load"
    r"|utili[sz]ation|performance|graph|chart)\b"
)
TROUBLE_VERBS = r"(?:keeps|is|isn't|has|hasn't|won't|doesn't|can't|seems|looks|was)"


@dataclass
class Intent:
    kind: str
    app: str | None = None
    workspace: str | None = None
    project: str | None = None
    replicas: int | None = None
    delta: int | None = None
    minutes: int | None = None
    lines: int | None = None
    name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _workspace(text: str) -> str | None:
    return first_name(
        text,
        [
            rf"\b(?:workspace|ws|vcluster)\s+(?:called\s+|named\s+)?{Q}(?P<name>{NAME}){Q}",
            rf"\b(?:in|on|from|of|for)\s+(?:the\s+)?{Q}(?P<name>{NAME}){Q}\s+(?:workspace|ws|vcluster)\b",
        ],
    )


def _project(text: str) -> str | None:
    return first_name(
        text,
        [
            rf"\b(?:project|namespace|ns)\s+(?:called\s+|named\s+)?{Q}(?P<name>{NAME}){Q}",
            rf"\b(?:in|on|from|of|for)\s+(?:the\s+)?{Q}(?P<name>{NAME}){Q}\s+(?:project|namespace)\b",
        ],
    )


def _app(text: str, verbs: str = "") -> str | None:
    patterns = []
    if verbs:
        patterns.append(rf"\b(?:{verbs})\s+{FILLER}{Q}(?P<name>{NAME}){Q}")
    patterns += [
        rf"\b{APP_NOUN}s?\s+(?:called\s+|named\s+)?{Q}(?P<name>{NAME}){Q}",
        rf"{Q}(?P<name>{NAME}){Q}\s+{APP_NOUN}\b",
        rf"\b(?P<name>{NAME})'s\b",
        rf"\b{Q}(?P<name>{NAME}){Q}\s+(?:status|health|logs?|events|metrics|replicas|pods|cpu|memory)\b",
        rf"\b(?:the|my|our)\s+{Q}(?P<name>{NAME}){Q}\s+{TROUBLE_VERBS}\b",
        rf"^{Q}(?P<name>{NAME}){Q}\s+{TROUBLE_VERBS}\b",
        rf"\b(?:of|for|from|on|in|with|about|is|does|did|has|are)\s+{FILLER}{Q}(?P<name>{NAME}){Q}",
    ]
    found = first_name(text, patterns)
    if found and found in _place_names(text):
        return None
    return found


def _place_names(text: str) -> set[str]:
    return {n for n in (_workspace(text), _project(text)) if n}


def _replicas(text: str) -> int | None:
    for pattern in (
        r"\bto\s+(?P<n>\d+|[a-z]+)(?:\s+(?:replicas?|instances?|pods?|copies))?\b",
        r"\b(?P<n>\d+|[a-z]+)\s+(?:replicas?|instances?|pods?|copies)\b",
        r"\breplicas?\s*(?:=|to|:)\s*(?P<n>\d+)",
    ):
        for match in re.finditer(pattern, text):
            value = number(match.group("n"))
            if value is not None:
                return value
    return None


def _delta(text: str) -> int | None:
    match = re.search(r"\b(?:up|down|out|in)?\s*by\s+(?P<n>\d+|[a-z]+)\b", text)
    if not match:
        return None
    value = number(match.group("n"))
    if value is None:
        return None
    return -value if re.search(r"\b(down|in|reduce|decrease|fewer|less)\b", text) else value


def detect(message: str) -> Intent:
    """The intent of ``message`` (the original text; code blocks are read from it)."""
    text = normalize(message)
    intent = _detect(text, message)
    intent.workspace = intent.workspace or _workspace(text)
    intent.project = intent.project or _project(text)
    return intent


def _has(text: str, pattern: str) -> bool:
    return re.search(pattern, text) is not None


def _detect(text: str, original: str) -> Intent:
    if (
        _has(text, r"^(hi|hello|hey|thanks|thank you|good (morning|afternoon|evening))\b")
        and len(text) < 40
    ):
        return Intent("greeting")
    if _has(
        text, r"\b(what can you do|help me|how do i use|your capabilities|commands)\b"
    ) or text in ("help", "?"):
        return Intent("help")

    # billing
    if _has(text, r"\b(usage|billing|how many tokens|token use|invoice|costs? so far|bill)\b"):
        return Intent("usage", minutes=minutes(text))

    # functions
    if _has(text, r"\bfunctions?\b|\bserverless\b|\blambda\b"):
        name = first_name(
            text,
            [
                rf"\bfunction\s+(?:called\s+|named\s+)?{Q}(?P<name>{NAME}){Q}",
                rf"{Q}(?P<name>{NAME}){Q}\s+function\b",
            ],
        )
        if _has(text, r"\b(delete|remove|destroy|tear down|drop)\b"):
            return Intent("delete_function", name=name)
        if _has(text, r"\b(build log|build output|why did .* build|build fail)"):
            return Intent("function_logs", name=name, extra={"build": True})
        if _has(text, r"\blogs?\b"):
            return Intent("function_logs", name=name, lines=count_after(text, "lines?"))
        if _has(text, r"\b(invoke|call|run|execute|trigger|test)\b") and not _has(
            text, r"\bdeploy"
        ):
            body = _body(original)
            return Intent("invoke_function", name=name, extra={"body": body})
        if _has(text, r"\b(deploy|create|publish|ship)\b"):
            return Intent("deploy_function", name=name, extra={"source": code_block(original)})
        if _has(text, r"\b(list|show|which|what)\b"):
            return Intent("list_functions")

    # cronjobs
    if _has(text, r"\bcron ?jobs?\b|\bscheduled jobs?\b|\bcron\b|\bbatch jobs?\b") or _has(
        text, r"\bjobs?\b.*\b(succeed\w*|fail\w*|run|ran|history|trigger\w*|schedul\w*)\b"
    ):
        name = first_name(
            text,
            [
                rf"\bcron ?job\s+(?:called\s+|named\s+)?{Q}(?P<name>{NAME}){Q}",
                rf"{Q}(?P<name>{NAME}){Q}\s+(?:cron ?job|job)\b",
                rf"\bjob\s+{Q}(?P<name>{NAME}){Q}",
            ],
        )
        if _has(text, r"\b(why|fail|failing|broken|error|fix|wrong|investigate)\b"):
            return Intent("diagnose_cronjob", name=name)
        if _has(text, r"\b(create|add|schedule|set up|make|new)\b"):
            image = re.search(r"\bimage\s+['\"`]?(?P<image>[a-z0-9][\w./:-]*)", text)
            source = _app(text, "from|using|like|based on|template")
            command = re.search(
                r"\b(?:command|run|runs|running|execute|executes)\s+['\"`](?P<cmd>[^'\"`]+)['\"`]",
                original,
                re.I,
            )
            return Intent(
                "create_cronjob",
                name=name,
                extra={
                    "schedule": cron_schedule(text),
                    "image": image.group("image") if image else None,
                    "from_application": None if image else source,
                    "command": command.group("cmd").split() if command else None,
                },
            )
        if _has(
            text,
            r"\b(run|trigger|start|kick off|execute)\b.*\bnow\b"
            r"|\b(trigger|manually|manual run|kick off)\b",
        ):
            return Intent("trigger_cronjob", name=name)
        if _has(
            text,
            r"\b(history|runs|executions|last run|did .* (run|succeed|fail)|succeed|results?)\b",
        ):
            return Intent("cronjob_history", name=name)
        return Intent("list_cronjobs")

    # workspaces (as objects)
    if _has(text, r"\b(create|provision|set up|make|new|spin up)\b.*\b(workspace|vcluster)\b"):
        name = first_name(
            text,
            [
                rf"\b(?:workspace|vcluster)\s+(?:called\s+|named\s+)?{Q}(?P<name>{NAME}){Q}",
                rf"\b(?:called|named)\s+{Q}(?P<name>{NAME}){Q}",
            ],
        )
        plan = "dedicated" if _has(text, r"\bdedicated\b") else "shared"
        return Intent("provision_workspace", name=name, extra={"plan": plan})
    if _has(
        text, r"\b(delete|remove|destroy|tear down|terminate|drop)\b.*\b(workspace|vcluster)\b"
    ):
        return Intent("delete_workspace", workspace=_workspace(text))
    if _has(text, r"\b(create|add|make|new|set up)\b.*\b(project|namespace)\b"):
        name = first_name(
            text,
            [
                rf"\b(?:project|namespace)\s+(?:called\s+|named\s+)?{Q}(?P<name>{NAME}){Q}",
                rf"\b(?:called|named)\s+{Q}(?P<name>{NAME}){Q}",
            ],
        )
        parent = first_name(
            text, [rf"\b(?:under|inside|below|child of|in project)\s+{Q}(?P<name>{NAME}){Q}"]
        )
        return Intent(
            "create_project",
            name=name,
            project=None,
            extra={
                "parent": parent if parent != name else None,
                "cpu": _quantity(text, r"cpus?|cores?|vcpus?"),
                "memory": _memory(text),
                "pods": count_after(text, "pods?"),
            },
        )
    if _has(text, r"\b(projects|namespaces)\b") and not _has(
        text, r"\b(apps?|applications?|deployments?)\b"
    ):
        return Intent("list_projects")
    asks_for_apps = _has(text, r"\b(apps|applications|deployments|services|running|workloads)\b")
    if not asks_for_apps and (
        _has(text, r"\b(workspaces|vclusters)\b")
        or _has(text, r"\b(list|show|which|what)\b.*\bworkspace\b\??$")
    ):
        return Intent("list_workspaces")
    if _has(text, r"\b(status|details|describe|show|about|info)\b.*\bworkspace\b") and not _app(
        text
    ):
        return Intent("get_workspace")

    app_verbs = (
        "scale|rescale|resize|restart|bounce|reboot|recycle|roll ?back|rollback|revert|undo|"
        "autoscale|describe|check|inspect|investigate|debug|diagnose|fix|repair|give|set|bump"
    )
    app = _app(text, app_verbs)

    # changes to an application
    if _has(
        text,
        r"\b(roll ?back|rollback|revert|undo (the )?(last )?(deploy|release|rollout|change))\b",
    ):
        revision = re.search(r"\brevision\s+(?P<n>\d+)", text)
        return Intent(
            "rollback",
            app=app,
            extra={"to_revision": int(revision.group("n")) if revision else None},
        )
    if _has(text, r"\b(restart|bounce|reboot|recycle|rollout restart|kick)\b"):
        return Intent("restart", app=app)
    if _has(text, r"\b(autoscal\w*|hpa|horizontal pod autoscaler|auto-scal\w*)\b"):
        bounds = re.search(
            r"(?:between|from|min(?:imum)?)\s+(?P<lo>\d+)\s*(?:and|to|-|max(?:imum)?)\s+(?P<hi>\d+)",
            text,
        )
        lo = re.search(r"\bmin(?:imum)?(?: of| replicas)?\s*(?:=|:)?\s*(?P<n>\d+)", text)
        hi = re.search(r"\bmax(?:imum)?(?: of| replicas)?\s*(?:=|:)?\s*(?P<n>\d+)", text)
        cpu = re.search(r"(?P<n>\d+)\s*%", text)
        return Intent(
            "autoscale",
            app=app,
            extra={
                "min": int(bounds.group("lo")) if bounds else int(lo.group("n")) if lo else None,
                "max": int(bounds.group("hi")) if bounds else int(hi.group("n")) if hi else None,
                "cpu": int(cpu.group("n")) if cpu else None,
            },
        )
    if _has(
        text,
        r"\b(memory limit|cpu limit|more memory|raise the limit|resources? limits?"
        r"|increase (the )?(memory|cpu)|set (the )?(memory|cpu))\b",
    ):
        return Intent(
            "set_resources",
            app=app,
            extra={"memory": _memory(text), "cpu": _quantity(text, r"cpus?|cores?")},
        )
    if (
        _has(text, r"\b(scale|rescale|resize|replicas?|instances|copies)\b")
        and (_replicas(text) is not None or _delta(text) is not None)
        and not _has(text, r"\bhow many\b")
    ):
        return Intent("scale", app=app, replicas=_replicas(text), delta=_delta(text))
    if _has(text, r"\b(scale (up|out)|add (more )?(replicas|instances|capacity))\b"):
        return Intent("scale", app=app, delta=1)
    if _has(text, r"\bscale (down|in)\b"):
        return Intent("scale", app=app, delta=-1)

    # diagnosis
    if _has(
        text,
        TROUBLE,
    ) and not _has(text, r"^(show|list|get|give)\b.*\b(logs?|events)\b"):
        fix = _has(
            text, r"\b(fix|repair|remediate|resolve|make it work|get it working|heal|solve)\b"
        )
        return Intent("diagnose", app=app, extra={"fix": fix})

    # reading
    if _has(text, r"\blogs?\b|\boutput\b|\bstdout\b|\bstack ?trace\b"):
        contains = re.search(
            r"\b(?:containing|matching|with|grep(?: for)?)\s+['\"`](?P<s>[^'\"`]+)['\"`]",
            original,
            re.I,
        )
        errors_only = _has(text, r"\berrors? (lines|only)|only errors\b")
        return Intent(
            "logs",
            app=app,
            minutes=minutes(text),
            lines=count_after(text, "lines?|entries"),
            extra={
                "previous": _has(
                    text,
                    r"\b(previous|crashed|last (container|run)|before (it|the) (crash|restart))\b",
                ),
                "contains": contains.group("s") if contains else ("error" if errors_only else None),
                "pod": first_name(text, [rf"\bpod\s+{Q}(?P<name>{NAME}){Q}"]),
            },
        )
    if _has(text, r"\bevents?\b|\bwarnings?\b"):
        return Intent("events", app=app, extra={"warnings": _has(text, r"\bwarnings?\b")})
    if _has(text, r"\b(anomal\w*|unusual|abnormal|outliers?|spikes?|odd)\b"):
        return Intent("anomalies", app=app, minutes=minutes(text))
    if _has(
        text,
        METRIC_WORDS,
    ):
        wanted = [
            metric
            for metric, pattern in (
                ("cpu", r"\bcpu\b"),
                ("memory", r"\bmemory|ram\b"),
                ("latency_p95", r"\blatency|response time|p95\b"),
                ("request_rate", r"\brequest rate|traffic|throughput|requests\b"),
                ("error_rate", r"\berror rate|errors\b"),
            )
            if _has(text, pattern)
        ]
        return Intent("metrics", app=app, minutes=minutes(text), extra={"metrics": wanted or None})
    if _has(
        text,
        r"\b(list|show|which|what)\b.*\b(apps|applications|deployments|services|running|workloads)\b",
    ) or _has(text, r"\bwhat'?s running\b"):
        return Intent("list_apps")
    about_state = (
        r"\b(describe|status|state|health\w*|how many|how is|how's|doing|running|up|ok|okay|"
        r"replicas?|pods?|show|check|inspect|tell me about|details|info)\b"
    )
    if _has(text, about_state) and (app or _has(text, r"\b(describe|status)\b")):
        return Intent(
            "describe",
            app=app,
            extra={
                "question": "replicas"
                if _has(text, r"how many (replicas|instances|pods|copies)")
                else None
            },
        )
    return Intent("help")


def _quantity(text: str, units: str) -> str | None:
    match = re.search(rf"\b(?P<n>\d+(?:\.\d+)?)\s*(?P<m>m)?\s*(?:{units})\b", text)
    if not match:
        return None
    return match.group("n") + ("m" if match.group("m") else "")


def _memory(text: str) -> str | None:
    match = re.search(r"\b(?P<n>\d+(?:\.\d+)?)\s*(?P<u>gi|gib|gb|g|mi|mib|mb|m)\b", text)
    if not match:
        return None
    unit = match.group("u")[0]
    return f"{match.group('n')}{'Gi' if unit == 'g' else 'Mi'}"


def _body(original: str) -> str:
    match = re.search(r"(\{.*\})", original, re.S)
    if match:
        return match.group(1)
    quoted = re.search(r"\bwith\s+['\"`](?P<s>[^'\"`]*)['\"`]", original)
    return quoted.group("s") if quoted else ""


def mentioned_app(message: str) -> str | None:
    """An application a past message named, for requests like "scale it to 5 instead"."""
    text = normalize(message)
    found = _app(text, "scale|restart|roll ?back|describe|check|investigate|logs of")
    return found if is_name(found) else None
