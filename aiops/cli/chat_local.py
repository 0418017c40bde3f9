"""The agent in this process: the same runtime, database and twin state as the service.

Turns run as the service runs them: in the background through the turn manager, followed from
their stream. So a turn the person stops waiting for (Ctrl-C) goes on until it ends or the
command exits, exactly as it would in the service.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession

from agents.approvals import PendingApproval
from agents.events import AgentEvent
from agents.runtime import TurnRequest
from aiops.chat.schemas import ApprovalRead, SessionRead
from aiops.cli.chat_backend import ChatError, Defaults, refusals
from aiops.state import AppState
from platform_core.auth.service import AuthService
from platform_core.config import Settings
from platform_core.context import CallContext
from platform_core.errors import DomainError, NotFound
from platform_core.rbac.subject import Subject
from platform_core.tenancy.models import Organization
from platform_core.tenancy.repository import resolve_org, user_by_email

DEMO_ADMIN = "admin@demo.local"


async def demo_admin_token(session: AsyncSession, auth: AuthService) -> str:
    """A fresh access token of the demo admin (the caller commits its login session)."""
    user = await user_by_email(session, DEMO_ADMIN)
    if user is None:
        raise ChatError("no demo admin: run `make run` once, or pass --token")
    return (await auth.open_session(session, user.id)).access_token


def approval_read(approval: PendingApproval) -> ApprovalRead:
    return ApprovalRead.model_validate(approval, from_attributes=True)


class LocalBackend:
    def __init__(self, settings: Settings, token: str | None, defaults: Defaults) -> None:
        self.where = "in-process (same database and twin as the service)"
        self.left_running = "in this process until you leave"
        self.settings = settings
        self.defaults = defaults
        self._token = token
        self._state: AppState | None = None
        self._call: CallContext | None = None

    @property
    def state(self) -> AppState:
        if self._state is None:
            raise RuntimeError("start() the backend first")
        return self._state

    @property
    def call(self) -> CallContext:
        if self._call is None:
            raise RuntimeError("start() the backend first")
        return self._call

    async def start(self) -> str:
        self._state = AppState.build(self.settings)
        await self._state.start()
        with refusals():
            subject = await self._subject()
        self._call = CallContext(subject=subject, request_id="cli")
        return subject.display

    async def _subject(self) -> Subject:
        async with self.state.db.session() as session:
            token = self._token or await demo_admin_token(session, self.state.auth)
            subject = await self.state.auth.authenticate(session, token)
            await session.commit()
        return subject

    async def close(self) -> None:
        if self._state is not None:
            await self._state.close()  # stops turns still running; saves the twin
            self._state = None

    async def _organization(self, ref: str) -> Organization:
        with refusals():
            async with self.state.db.session() as session:
                return await resolve_org(session, self.call.subject, ref)

    async def _follow(self, events: AsyncIterator[AgentEvent]) -> AsyncIterator[AgentEvent]:
        turn_id = await self.state.turns.start(events, owner_id=self.call.subject.id)
        async for event in self.state.turns.follow(turn_id):
            yield event

    async def send(self, session_id: str | None, message: str) -> AsyncIterator[AgentEvent]:
        org = await self._organization(self.defaults.organization)
        request = TurnRequest(
            call=self.call,
            organization=org,
            message=message,
            session_id=session_id,
            workspace=self.defaults.workspace if session_id is None else None,
            read_only=self.defaults.read_only,
        )
        with refusals():
            events = await self.state.runtime.chat(request)
        async for event in self._follow(events):
            yield event

    async def decide(self, approval_id: str, approve: bool) -> AsyncIterator[AgentEvent]:
        with refusals():
            approval = await self.state.runtime.approvals.find(approval_id)
            if approval is None:
                raise NotFound("approval not found")
            org = await self._organization(approval.organization_id)
            events = await self.state.runtime.decide(
                call=self.call, organization=org, approval_id=approval_id, approve=approve
            )
        async for event in self._follow(events):
            yield event

    async def sessions(self) -> list[SessionRead]:
        org = await self._organization(self.defaults.organization)
        found = await self.state.runtime.sessions.list_for(
            owner_id=self.call.subject.id, organization_id=str(org.id)
        )
        return [SessionRead.of(session) for session in found]

    async def session(self, session_id: str) -> SessionRead:
        org = await self._organization(self.defaults.organization)
        with refusals():
            found = await self.state.runtime.sessions.get_for(
                session_id, owner_id=self.call.subject.id, organization_id=str(org.id)
            )
        return SessionRead.of(found)

    async def approvals(self) -> list[ApprovalRead]:
        org = await self._organization(self.defaults.organization)
        allowed = []
        for approval in await self.state.runtime.approvals.list_pending(str(org.id)):
            try:
                self.state.runtime.check_decider(self.call, org, approval)
            except DomainError:
                continue  # not theirs to decide: not listed, as in the API
            allowed.append(approval_read(approval))
        return allowed
