"""Only requests Slack signed reach the bot; anything else is a 401 and posts nothing."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from aiops.slack.config import SlackConfig
from aiops.slack.endpoint import install_slack
from aiops.state import AppState
from tests.support.fake_slack import (
    EVENTS_PATH,
    FakeSlack,
    SlackDriver,
    dm_channel,
    event_body,
    event_envelope,
    signature,
)

USER = "UNOBODY"


def _dm(text: str) -> dict[str, object]:
    return {
        "type": "message",
        "channel_type": "im",
        "channel": dm_channel(USER),
        "user": USER,
        "text": text,
        "ts": "1700000000.000001",
    }


async def test_wrongly_signed_requests_are_refused_and_nothing_is_posted(
    client: httpx.AsyncClient, slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    body, content_type = event_body(event_envelope(_dm("scale web to 9")))
    now = int(time.time())

    wrong_secret = await slack.deliver(body, content_type, secret="not-the-signing-secret")
    stale = await slack.deliver(body, content_type, timestamp=now - 6 * 60)
    future = await slack.deliver(body, content_type, timestamp=now + 6 * 60)
    # signed, but not this body
    other = event_body(event_envelope(_dm("hello")))[0]
    tampered = await client.post(
        EVENTS_PATH,
        content=body,
        headers={
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(now),
            "X-Slack-Signature": signature(slack.secret, str(now), other),
        },
    )
    unsigned = await client.post(EVENTS_PATH, content=body, headers={"Content-Type": content_type})
    garbled = await client.post(
        EVENTS_PATH,
        content=body,
        headers={
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": "yesterday",
            "X-Slack-Signature": "v0=00",
        },
    )
    await slack.bot.drain()
    statuses = [r.status_code for r in (wrong_secret, stale, future, tampered, unsigned, garbled)]
    assert statuses == [401] * 6
    assert fake_slack.calls == []  # not even auth.test: the bot never ran


async def test_a_correctly_signed_request_is_answered(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    body, content_type = event_body({"type": "url_verification", "challenge": "c-123"})
    answered = await slack.deliver(body, content_type)
    assert answered.status_code == 200
    assert answered.json() == {"challenge": "c-123"}

    body, content_type = event_body(event_envelope(_dm("hello")))
    delivered = await slack.deliver(body, content_type)
    assert delivered.status_code == 200
    assert [call.method for call in fake_slack.calls] == ["auth.test", "chat.postMessage"]


async def test_the_endpoint_is_not_part_of_the_rest_api(
    client: httpx.AsyncClient, slack: SlackDriver
) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert not [path for path in paths if path.startswith("/slack")]
    assert (await client.get(EVENTS_PATH)).status_code == 405
    assert (await client.post("/slack/other")).status_code == 404


async def test_http_mode_is_off_until_configured_and_installs_once(
    app: FastAPI, state: AppState, slack_config: SlackConfig
) -> None:
    assert install_slack(app, state, SlackConfig(bot_token="xoxb-1")) is None
    assert install_slack(app, state) is None  # the test settings have no Slack secrets
    first = install_slack(app, state, slack_config)
    second = install_slack(app, state, slack_config)
    assert first is not None and second is not None and app.state.slack_bot is second
    assert [getattr(route, "name", None) for route in app.routes].count("slack") == 1
    await first.close()


async def test_the_bots_work_stops_with_the_application(slack_config: SlackConfig) -> None:
    state: Any = SimpleNamespace(
        settings=SimpleNamespace(secret_key=SecretStr("k")), redis=None, keyspace=None
    )
    application = FastAPI()
    bot = install_slack(application, state, slack_config)
    assert bot is not None
    bot.spawn(asyncio.sleep(3600), name="long")
    (task,) = bot._tasks
    await asyncio.sleep(0)
    async with application.router.lifespan_context(application):
        assert not task.done()
    assert task.cancelled()
