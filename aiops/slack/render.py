"""Turning a turn's events into one Slack message (fallback text + Block Kit blocks).

The reply is rebuilt from scratch on every update, so ``chat.update`` always carries the whole
message: tool calls as one short context line each (updated with their result), the answer as
the body, then either the approval prompt with its buttons or the error. Everything that came
from the model or a tool is escaped, so it cannot mention ``@channel`` or forge links.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agents.events import (
    AgentEvent,
    ApprovalRequiredEvent,
    DeltaEvent,
    ErrorEvent,
    FinalEvent,
    SessionEvent,
    ToolCallEvent,
    ToolResultEvent,
)

Block = dict[str, Any]
APPROVAL_BLOCK = "aiops_approval"
APPROVE_ACTION = "aiops_approve"
DENY_ACTION = "aiops_deny"
SECTION_LIMIT = 3000  # Slack's limit for a section's text
CONTEXT_LIMIT = 2000  # ... and for a context element's text
MAX_BLOCKS = 50
FALLBACK_LIMIT = 3000
MAX_TOOL_LINES = 15
TOOL_ICONS = {"ok": ":white_check_mark:", "no_data": ":white_check_mark:", "error": ":x:"}
FINAL_NOTES = {
    "denied": "The change was not approved, so it was not made.",
    "budget_exceeded": "The agent stopped: this turn ran out of its step, token or time budget.",
}


def escape(text: str) -> str:
    """Slack's three control characters, so text shows as written and triggers nothing."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _arguments(arguments: dict[str, Any]) -> str:
    parts = [f"{key}={clip(str(value), 40)}" for key, value in arguments.items()]
    return clip(", ".join(parts), 160)


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, CONTEXT_LIMIT)}]}


def sections(text: str, *, room: int) -> list[Block]:
    """``text`` as section blocks of at most Slack's size, using at most ``room`` blocks."""
    chunks = [text[i : i + SECTION_LIMIT] for i in range(0, len(text), SECTION_LIMIT)]
    if len(chunks) > room:
        chunks = chunks[:room]
        chunks[-1] = clip(chunks[-1], SECTION_LIMIT - 40) + "\n_(answer cut short for Slack)_"
    return [section(chunk) for chunk in chunks]


def approval_blocks(event: ApprovalRequiredEvent) -> list[Block]:
    """The prompt and its two buttons; each button carries the approval id, nothing else."""
    who = (
        "you (the person who asked) or an admin"
        if event.approver == "requester"
        else "a workspace or organization admin"
    )
    approve: Block = {
        "type": "button",
        "action_id": APPROVE_ACTION,
        "text": {"type": "plain_text", "text": "Approve"},
        "style": "primary",
        "value": event.approval_id,
    }
    if event.risk == "destructive":
        approve["confirm"] = {
            "title": {"type": "plain_text", "text": "Run a destructive change?"},
            "text": {"type": "mrkdwn", "text": clip(escape(event.description), 300)},
            "confirm": {"type": "plain_text", "text": "Approve"},
            "deny": {"type": "plain_text", "text": "Cancel"},
        }
    deny: Block = {
        "type": "button",
        "action_id": DENY_ACTION,
        "text": {"type": "plain_text", "text": "Deny"},
        "style": "danger",
        "value": event.approval_id,
    }
    expires = event.expires_at.strftime("%H:%M UTC")
    return [
        section(f":raised_hand: *Approval needed:* {escape(event.description)}"),
        context(f"risk: {event.risk} · may approve: {who} · expires {expires}"),
        {"type": "actions", "block_id": APPROVAL_BLOCK, "elements": [approve, deny]},
    ]


@dataclass(frozen=True)
class SlackMessage:
    text: str
    blocks: list[Block]


