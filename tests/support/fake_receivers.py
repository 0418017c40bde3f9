"""Local stand-ins for the places notifications go, speaking the real protocols.

``FakeReceiver`` is an aiohttp server on loopback, in the test's event loop, that records every
request (method, path, headers, raw body) and answers from a script of ``Reply`` items, then
with its default reply. It plays a Slack incoming webhook (``"ok"``), the Slack Web API
(``Reply.slack(...)``) or any webhook receiver; ``closed_url()`` is a loopback URL where nothing
listens.

``FakeSmtpServer`` is aiosmtpd on an ephemeral loopback port that keeps each message it accepts
(parsed, plus the envelope), can require a login and can refuse ``DATA`` from a script.

Usage::

    async with FakeReceiver() as receiver:
        receiver.script(Reply(503), Reply(200))
        ... post to receiver.url("/hook") ...
        assert receiver.requests[-1].json()["event"] == "incident_opened"

    with FakeSmtpServer() as smtp:
        ... send to smtp.host, smtp.port ...
        assert smtp.messages[0].message["Subject"]
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import TracebackType
from typing import Any, Self, cast

from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.support.server import free_port


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: str | dict[str, Any] = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    @classmethod
    def slack(cls, *, ok: bool = True, error: str | None = None) -> Reply:
        """What the Slack Web API answers: always HTTP 200, success or not in the JSON."""
        body: dict[str, Any] = {"ok": ok}
        if error:
            body["error"] = error
        return cls(200, body)


class FakeReceiver:
    def __init__(self, *, default: Reply | None = None) -> None:
        self.default = default or Reply()
        self.requests: list[ReceivedRequest] = []
        self._script: deque[Reply] = deque()
        self._runner: web.AppRunner | None = None
        self._port = 0

    def script(self, *replies: Reply) -> Self:
        """Answer the next requests with ``replies``, in order, then with the default."""
        self._script.extend(replies)
        return self

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self._port}{path}"

    @staticmethod
    def closed_url(path: str = "/") -> str:
        """A loopback URL nobody listens on: connecting is refused at once."""
        return f"http://127.0.0.1:{free_port()}{path}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(
            ReceivedRequest(
                method=request.method,
                path=request.path_qs,
                headers={name.lower(): value for name, value in request.headers.items()},
                body=await request.read(),
            )
        )
        reply = self._script.popleft() if self._script else self.default
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if isinstance(reply.body, dict):
            return web.json_response(reply.body, status=reply.status, headers=reply.headers)
        return web.Response(text=reply.body, status=reply.status, headers=reply.headers)

    async def start(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        address = cast(tuple[str, int], self._runner.addresses[0])
        self._port = address[1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    login: tuple[str, str] | None


class FakeSmtpServer:
    """An SMTP server on loopback (its own thread, as aiosmtpd runs it)."""

    def __init__(self, *, credentials: tuple[str, str] | None = None) -> None:
        self.credentials = credentials
        self.messages: list[ReceivedMail] = []
        self.data_replies: deque[str] = deque()  # e.g. "451 4.3.0 try again later"
        self.host = "127.0.0.1"
        self.port = free_port()
        self._logins: dict[int, tuple[str, str]] = {}
        self._controller = Controller(
            self,
            hostname=self.host,
            port=self.port,
            auth_require_tls=False,
            authenticator=self._authenticate if credentials else None,
            ready_timeout=5.0,
        )

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = (data.login.decode(), data.password.decode())
        if login != self.credentials:
            return AuthResult(success=False, handled=False)
        self._logins[id(session)] = login
        return AuthResult(success=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_replies:
            return self.data_replies.popleft()
        if self.credentials and id(session) not in self._logins:
            return "530 5.7.0 Authentication required"
        content = cast(bytes, envelope.original_content or envelope.content)
        message = message_from_bytes(content, policy=policy.default)
        self.messages.append(
            ReceivedMail(
                mail_from=str(envelope.mail_from),
                rcpt_tos=list(envelope.rcpt_tos),
                message=message,
                login=self._logins.get(id(session)),
            )
        )
        return "250 2.0.0 OK"

    def __enter__(self) -> Self:
        self._controller.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._controller.stop()
