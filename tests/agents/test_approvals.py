"""Changes wait for the right person; approving runs exactly the paused call, once."""

from __future__ import annotations

import asyncio

import pytest

from agents.models.scripted import ScriptedChatModel, reply
from aiops.state import AppState
from platform_core.cluster.twin.cluster import SimulatedCluster
from platform_core.errors import Conflict, Forbidden, NotFound
from tests.support.agent import decide, final_text, of_type, turn, use_model
from tests.support.tenants import Tenant, make_tenant


@pytest.fixture
async def tenant(state: AppState) -> Tenant:
    return await make_tenant(state, "acme", apps=True)


async def replicas(state: AppState, tenant: Tenant, app: str = "web") -> int:
    twin = state.cluster
    assert isinstance(twin, SimulatedCluster)
    return (await twin.get_application(str(tenant.workspace.id), "app", app)).replicas


def scaling_model() -> ScriptedChatModel:
    return ScriptedChatModel(
        script=[
            reply("I'll scale web.", ("scale_application", {"application": "web", "replicas": 4})),
            reply("web now runs 4 replicas."),
        ]
    )


async def test_a_write_pauses_and_approval_runs_exactly_that_call(
    state: AppState, tenant: Tenant
) -> None:
    model = scaling_model()
    use_model(state, model)
    events = await turn(
        state, tenant, tenant["editor"], "scale web to 4", workspace="acme-ws", project="app"
    )
    assert [e.type for e in events][-2:] == ["tool_call", "approval_required"]
    pending = events[-1]
    assert pending.tool == "scale_application"
    assert pending.arguments == {
        "workspace": "acme-ws",
        "project": "app",
        "application": "web",
        "replicas": 4,
    }
    assert pending.approver == "requester"
    assert pending.description == "scale web in acme-ws/app to 4 replicas"
    assert await replicas(state, tenant) == 2  # nothing changed yet
    assert len(model.calls) == 1

    resumed = await decide(state, tenant, tenant["editor"], pending.approval_id, approve=True)
    types = [e.type for e in resumed]
    assert types[0] == "session" and types[1] == "tool_result" and types[-1] == "final"
    result = resumed[1]
    assert result.call_id == pending.call_id and result.status == "ok"
    assert "from 2 to 4 replicas" in result.summary
    assert await replicas(state, tenant) == 4
    # the model was not asked again for the call: only for the answer after it
    assert len(model.calls) == 2
    assert final_text(resumed) == "web now runs 4 replicas."
    with pytest.raises(Conflict, match="already approved"):
        await decide(state, tenant, tenant["editor"], pending.approval_id, approve=True)


async def test_denial_is_told_to_the_model_and_changes_nothing(
    state: AppState, tenant: Tenant
) -> None:
    model = ScriptedChatModel(
        script=[
            reply("", ("restart_application", {"application": "api"})),
            reply("Understood, I did not restart api."),
        ]
    )
    use_model(state, model)
    events = await turn(
        state, tenant, tenant["owner"], "restart api", workspace="acme-ws", project="app"
    )
    pending = events[-1]
    twin = state.cluster
    assert isinstance(twin, SimulatedCluster)
    before = (await twin.get_application(str(tenant.workspace.id), "app", "api")).revision
    resumed = await decide(state, tenant, tenant["owner"], pending.approval_id, approve=False)
    result = of_type(resumed, "tool_result")[0]
    assert result.status == "error" and "did not approve" in result.summary
    assert "did not approve" in str(model.calls[-1][-1].content)
    assert final_text(resumed) == "Understood, I did not restart api."
    assert (await twin.get_application(str(tenant.workspace.id), "app", "api")).revision == before


async def test_only_the_requester_or_an_admin_decides_a_write(
    state: AppState, tenant: Tenant
) -> None:
    use_model(state, scaling_model())
    events = await turn(
        state, tenant, tenant["editor"], "scale web", workspace="acme-ws", project="app"
    )
    approval_id = events[-1].approval_id
    with pytest.raises(Forbidden):
        await decide(state, tenant, tenant["viewer"], approval_id, approve=True)
    other = await make_tenant(state, "other")
    with pytest.raises(NotFound):
        await decide(state, other, other["owner"], approval_id, approve=True)
    assert await replicas(state, tenant) == 2
    resumed = await decide(state, tenant, tenant["admin"], approval_id, approve=True)
    assert of_type(resumed, "tool_result")[0].status == "ok"
    assert await replicas(state, tenant) == 4


