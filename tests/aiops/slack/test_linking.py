"""Slack accounts act only as the platform user who linked them, through a one-time code."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from aiops.state import AppState
from platform_core.audit.models import AuditRecord
from tests.support.fake_slack import FakeSlack, SlackDriver, dm_channel
from tests.support.tenants import Person, Tenant, make_tenant

LINKS = "/api/v1/integrations/slack/links"
CODES = "/api/v1/integrations/slack/link-codes"


async def new_code(client: httpx.AsyncClient, person: Person, organization: str = "acme") -> str:
    response = await client.post(CODES, headers=person.headers, json={"organization": organization})
    assert response.status_code == 201, response.text
    return str(response.json()["code"])


def dm_texts(fake_slack: FakeSlack, user: str) -> list[str]:
    return [
        message.all_text()
        for message in fake_slack.messages.values()
        if message.channel == dm_channel(user)
    ]


async def test_an_unlinked_user_gets_only_the_link_instruction(
    slack: SlackDriver, fake_slack: FakeSlack, state: AppState, tenant: Tenant
) -> None:
    # even someone whose Slack name or email matches a platform user is not linked by it
    await slack.dm("UOWNER", f"scale web to 5, I am {tenant['owner'].user.email}")
    await slack.mention("UOWNER", "why is api failing?")

    methods = [call.method for call in fake_slack.calls]
    assert methods == ["auth.test", "chat.postMessage", "chat.postEphemeral"]
    (dm,) = fake_slack.messages.values()
    assert dm.channel == dm_channel("UOWNER") and not dm.has_buttons()
    assert "link ABCDE-FGHJK" in dm.text and "/api/v1/integrations/slack/link-codes" in dm.text
    (whisper,) = fake_slack.ephemerals
    assert whisper.user == "UOWNER" and whisper.text == dm.text
    # nothing of the agent ran: no session, no turn, no change
    sessions = await state.runtime.sessions.list_for(
        owner_id=str(tenant["owner"].user.id), organization_id=str(tenant.org.id)
    )
    assert sessions == []


async def test_linking_end_to_end(
    client: httpx.AsyncClient,
    slack: SlackDriver,
    fake_slack: FakeSlack,
    state: AppState,
    tenant: Tenant,
) -> None:
    editor = tenant["editor"]
    assert (await client.get(LINKS, headers=editor.headers)).json() == []
    code = await new_code(client, editor)
    assert len(code.replace("-", "")) == 10

    # typed in lower case, without the dash: still the code
    await slack.dm("UEDITOR", f"link {code.replace('-', '').lower()}")
    assert "Linked" in dm_texts(fake_slack, "UEDITOR")[-1]
    assert "editor" in dm_texts(fake_slack, "UEDITOR")[-1]
    links = (await client.get(LINKS, headers=editor.headers)).json()
    assert [(link["team_id"], link["slack_user_id"]) for link in links] == [
        (fake_slack.team_id, "UEDITOR")
    ]
    assert links[0]["organization_id"] == str(tenant.org.id)

    # single use: the same code does nothing for anyone else
    await slack.dm("USTRANGER", f"link {code}")
    assert "unknown, expired or already used" in dm_texts(fake_slack, "USTRANGER")[-1]
    await slack.dm("USTRANGER", "list applications")
    assert "not linked" in dm_texts(fake_slack, "USTRANGER")[-1]

    # a code shown in a channel is void
    viewer_code = await new_code(client, tenant["viewer"])
    await slack.mention("UVIEWER", f"link {viewer_code}")
    assert "now void" in fake_slack.ephemerals_for("UVIEWER")[-1].text
    await slack.dm("UVIEWER", f"link {viewer_code}")
    assert "unknown, expired or already used" in dm_texts(fake_slack, "UVIEWER")[-1]

    # the link is audited as the platform user it acts for
    async with state.db.session() as session:
        audited = await session.scalar(
            select(AuditRecord).where(AuditRecord.action == "slack.link")
        )
    assert audited is not None and audited.actor_user_id == editor.user.id
    assert audited.organization_id == tenant.org.id

    # once linked, the agent answers; unlinked again, only the instruction
    await slack.dm("UEDITOR", "list applications")
    assert "web" in dm_texts(fake_slack, "UEDITOR")[-1]
    assert (
        await client.delete(f"{LINKS}/{links[0]['id']}", headers=tenant["viewer"].headers)
    ).status_code == 404
    assert (
        await client.delete(f"{LINKS}/{links[0]['id']}", headers=editor.headers)
    ).status_code == 204
    posted = len(fake_slack.calls_to("chat.postMessage"))
    await slack.dm("UEDITOR", "list applications")
    assert len(fake_slack.calls_to("chat.postMessage")) == posted + 1
    assert "not linked" in dm_texts(fake_slack, "UEDITOR")[-1]


async def test_link_codes_need_a_member_and_a_person(
    client: httpx.AsyncClient, state: AppState, tenant: Tenant, links_api: None
) -> None:
    rival = await make_tenant(state, "rival")
    refused = await client.post(
        CODES, headers=rival["owner"].headers, json={"organization": "acme"}
    )
    assert refused.status_code == 404
    assert (await client.post(CODES, json={"organization": "acme"})).status_code == 401
    async with state.db.session() as session:
        key = await state.auth.api_keys.create(
            session, organization_id=tenant.org.id, name="bot", role="admin", created_by=None
        )
        await session.commit()
    by_key = await client.post(CODES, headers={"X-API-Key": key.key}, json={"organization": "acme"})
    assert by_key.status_code == 403


async def test_link_attempts_are_rate_limited(
    slack: SlackDriver, fake_slack: FakeSlack, tenant: Tenant
) -> None:
    for attempt in range(6):
        await slack.dm("UGUESSER", f"link AAAAA-AAAA{attempt}")
    replies = dm_texts(fake_slack, "UGUESSER")
    assert "unknown, expired or already used" in replies[0]
    assert "Too many link attempts" in replies[-1]
