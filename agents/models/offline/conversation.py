"""Reading the conversation the planner is asked to continue.

The planner keeps no state of its own: everything it needs is in the messages. The current turn
is everything after the last human message; its steps are the tool calls the planner made and
the results that came back. Earlier turns supply the referents of "it" and "there", the request
to repeat ("do the same for api") and the change to amend ("make that 4"); the system message
names the caller's organization.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from agents.models.offline.intents import mentioned_app
from agents.models.offline.language import has

_FRAME = re.compile(
    r'^<tool-output tool="(?P<tool>[^"]*)" status="(?P<status>[^"]*)"[^>]*>\n'
    r"(?P<body>.*)\n</tool-output>$",
    re.S,
)
# which argument of which tool names a thing of each kind
_FUNCTION_TOOLS = ("deploy_function", "invoke_function", "get_function_logs", "delete_function")
_KEYS: dict[str, tuple[tuple[str, tuple[str, ...] | None], ...]] = {
    "application": (("application", None),),
    "cronjob": (("cronjob", None), ("name", ("create_cronjob",))),
    "function": (("name", _FUNCTION_TOOLS),),
    "workspace": (("workspace", None),),
    "project": (("project", None),),
}
_NOT_FOUND = re.compile(r"\bnot found\b|\bhas no pods\b")
REFERS_BACK = r"\b(it|its|it's|that one|this one|them|they|their|the same one)\b"


@dataclass
class Step:
    """One tool call of this turn and what came back (``status`` None while unanswered)."""

    call_id: str
    tool: str
    args: dict[str, Any]
    status: str | None = None
    text: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "no_data")

    def body(self) -> str:
        """The summary without the leading status line and the trailing note."""
        lines = [line for line in self.text.splitlines() if not line.startswith("status: ")]
        return "\n".join(line for line in lines if not line.startswith("note: "))

    def note(self) -> str | None:
        for line in self.text.splitlines():
            if line.startswith("note: "):
                return line[6:]
        return None


@dataclass
class Conversation:
    request: str
    steps: list[Step]
    earlier: list[BaseMessage] = field(default_factory=list)
    organization: str | None = None
    missing: set[str] = field(default_factory=set)
    """Ids of earlier calls that named something that does not exist."""

    def done(self, tool: str) -> list[Step]:
        return [step for step in self.steps if step.tool == tool]

    def last(self, tool: str) -> Step | None:
        found = self.done(tool)
        return found[-1] if found else None

    def last_about(self, tool: str, key: str, value: str) -> Step | None:
        """The latest call of ``tool`` this turn whose ``key`` argument was ``value``."""
        found = [step for step in self.done(tool) if step.args.get(key) == value]
        return found[-1] if found else None

    def not_found(self) -> set[str]:
        """Names this turn's calls used that turned out not to exist."""
        return {
            value
            for step in self.steps
            if step.status == "error" and _NOT_FOUND.search(step.text)
            for value in step.args.values()
            if isinstance(value, str)
        }

    def earlier_calls(self) -> list[tuple[str, dict[str, Any]]]:
        """The tool calls of earlier turns, oldest first."""
        return [(call["name"], dict(call["args"])) for call in self._calls()]

    def _calls(self) -> list[Any]:
        return [
            call
            for message in self.earlier
            if isinstance(message, AIMessage)
            for call in message.tool_calls
            if call["id"] not in self.missing
        ]

    def earlier_requests(self) -> list[str]:
        """What the person asked before, most recent first."""
        return [str(m.content) for m in reversed(self.earlier) if isinstance(m, HumanMessage)]

    def earlier_answers(self) -> list[str]:
        """The planner's earlier answers, most recent first."""
        return [
            str(m.content)
            for m in reversed(self.earlier)
            if isinstance(m, AIMessage) and m.content and not m.tool_calls
        ]

    def remembered(self, kind: str) -> str | None:
        """The thing of ``kind`` (application, cronjob, ...) most recently worked on."""
        keys = _KEYS.get(kind, ((kind, None),))
        for message in reversed(self.earlier):
            if isinstance(message, AIMessage):
                for call in reversed(message.tool_calls):
                    if call["id"] in self.missing:
                        continue
                    for key, tools in keys:
                        value = call["args"].get(key)
                        if (
                            isinstance(value, str)
                            and value
                            and (tools is None or call["name"] in tools)
                        ):
                            return value
            if kind == "application" and isinstance(message, HumanMessage):
                named = mentioned_app(str(message.content))
                if named:
                    return named
        return None

    def last_object(self) -> tuple[str, str] | None:
        """(kind, name) of the object the latest earlier call was about."""
        for tool, args in reversed(self.earlier_calls()):
            for kind in ("cronjob", "function", "application"):
                for key, tools in _KEYS[kind]:
                    value = args.get(key)
                    if isinstance(value, str) and value and (tools is None or tool in tools):
                        return kind, value
        return None

    def mentions(self, pattern: str) -> bool:
        return has(self.request.lower(), pattern)


def parse_result(message: ToolMessage) -> tuple[str, str]:
    """(status, text) of a framed tool message."""
    content = str(message.content)
    match = _FRAME.match(content)
    if match is None:
        return ("error" if message.status == "error" else "ok"), content
    return match.group("status"), match.group("body")


def read(messages: list[BaseMessage]) -> Conversation:
    last_human = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
    request = str(messages[last_human].content) if last_human >= 0 else ""
    steps: dict[str, Step] = {}
    for message in messages[last_human + 1 :]:
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                call_id = call["id"] or ""
                steps[call_id] = Step(call_id=call_id, tool=call["name"], args=dict(call["args"]))
        elif isinstance(message, ToolMessage) and message.tool_call_id in steps:
            step = steps[message.tool_call_id]
            step.status, step.text = parse_result(message)
    before = messages[: max(last_human, 0)]
    earlier = [m for m in before if not isinstance(m, ToolMessage | SystemMessage)]
    missing = {
        m.tool_call_id
        for m in before
        if isinstance(m, ToolMessage) and _NOT_FOUND.search(parse_result(m)[1])
    }
    return Conversation(
        request=request,
        steps=list(steps.values()),
        earlier=earlier,
        organization=_organization(messages),
        missing=missing,
    )


def _organization(messages: list[BaseMessage]) -> str | None:
    for message in messages:
        if isinstance(message, SystemMessage):
            match = re.search(r'\bin organization "([^"]+)"', str(message.content))
            if match:
                return match.group(1)
    return None
