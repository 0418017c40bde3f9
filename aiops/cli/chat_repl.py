"""The interactive ``aiops chat``: a prompt, streamed answers, approvals asked on the spot.

Each line is a message to the current conversation (a new one until the first message). A change
the agent proposes is shown with its description and asked about (``approve? [y/N]``); the
answer decides exactly that paused call. Slash commands manage conversations and approvals. A
refusal or failure is one line and the prompt goes on; Ctrl-D or Ctrl-C at the prompt leaves;
Ctrl-C during a turn stops waiting for it, and the turn goes on without the terminal.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Literal

import typer

from agents.events import AgentEvent, ApprovalRequiredEvent
from aiops.cli.chat_backend import ChatBackend, ChatError
from aiops.cli.chat_bridge import Bridge
from aiops.cli.chat_render import GREY, Printer, clip

PROMPT = "you> "
ReadLine = Callable[[str], str]
HELP = """\
type a message to ask the agent; commands:
  /new            start a new conversation
  /sessions       your conversations (* marks the current one)
  /open ID        continue a conversation (a unique prefix of its id is enough)
  /approvals      pending changes you may decide
  /approve ID     approve a pending change (runs exactly the paused call)
  /deny ID        deny a pending change
  /help           this help
  /quit           leave (or Ctrl-D)"""


class Repl:
    def __init__(
        self,
        backend: ChatBackend,
        bridge: Bridge,
        *,
        session_id: str | None = None,
        read_line: ReadLine = input,
    ) -> None:
        self.backend = backend
        self.bridge = bridge
        self.session_id = session_id
        self.read_line = read_line
        self.printer = Printer()

    def run(self) -> None:
        """Read lines until /quit, end of input or Ctrl-C at the prompt."""
        while True:
            try:
                line = self.read_line(PROMPT).strip()
            except (EOFError, KeyboardInterrupt):
                typer.echo("")
                return
            if not line:
                continue
            try:
                if line.startswith("/"):
                    if self.command(line) == "quit":
                        return
                else:
                    self.converse(self.backend.send(self.session_id, line), follow_session=True)
            except ChatError as error:
                typer.secho(f"error: {error.message}", fg=typer.colors.RED)
            except KeyboardInterrupt:
                typer.secho("\n(interrupted)", fg=GREY)

    # ------------------------------------------------------------------ turns

    def converse(self, events: AsyncIterator[AgentEvent], *, follow_session: bool) -> None:
        """Show a turn as it streams; ask about the approval it stops at, and so on."""
        pending: AsyncIterator[AgentEvent] | None = events
        while pending is not None:
            last = self._follow(pending, follow_session=follow_session)
            pending = self._ask(last) if isinstance(last, ApprovalRequiredEvent) else None

    def _follow(
        self, events: AsyncIterator[AgentEvent], *, follow_session: bool
    ) -> AgentEvent | None:
        last: AgentEvent | None = None
        stream = self.bridge.stream(events)
        try:
            for event in stream:
                if follow_session and event.type == "session":
                    self.session_id = event.session_id
                self.printer.show(event)
                last = event
        except KeyboardInterrupt:
            stream.close()
            turn = f" (turn {last.turn_id})" if last is not None else ""
            typer.secho(
                f"\nstopped waiting: the turn goes on {self.backend.left_running}{turn}; this "
                "conversation is busy until it ends, and /approvals shows what it asks for",
                fg=typer.colors.YELLOW,
            )
            return None
        return last

    def _ask(self, approval: ApprovalRequiredEvent) -> AsyncIterator[AgentEvent] | None:
        try:
            answer = self.read_line("approve? [y/N] ").strip().lower()
        except (EOFError, KeyboardInterrupt):
            typer.echo("")
            answer = None
        if answer is None:
            typer.secho(
                f"left pending: /approve {approval.approval_id} or /deny {approval.approval_id}",
                fg=GREY,
            )
            return None
        return self.backend.decide(approval.approval_id, answer in ("y", "yes"))

    # ------------------------------------------------------------------ commands

    def command(self, line: str) -> Literal["quit"] | None:
        name, _, argument = line.partition(" ")
        argument = argument.strip()
        if name in ("/quit", "/exit"):
            return "quit"
        if name == "/help":
            typer.echo(HELP)
        elif name == "/new":
            self.session_id = None
            typer.secho("(a new conversation starts with your next message)", fg=GREY)
        elif name == "/sessions":
            self._list_sessions()
        elif name == "/approvals":
            self._list_approvals()
        elif name in ("/open", "/approve", "/deny"):
            if not argument:
                raise ChatError(f"usage: {name} ID")
            if name == "/open":
                self._open(argument)
            else:
                approval_id = self._approval_id(argument)
                self.converse(
                    self.backend.decide(approval_id, name == "/approve"), follow_session=False
                )
        else:
            raise ChatError(f"unknown command {name}: /help lists the commands")
        return None

    def _list_sessions(self) -> None:
        sessions = self.bridge.call(self.backend.sessions())
        if not sessions:
            typer.echo("no conversations yet")
        for session in sessions:
            mark = "*" if session.id == self.session_id else " "
            waiting = "  (waiting for approval)" if session.pending_approval else ""
            typer.echo(
                f"{mark} {session.id}  {session.updated_at:%Y-%m-%d %H:%M}  "
                f"{clip(session.title, 60)}{waiting}"
            )

    def _list_approvals(self) -> None:
        approvals = self.bridge.call(self.backend.approvals())
        if not approvals:
            typer.echo("no pending approvals that you may decide")
        for approval in approvals:
            who = "admin" if approval.approver == "admin" else "requester"
            typer.echo(
                f"{approval.id}  {clip(approval.description, 70)}  "
                f"({who}; expires {approval.expires_at:%H:%M} UTC)"
            )

    def _open(self, reference: str) -> None:
        session_id = resolve(reference, [s.id for s in self.bridge.call(self.backend.sessions())])
        session = self.bridge.call(self.backend.session(session_id or reference))
        self.session_id = session.id
        typer.secho(f"continuing “{session.title}” ({session.id})", fg=GREY)
        if session.pending_approval:
            typer.secho(
                f"it waits for approval {session.pending_approval}: /approve or /deny it",
                fg=typer.colors.YELLOW,
            )

    def _approval_id(self, reference: str) -> str:
        if len(reference) >= 32:
            return reference
        listed = [a.id for a in self.bridge.call(self.backend.approvals())]
        return resolve(reference, listed) or reference


def resolve(reference: str, ids: list[str]) -> str | None:
    """The one id that starts with ``reference``; None when none or several do."""
    matches = [item for item in ids if item.startswith(reference)]
    return matches[0] if len(matches) == 1 else None
