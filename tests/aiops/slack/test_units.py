"""The bot's parts that need no database: rendering, pacing, configuration, Socket Mode."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
import typer
from pydantic import SecretStr
from slack_sdk.web.async_client import AsyncWebClient
from typer.testing import CliRunner

from agents.events import (
    AgentEvent,
    ApprovalRequiredEvent,
    DeltaEvent,
    FinalEvent,
    SessionEvent,
    ToolCallEvent,
)
from aiops.slack.bot import SlackBot, strip_mentions
from aiops.slack.cli import slack
from aiops.slack.config import SlackConfig
from aiops.slack.linking import normalize_code
from aiops.slack.render import APPROVAL_BLOCK, ReplyView
from aiops.slack.socket_mode import socket_mode_bot, socket_mode_handler
from aiops.slack.stream import stream_reply
from tests.support.agent import session_event
from tests.support.fake_slack import BOT_TOKEN, FakeSlack


def _session() -> SessionEvent:
    return session_event(seq=0, turn_id="", title="t", organization="acme")


def test_text_from_the_model_cannot_ping_or_forge_links() -> None:
    view = ReplyView()
    view.apply(DeltaEvent(text="<!channel> see <https://evil.example|docs> & more"))
    view.apply(FinalEvent(text="<!channel> see <https://evil.example|docs> & more"))
    text = " ".join(str(block) for block in view.message().blocks)
    assert "<!channel>" not in text and "<https://" not in text
    assert "&lt;!channel&gt;" in text and "&amp; more" in text


def test_a_long_answer_is_split_within_slack_limits() -> None:
    view = ReplyView()
    view.apply(FinalEvent(text="x" * 200_000))
    message = view.message()
    assert len(message.blocks) <= 50
    assert all(len(block["text"]["text"]) <= 3000 for block in message.blocks if "text" in block)
    assert "cut short" in message.blocks[-1]["text"]["text"]
    assert len(message.text) <= 3000


def test_the_approval_prompt_carries_only_the_approval_id() -> None:
    view = ReplyView()
    view.apply(
        ToolCallEvent(
            call_id="c1", tool="delete_function", arguments={"name": "f"}, risk="destructive"
        )
    )
    view.apply(
        ApprovalRequiredEvent(
            approval_id="ap-1",
            call_id="c1",
            tool="delete_function",
            arguments={"name": "f"},
            risk="destructive",
            description="delete function f",
            approver="admin",
            expires_at=datetime.now(UTC),
        )
    )
    (actions,) = [b for b in view.message().blocks if b["type"] == "actions"]
    assert actions["block_id"] == APPROVAL_BLOCK
    assert [e["value"] for e in actions["elements"]] == ["ap-1", "ap-1"]
    assert "confirm" in actions["elements"][0]  # destructive: Slack asks once more
    assert "may approve: a workspace or organization admin" in str(view.message().blocks)


def test_mentions_and_codes_are_read_as_people_type_them() -> None:
    assert strip_mentions("<@UBOT> scale web <@UBOT|aiops>  to 3", "UBOT") == "scale web to 3"
    assert strip_mentions("<@UBOT> <@UX> hi", None) == "hi"
    assert strip_mentions("ask <@UALICE> first", "UBOT") == "ask <@UALICE> first"
    assert normalize_code(" abcde-fghjk ") == "ABCDEFGHJK"


async def _paced(events: list[tuple[float, AgentEvent]]) -> AsyncIterator[AgentEvent]:
    for delay, event in events:
        await asyncio.sleep(delay)
        yield event


async def test_the_reply_is_updated_in_place_at_a_bounded_pace() -> None:
    async with FakeSlack() as slack:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.base_url)
        posted = await client.chat_postMessage(channel="C1", text="…")
        ts = str(posted["ts"])
        burst: list[tuple[float, AgentEvent]] = [(0.0, _session())]
        burst += [(0.01, DeltaEvent(text=f"{n} ")) for n in range(30)]  # ~0.3 s of deltas
        burst += [(0.3, DeltaEvent(text="late ")), (0.0, FinalEvent(text="done"))]
        view = await stream_reply(client, "C1", ts, _paced(burst), interval=0.2)
    assert view.done and view.answer == "done"
    message = slack.messages[("C1", ts)]
    updates = len(slack.calls_to("chat.update"))
    assert 2 <= updates <= 6  # paced, not one per delta
    assert message.text == "done" and "cluster: simulated" in message.all_text()


async def test_a_turn_that_stops_without_an_end_says_so() -> None:
    async with FakeSlack() as slack:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.base_url)
        ts = str((await client.chat_postMessage(channel="C1", text="…"))["ts"])
        view = await stream_reply(
            client,
            "C1",
            ts,
            _paced([(0.0, _session()), (0.0, DeltaEvent(text="half"))]),
            interval=1,
        )
    assert view.error is not None and view.error.code == "interrupted"
    assert "could not answer" in slack.messages[("C1", ts)].text


def test_config_reads_settings_that_may_not_have_slack_fields_yet() -> None:
    bare = SlackConfig.from_settings(SimpleNamespace(base_url="http://aiops.test"))
    assert not bare.http_ready and not bare.socket_ready and bare.public_url == "http://aiops.test"
    full = SlackConfig.from_settings(
        SimpleNamespace(
            slack_bot_token=SecretStr("xoxb-1"),
            slack_signing_secret=SecretStr("s3cret"),
            slack_app_token=SecretStr("xapp-1"),
            slack_api_url="http://127.0.0.1:9/api/",
            slack_update_interval_seconds=0.5,
        )
    )
    assert full.http_ready and full.socket_ready and full.bot_token == "xoxb-1"
    assert full.update_interval_seconds == 0.5
    assert "xoxb-1" not in repr(full) and "s3cret" not in repr(full)


async def test_socket_mode_is_built_with_the_app_token_without_connecting() -> None:
    state: Any = SimpleNamespace(
        settings=SimpleNamespace(secret_key=SecretStr("k")), redis=None, keyspace=None
    )
    config = SlackConfig(
        bot_token="xoxb-1", app_token="xapp-1-test", api_url="http://127.0.0.1:9/api/"
    )
    bot = socket_mode_bot(state, config)
    handler = socket_mode_handler(bot)
    assert handler.app is bot.app and handler.app_token == "xapp-1-test"
    assert handler.client.app_token == "xapp-1-test"
    assert handler.client.web_client is bot.client
    assert bot.client.base_url == "http://127.0.0.1:9/api/"
    await handler.client.close()  # nothing was opened but its HTTP session
    with pytest.raises(ValueError, match="app-level token"):
        socket_mode_bot(state, SlackConfig(bot_token="xoxb-1"))
    with pytest.raises(ValueError, match="signing secret"):
        SlackBot(state, SlackConfig(bot_token="xoxb-1"))


def test_the_slack_command_needs_both_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIOPS_SLACK_BOT_TOKEN", raising=False)
    monkeypatch.delenv("AIOPS_SLACK_APP_TOKEN", raising=False)
    cli = typer.Typer()
    cli.command()(slack)
    result = CliRunner().invoke(cli, [])
    assert result.exit_code == 2
    assert "AIOPS_SLACK_APP_TOKEN" in result.output
