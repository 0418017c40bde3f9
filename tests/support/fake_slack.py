"""A local fake of the Slack Web API, and Slack's side of the Events API, for tests.

``FakeSlack`` is an aiohttp server on loopback (in the test's event loop) answering the methods
the bot uses: ``auth.test``, ``chat.postMessage``, ``chat.update``, ``chat.postEphemeral`` and
``conversations.replies``. It checks the bearer token (``invalid_auth`` otherwise), keeps the
messages it was sent (with every version ``chat.update`` wrote) and records every call. Point
the SDK at ``base_url``.

The helpers build what Slack would send the bot: event envelopes and block-action payloads,
signed like Slack signs them (``v0=`` HMAC-SHA256 over ``v0:{timestamp}:{body}``).

Usage::

    async with FakeSlack(token="xoxb-test") as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)
        ...
        assert slack.calls_to("chat.update")
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx
from aiohttp import web

from aiops.slack.bot import SlackBot

TEAM_ID = "T0AIOPS"
BOT_USER_ID = "UBOTAIOPS"
BOT_ID = "BBOTAIOPS"
BOT_TOKEN = "xoxb-test"
CHANNEL = "C0OPS"
EVENTS_PATH = "/slack/events"


def dm_channel(user: str) -> str:
    return "D" + user.removeprefix("U")


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str | None


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None
    versions: list[dict[str, Any]] = field(default_factory=list)

    def all_text(self) -> str:
        """The fallback text and every text inside the blocks, for assertions."""
        return self.text + "\n" + "\n".join(_texts(self.blocks))

    def has_buttons(self) -> bool:
        return any(block.get("type") == "actions" for block in self.blocks)


@dataclass
class Ephemeral:
    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]]


def _texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["text"]] if isinstance(node.get("text"), str) else []
        return found + [t for value in node.values() for t in _texts(value)]
    if isinstance(node, list):
        return [t for item in node for t in _texts(item)]
    return []


def _decoded(params: dict[str, Any]) -> dict[str, Any]:
    """Form posts carry blocks as a JSON string; JSON posts as a list."""
    if isinstance(params.get("blocks"), str):
        params["blocks"] = json.loads(params["blocks"])
    return params


class FakeSlack:
    def __init__(
        self,
        *,
        token: str = BOT_TOKEN,
        team_id: str = TEAM_ID,
        bot_user_id: str = BOT_USER_ID,
        host: str = "127.0.0.1",
    ) -> None:
        self.token = token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.host = host
        self.calls: list[Call] = []
        self.messages: dict[tuple[str, str], Message] = {}
        self.ephemerals: list[Ephemeral] = []
        self._clock = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://{self.host}:{port}/api/"
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ queries

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def thread(self, channel: str, thread_ts: str) -> list[Message]:
        """The bot's messages in a thread, oldest first."""
        return sorted(
            (
                m
                for m in self.messages.values()
                if m.channel == channel and m.thread_ts == thread_ts
            ),
            key=lambda m: float(m.ts),
        )

    def ephemerals_for(self, user: str) -> list[Ephemeral]:
        return [e for e in self.ephemerals if e.user == user]

    def next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._clock)}.000100"

    # ------------------------------------------------------------------ the Web API

    async def _dispatch(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else params.get("token")
        self.calls.append(Call(method=method, params=params, token=token))
        if token != self.token:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        handler = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "conversations.replies": self._replies,
        }.get(method)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        return web.json_response(handler(params))

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            raw = await request.text()
            if request.content_type == "application/json":
                params.update(json.loads(raw or "{}"))
            else:
                params.update(dict(urllib.parse.parse_qsl(raw)))
        return _decoded(params)

    def _auth_test(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://aiops-test.slack.com/",
            "team": "AIOps test",
            "user": "aiops",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        ts = self.next_ts()
        message = Message(
            channel=channel,
            ts=ts,
            text=str(params.get("text") or ""),
            blocks=list(params.get("blocks") or []),
            thread_ts=params.get("thread_ts") or None,
        )
        message.versions.append({"text": message.text, "blocks": message.blocks})
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": self._wire(message)}

    def _update(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (str(params.get("channel")), str(params.get("ts")))
        message = self.messages.get(key)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        message.text = str(params.get("text") or "")
        message.blocks = list(params.get("blocks") or [])
        message.versions.append({"text": message.text, "blocks": message.blocks})
        return {"ok": True, "channel": key[0], "ts": key[1], "text": message.text}

    def _post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        self.ephemerals.append(
            Ephemeral(
                channel=str(params.get("channel")),
                user=str(params.get("user")),
                text=str(params.get("text") or ""),
                blocks=list(params.get("blocks") or []),
            )
        )
        return {"ok": True, "message_ts": self.next_ts()}

    def _replies(self, params: dict[str, Any]) -> dict[str, Any]:
        thread = self.thread(str(params.get("channel")), str(params.get("ts")))
        return {"ok": True, "messages": [self._wire(m) for m in thread], "has_more": False}

    def _wire(self, message: Message) -> dict[str, Any]:
        """A message as Slack returns it (and as it comes back in a block action)."""
        wire: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": BOT_ID,
            "ts": message.ts,
            "text": message.text,
            "blocks": message.blocks,
        }
        if message.thread_ts:
            wire["thread_ts"] = message.thread_ts
        return wire

    # ------------------------------------------------------------------ Slack -> the bot

    def click_payload(
        self, message: Message, *, user: str, action_id: str, team_id: str | None = None
    ) -> dict[str, Any]:
        """The ``block_actions`` payload of ``user`` pressing ``action_id`` on ``message``."""
        button = next(
            element
            for block in message.blocks
            if block.get("type") == "actions"
            for element in block["elements"]
            if element.get("action_id") == action_id
        )
        team = team_id or self.team_id
        return {
            "type": "block_actions",
            "team": {"id": team, "domain": "aiops-test"},
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team},
            "api_app_id": "AAIOPS",
            "token": "legacy-verification-token",
            "container": {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel,
                "is_ephemeral": False,
            },
            "trigger_id": "1.2.3",
            "channel": {"id": message.channel, "name": "ops"},
            "message": self._wire(message),
            "response_url": "https://hooks.slack.invalid/actions/1",
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "aiops_approval",
                    "type": "button",
                    "value": button["value"],
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }


