"""How agent events look in a terminal.

``render`` is the one-shot form (each event once the turn has answered, or JSON lines).
``Printer`` is the interactive form: text as it is written, each tool call as a compact card
(the tool and its arguments, then its result indented under it), approvals and errors.
"""

from __future__ import annotations

import json
from typing import Any

import typer

from agents.events import AgentEvent, ApprovalRequiredEvent, FinalEvent, ToolResultEvent

GREY = typer.colors.BRIGHT_BLACK
SUMMARY_LINES = 3
WIDTH = 100


def render(event: AgentEvent, *, as_json: bool) -> None:
    """One event, for a person or (``as_json``) as a JSON line."""
    if as_json:
        typer.echo(event.model_dump_json())
        return
    if event.type == "session":
        typer.secho(
            f"[{event.organization} · {event.provider}:{event.model} · cluster: {event.cluster}"
            f"{' · read-only' if event.read_only else ''}]",
            fg=GREY,
        )
    elif event.type == "tool_call":
        args = ", ".join(f"{k}={v}" for k, v in event.arguments.items())
        typer.secho(f"→ {event.tool}({args})", fg=typer.colors.CYAN)
    elif event.type == "tool_result":
        first = event.summary.splitlines()[0] if event.summary else ""
        colour = typer.colors.RED if event.status == "error" else GREY
        typer.secho(f"  {event.status}: {first}", fg=colour)
    elif event.type == "approval_required":
        show_approval(event, indent="")
    elif event.type == "final":
        typer.echo(event.text)
    elif event.type == "error":
        typer.secho(f"error ({event.code}): {event.message}", fg=typer.colors.RED, err=True)


def show_approval(event: ApprovalRequiredEvent, *, indent: str) -> None:
    who = "an admin must approve" if event.approver == "admin" else "confirm to proceed"
    typer.secho(f"{indent}⏸ approval needed ({who}): {event.description}", fg=typer.colors.YELLOW)
    typer.echo(f"{indent}  approval id: {event.approval_id} (expires {event.expires_at:%H:%M} UTC)")


def clip(text: str, width: int = WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def arguments(values: dict[str, Any]) -> str:
    def one(value: Any) -> str:
        return value if isinstance(value, str) else json.dumps(value, default=str)

    return clip(" ".join(f"{key}={one(value)}" for key, value in values.items()), WIDTH - 10)


class Printer:
    """Events of interactive turns, as they arrive."""

    def __init__(self) -> None:
        self._segment = ""  # text streamed since the last card
        self._session: str | None = None
        self._calls: set[str] = set()  # call ids whose card is open

    def show(self, event: AgentEvent) -> None:
        if event.type == "session":
            if event.session_id != self._session:
                self._session = event.session_id
                read_only = " · read-only" if event.read_only else ""
                typer.secho(
                    f"[{event.title} · {event.session_id[:8]} · {event.provider}:{event.model}"
                    f" · cluster: {event.cluster}{read_only}]",
                    fg=GREY,
                )
        elif event.type == "delta":
            typer.echo(event.text, nl=False)
            self._segment += event.text
        elif event.type == "tool_call":
            self._end_text()
            self._calls.add(event.call_id)
            typer.secho(f"  ▸ {event.tool}", fg=typer.colors.CYAN, nl=False)
            typer.secho(f"  {arguments(event.arguments)}" if event.arguments else "", fg=GREY)
        elif event.type == "tool_result":
            self._end_text()
            if event.call_id not in self._calls:  # an approved call, run after the pause
                typer.secho(f"  ▸ {event.tool}", fg=typer.colors.CYAN)
            self._calls.discard(event.call_id)
            self._result(event)
        elif event.type == "approval_required":
            self._end_text()
            self._calls.discard(event.call_id)  # its result comes after the decision
            show_approval(event, indent="  ")
        elif event.type == "final":
            self._final(event)
        elif event.type == "error":
            self._end_text()
            typer.secho(f"error ({event.code}): {event.message}", fg=typer.colors.RED)

    def _end_text(self) -> None:
        if self._segment and not self._segment.endswith("\n"):
            typer.echo("")
        self._segment = ""

    def _result(self, event: ToolResultEvent) -> None:
        colour = typer.colors.RED if event.status == "error" else GREY
        lines = event.summary.splitlines() or [""]
        typer.secho(f"    {event.status}: {clip(lines[0])}", fg=colour)
        for line in lines[1:SUMMARY_LINES]:
            typer.secho(f"      {clip(line)}", fg=colour)
        if len(lines) > SUMMARY_LINES:
            typer.secho(f"      … {len(lines) - SUMMARY_LINES} more lines", fg=GREY)
        if event.note:
            typer.secho(f"      note: {clip(event.note)}", fg=GREY)

    def _final(self, event: FinalEvent) -> None:
        answer = event.text
        streamed = self._segment.strip()
        self._end_text()
        if event.fallback:
            typer.secho(f"(the offline planner answered: {event.fallback})", fg=GREY)
            answer = answer.split("\n\n", 1)[-1]
        if streamed != answer.strip():
            typer.echo(answer)
        if event.status == "budget_exceeded":
            typer.secho("(stopped: the turn reached its budget)", fg=GREY)
