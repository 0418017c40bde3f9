"""A linked Slack account shares its platform user's rate limit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.fake_slack import CHANNEL, FakeSlack, SlackDriver
from tests.support.tenants import Tenant


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limit_user_per_minute": 3}


async def test_slack_requests_count_against_the_users_rate_limit(
    client: httpx.AsyncClient, slack: SlackDriver, fake_slack: FakeSlack, tenant: Tenant
) -> None:
    editor = tenant["editor"]
    code = await client.post(
        "/api/v1/integrations/slack/link-codes",
        headers=editor.headers,
        json={"organization": "acme"},
    )  # 1
    await slack.dm("UEDITOR", f"link {code.json()['code']}")
    first = await slack.mention("UEDITOR", "list applications")  # 2
    await slack.mention("UEDITOR", "list applications")  # 3
    assert "web" in fake_slack.thread(CHANNEL, first)[-1].all_text()
    refused = await slack.mention("UEDITOR", "list applications")  # 4: over the limit
    assert fake_slack.thread(CHANNEL, refused) == []
    assert "Too many requests" in fake_slack.ephemerals_for("UEDITOR")[-1].text
