"""The agent of a running service, over its chat API with Server-Sent Events.

Each turn is read as it streams. When the stream drops before the turn's last event, the client
follows the turn again from where it was (``Last-Event-ID: <turn_id>:<seq>``): the turn runs in
the service whatever happens to the connection. A refused token is renewed once when the CLI
can issue one itself (the demo admin), since an interactive session outlives a 15-minute token.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter

from agents.events import TERMINAL_TYPES, AgentEvent
from aiops.chat.schemas import ApprovalRead, SessionRead
from aiops.cli.chat_backend import ChatError, Defaults

EVENT: TypeAdapter[AgentEvent] = TypeAdapter(AgentEvent)
SESSIONS: TypeAdapter[list[SessionRead]] = TypeAdapter(list[SessionRead])
APPROVALS: TypeAdapter[list[ApprovalRead]] = TypeAdapter(list[ApprovalRead])
CHAT = "/api/v1/chat"
SSE = "text/event-stream"
RESUME_ATTEMPTS = 5
Renew = Callable[[], Awaitable[str]]


@dataclass
class _Progress:
    """How far a turn has been read, to resume it after a dropped stream."""

    session_id: str | None
    turn_id: str | None = None
    seq: int = 0

    def see(self, event: AgentEvent) -> None:
        self.turn_id, self.seq = event.turn_id or self.turn_id, event.seq
        if event.type == "session":
            self.session_id = event.session_id


async def read_sse(response: httpx.Response) -> AsyncIterator[AgentEvent]:
    """The agent events of an SSE body (``data`` holds the whole event; ids are in it too)."""
    data: list[str] = []
    async for line in response.aiter_lines():
        if not line:
            if data:
                yield EVENT.validate_json("\n".join(data))
                data = []
            continue
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value.removeprefix(" "))


def error_of(response: httpx.Response) -> ChatError:
    """The service's own error message (``{"error": {"code", "message"}}``)."""
    try:
        error = response.json().get("error", {})
        code, message = str(error.get("code", "error")), str(error.get("message", ""))
    except ValueError:
        code, message = "error", response.text[:200]
    if response.status_code == 401:
        message = f"{message or 'not authenticated'} (pass a valid --token)"
    return ChatError(message or response.reason_phrase, code=code, status=response.status_code)


class HttpBackend:
    def __init__(
        self,
        base_url: str,
        token: str,
        defaults: Defaults,
        *,
        renew: Renew | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        resume_delay: float = 0.5,
    ) -> None:
        self.where = f"the service at {base_url}"
        self.left_running = "in the service"
        self.defaults = defaults
        self._renew = renew
        self._resume_delay = resume_delay
        self.http = httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(30.0, read=300.0),
            transport=transport,
        )

    # ------------------------------------------------------------------ plain requests

    async def _send(
        self, method: str, url: str, *, stream: bool = False, **options: Any
    ) -> httpx.Response:
        """A request; a refused token is renewed once; any failure becomes a ``ChatError``."""
        for attempt in range(2):
            request = self.http.build_request(method, url, **options)
            try:
                response = await self.http.send(request, stream=stream)
            except httpx.TransportError as error:
                raise ChatError(
                    f"{self.where} did not answer ({type(error).__name__})", code="unreachable"
                ) from None
            if response.status_code == 401 and attempt == 0 and self._renew is not None:
                await response.aclose()
                self.http.headers["Authorization"] = f"Bearer {await self._renew()}"
                continue
            if response.status_code >= 400:
                await response.aread()
                await response.aclose()
                raise error_of(response)
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    async def start(self) -> str:
        me = (await self._send("GET", "/api/v1/auth/me")).json()
        return str(me.get("email") or f"{me.get('kind')}:{me.get('id')}")

    async def close(self) -> None:
        await self.http.aclose()

    async def sessions(self) -> list[SessionRead]:
        params = {"organization": self.defaults.organization}
        response = await self._send("GET", f"{CHAT}/sessions", params=params)
        return SESSIONS.validate_json(response.content)

    async def session(self, session_id: str) -> SessionRead:
        response = await self._send("GET", f"{CHAT}/sessions/{quote(session_id, safe='')}")
        return SessionRead.model_validate_json(response.content)

    async def approvals(self) -> list[ApprovalRead]:
        params = {"organization": self.defaults.organization}
        response = await self._send("GET", f"{CHAT}/approvals", params=params)
        return APPROVALS.validate_json(response.content)

    async def _create_session(self, title: str) -> str:
        body = {
            "organization": self.defaults.organization,
            "workspace": self.defaults.workspace,
            "read_only": self.defaults.read_only,
            "title": title,
        }
        return str((await self._send("POST", f"{CHAT}/sessions", json=body)).json()["id"])

    # ------------------------------------------------------------------ turns

    async def send(self, session_id: str | None, message: str) -> AsyncIterator[AgentEvent]:
        if session_id is None:
            session_id = await self._create_session(" ".join(message.split())[:60])
        url = f"{CHAT}/sessions/{quote(session_id, safe='')}/messages"
        async for event in self._turn(url, _Progress(session_id), {"content": message}):
            yield event

    async def decide(self, approval_id: str, approve: bool) -> AsyncIterator[AgentEvent]:
        verb = "approve" if approve else "deny"
        url = f"{CHAT}/approvals/{quote(approval_id, safe='')}/{verb}"
        async for event in self._turn(url, _Progress(None), None):
            yield event

    async def _turn(
        self, url: str, progress: _Progress, body: dict[str, Any] | None
    ) -> AsyncIterator[AgentEvent]:
        """Start a turn and read its stream; resume it if the stream drops."""
        response = await self._send("POST", url, stream=True, json=body, headers={"Accept": SSE})
        progress.turn_id = response.headers.get("x-turn-id")
        try:
            async for event in read_sse(response):
                progress.see(event)
                yield event
                if event.type in TERMINAL_TYPES:
                    return
        except httpx.TransportError:
            pass  # dropped: follow the turn again below
        finally:
            await response.aclose()
        async for event in self._resume(progress):
            yield event

    async def _resume(self, progress: _Progress) -> AsyncIterator[AgentEvent]:
        if progress.turn_id is None or progress.session_id is None:
            raise ChatError("the stream broke before the turn could be followed", code="lost")
        url = f"{CHAT}/sessions/{progress.session_id}/turns/{progress.turn_id}/events"
        failures = 0
        while failures < RESUME_ATTEMPTS:
            await asyncio.sleep(self._resume_delay * failures)
            failures += 1
            headers = {"Accept": SSE, "Last-Event-ID": f"{progress.turn_id}:{progress.seq}"}
            try:
                response = await self._send("GET", url, stream=True, headers=headers)
            except ChatError as error:
                if error.code == "unreachable":
                    continue
                raise
            try:
                async for event in read_sse(response):
                    progress.see(event)
                    failures = 0
                    yield event
                    if event.type in TERMINAL_TYPES:
                        return
            except httpx.TransportError:
                continue
            finally:
                await response.aclose()
        raise ChatError(
            f"lost the stream of turn {progress.turn_id}; it goes on in the service",
            code="lost",
        )
