"""What the bot does with a message or a button click, once Bolt has verified and parsed it.

Every path starts by resolving the Slack account through its explicit link; an unlinked
account is told how to link and nothing else happens. A message continues the agent session
of its thread (one session per thread, owned by whoever started it); the turn runs in the
background and its reply is updated in place. A click decides an approval as the clicking
person: the runtime checks that person may (requester for a write, admin for destructive);
a refusal is shown only to them and the buttons stay.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from agents.events import AgentEvent
from agents.runtime import TurnRequest
from agents.sessions import Session
from aiops.slack import texts
from aiops.slack.config import SlackConfig
from aiops.slack.linking import LinkCodes, LinkedCaller, caller_for, linked_caller, save_link
from aiops.slack.render import Block, ReplyView, SlackMessage, decided_blocks, escape, plain
from aiops.slack.store import SlackStore
from aiops.slack.stream import stream_reply, update_message
from aiops.state import AppState
from platform_core.audit.service import Outcome, record
from platform_core.context import CallContext
from platform_core.errors import Conflict, DomainError

logger = logging.getLogger(__name__)
LINK_COMMAND = re.compile(r"^\s*link\s+(?P<code>[A-Za-z0-9-]{4,40})\s*$", re.IGNORECASE)
LINK_ATTEMPTS = 5
LINK_WINDOW_SECONDS = 600
BUSY_RETRIES = 8
BUSY_DELAY_SECONDS = 0.25


@dataclass(frozen=True)
class Incoming:
    """A message addressed to the bot: a mention in a channel, or anything in a DM."""

    team_id: str
    user: str
    channel: str
    ts: str
    thread_ts: str | None
    text: str
    direct: bool

    @property
    def root(self) -> str:
        """The thread this message belongs to (a top-level message starts one)."""
        return self.thread_ts or self.ts


@dataclass(frozen=True)
class Click:
    """An Approve or Deny button pressed on an approval prompt."""

    team_id: str
    user: str
    channel: str
    approval_id: str
    approve: bool
    message_ts: str
    thread_ts: str
    blocks: list[Block] = field(default_factory=list)
    text: str = ""


def request_id() -> str:
    return f"slack-{uuid.uuid4().hex[:16]}"


async def when_free(
    start: Callable[[], Awaitable[AsyncIterator[AgentEvent]]],
) -> AsyncIterator[AgentEvent]:
    """Start a turn, waiting a moment if its conversation is still busy.

    A turn's last event reaches Slack just before the runtime has saved the session and let go
    of it; someone who answers at once (a click, a quick follow-up) would otherwise be told the
    conversation is busy. Starting has no side effects before the lock, so retrying is safe; a
    conversation that stays busy still gets the conflict.
    """
    for _ in range(BUSY_RETRIES - 1):
        try:
            return await start()
        except Conflict:
            await asyncio.sleep(BUSY_DELAY_SECONDS)
    return await start()


def owns(caller: LinkedCaller, session: Session) -> bool:
    """A thread's conversation is its starter's, in the organization it was started in."""
    return session.owner_id == caller.call.subject.id and session.organization_id == str(
        caller.organization.id
    )


class Handlers:
    def __init__(self, state: AppState, client: AsyncWebClient, config: SlackConfig) -> None:
        self.state = state
        self.client = client
        self.config = config
        self._store: SlackStore | None = None
        self.codes = LinkCodes(
            state.redis, state.keyspace, state.settings.secret_key.get_secret_value()
        )

    @property
    def store(self) -> SlackStore:
        """Built on first use: the session TTL is known once the runtime has started."""
        if self._store is None:
            self._store = SlackStore(
                self.state.redis,
                self.state.keyspace,
                session_ttl_seconds=self.state.runtime.sessions.ttl,
            )
        return self._store

    # ------------------------------------------------------------------ Slack calls

    async def post(self, channel: str, message: SlackMessage, thread_ts: str | None) -> str:
        response = await self.client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, text=message.text, blocks=message.blocks
        )
        return str(response["ts"])

    async def whisper(
        self, channel: str, user: str, text: str, thread_ts: str | None = None
    ) -> None:
        """A message only ``user`` sees (``chat.postEphemeral``)."""
        message = plain(text)
        await self.client.chat_postEphemeral(
            channel=channel,
            user=user,
            text=message.text,
            blocks=message.blocks,
            thread_ts=thread_ts,
        )

    async def answer(self, incoming: Incoming, text: str) -> None:
        """Our own short answer: in a DM a message, in a channel only the sender sees it."""
        if incoming.direct:
            await self.post(incoming.channel, plain(text), incoming.thread_ts)
        else:
            await self.whisper(incoming.channel, incoming.user, text, incoming.thread_ts)

    async def audit(
        self,
        call: CallContext,
        *,
        action: str,
        organization_id: uuid.UUID | None,
        target_type: str,
        target_id: str | uuid.UUID,
        outcome: Outcome = "success",
        details: dict[str, Any] | None = None,
    ) -> None:
        async with self.state.db.session() as session:
            record(
                session,
                call,
                action=action,
                organization_id=organization_id,
                target_type=target_type,
                target_id=target_id,
                outcome=outcome,
                details=details,
            )
            await session.commit()

    async def admitted(self, caller: LinkedCaller) -> bool:
        """The per-account rate limit of the API applies in Slack too (same bucket)."""
        settings = self.state.settings
        if not settings.rate_limit_enabled:
            return True
        subject = caller.call.subject
        decision = await self.state.auth.limiter.hit(
            f"subject:{subject.kind}:{subject.id}", limit=settings.rate_limit_user_per_minute
        )
        return decision.allowed

    # ------------------------------------------------------------------ messages

    async def on_message(self, incoming: Incoming) -> None:
        if not await self.store.first_delivery(incoming.team_id, incoming.channel, incoming.ts):
            return
        command = LINK_COMMAND.match(incoming.text)
        if command is not None:
            await self.link(incoming, command.group("code"))
            return
        caller = await linked_caller(
            self.state.db, incoming.team_id, incoming.user, request_id=request_id()
        )
        if caller is None:
            await self.answer(incoming, texts.link_instruction(self.config.public_url))
            return
        await self.converse(caller, incoming)

    async def link(self, incoming: Incoming, code: str) -> None:
        if not incoming.direct:
            await self.codes.void(code)
            await self.answer(incoming, texts.LINK_ONLY_IN_DM)
            return
        attempts = await self.state.auth.limiter.hit(
            f"slack-link:{incoming.team_id}:{incoming.user}",
            limit=LINK_ATTEMPTS,
            window_seconds=LINK_WINDOW_SECONDS,
        )
        if not attempts.allowed:
            await self.answer(incoming, texts.LINK_RATE_LIMITED)
            return
        owner = await self.codes.redeem(code)
        if owner is None:
            await self.answer(incoming, texts.LINK_REFUSED)
            return
        async with self.state.db.session() as session:
            found = await caller_for(session, owner.user_id, owner.organization_id, request_id())
            if found is None:
                await self.answer(incoming, texts.LINK_NO_LONGER_VALID)
                return
            call, organization = found
            link = await save_link(session, incoming.team_id, incoming.user, owner)
            record(
                session,
                call,
                action="slack.link",
                organization_id=organization.id,
                target_type="slack_link",
                target_id=link.id,
                details={"team_id": incoming.team_id, "slack_user_id": incoming.user},
            )
            await session.commit()
        subject = call.subject
        name = subject.name or subject.display
        await self.answer(
            incoming, texts.linked(escape(name), subject.email, escape(organization.name))
        )

    async def converse(self, caller: LinkedCaller, incoming: Incoming) -> None:
        if not await self.admitted(caller):
            await self.whisper(incoming.channel, incoming.user, texts.TOO_MANY, incoming.root)
            return
        session_id = await self.store.thread_session(
            incoming.team_id, incoming.channel, incoming.root
        )
        if session_id is not None:
            session = await self.state.runtime.sessions.load(session_id)
            if session is None:
                session_id = None  # expired: the thread starts a new conversation
            elif not owns(caller, session):
                await self.whisper(
                    incoming.channel, incoming.user, texts.NOT_YOUR_THREAD, incoming.root
                )
                return
        reply_ts = await self.post(incoming.channel, ReplyView().message(), incoming.root)
        request = TurnRequest(
            call=caller.call,
            organization=caller.organization,
            message=incoming.text.strip() or "help",
            session_id=session_id,
        )
        try:
            events = await when_free(lambda: self.state.runtime.chat(request))
            turn_id = await self.state.turns.start(events, owner_id=caller.call.subject.id)
        except DomainError as error:
            await self.fail(incoming.channel, reply_ts, error)
            return
        await self.follow(incoming.team_id, incoming.channel, incoming.root, reply_ts, turn_id)

    async def follow(
        self, team_id: str, channel: str, root: str, reply_ts: str, turn_id: str
    ) -> ReplyView:
        """Keep the reply ``reply_ts`` up to date with the turn running in the background."""

        async def remember(session_id: str) -> None:
            await self.store.remember_thread(team_id, channel, root, session_id)

        return await stream_reply(
            self.client,
            channel,
            reply_ts,
            self.state.turns.follow(turn_id),
            interval=self.config.update_interval_seconds,
            on_session=remember,
        )

    async def fail(self, channel: str, ts: str, error: DomainError) -> None:
        view = ReplyView()
        view.fail(error.code, error.message)
        await update_message(self.client, channel, ts, view)

    # ------------------------------------------------------------------ approvals

    async def on_click(self, click: Click) -> None:
        caller = await linked_caller(
            self.state.db, click.team_id, click.user, request_id=request_id()
        )
        if caller is None:
            await self.whisper(
                click.channel,
                click.user,
                texts.link_first(self.config.public_url),
                click.thread_ts,
            )
            return
        if not await self.admitted(caller):
            await self.whisper(click.channel, click.user, texts.TOO_MANY, click.thread_ts)
            return
        verb = "approve" if click.approve else "deny"
        approval = await self.state.runtime.approvals.find(click.approval_id)
        if approval is None or approval.organization_id != str(caller.organization.id):
            await self.whisper(click.channel, click.user, texts.APPROVAL_NOT_FOUND, click.thread_ts)
            return
        runtime = self.state.runtime
        try:
            if approval.status != "pending" or approval.expired:
                status = "expired" if approval.expired else approval.status
                raise Conflict(f"this approval is already {status}")
            events = await when_free(
                lambda: runtime.decide(
                    call=caller.call,
                    organization=caller.organization,
                    approval_id=click.approval_id,
                    approve=click.approve,
                )
            )
        except DomainError as error:
            await self.audit(
                caller.call,
                action=f"slack.{verb}",
                organization_id=caller.organization.id,
                target_type="approval",
                target_id=click.approval_id,
                outcome="denied" if error.status_code in (401, 403, 404) else "failed",
                details={"reason": error.message, "tool": approval.tool},
            )
            await self.whisper(
                click.channel, click.user, texts.decision_refused(error.message), click.thread_ts
            )
            return
        # decided: the turn runs now, whatever happens to the Slack messages about it
        turn_id = await self.state.turns.start(events, owner_id=caller.call.subject.id)
        await self.audit(
            caller.call,
            action=f"slack.{verb}",
            organization_id=caller.organization.id,
            target_type="approval",
            target_id=click.approval_id,
            details={"tool": approval.tool},
        )
        await self.mark_decided(click, caller)
        reply_ts = await self.post(click.channel, ReplyView().message(), click.thread_ts)
        await self.follow(click.team_id, click.channel, click.thread_ts, reply_ts, turn_id)

    async def mark_decided(self, click: Click, caller: LinkedCaller) -> None:
        """Replace the buttons with who decided, so nobody clicks a decided prompt."""
        by = f"<@{click.user}> ({escape(caller.name)})"
        blocks = decided_blocks(click.blocks, approved=click.approve, by=by)
        verb = "Approved" if click.approve else "Denied"
        try:
            await self.client.chat_update(
                channel=click.channel,
                ts=click.message_ts,
                text=f"{verb} by {caller.name}: {click.text}"[:3000],
                blocks=blocks,
            )
        except SlackApiError as error:  # the decision stands; only its display was lost
            logger.warning("could not mark the approval decided: %s", error.response.get("error"))