def event_envelope(
    event: dict[str, Any], *, team_id: str = TEAM_ID, event_id: str | None = None
) -> dict[str, Any]:
    """An Events API ``event_callback`` carrying ``event``."""
    return {
        "token": "legacy-verification-token",
        "team_id": team_id,
        "api_app_id": "AAIOPS",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{int(time.time() * 1e6)}",
        "event_time": int(time.time()),
        "authorizations": [
            {"team_id": team_id, "user_id": BOT_USER_ID, "is_bot": True, "enterprise_id": None}
        ],
    }


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, body: bytes, *, content_type: str, timestamp: int | None = None
) -> dict[str, str]:
    """The headers Slack sends: its signature over the body and a timestamp (now by default)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature(secret, stamp, body),
    }


def event_body(envelope: dict[str, Any]) -> tuple[bytes, str]:
    return json.dumps(envelope).encode(), "application/json"


def action_body(payload: dict[str, Any]) -> tuple[bytes, str]:
    """Interactivity payloads are form posts with the JSON in ``payload``."""
    encoded = urllib.parse.urlencode({"payload": json.dumps(payload)})
    return encoded.encode(), "application/x-www-form-urlencoded"


class SlackDriver:
    """Slack's side of a conversation: people writing and clicking, delivered signed to the bot.

    Every delivery waits until the bot has finished the work it started (``bot.drain()``), so
    a test reads the fake's messages as they are once the turn has run.
    """

    def __init__(
        self, http: httpx.AsyncClient, slack: FakeSlack, bot: SlackBot, *, secret: str
    ) -> None:
        self.http = http
        self.slack = slack
        self.bot = bot
        self.secret = secret

    async def deliver(
        self,
        body: bytes,
        content_type: str,
        *,
        secret: str | None = None,
        timestamp: int | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        headers = signed_headers(
            secret or self.secret, body, content_type=content_type, timestamp=timestamp
        )
        headers.update(extra_headers or {})
        response = await self.http.post(EVENTS_PATH, content=body, headers=headers)
        await self.bot.drain()
        return response

    async def event(self, event: dict[str, Any], **options: Any) -> httpx.Response:
        body, content_type = event_body(event_envelope(event))
        return await self.deliver(body, content_type, **options)

    async def dm(self, user: str, text: str, *, thread_ts: str | None = None) -> str:
        """``user`` writes to the bot in their DM; returns the message's ts."""
        ts = self.slack.next_ts()
        event = {
            "type": "message",
            "channel_type": "im",
            "channel": dm_channel(user),
            "user": user,
            "team": self.slack.team_id,
            "text": text,
            "ts": ts,
            "event_ts": ts,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        response = await self.event(event)
        assert response.status_code == 200, response.text
        return ts

    async def mention(
        self, user: str, text: str, *, channel: str = CHANNEL, thread_ts: str | None = None
    ) -> str:
        """``user`` mentions the bot in a channel; returns the message's ts."""
        ts = self.slack.next_ts()
        event = {
            "type": "app_mention",
            "channel": channel,
            "user": user,
            "team": self.slack.team_id,
            "text": f"<@{self.slack.bot_user_id}> {text}",
            "ts": ts,
            "event_ts": ts,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        response = await self.event(event)
        assert response.status_code == 200, response.text
        return ts

    async def click(self, message: Message, user: str, action_id: str) -> httpx.Response:
        body, content_type = action_body(
            self.slack.click_payload(message, user=user, action_id=action_id)
        )
        return await self.deliver(body, content_type)
