"""Diagnosis: gather the evidence, name the failure, and propose (or, when asked, take) the fix.

For an application the evidence is always read in the same order - its description, events,
logs (the crashed container's when it restarted) and an hour of metrics - before the finding.
A fix is proposed as a tool call only when the person asked for one; the runtime still waits
for approval. "If the release is the problem, roll it back" allows the rollback only.
"""

from __future__ import annotations

import re

from agents.models.offline.actions import Action, Call, Say, answered, outcome, unavailable, where
from agents.models.offline.conversation import Conversation
from agents.models.offline.findings import diagnose_application
from agents.models.offline.findings_jobs import diagnose_build, diagnose_cronjob
from agents.models.offline.intent import Intent
from agents.models.offline.plans_apps import with_app
from agents.models.offline.resolve import CRONJOBS, FUNCTIONS, resolve

EVIDENCE_LOG_LINES = 40


def plan_diagnose(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
    def then(app: str, intent: Intent) -> Action:
        args = {"application": app, **where(intent, convo)}
        for tool in ("describe_application", "list_events"):
            if convo.last_about(tool, "application", app) is None and tool in tools:
                return Call(tool, args)
        describe = convo.last_about("describe_application", "application", app)
        if describe is not None and not describe.ok:
            return Say(outcome(describe))
        if convo.last_about("get_pod_logs", "application", app) is None and "get_pod_logs" in tools:
            restarted = bool(describe and re.search(r"restarts=[1-9]", describe.body()))
            return Call(
                "get_pod_logs",
                {**args, "tail_lines": EVIDENCE_LOG_LINES, "previous": restarted or None},
            )
        if convo.last_about("get_metrics", "application", app) is None and "get_metrics" in tools:
            return Call("get_metrics", {**args, "minutes": 60})
        return _conclude(app, intent, convo, tools)

    return with_app(intent, convo, tools, then, write=bool(intent.extra.get("fix")))


def _conclude(app: str, intent: Intent, convo: Conversation, tools: set[str]) -> Action:
    finding = diagnose_application(app, convo)
    remedy = finding.remedy
    done = convo.last(remedy.tool) if remedy else None
    if answered(done):
        assert done is not None
        return Say(f"{finding.text}\n\n{outcome(done)}")
    if remedy and intent.extra.get("fix"):
        only = intent.extra.get("only")
        if only and remedy.tool != only:
            return Say(
                f"{finding.text}\n\nThe release is not the cause, so rolling back would not "
                "help; I did not change anything."
            )
        if remedy.tool not in tools:
            return Say(finding.text + "\n\n" + unavailable(remedy.tool).text)
        return Call(remedy.tool, {**remedy.args, **where(intent, convo)})
    return Say(finding.text + (f"\n\n{finding.suggestion}" if finding.suggestion else ""))


def plan_diagnose_cronjob(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
    fix, command = bool(intent.extra.get("fix")), intent.extra.get("command")
    place = where(intent, convo)
    found = resolve(CRONJOBS, intent, convo, tools, named=intent.name, place=place, write=fix)
    if not isinstance(found, str):
        return found
    history = convo.last_about("get_cronjob_history", "cronjob", found)
    if history is None:
        if "get_cronjob_history" not in tools:
            return unavailable("get_cronjob_history")
        return Call("get_cronjob_history", {"cronjob": found, "with_logs": True, **place})
    finding = diagnose_cronjob(found, history)
    update = convo.last("update_cronjob")
    if answered(update):
        assert update is not None
        return Say(f"{finding}\n\n{outcome(update)}")
    if fix and command and history.ok:
        if "update_cronjob" not in tools:
            return Say(finding + "\n\n" + unavailable("update_cronjob").text)
        return Call("update_cronjob", {"cronjob": found, "command": command, **place})
    if fix and " fails:" in finding:
        return Say(finding + " Tell me the command it should run and I will change it.")
    return Say(finding)


def plan_function_build(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
    place = where(intent, convo)
    found = resolve(FUNCTIONS, intent, convo, tools, named=intent.name, place=place)
    if not isinstance(found, str):
        return found
    logs = convo.last_about("get_function_logs", "name", found)
    if logs is None:
        if "get_function_logs" not in tools:
            return unavailable("get_function_logs")
        return Call("get_function_logs", {"name": found, "build": True, **place})
    return Say(diagnose_build(found, logs))
