"""The agent loop: the model proposes, the toolset disposes, people approve.

A turn: render the system prompt for this caller, offer exactly the tools the caller may use,
call the model, run its tool calls (reads in parallel), feed the results back, and stop at a
final answer, a pause for approval, or a budget. A configured model that is unavailable is
replaced by the offline planner for the rest of the turn, and the answer says so. Approving a
paused call runs exactly that call with exactly its arguments, as the person who asked;
denying it tells the model, which then answers.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from langchain_core.messages import HumanMessage

from agents.approvals import ApprovalStore, PendingApproval
from agents.budgets import Budgets
from agents.compaction import compact
from agents.decisions import check_decider, continue_turn
from agents.direct import DIRECT, decide_direct
from agents.events import (
    AgentEvent,
    ApprovalRequiredEvent,
    ErrorEvent,
    FinalEvent,
    SessionEvent,
)
from agents.loop import run_loop
from agents.models.config import ModelConfig
from agents.models.router import ModelRouter
from agents.reporting import meter
from agents.sessions import Session, SessionStore
from agents.telemetry.base import Telemetry, TurnInfo, TurnOutcome
from agents.turn import Turn, tool_message, unanswered_calls, utcnow
from platform_core.billing import service as billing
from platform_core.cluster.protocol import ClusterGateway
from platform_core.context import CallContext
from platform_core.db import Database
from platform_core.errors import Conflict, DomainError, NotFound
from platform_core.observability.store import MetricStore
from platform_core.tenancy.models import Organization
from tools.base import ToolContext
from tools.redaction import redact
from tools.results import ToolResult
from tools.toolset import Toolset

logger = logging.getLogger(__name__)
QUOTA_RECHECK = 30.0
ENDING_EVENTS = (FinalEvent, ApprovalRequiredEvent, ErrorEvent)


@dataclass(frozen=True)
class OrgAgentSettings:
    """What an organization configured for its agent: read-only mode and its own model."""

    read_only: bool = False
    model: ModelConfig | None = None


OrgSettingsLookup = Callable[[uuid.UUID], Awaitable[OrgAgentSettings | None]]


@dataclass(frozen=True)
class TurnRequest:
    call: CallContext
    organization: Organization
    message: str
    session_id: str | None = None
    workspace: str | None = None
    project: str | None = None
    read_only: bool = False


@dataclass
class AgentRuntime:
    db: Database
    gateway: ClusterGateway
    sessions: SessionStore
    approvals: ApprovalStore
    toolset: Toolset
    models: ModelRouter
    telemetry: Telemetry
    budgets: Budgets
    cluster_label: str = "simulated"
    org_settings: OrgSettingsLookup | None = None
    metrics: MetricStore | None = None
    _quota_ok_until: dict[uuid.UUID, float] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ entry points

    async def chat(self, request: TurnRequest) -> AsyncIterator[AgentEvent]:
        """Answer one message; raises (before any event) if the turn cannot start.

        An existing conversation is read only once it is held: read before, it could miss the
        answer of a turn that ends in between, and this turn would then save over it.
        """
        await self._check_quota(request.organization)
        if not request.session_id:
            session = await self._session_for(request)
            token = await self.sessions.acquire(session.id)
            return self._guarded(session.id, token, self._chat(request, session))
        token = await self.sessions.acquire(request.session_id)
        try:
            session = await self._session_for(request)
        except BaseException:
            await self.sessions.release(request.session_id, token)
            raise
        return self._guarded(session.id, token, self._chat(request, session))

    async def decide(
        self, *, call: CallContext, organization: Organization, approval_id: str, approve: bool
    ) -> AsyncIterator[AgentEvent]:
        """Approve or deny a paused call and continue that turn; raises if not allowed."""
        approval = await self.approvals.get(approval_id, organization_id=str(organization.id))
        check_decider(call, organization, approval)
        if approval.session_id == DIRECT:
            decided = await self.approvals.decide(
                approval, "approved" if approve else "denied", decided_by=call.subject.display
            )
            return decide_direct(self, call, organization, decided)
        token = await self.sessions.acquire(approval.session_id)
        try:
            session = await self.sessions.load(approval.session_id)  # held: see ``chat``
            if session is None:
                raise Conflict("the conversation of this approval has expired")
            decided = await self.approvals.decide(
                approval, "approved" if approve else "denied", decided_by=call.subject.display
            )
        except BaseException:
            await self.sessions.release(approval.session_id, token)
            raise
        return self._guarded(
            session.id, token, continue_turn(self, call, organization, session, decided)
        )

    async def _guarded(
        self, session_id: str, token: str, events: AsyncIterator[AgentEvent]
    ) -> AsyncIterator[AgentEvent]:
        """The turn's events; the session is released however the consumer stops.

        The events that end a turn (final answer, approval request, error) come once the
        session is saved (``run_turn`` holds them until then), and the session is released
        before the first of them is passed on, so a client that answers at once (approves,
        sends the next message) never finds the conversation still busy. The turn's metering
        runs after that, off the answer's path.
        """
        released = False
        try:
            async for event in events:
                if not released and isinstance(event, ENDING_EVENTS):
                    released = True
                    await self.sessions.release(session_id, token)
                yield event
        finally:
            if not released:
                await self.sessions.release(session_id, token)

    # ------------------------------------------------------------------ sessions

    async def _session_for(self, request: TurnRequest) -> Session:
        owner = request.call.subject.id
        org_id = str(request.organization.id)
        if request.session_id:
            session = await self.sessions.get_for(
                request.session_id, owner_id=owner, organization_id=org_id
            )
            if request.workspace:
                session.workspace = request.workspace
            return session
        title = " ".join(request.message.split())[:60] or "New conversation"
        return await self.sessions.create(
            owner_id=owner,
            organization_id=org_id,
            title=title,
            workspace=request.workspace,
            project=request.project,
            read_only=request.read_only,
        )

    async def _check_quota(self, organization: Organization) -> None:
        """Refuse a turn once the plan's monthly LLM tokens are spent.

        An organization found within its quota is not checked again for ``QUOTA_RECHECK``
        seconds: a turn is small against a month's allowance, and the check costs more than the
        rest of the turn's bookkeeping.
        """
        now = time.monotonic()
        if self._quota_ok_until.get(organization.id, 0.0) > now:
            return
        async with self.db.session() as session:
            await billing.ensure_within_quota(session, organization.id, "llm_tokens_per_month", 1)
            await session.commit()
        self._quota_ok_until[organization.id] = now + QUOTA_RECHECK

    async def _supersede_pending(self, session: Session) -> None:
        """A new message abandons an approval still waiting: its call is answered as not run."""
        if session.pending_approval is None:
            return
        try:
            approval = await self.approvals.get(
                session.pending_approval, organization_id=session.organization_id
            )
            if approval.status == "pending":
                await self.approvals.decide(approval, "superseded", decided_by="new message")
        except (NotFound, Conflict):
            pass
        for call in unanswered_calls(session.messages):
            result = ToolResult.error("not run: the user sent a new message instead of approving")
            session.messages.append(tool_message(call["id"] or "", call["name"], result))
        session.pending_approval = None

    # ------------------------------------------------------------------ turns

    async def start_turn(
        self, call: CallContext, organization: Organization, session: Session, message: str
    ) -> Turn:
        org_settings = await self.org_settings(organization.id) if self.org_settings else None
        read_only = session.read_only or bool(org_settings and org_settings.read_only)
        ctx = ToolContext(
            call=call,
            organization=organization,
            gateway=self.gateway,
            db=self.db,
            metrics=self.metrics,
            workspace=session.workspace,
            project=session.project,
            # reads are audited in one transaction at the end of the turn; changes at once
            extras={"session_id": session.id, "audit_buffer": []},
        )
        offered = await self.toolset.offered(ctx, read_only=read_only)
        model = self.models.choose(org_settings.model if org_settings else None)
        trace = await self.telemetry.start_turn(
            TurnInfo(
                run_id=uuid.uuid4(),
                session_id=session.id,
                organization_id=organization.id,
                user_id=call.subject.id,
                workspace=session.workspace,
                user_message=redact(message),
                started_at=utcnow(),
                provider=model.provider,
                model=model.model,
                tags=(self.cluster_label, "read-only" if read_only else "read-write"),
            )
        )
        return Turn(
            session=session,
            ctx=ctx,
            offered=offered,
            model=model,
            trace=trace,
            budgets=self.budgets,
            read_only=read_only,
        )

    def session_event(self, turn: Turn, organization: Organization) -> SessionEvent:
        return SessionEvent(
            session_id=turn.session.id,
            title=turn.session.title,
            organization=organization.name,
            workspace=turn.session.workspace,
            provider=turn.model.provider,
            model=turn.model.model,
            cluster=self.cluster_label,
            read_only=turn.read_only,
        )

    async def _chat(self, request: TurnRequest, session: Session) -> AsyncIterator[AgentEvent]:
        await self._supersede_pending(session)
        turn = await self.start_turn(request.call, request.organization, session, request.message)
        yield turn.stamp(self.session_event(turn, request.organization))
        session.messages.append(HumanMessage(content=request.message))
        async for event in self.run_turn(turn):
            yield event

    async def run_turn(self, turn: Turn) -> AsyncIterator[AgentEvent]:
        """The loop's events; those that end the turn only once the session is saved, and the
        turn's usage metered after them (or however the turn stops)."""
        outcome = "completed"
        final_text = ""
        ending: list[AgentEvent] = []
        finished = False
        try:
            try:
                async for event in run_loop(self, turn):
                    if isinstance(event, FinalEvent):
                        final_text, outcome = event.text, event.status
                    elif isinstance(event, ApprovalRequiredEvent):
                        outcome = "approval_required"
                    if isinstance(event, ENDING_EVENTS):
                        ending.append(event)
                    else:
                        yield event
            except DomainError as error:
                outcome = "error"
                ending.append(turn.stamp(ErrorEvent(code=error.code, message=error.message)))
            except Exception as error:  # the turn fails cleanly; the reason goes to the logs
                logger.exception("turn %s failed", turn.id)
                outcome = "error"
                message = f"the turn failed: {type(error).__name__}"
                ending.append(turn.stamp(ErrorEvent(code="internal_error", message=message)))
            finished = True
            await self._finish(turn, outcome, final_text)
            for event in ending:
                yield event
        finally:
            if not finished:  # stopped from outside: keep what the turn did so far
                await self._finish(turn, outcome, final_text)
            await meter(self, turn)

    async def _finish(self, turn: Turn, outcome: str, final_text: str) -> None:
        session = turn.session
        session.messages, session.summary = compact(
            session.messages, session.summary, budget_tokens=turn.budgets.context_tokens
        )
        await self.sessions.save(session)
        await turn.trace.finish(
            TurnOutcome(
                status=outcome,  # type: ignore[arg-type]
                ended_at=utcnow(),
                final_answer=redact(final_text),
                steps=turn.steps,
                input_tokens=turn.input_tokens,
                output_tokens=turn.output_tokens,
                extra={"fallback": turn.fallback} if turn.fallback else {},
            )
        )

    def check_decider(
        self, call: CallContext, organization: Organization, approval: PendingApproval
    ) -> None:
        """Raise unless the caller may decide this approval."""
        check_decider(call, organization, approval)
