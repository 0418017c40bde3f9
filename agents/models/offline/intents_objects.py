"""Requests about the platform's other objects: functions, CronJobs, workspaces and projects."""

from __future__ import annotations

import re

from agents.models.offline.amounts import body, command, memory, quantity
from agents.models.offline.intent import Detector, Intent
from agents.models.offline.language import (
    NAME,
    code_block,
    count_after,
    cron_schedule,
    first_name,
    has,
)
from agents.models.offline.names import Q, app_of, best_name, workspace_of

DELETE = r"\b(delete|remove|destroy|tear down|terminate|drop|nuke|wipe|get rid of|decommission)\b"
TROUBLE = r"\b(why|fail\w*|broken|error\w*|fix|wrong|investigate|problem|issue|won't|doesn't)\b"
FIX = (
    r"\b(fix|repair|remediate|resolve|correct|put back|change|update|set|use|should (just )?run"
    r"|sort (it|this|that)? ?out|take care of)\b"
)


def _functions(text: str, original: str) -> Intent | None:
    if not has(text, r"\bfunctions?\b|\bserverless\b|\blambda\b|\binvoke\b"):
        return None
    name = best_name(
        text,
        [
            rf"\bfunction\s+(?:called\s+|named\s+)?{Q}(?P<name>{NAME}){Q}",
            rf"{Q}(?P<name>{NAME}){Q}(?:'s)?\s+function\b",
            rf"\b(?:invoke|call)\s+(?:the\s+)?{Q}(?P<name>{NAME}){Q}",
        ],
    )
    source = code_block(original)
    if has(text, DELETE):
        return Intent("delete_function", name=name)
    if source is not None or has(text, r"\b(deploy|redeploy|create|publish|ship)\b"):
        return Intent("deploy_function", name=name, extra={"source": source})
    if has(text, r"\bbuild\w*\b") and (has(text, TROUBLE) or has(text, r"\blogs?\b")):
        return Intent("function_build", name=name)
    if has(text, r"\blogs?\b"):
        return Intent("function_logs", name=name, lines=count_after(text, "lines?"))
    if has(text, r"\b(invoke|call|run|execute|trigger|test)\b"):
        return Intent("invoke_function", name=name, extra={"body": body(original)})
    if has(text, TROUBLE):
        return Intent("function_logs", name=name, lines=count_after(text, "lines?"))
    return Intent("list_functions")


def _cronjobs(text: str, original: str) -> Intent | None:
    if not (
        has(text, r"\bcron ?jobs?\b|\bscheduled jobs?\b|\bcron\b|\bbatch jobs?\b|\bjobs?\b")
        or has(text, r"\b(did|has|have)\b[^?]*\b(run|ran)\b|\blast run\b")
    ):
        return None
    name = best_name(
        text,
        [
            rf"\bcron ?job\s+(?:called\s+|named\s+)?{Q}(?P<name>{NAME}){Q}",
            rf"{Q}(?P<name>{NAME}){Q}\s+(?:cron ?job|job|cron)\b",
            rf"\bjob\s+{Q}(?P<name>{NAME}){Q}",
            rf"\b(?:did|has|have) (?:the )?(?:last )?{Q}(?P<name>{NAME}){Q}\s+(?:job\s+)?"
            r"(?:run|ran)",
        ],
    )
    if has(text, TROUBLE):
        fixed = command(original)
        return Intent(
            "diagnose_cronjob",
            name=name,
            extra={"fix": has(text, FIX) or fixed is not None, "command": fixed},
        )
    if has(text, r"\b(create|add|schedule|set (\w+ )?up|make|new)\b"):
        image = re.search(r"\bimage\s+['\"`]?(?P<image>[a-z0-9][\w./:-]*)", text)
        source = app_of(text, "from|using|like|based on|template")
        return Intent(
            "create_cronjob",
            name=name,
            extra={
                "schedule": cron_schedule(text),
                "image": image.group("image") if image else None,
                "from_application": None if image else source,
                "command": command(original),
            },
        )
    if has(
        text,
        r"\b(run|trigger|start|kick off|execute)\b.*\b(now|right away|immediately|asap|once)\b"
        r"|\b(trigger|manually|manual run|kick off)\b",
    ):
        return Intent("trigger_cronjob", name=name)
    if has(
        text,
        r"\b(history|runs|executions|last run|did|has|have|succeed\w*|results?|ok|fine)\b",
    ):
        return Intent("cronjob_history", name=name)
    return Intent("list_cronjobs")


def _workspaces(text: str, original: str) -> Intent | None:
    if has(text, r"\b(create|provision|set up|make|new|spin up)\b.*\b(workspace|vcluster)\b"):
        name = first_name(
            text,
            [
                rf"\b(?:workspace|vcluster)\s+(?:called\s+|named\s+)?{Q}(?P<name>{NAME}){Q}",
                rf"\b(?:called|named)\s+{Q}(?P<name>{NAME}){Q}",
            ],
        )
        plan = "dedicated" if has(text, r"\bdedicated\b") else "shared"
        return Intent("provision_workspace", name=name, extra={"plan": plan})
    if has(text, DELETE) and has(
        text, r"\b(workspace|vcluster|everything|all of it|the whole|entire)\b"
    ):
        return Intent("delete_workspace", workspace=workspace_of(text))
    if has(text, r"\b(create|add|make|new|set up)\b.*\b(project|namespace)\b"):
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
            extra={
                "parent": parent if parent != name else None,
                "cpu": quantity(text, r"cpus?|cores?|vcpus?"),
                "memory": memory(text),
                "pods": count_after(text, "pods?"),
            },
        )
    if has(text, r"\b(projects|namespaces)\b") and not has(
        text, r"\b(apps?|applications?|deployments?)\b"
    ):
        return Intent("list_projects")
    asks_for_apps = has(text, r"\b(apps|applications|deployments|services|running|workloads)\b")
    if not asks_for_apps and (
        has(text, r"\b(workspaces|vclusters)\b")
        or has(text, r"\b(list|show|which|what)\b.*\bworkspace\b\??$")
    ):
        return Intent("list_workspaces")
    if (
        has(text, r"\b(status|details|describe|show|about|info)\b.*\bworkspace\b")
        and not asks_for_apps
        and not app_of(text)
    ):
        return Intent("get_workspace")
    return None


OBJECT_DETECTORS: list[Detector] = [_functions, _cronjobs, _workspaces]
