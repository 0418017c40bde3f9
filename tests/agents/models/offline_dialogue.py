"""Talking to the offline planner without a runtime: a small world of canned tool answers.

``Dialogue.say`` plays one turn the way the runtime would - the planner proposes a call, the
world answers it (framed as the runtime frames tool output), until the planner answers in
words - and keeps the messages, so the next turn sees the earlier ones. A write is answered as
approved unless ``deny`` names it; nothing here runs a cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from agents.models.offline import OfflinePlanner
from agents.turn import tool_message
from tools.results import ToolResult

Answer = Callable[[dict[str, Any]], ToolResult]
READ_TOOLS = [
    "list_workspaces",
    "get_workspace",
    "list_projects",
    "list_applications",
    "describe_application",
    "get_pod_logs",
    "list_events",
    "get_metrics",
    "detect_anomalies",
    "list_cronjobs",
    "get_cronjob_history",
    "list_functions",
    "get_function_logs",
    "get_usage",
]
WRITE_TOOLS = [
    "scale_application",
    "restart_application",
    "rollback_application",
    "set_autoscaling",
    "set_resources",
    "create_cronjob",
    "update_cronjob",
    "trigger_cronjob",
    "deploy_function",
    "invoke_function",
    "delete_function",
    "delete_workspace",
    "provision_workspace",
    "create_project",
]
ALL_TOOLS = READ_TOOLS + WRITE_TOOLS


def apps(*names: str, where: str = "shop/app") -> Answer:
    lines = [f"- {n}: 2/2 ready, image ghcr.io/acme/{n}:1.0.0, revision 1" for n in names]
    return lambda args: ToolResult.ok(
        f"{len(names)} application(s) in {where}:\n" + "\n".join(lines)
    )


def named_list(noun: str, *names: str) -> Answer:
    lines = [f"- {n}: active" for n in names]
    return lambda args: ToolResult.ok(f"{len(names)} {noun}(s):\n" + "\n".join(lines))


def describe(replicas: int = 2, image: str = "ghcr.io/acme/{app}:1.0.0") -> Answer:
    def answer(args: dict[str, Any]) -> ToolResult:
        app = args["application"]
        where = args.get("workspace", "shop") + "/app"
        return ToolResult.ok(
            f"application {app}: {replicas}/{replicas} ready, image {image.format(app=app)}, "
            f"revision 1 in {where}\n"
            "resources: limits cpu 500m, memory 256Mi; requests cpu 100m, memory 128Mi\n"
            "current revision 1, rolled out 75m ago; no previous revision"
        )

    return answer


def done(text: str) -> Answer:
    return lambda args: ToolResult.ok(text)


@dataclass
class Dialogue:
    world: dict[str, Answer] = field(default_factory=dict)
    tools: list[str] = field(default_factory=lambda: list(ALL_TOOLS))
    organization: str = "acme"
    messages: list[BaseMessage] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    deny: set[str] = field(default_factory=set)
    planner: OfflinePlanner = field(default_factory=OfflinePlanner)

    def __post_init__(self) -> None:
        self.messages.append(
            SystemMessage(content=f'You act for someone in organization "{self.organization}".')
        )

    def say(self, text: str, *, pending: bool = False) -> str:
        """One turn; ``pending`` leaves the first write unanswered (waiting for approval)."""
        self.messages.append(HumanMessage(content=text))
        self.calls_this_turn: list[tuple[str, dict[str, Any]]] = []
        for _ in range(12):
            reply = self.planner.decide(self.messages, self.tools)
            self.messages.append(reply)
            if not reply.tool_calls:
                return str(reply.content)
            call = reply.tool_calls[0]
            name, args = call["name"], dict(call["args"])
            self.calls.append((name, args))
            self.calls_this_turn.append((name, args))
            if pending and name in WRITE_TOOLS:
                return "(waiting for approval)"
            result = self._answer(name, args)
            self.messages.append(tool_message(call["id"] or "", name, result))
        raise AssertionError("the planner never answered")

    def _answer(self, name: str, args: dict[str, Any]) -> ToolResult:
        if name in self.deny:
            return ToolResult.error("the change was not approved: the user did not approve it")
        answer = self.world.get(name)
        if answer is None:
            return ToolResult.ok(f"{name} done")
        return answer(args)

    def supersede(self) -> None:
        """A new message abandons a pending call, as the runtime does."""
        last = self.messages[-1]
        assert isinstance(last, AIMessage) and last.tool_calls
        call = last.tool_calls[0]
        result = ToolResult.error("not run: the user sent a new message instead of approving")
        self.messages.append(tool_message(call["id"] or "", call["name"], result))

    @property
    def tools_called(self) -> list[str]:
        return [name for name, _ in self.calls_this_turn]
