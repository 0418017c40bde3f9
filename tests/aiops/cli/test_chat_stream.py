"""``aiops chat`` over HTTP: SSE read as it comes, resumed after a dropped connection, refusals
as one message, a refused demo token renewed once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from agents.events import AgentEvent, DeltaEvent, FinalEvent
from aiops.cli.chat_backend import ChatError, Defaults
from aiops.cli.chat_http import HttpBackend
from tests.support.agent import session_event

TURN = "t1"
EVENTS: list[AgentEvent] = [
    session_event(turn_id=TURN),
    DeltaEvent(seq=2, turn_id=TURN, text="Hel"),
    DeltaEvent(seq=3, turn_id=TURN, text="lo"),
    FinalEvent(seq=4, turn_id=TURN, text="Hello"),
]


def sse(events: list[AgentEvent]) -> bytes:
    return b"".join(
        f"id: {e.turn_id}:{e.seq}\nevent: {e.type}\ndata: {e.model_dump_json()}\n\n".encode()
        for e in events
    )


class Dropped(httpx.AsyncByteStream):
    """A body that breaks off after its first part, as a reset connection does."""

    def __init__(self, sent: bytes) -> None:
        self.sent = sent

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.sent
        raise httpx.ReadError("connection reset by peer")


class Service:
    """The chat API as seen on the wire, with a stream that drops after two events."""

    def __init__(self) -> None:
        self.resumed_after: list[str | None] = []
        self.tokens: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.tokens.append(request.headers["authorization"])
        if request.headers["authorization"] == "Bearer expired":
            error = {"code": "unauthenticated", "message": "the token has expired"}
            return httpx.Response(401, json={"error": error})
        path = request.url.path
        if path == "/api/v1/auth/me":
            return httpx.Response(200, json={"kind": "user", "id": "u1", "email": "a@demo.local"})
        if path == "/api/v1/chat/sessions":
            return httpx.Response(201, json={"id": "s1"})
        if path == "/api/v1/chat/sessions/s1/messages":
            headers = {"content-type": "text/event-stream", "x-turn-id": TURN}
            return httpx.Response(200, headers=headers, stream=Dropped(sse(EVENTS[:2])))
        if path == f"/api/v1/chat/sessions/s1/turns/{TURN}/events":
            self.resumed_after.append(request.headers.get("last-event-id"))
            after = int(request.headers["last-event-id"].rpartition(":")[2])
            headers = {"content-type": "text/event-stream"}
            return httpx.Response(200, headers=headers, content=sse(EVENTS[after:]))
        if path == "/api/v1/chat/approvals/busy/approve":
            error = {"code": "conflict", "message": "this conversation is already answering"}
            return httpx.Response(409, json={"error": error})
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "not found"}})


def backend(service: Service, token: str) -> HttpBackend:
    async def renew() -> str:
        return "fresh"

    return HttpBackend(
        "http://aiops.test",
        token,
        Defaults(organization="demo"),
        renew=renew,
        transport=httpx.MockTransport(service),
        resume_delay=0,
    )


async def test_a_dropped_stream_is_resumed_after_the_last_event_seen() -> None:
    service = Service()
    client = backend(service, "fresh")
    events = [event async for event in client.send(None, "hi")]
    await client.close()
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert "".join(e.text for e in events if isinstance(e, DeltaEvent)) == "Hello"
    assert service.resumed_after == [f"{TURN}:2"]


async def test_an_expired_demo_token_is_renewed_once() -> None:
    service = Service()
    client = backend(service, token="expired")
    assert await client.start() == "a@demo.local"
    await client.close()
    assert service.tokens == ["Bearer expired", "Bearer fresh"]


async def test_refusals_carry_the_service_message() -> None:
    client = backend(Service(), "fresh")
    with pytest.raises(ChatError, match="already answering") as busy:
        [event async for event in client.decide("busy", True)]
    assert busy.value.status == 409
    with pytest.raises(ChatError, match="not found"):
        await client.session("nope")
    await client.close()


async def test_a_service_that_does_not_answer_is_one_message() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    client = HttpBackend(
        "http://aiops.test",
        "t",
        Defaults(organization="demo"),
        transport=httpx.MockTransport(refuse),
    )
    with pytest.raises(ChatError, match=r"the service at http://aiops.test did not answer"):
        await client.sessions()
    await client.close()