async def test_destructive_changes_need_an_admins_approval(state: AppState, tenant: Tenant) -> None:
    twin = state.cluster
    assert isinstance(twin, SimulatedCluster)
    from platform_core.cluster.schemas import FunctionSpec

    await twin.deploy_function(
        str(tenant.workspace.id),
        "app",
        FunctionSpec(name="hello", source="def handle(r):\n    return 'hi'\n"),
    )
    await twin.advance(120)
    use_model(
        state,
        ScriptedChatModel(
            script=[
                reply("", ("delete_function", {"name": "hello"})),
                reply("deleted"),
            ]
        ),
    )
    events = await turn(
        state,
        tenant,
        tenant["ws_admin"],
        "delete function hello",
        workspace="acme-ws",
        project="app",
    )
    pending = events[-1]
    assert pending.type == "approval_required" and pending.approver == "admin"
    with pytest.raises(Forbidden, match="admin"):
        await decide(state, tenant, tenant["editor"], pending.approval_id, approve=True)
    resumed = await decide(state, tenant, tenant["owner"], pending.approval_id, approve=True)
    assert of_type(resumed, "tool_result")[0].status == "ok"
    with pytest.raises(NotFound):
        await twin.get_function(str(tenant.workspace.id), "app", "hello")


async def test_approvals_expire(state: AppState, tenant: Tenant) -> None:
    state.runtime.approvals.ttl = 1
    use_model(state, scaling_model())
    events = await turn(
        state, tenant, tenant["editor"], "scale web", workspace="acme-ws", project="app"
    )
    await asyncio.sleep(1.2)
    with pytest.raises(Conflict, match="expired"):
        await decide(state, tenant, tenant["editor"], events[-1].approval_id, approve=True)
    assert await replicas(state, tenant) == 2


async def test_a_new_message_supersedes_a_pending_approval(state: AppState, tenant: Tenant) -> None:
    model = ScriptedChatModel(
        script=[
            reply("", ("scale_application", {"application": "web", "replicas": 9})),
            reply("never mind then"),
        ]
    )
    use_model(state, model)
    events = await turn(
        state, tenant, tenant["editor"], "scale web to 9", workspace="acme-ws", project="app"
    )
    session_id, approval_id = events[0].session_id, events[-1].approval_id
    later = await turn(state, tenant, tenant["editor"], "actually, don't", session_id=session_id)
    assert final_text(later) == "never mind then"
    # the dangling call was answered, so the history stays valid for any model
    answered = [m for m in model.calls[-1] if getattr(m, "tool_call_id", None)]
    assert any("not run" in str(m.content) for m in answered)
    with pytest.raises(Conflict, match="superseded"):
        await decide(state, tenant, tenant["editor"], approval_id, approve=True)
    assert await replicas(state, tenant) == 2


async def test_rights_are_checked_again_when_the_approved_call_runs(
    state: AppState, tenant: Tenant
) -> None:
    use_model(state, scaling_model())
    events = await turn(
        state, tenant, tenant["editor"], "scale web", workspace="acme-ws", project="app"
    )
    # the editor loses the workspace role before anyone approves
    from sqlalchemy import delete

    from platform_core.tenancy.models import WorkspaceMember

    async with state.db.session() as session:
        await session.execute(
            delete(WorkspaceMember).where(WorkspaceMember.user_id == tenant["editor"].user.id)
        )
        await session.commit()
    resumed = await decide(state, tenant, tenant["owner"], events[-1].approval_id, approve=True)
    result = of_type(resumed, "tool_result")[0]
    assert result.status == "error"
    assert await replicas(state, tenant) == 2


async def test_one_change_at_a_time(state: AppState, tenant: Tenant) -> None:
    use_model(
        state,
        ScriptedChatModel(
            script=[
                reply(
                    "",
                    ("scale_application", {"application": "web", "replicas": 3}),
                    ("restart_application", {"application": "api"}),
                    ("describe_application", {"application": "worker"}),
                ),
            ]
        ),
    )
    events = await turn(
        state, tenant, tenant["owner"], "do it all", workspace="acme-ws", project="app"
    )
    results = {r.tool: r for r in of_type(events, "tool_result")}
    assert results["describe_application"].status == "ok"
    assert "one change" in results["restart_application"].summary
    assert events[-1].type == "approval_required" and events[-1].tool == "scale_application"
