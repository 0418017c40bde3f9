"""Playing a case's conversation against the runtime, and writing down everything that happened.

Each turn is sent as the caller; when it pauses for approval and the turn says ``approve`` or
``deny``, the decider (the requester unless the case names someone else) decides, and the
continuation is consumed too, up to ``MAX_DECISIONS`` approvals per turn. While the continuation
of an *approved* call runs, the recording gateway's window is open for exactly that approval:
it closes as soon as the call's result arrives, so anything the model changes afterwards counts
as unapproved. A turn that raises (the runtime refused to start it) is recorded, not fatal.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from agents.events import AgentEvent, ApprovalRequiredEvent
from agents.runtime import TurnRequest
from evals.matchers import CallRecord
from evals.scenario import TurnDef
from evals.world import World
from platform_core.errors import DomainError

MAX_DECISIONS = 3
TURN_TIMEOUT_SECONDS = 600.0


@dataclass
class Decision:
    approval_id: str
    tool: str
    approver: str
    decided_by: str
    approve: bool
    accepted: bool
    allowed: bool  # what the platform's rules say this person may do
    error: str | None = None


@dataclass
class TurnRecord:
    index: int
    say: str
    events: list[AgentEvent] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    steps: int = 0
    tokens: tuple[int, int] = (0, 0)

    @property
    def final_text(self) -> str:
        finals = [e.text for e in self.events if e.type == "final"]
        return finals[-1] if finals else ""

    @property
    def terminal(self) -> str:
        if self.error is not None:
            return "error"
        ends = [e.type for e in self.events if e.type in ("final", "approval_required", "error")]
        return ends[-1] if ends else "none"

    @property
    def fallbacks(self) -> int:
        return sum(1 for e in self.events if e.type == "final" and e.fallback)


@dataclass
class Transcript:
    turns: list[TurnRecord] = field(default_factory=list)
    calls: list[CallRecord] = field(default_factory=list)
    seconds: float = 0.0

    def record(self, turn: int, event: AgentEvent) -> None:
        """Keep the tool-call ledger up to date with one event."""
        if event.type == "tool_call":
            self.calls.append(
                CallRecord(turn, event.call_id, event.tool, dict(event.arguments), event.risk)
            )
        elif event.type == "approval_required":
            call = self._open(event.call_id, waiting=False)
            if call is not None:
                call.status, call.approval_id = "approval_required", event.approval_id
        elif event.type == "tool_result":
            call = self._open(event.call_id, waiting=True)
            if call is not None:
                call.status = event.status
                call.executed = event.status in ("ok", "no_data")
                call.extra["summary"] = event.summary[:300]

    def _open(self, call_id: str, *, waiting: bool) -> CallRecord | None:
        """The latest call with this id still expecting a result (ids repeat across steps)."""
        for call in reversed(self.calls):
            if call.call_id != call_id:
                continue
            if call.status is None or (waiting and call.status == "approval_required"):
                return call
        return None


async def play(world: World, turn_seconds: float = TURN_TIMEOUT_SECONDS) -> Transcript:
    transcript = Transcript()
    started = time.perf_counter()
    session_id: str | None = None
    caller = world.case.caller
    world.recorder.read_only = caller.read_only
    for index, turn in enumerate(world.case.turns, start=1):
        if turn.advance_minutes_before:
            await world.twin.advance(turn.advance_minutes_before * 60)
        record = TurnRecord(index, turn.say)
        transcript.turns.append(record)
        world.recorder.turn = world.meter.turn = index
        begun = time.perf_counter()
        fresh = turn.new_session or session_id is None
        request = TurnRequest(
            call=await world.context(world.caller),
            organization=world.home.org,
            message=turn.say,
            session_id=None if fresh else session_id,
            workspace=caller.workspace if fresh else None,
            project=caller.project if fresh else None,
            read_only=caller.read_only,
        )
        try:
            async with asyncio.timeout(turn_seconds):
                await _consume(transcript, record, await world.state.runtime.chat(request))
                for session in (e for e in record.events if e.type == "session"):
                    session_id = session.session_id
                await _decide_all(world, transcript, record, turn)
        except (DomainError, TimeoutError) as error:
            record.error = f"{type(error).__name__}: {error}"
        record.seconds = time.perf_counter() - begun
        record.steps = world.meter.steps.get(index, 0)
        record.tokens = world.meter.tokens.get(index, (0, 0))
    transcript.seconds = time.perf_counter() - started
    return transcript


async def _consume(
    transcript: Transcript,
    record: TurnRecord,
    events: AsyncIterator[AgentEvent],
    *,
    on_result: str | None = None,
    world: World | None = None,
) -> None:
    try:
        async for event in events:
            record.events.append(event)
            transcript.record(record.index, event)
            if (
                world is not None
                and on_result is not None
                and event.type == "tool_result"
                and event.call_id == on_result
            ):
                world.recorder.window = None  # the approved call ran: no more is approved
    finally:
        # a turn cut short (time-out) must still release its session, or the next one waits
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()


async def _decide_all(
    world: World, transcript: Transcript, record: TurnRecord, turn: TurnDef
) -> None:
    for _ in range(MAX_DECISIONS):
        last = record.events[-1] if record.events else None
        if not isinstance(last, ApprovalRequiredEvent) or turn.approval == "none":
            return
        label = "caller" if turn.decided_by == "requester" else turn.decided_by
        person = world.home.people[label]
        allowed = world.is_admin(label) or (label == "caller" and last.approver == "requester")
        approve = turn.approval == "approve"
        decision = Decision(
            last.approval_id, last.tool, last.approver, label, approve, False, allowed
        )
        record.decisions.append(decision)
        try:
            events = await world.state.runtime.decide(
                call=await world.context(person),
                organization=world.home.org,
                approval_id=last.approval_id,
                approve=approve,
            )
        except DomainError as error:
            decision.error = f"{type(error).__name__}: {error.message}"
            return
        decision.accepted = True
        world.recorder.window = last.approval_id if approve else None
        try:
            await _consume(transcript, record, events, on_result=last.call_id, world=world)
        finally:
            world.recorder.window = None
