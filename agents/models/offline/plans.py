"""From an intent to the next action: the plan of every kind of request.

Each plan is a small function of the intent, the conversation so far and the tools on offer; it
returns the next tool call, or the answer once it has what it needs (see ``actions``).
"""

from __future__ import annotations

from agents.models.offline.actions import CAPABILITIES, Action, Plan, Say, single
from agents.models.offline.conversation import Conversation
from agents.models.offline.intent import Intent
from agents.models.offline.plans_apps import (
    plan_anomalies,
    plan_autoscale,
    plan_describe,
    plan_events,
    plan_logs,
    plan_metrics,
    plan_restart,
    plan_rollback,
    plan_scale,
    plan_set_resources,
)
from agents.models.offline.plans_diagnose import (
    plan_diagnose,
    plan_diagnose_cronjob,
    plan_function_build,
)
from agents.models.offline.plans_followup import FOLLOW_UP_PLANS
from agents.models.offline.plans_objects import OBJECT_PLANS

PLANS: dict[str, Plan] = {
    "greeting": lambda i, c, t: Say("Hello! " + CAPABILITIES),
    "help": lambda i, c, t: Say(CAPABILITIES),
    "cancel": lambda i, c, t: Say("OK, I won't change anything."),
    "usage": single("get_usage", lambda i, c: {"days": max(1, (i.minutes or 0) // 1440) or 30}),
    "describe": plan_describe,
    "scale": plan_scale,
    "restart": plan_restart,
    "rollback": plan_rollback,
    "autoscale": plan_autoscale,
    "set_resources": plan_set_resources,
    "logs": plan_logs,
    "events": plan_events,
    "metrics": plan_metrics,
    "anomalies": plan_anomalies,
    "diagnose": plan_diagnose,
    "diagnose_cronjob": plan_diagnose_cronjob,
    "function_build": plan_function_build,
    **OBJECT_PLANS,
    **FOLLOW_UP_PLANS,
}


def next_action(intent: Intent, convo: Conversation, tools: set[str]) -> Action:
    return PLANS.get(intent.kind, PLANS["help"])(intent, convo, tools)
