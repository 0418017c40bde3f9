"""Reading the conversation the planner is asked to continue.

The planner keeps no state of its own: everything it needs is in the messages. The current turn
is everything after the last human message; its steps are the tool calls the planner made and
the results that came back. Earlier turns supply the referents of "it" and "there".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from agents.models.offline.intents import mentioned_app
from agents.models.offline.language import normalize

_FRAME = re.compile(
    r'^<tool-output tool="(?P<tool>[^"]*)" status="(?P<status>[^"]*)"[^>]*>\n'
    r"(?P<body>.*)\n</tool-output>$",
    re.S,
)


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

    def done(self, tool: str) -> list[Step]:
        return [step for step in self.steps if step.tool == tool]

    def last(self, tool: str) -> Step | None:
        found = self.done(tool)
        return found[-1] if found else None

    def remembered(self, key: str) -> str | None:
        """The most recent value of an argument used in earlier turns (e.g. the application)."""
        for message in reversed(self.earlier):
            if isinstance(message, AIMessage):
                for call in reversed(message.tool_calls):
                    value = call["args"].get(key)
                    if isinstance(value, str) and value:
                        return value
            if key == "application" and isinstance(message, HumanMessage):
                named = mentioned_app(str(message.content))
                if named:
                    return named
        return None

    def mentions(self, pattern: str) -> bool:
        return re.search(pattern, normalize(self.request)) is not None


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
    earlier = [m for m in messages[: max(last_human, 0)] if not isinstance(m, ToolMessage)]
    return Conversation(request=request, steps=list(steps.values()), earlier=earlier)