@dataclass
class ReplyView:
    """The state of one reply, folded from the turn's events."""

    tools: dict[str, str] = field(default_factory=dict)
    answer: str = ""
    note: str | None = None
    approval: ApprovalRequiredEvent | None = None
    error: ErrorEvent | None = None
    session_id: str | None = None
    cluster: str | None = None
    done: bool = False

    def apply(self, event: AgentEvent) -> None:
        if isinstance(event, SessionEvent):
            self.session_id, self.cluster = event.session_id, event.cluster
        elif isinstance(event, DeltaEvent):
            self.answer += event.text
        elif isinstance(event, ToolCallEvent):
            line = f":gear: `{event.tool}` {escape(_arguments(event.arguments))}"
            self.tools[event.call_id] = line
        elif isinstance(event, ToolResultEvent):
            icon = TOOL_ICONS.get(event.status, ":grey_question:")
            summary = clip(escape(event.summary.splitlines()[0] if event.summary else ""), 200)
            self.tools[event.call_id] = f"{icon} `{event.tool}` {summary}"
        elif isinstance(event, ApprovalRequiredEvent):
            self.tools[event.call_id] = f":hourglass: `{event.tool}` waits for approval"
            self.approval, self.done = event, True
        elif isinstance(event, FinalEvent):
            self.answer = event.text
            notes = [FINAL_NOTES.get(event.status), event.fallback]
            self.note = " ".join(note for note in notes if note) or None
            self.done = True
        elif isinstance(event, ErrorEvent):
            self.error, self.done = event, True

    def fail(self, code: str, message: str) -> None:
        """End the reply with an error that did not come from the turn itself."""
        self.error, self.done = ErrorEvent(code=code, message=message), True

    def message(self) -> SlackMessage:
        blocks: list[Block] = []
        if self.tools:
            lines = list(self.tools.values())
            if len(lines) > MAX_TOOL_LINES:
                hidden = len(lines) - MAX_TOOL_LINES
                lines = [f"_… {hidden} earlier steps_", *lines[-MAX_TOOL_LINES:]]
            blocks.append(context("\n".join(lines)))
        tail: list[Block] = []
        if self.note:
            tail.append(context(f":information_source: {escape(self.note)}"))
        if self.approval is not None:
            tail.extend(approval_blocks(self.approval))
        if self.error is not None:
            error = f":warning: *The agent could not answer* ({self.error.code}): "
            tail.append(section(clip(error + escape(self.error.message), SECTION_LIMIT)))
        if self.done and self.cluster:
            tail.append(context(f"cluster: {escape(self.cluster)}"))
        answer = self.answer.strip()
        if answer:
            room = MAX_BLOCKS - len(blocks) - len(tail)
            blocks.extend(sections(escape(answer), room=room))
        elif not self.done:
            blocks.append(context(":hourglass_flowing_sand: _working…_"))
        blocks.extend(tail)
        return SlackMessage(text=self._fallback(), blocks=blocks)

    def _fallback(self) -> str:
        """The notification text (and what clients without blocks show)."""
        if self.error is not None:
            return clip(f"The agent could not answer: {self.error.message}", FALLBACK_LIMIT)
        if self.approval is not None:
            return clip(f"Approval needed: {self.approval.description}", FALLBACK_LIMIT)
        return clip(self.answer.strip() or "Working on it…", FALLBACK_LIMIT)


def decided_blocks(blocks: list[Block], *, approved: bool, by: str) -> list[Block]:
    """The approval message with its buttons replaced by who decided (``by`` is trusted text)."""
    kept = [block for block in blocks if block.get("block_id") != APPROVAL_BLOCK]
    icon, verb = (":white_check_mark:", "Approved") if approved else (":no_entry_sign:", "Denied")
    return [*kept, context(f"{icon} {verb} by {by}")]


def plain(text: str) -> SlackMessage:
    """A message of our own wording (may contain Slack markup such as ``<@U123>``)."""
    return SlackMessage(text=clip(text, FALLBACK_LIMIT), blocks=[section(text)])
