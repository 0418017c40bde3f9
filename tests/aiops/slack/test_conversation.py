"""A Slack thread is one agent conversation; approvals are decided by whoever may, in Slack."""

from __future__ import annotations

import asyncio
import copy

import httpx
import pytest

from agents.sessions import Session
from aiops.slack.bot import SlackBot
from aiops.slack.render import APPROVE_ACTION, DENY_ACTION
from aiops.state import AppState
from platform_core.cluster.twin.cluster import SimulatedCluster
from platform_core.errors import Conflict
from tests.support.fake_slack import (
    CHANNEL,
    FakeSlack,
    Message,
    SlackDriver,
    dm_channel,
    event_body,
    event_envelope,
)
from tests.support.tenants import Tenant

CODES = "/api/v1/integrations/slack/link-codes"


@pytest.fixture
async def linked(client: httpx.AsyncClient, slack: SlackDriver, tenant: Tenant) -> None:
    """editor, viewer and admin have linked their Slack accounts (UEDITOR, UVIEWER, UADMIN)."""
    for role in ("editor", "viewer", "admin"):
        response = await client.post(
            CODES, headers=tenant[role].headers, json={"organization": "acme"}
        )
        await slack.dm(f"U{role.upper()}", f"link {response.json()['code']}")


async def replicas(state: AppState, tenant: Tenant, app: str) -> int:
    twin = state.cluster
    assert isinstance(twin, SimulatedCluster)
    return (await twin.get_application(str(tenant.workspace.id), "app", app)).replicas


async def settled(state: AppState, session_id: str) -> Session | None:
    """The session once its last turn has saved it (that follows the turn's last event)."""
    for _ in range(100):
        try:
            async with state.runtime.sessions.turn_lock(session_id):
                return await state.runtime.sessions.load(session_id)
        except Conflict:
            await asyncio.sleep(0.05)
    raise AssertionError("the session stayed busy")


def approval_id(message: Message) -> str:
    (actions,) = [block for block in message.blocks if block["type"] == "actions"]
    values = {button["value"] for button in actions["elements"]}
    assert len(values) == 1
    return values.pop()


async def test_a_thread_is_one_conversation_and_approvals_check_who_clicks(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    bot: SlackBot,
    state: AppState,
    tenant: Tenant,
    linked: None,
) -> None:
    root = await slack.mention("UEDITOR", "scale web to 3")
    (prompt,) = fake_slack.thread(CHANNEL, root)
    # posted once, then updated in place until it stopped at the approval
    assert "working" in prompt.versions[0]["blocks"][0]["elements"][0]["text"]
    assert len(prompt.versions) >= 2
    assert prompt.has_buttons() and "Approval needed" in prompt.all_text()
    assert "scale_application" in prompt.all_text()
    pending = await state.runtime.approvals.find(approval_id(prompt))
    assert pending is not None and pending.status == "pending"
    before_click = copy.deepcopy(prompt)

    # the viewer may not approve the editor's change: told privately, buttons stay
    await slack.click(prompt, "UVIEWER", APPROVE_ACTION)
    (refusal,) = fake_slack.ephemerals_for("UVIEWER")
    assert "Not done" in refusal.text and "only the person who asked" in refusal.text
    assert prompt.has_buttons() and len(fake_slack.thread(CHANNEL, root)) == 1
    assert await replicas(state, tenant, "web") == 2
    # someone unlinked is told to link first
    await slack.click(prompt, "USTRANGER", DENY_ACTION)
    assert "Only linked accounts" in fake_slack.ephemerals_for("USTRANGER")[0].text
    # and the viewer cannot continue the editor's conversation either
    await slack.mention("UVIEWER", "describe it", thread_ts=root)
    assert "another person's conversation" in fake_slack.ephemerals_for("UVIEWER")[-1].text
    assert len(fake_slack.thread(CHANNEL, root)) == 1

    # the editor (who asked) approves: the buttons become who decided, the change runs
    await slack.click(prompt, "UEDITOR", APPROVE_ACTION)
    assert not prompt.has_buttons()
    assert "Approved by <@UEDITOR> (editor)" in prompt.all_text()
    assert await replicas(state, tenant, "web") == 3
    _, done = fake_slack.thread(CHANNEL, root)
    assert "from 2 to 3 replicas" in done.all_text()
    assert "cluster: simulated" in done.all_text()
    # a second click on the stale buttons changes nothing
    await slack.click(before_click, "UEDITOR", APPROVE_ACTION)
    assert "already approved" in fake_slack.ephemerals_for("UEDITOR")[-1].text
    assert len(fake_slack.thread(CHANNEL, root)) == 2

    # the next message in the thread continues the same conversation: "it" is web
    await slack.mention("UEDITOR", "describe it", thread_ts=root)
    answer = fake_slack.thread(CHANNEL, root)[-1]
    assert "application web" in answer.all_text() and "/3 ready" in answer.all_text()
    session_id = await bot.handlers.store.thread_session(fake_slack.team_id, CHANNEL, root)
    assert session_id is not None
    session = await settled(state, session_id)
    assert session is not None and session.owner_id == str(tenant["editor"].user.id)
    asked = [m.content for m in session.messages if m.type == "human"]
    assert asked[0] == "scale web to 3" and asked[-1] == "describe it"
    # a new thread is a new conversation, which does not know what "it" is
    fresh = await slack.mention("UEDITOR", "describe it")
    assert "Which application" in fake_slack.thread(CHANNEL, fresh)[-1].all_text()


async def test_an_admin_can_deny_someone_elses_change(
    slack: SlackDriver, fake_slack: FakeSlack, state: AppState, tenant: Tenant, linked: None
) -> None:
    root = await slack.mention("UEDITOR", "scale api to 5")
    (prompt,) = fake_slack.thread(CHANNEL, root)
    await slack.click(prompt, "UADMIN", DENY_ACTION)
    assert not prompt.has_buttons() and "Denied by <@UADMIN>" in prompt.all_text()
    assert await replicas(state, tenant, "api") == 3
    answer = fake_slack.thread(CHANNEL, root)[-1]
    assert "not approved" in answer.all_text()
    pending = await state.runtime.approvals.list_pending(str(tenant.org.id))
    assert pending == []


async def test_a_direct_message_is_answered_in_its_thread_and_redelivery_is_ignored(
    slack: SlackDriver, fake_slack: FakeSlack, tenant: Tenant, linked: None
) -> None:
    ts = fake_slack.next_ts()
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": dm_channel("UEDITOR"),
        "user": "UEDITOR",
        "text": "list applications",
        "ts": ts,
    }
    body, content_type = event_body(event_envelope(event, event_id="EvOnce"))
    first = await slack.deliver(body, content_type)
    # Slack retries what it thinks was not acknowledged in time
    again = await slack.deliver(
        body, content_type, extra_headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "x"}
    )
    assert first.status_code == again.status_code == 200
    (reply,) = fake_slack.thread(dm_channel("UEDITOR"), ts)
    assert all(name in reply.all_text() for name in ("web", "api", "worker"))
    assert ":white_check_mark: `list_applications`" in reply.all_text()
    # the bot's own messages and edits are not answered
    for own in (
        {**event, "ts": fake_slack.next_ts(), "bot_id": "BBOTAIOPS"},
        {**event, "ts": fake_slack.next_ts(), "subtype": "message_changed"},
    ):
        await slack.event(own)
    assert len(fake_slack.calls_to("chat.postMessage")) == 4  # 3 link answers + this reply
