"""The Slack bot mounted on the test app, talking to a local fake Slack Web API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from agents.models.offline import OfflinePlanner
from aiops.integrations.slack_api import router as links_router
from aiops.slack.bot import SlackBot
from aiops.slack.config import SlackConfig
from aiops.slack.endpoint import install_slack
from aiops.state import AppState
from tests.support.agent import use_model
from tests.support.fake_slack import BOT_TOKEN, FakeSlack, SlackDriver
from tests.support.tenants import Tenant, make_tenant

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(token=BOT_TOKEN) as slack:
        yield slack


@pytest.fixture
def slack_config(fake_slack: FakeSlack) -> SlackConfig:
    return SlackConfig(
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        api_url=fake_slack.base_url,
        public_url="http://aiops.test",
        update_interval_seconds=1.0,
    )


@pytest.fixture
def links_api(app: FastAPI) -> None:
    """The linking REST API, until the application includes it itself."""
    if not any(getattr(route, "name", None) == "slack.link_code" for route in app.routes):
        app.include_router(links_router)


@pytest.fixture
async def bot(
    app: FastAPI, state: AppState, slack_config: SlackConfig, links_api: None
) -> AsyncIterator[SlackBot]:
    installed = install_slack(app, state, slack_config)
    assert installed is not None
    yield installed
    await installed.close()


@pytest.fixture
def slack(client: httpx.AsyncClient, fake_slack: FakeSlack, bot: SlackBot) -> SlackDriver:
    return SlackDriver(client, fake_slack, bot, secret=SIGNING_SECRET)


@pytest.fixture
async def tenant(state: AppState) -> Tenant:
    use_model(state, OfflinePlanner(), provider="offline")
    return await make_tenant(state, "acme", apps=True)
