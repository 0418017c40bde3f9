"""The interactive prompt and Ctrl-C: at the prompt it leaves; during a turn it stops waiting
(closing the stream) without stopping the turn, and the prompt goes on."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from agents.events import AgentEvent, ApprovalRequiredEvent, DeltaEvent
from aiops.chat.schemas import ApprovalRead, SessionRead
from aiops.cli.chat_bridge import Bridge
from aiops.cli.chat_repl import Repl
from tests.support.agent import session_event


class SlowBackend:
    """A turn that writes a little and then takes forever; it records being let go."""

    where = "a fake service"
    left_running = "in the fake service"

    def __init__(self) -> None:
        self.let_go = threading.Event()
        self.decisions: list[tuple[str, bool]] = []

    async def start(self) -> str:
        return "someone"

    async def close(self) -> None:
        return None

    async def send(self, session_id: str | None, message: str) -> AsyncIterator[AgentEvent]:
        try:
            yield session_event(title=message, provider="scripted", model="slow")
            yield DeltaEvent(seq=2, turn_id="t1", text="thinking")
            await asyncio.Event().wait()
        finally:
            self.let_go.set()

    async def decide(self, approval_id: str, approve: bool) -> AsyncIterator[AgentEvent]:
        self.decisions.append((approval_id, approve))
        return
        yield

    async def sessions(self) -> list[SessionRead]:
        return []

    async def session(self, session_id: str) -> SessionRead:
        raise NotImplementedError

    async def approvals(self) -> list[ApprovalRead]:
        return []


@pytest.fixture
def bridge() -> Iterator[Bridge]:
    running = Bridge()
    yield running
    running.close()


@pytest.fixture
def ctrl_c() -> Iterator[None]:
    """Ctrl-C as Python's own handler turns it into ``KeyboardInterrupt``."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def typed(*lines: str | BaseException) -> Iterator[str]:
    for line in lines:
        if isinstance(line, BaseException):
            raise line
        yield line
    raise EOFError


def reader(lines: Iterator[str]) -> Callable[[str], str]:
    return lambda _prompt: next(lines)


def test_ctrl_c_during_a_turn_stops_waiting_but_not_the_turn(
    bridge: Bridge,
    ctrl_c: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend = SlowBackend()
    lines = typed("why is web slow?", "/quit")
    repl = Repl(backend, bridge, read_line=lambda _: next(lines))
    show = repl.printer.show

    def show_then_press_ctrl_c(event: AgentEvent) -> None:
        show(event)
        if event.type == "delta":
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(repl.printer, "show", show_then_press_ctrl_c)
    repl.run()

    out = capsys.readouterr().out
    assert "thinking" in out
    assert "stopped waiting: the turn goes on in the fake service (turn t1)" in out
    assert backend.let_go.is_set()  # its stream was closed before the prompt came back
    assert repl.session_id == "s1"  # the conversation is still the current one


def test_ctrl_c_or_end_of_input_at_the_prompt_leaves(bridge: Bridge) -> None:
    for ending in (KeyboardInterrupt(), EOFError()):
        Repl(SlowBackend(), bridge, read_line=reader(typed("/help", ending))).run()


def test_ctrl_c_at_the_approval_question_leaves_it_pending(
    bridge: Bridge, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = SlowBackend()
    approval = ApprovalRequiredEvent(
        seq=3,
        turn_id="t1",
        approval_id="a1",
        call_id="c1",
        tool="scale_application",
        arguments={"application": "web", "replicas": 3},
        risk="write",
        description="scale web in demo/default to 3 replicas",
        approver="requester",
        expires_at=datetime.now(UTC) + timedelta(minutes=15),
    )

    async def paused() -> AsyncIterator[AgentEvent]:
        yield approval

    lines = typed(KeyboardInterrupt())
    Repl(backend, bridge, read_line=lambda _: next(lines)).converse(paused(), follow_session=True)
    assert "left pending: /approve a1 or /deny a1" in capsys.readouterr().out
    assert backend.decisions == []
