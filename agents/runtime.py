"""The agent loop: the model proposes, the toolset disposes, people approve.

A turn: render the system prompt for this caller, offer exactly the tools the caller may use,
call the model, run its tool calls (reads in parallel), feed the results back, and stop at a
final answer, a pause for approval, or a budget. A configured model that is unavailable is
replaced by the offline planner for the rest of the turn, and the answer says so. Approving a
paused call runs exactly that call with exactly its arguments, as the person who asked;
denying it tells the model, which then answers.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from agents.approvals import ApprovalStore, PendingApproval
from agents.budgets import Budgets
from agents.compaction import compact
from agents.events import (
    AgentEvent,
    ApprovalRequiredEvent,
    DeltaEvent,
    ErrorEvent,
    FinalEvent,
    SessionEvent,
    ToolResultEvent,
)
from agents.execution import run_tool_calls
from agents.models.config import ModelConfig
from agents.models.errors import is_unavailable
from agents.models.router import ModelChoice, ModelRouter
from agents.sessions import Session, SessionStore
from agents.telemetry.base import ModelCall, Telemetry, TurnInfo, TurnOutcome
from agents.turn import Turn, merge_chunks, text_of, tool_message, unanswered_calls, utcnow
from platform_core.auth.subjects import load_subject
from platform_core.billing import service as billing
from platform_core.billing.schemas import Meter
from platform_core.cluster.protocol import ClusterGateway
from platform_core.context import CallContext
from platform_core.db import Database
from platform_core.errors import Conflict, DomainError, Forbidden, NotFound
from platform_core.rbac.authorize import Resource, authorize
from platform_core.tenancy.models import Organization
from prompts import render
from tools.base import ToolContext
from tools.redaction import redact, redact_data
from tools.results import ToolResult
from tools.toolset import Toolset

logger = logging.getLogger(__name__)
QUOTA_RECHECK = 30.0


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
    _quota_ok_until: dict[uuid.UUID, float] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ entry points

    async def chat(self, request: TurnRequest) -> AsyncIterator[AgentEvent]:
        """Answer one message; raises (before any event) if the turn cannot start."""
        session = await self._session_for(request)
        await self._check_quota(request.organization)
        token = await self.sessions.acquire(session.id)
        return self._guarded(session.id, token, self._chat(request, session))

    async def decide(
        self, *, call: CallContext, organization: Organization, approval_id: str, approve: bool
    ) -> AsyncIterator[AgentEvent]:
        """Approve or deny a paused call and continue that turn; raises if not allowed."""
        approval = await self.approvals.get(approval_id, organization_id=str(organization.id))
        self.check_decider(call, organization, approval)
        session = await self.sessions.load(approval.session_id)
        if session is None:
            raise Conflict("the conversation of this approval has expired")
        token = await self.sessions.acquire(session.id)
        try:
            decided = await self.approvals.decide(
                approval, "approved" if approve else "denied", decided_by=call.subject.display
            )
        except BaseException:
            await self.sessions.release(session.id, token)
            raise
        return self._guarded(
            session.id, token, self._continue(call, organization, session, decided)
        )

    async def _guarded(
        self, session_id: str, token: str, events: AsyncIterator[AgentEvent]
    ) -> AsyncIterator[AgentEvent]:
        """The turn's events; the session is released however the consumer stops."""
        try:
            async for event in events:
                yield event
        finally:
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

    async def _start(
        self, call: CallContext, organization: Organization, session: Session, message: str
    ) -> Turn:
        org_settings = await self.org_settings(organization.id) if self.org_settings else None
        read_only = session.read_only or bool(org_settings and org_settings.read_only)
        ctx = ToolContext(
            call=call,
            organization=organization,
            gateway=self.gateway,
            db=self.db,
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

    def _session_event(self, turn: Turn, organization: Organization) -> SessionEvent:
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
        turn = await self._start(request.call, request.organization, session, request.message)
        yield turn.stamp(self._session_event(turn, request.organization))
        session.messages.append(HumanMessage(content=request.message))
        async for event in self._run(turn):
            yield event

    async def _continue(
        self,
        call: CallContext,
        organization: Organization,
        session: Session,
        approval: PendingApproval,
    ) -> AsyncIterator[AgentEvent]:
        async with self.db.session() as db_session:
            requester = await load_subject(
                db_session, approval.requester_kind, approval.requester_id
            )
        as_requester = CallContext(
            subject=requester, request_id=call.request_id, client_ip=call.client_ip
        )
        turn = await self._start(
            as_requester, organization, session, f"[{approval.status}] {approval.description}"
        )
        session.pending_approval = None
        yield turn.stamp(self._session_event(turn, organization))
        if approval.status == "approved":
            result = await self._run_approved(turn, approval)
        else:
            result = ToolResult.error(
                f"the user did not approve this action (denied by {approval.decided_by}); "
                "do not retry it: tell the user it was not done"
            )
            await self.toolset.audit(
                turn.ctx,
                None,
                result,
                name=approval.tool,
                arguments=approval.arguments,
                outcome="denied",
            )
        session.messages.append(tool_message(approval.call_id, approval.tool, result))
        yield turn.stamp(
            ToolResultEvent(
                call_id=approval.call_id,
                tool=approval.tool,
                status=result.status,
                summary=result.summary,
                note=result.note,
                data=result.data,
            )
        )
        async for event in self._run(turn):
            yield event

    async def _run_approved(self, turn: Turn, approval: PendingApproval) -> ToolResult:
        """Run the stored call as prepared, re-checking the requester's rights now."""
        prepared = await self.toolset.prepare(
            turn.ctx, approval.tool, approval.arguments, offered=turn.offered
        )
        if isinstance(prepared, ToolResult):
            await self.toolset.audit(
                turn.ctx,
                None,
                prepared,
                name=approval.tool,
                arguments=approval.arguments,
                outcome="denied",
            )
            return prepared
        started = utcnow()
        result = await self.toolset.execute(turn.ctx, prepared)
        await self._trace_tool(
            turn,
            approval.call_id,
            prepared.tool.name,
            prepared.tool.risk,
            approval.arguments,
            result,
            started,
        )
        return result

    async def _run(self, turn: Turn) -> AsyncIterator[AgentEvent]:
        outcome = "completed"
        final_text = ""
        try:
            async for event in self._loop(turn):
                if isinstance(event, FinalEvent):
                    final_text, outcome = event.text, event.status
                elif isinstance(event, ApprovalRequiredEvent):
                    outcome = "approval_required"
                yield event
        except DomainError as error:
            outcome = "error"
            yield turn.stamp(ErrorEvent(code=error.code, message=error.message))
        except Exception as error:  # the turn fails cleanly; the reason goes to the logs
            logger.exception("turn %s failed", turn.id)
            outcome = "error"
            yield turn.stamp(
                ErrorEvent(
                    code="internal_error", message=f"the turn failed: {type(error).__name__}"
                )
            )
        finally:
            await self._finish(turn, outcome, final_text)

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
        await self._meter(turn)

    async def _meter(self, turn: Turn) -> None:
        """The turn's usage and the audit records of its reads, in one transaction."""
        org_id = turn.ctx.organization.id
        usage: dict[Meter, int] = {
            "llm_tokens_in": turn.input_tokens,
            "llm_tokens_out": turn.output_tokens,
            "tool_calls": turn.tool_calls,
        }
        try:
            async with self.db.session() as session:
                self.toolset.add_buffered_audit(turn.ctx, session)
                await billing.record_usages(session, org_id, usage)
                await session.commit()
        except Exception:
            logger.exception("could not meter or audit turn %s", turn.id)

    # ------------------------------------------------------------------ the loop

    async def _loop(self, turn: Turn) -> AsyncIterator[AgentEvent]:
        while True:
            spent = turn.over_budget()
            if spent is not None:
                yield turn.stamp(self._budget_final(turn, spent))
                return
            message: list[AIMessage] = []
            async for event in self._model_step(turn, message):
                yield event
            if not message:
                continue  # the wall-time budget ran out mid-call: the check above reports it
            ai = message[0]
            if ai.invalid_tool_calls:
                await self._unusable_call(turn, ai)
                continue
            turn.session.messages.append(ai)
            if not ai.tool_calls:
                yield turn.stamp(self._final(turn, text_of(ai)))
                return
            async for event in run_tool_calls(self, turn, ai):
                yield event
            if turn.paused:
                return

    async def _unusable_call(self, turn: Turn, ai: AIMessage) -> None:
        """A call the model wrote badly: one retry with the parse error, then the planner."""
        turn.session.messages.append(ai)
        for bad in ai.invalid_tool_calls:
            error = ToolResult.error(
                f"your call could not be parsed ({bad.get('error')}); "
                "call the tool again with valid JSON arguments"
            )
            turn.session.messages.append(
                tool_message(bad.get("id") or "invalid", bad.get("name") or "?", error)
            )
        if not turn.retried_invalid_call:
            turn.retried_invalid_call = True
        elif turn.model.provider != "offline":
            turn.fallback = f"{turn.model.label} wrote unusable tool calls twice"
            turn.model = self.models.offline

    async def _model_step(self, turn: Turn, out: list[AIMessage]) -> AsyncIterator[AgentEvent]:
        messages = [self._system(turn), *turn.session.messages]
        model = turn.model
        bound = turn.bound.get(model.label)
        if bound is None:
            schemas = [t.schema() for t in turn.offered]
            bound = model.chat_model.bind_tools(schemas) if schemas else model.chat_model
            turn.bound[model.label] = bound
        started = utcnow()
        chunks: list[BaseMessage] = []
        turn.steps += 1
        try:
            async with asyncio.timeout(max(turn.seconds_left(), 0.001)):
                async for chunk in bound.astream(messages):
                    text = text_of(chunk)
                    if text:
                        yield turn.stamp(DeltaEvent(text=text))
                    chunks.append(chunk)
        except Exception as error:
            await self._trace_model(turn, model, messages, AIMessage(content=""), started, error)
            if isinstance(error, TimeoutError) and turn.seconds_left() <= 0:
                return
            if model.provider == "offline" or not is_unavailable(error):
                raise
            turn.fallback = f"{model.label} was unavailable ({type(error).__name__})"
            turn.model = self.models.offline
            async for event in self._model_step(turn, out):
                yield event
            return
        ai = merge_chunks(chunks)
        usage: dict[str, Any] = dict(ai.usage_metadata or {})
        turn.input_tokens += int(usage.get("input_tokens", 0))
        turn.output_tokens += int(usage.get("output_tokens", 0))
        await self._trace_model(turn, model, messages, ai, started, None)
        out.append(ai)

    def _system(self, turn: Turn) -> SystemMessage:
        """The system prompt, rendered once per turn for this caller and place."""
        if turn.system is None:
            turn.system = SystemMessage(content=self._render_system(turn))
        return turn.system

    def _render_system(self, turn: Turn) -> str:
        subject = turn.ctx.subject
        org = turn.ctx.organization
        return render(
            "system",
            today=utcnow().date().isoformat(),
            user=subject.display,
            role=subject.grants.orgs.get(org.id, "member"),
            organization=org.name,
            workspace=turn.session.workspace,
            project=turn.session.project,
            simulated=self.cluster_label == "simulated",
            read_only=turn.read_only,
            summary=turn.session.summary,
            tools=[t.name for t in turn.offered],
        )

    def _final(self, turn: Turn, text: str) -> FinalEvent:
        if turn.fallback:
            text = (
                f"(The configured model could not answer: {turn.fallback}; "
                f"the offline planner answered instead.)\n\n{text}"
            )
        return FinalEvent(
            text=text,
            fallback=turn.fallback,
            input_tokens=turn.input_tokens,
            output_tokens=turn.output_tokens,
            steps=turn.steps,
        )

    def _budget_final(self, turn: Turn, spent: str) -> FinalEvent:
        found = [
            text_of(m).split("\n", 2)[1] if "\n" in text_of(m) else text_of(m)
            for m in turn.session.messages[-6:]
            if isinstance(m, ToolMessage)
        ]
        text = f"I stopped because this turn used up {spent}."
        if found:
            text += " What I found so far:\n" + "\n".join(f"- {line[:200]}" for line in found)
        event = self._final(turn, text)
        event.status = "budget_exceeded"
        turn.session.messages.append(AIMessage(content=text))
        return event

    # ------------------------------------------------------------------ approvals

    def check_decider(
        self, call: CallContext, organization: Organization, approval: PendingApproval
    ) -> None:
        """Only the requester (for a write) or an admin of the place (for anything) decides."""
        subject = call.subject
        resource = Resource(
            kind="approval",
            organization_id=organization.id,
            workspace_id=uuid.UUID(approval.workspace_id) if approval.workspace_id else None,
            project_path=tuple(uuid.UUID(p) for p in approval.project_path),
            organization_active=organization.status == "active",
        )
        if organization.id not in subject.grants.orgs:
            raise NotFound("approval not found")
        if authorize(subject, "approval.destructive", resource):
            return
        if approval.approver == "requester" and subject.id == approval.requester_id:
            return
        if approval.approver == "admin":
            raise Forbidden("a workspace or organization admin must decide this destructive action")
        raise Forbidden("only the person who asked, or an admin, can decide this approval")

    async def _trace_model(
        self,
        turn: Turn,
        model: ModelChoice,
        messages: list[BaseMessage],
        ai: AIMessage,
        started: object,
        error: BaseException | None,
    ) -> None:
        usage: dict[str, Any] = dict(ai.usage_metadata or {})
        await turn.trace.model_call(
            ModelCall(
                call_id=uuid.uuid4(),
                provider=model.provider,
                model=model.model,
                started_at=started,  # type: ignore[arg-type]
                ended_at=utcnow(),
                input_tokens=int(usage.get("input_tokens", 0)),
                output_tokens=int(usage.get("output_tokens", 0)),
                input_messages=[
                    # tool output was redacted by the toolset already
                    {
                        "role": m.type,
                        "content": (text_of(m) if m.type == "tool" else redact(text_of(m)))[:2000],
                    }
                    for m in messages[-6:]
                ],
                output_text=redact(text_of(ai)),
                tool_calls=[
                    redact_data({"name": c["name"], "args": c["args"]}) for c in ai.tool_calls
                ],
                error=f"{type(error).__name__}: {redact(str(error))[:500]}" if error else None,
                fallback_from=None,
            )
        )

    async def _trace_tool(
        self,
        turn: Turn,
        call_id: str,
        tool: str,
        risk: str,
        arguments: dict[str, object],
        result: ToolResult,
        started: object,
    ) -> None:
        from agents.telemetry.base import ToolCall

        turn.tool_calls += 1
        await turn.trace.tool_call(
            ToolCall(
                call_id=call_id,
                tool=tool,
                risk=risk,
                arguments=redact_data(arguments),
                status=result.status,
                started_at=started,  # type: ignore[arg-type]
                ended_at=utcnow(),
                output=result.text()[:4000],
                error=result.summary if result.status == "error" else None,
            )
        )
