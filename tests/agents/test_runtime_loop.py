"""The agent loop with a scripted model: steps, parallel calls, errors, budgets, events."""

from __future__ import annotations

import re
from typing import Any

import pytest
from langchain_core.messages import BaseMessage, ToolMessage

from agents.events import TERMINAL_TYPES
from agents.models.scripted import ScriptedChatModel, reply
from aiops.state import AppState
from platform_core.cluster.twin.cluster import SimulatedCluster
from tests.support.agent import final_text, of_type, turn, use_model
from tests.support.tenants import Tenant, make_tenant


@pytest.fixture
async def tenant(state: AppState) -> Tenant:
    return await make_tenant(state, "acme", apps=True)


def tool_messages(messages: list[BaseMessage]) -> list[ToolMessage]:
    return [m for m in messages if isinstance(m, ToolMessage)]


async def test_multi_step_turn_follows_the_event_contract(state: AppState, tenant: Tenant) -> None:
    model = ScriptedChatModel(
        script=[
            reply("", ("list_applications", {})),
            reply("", ("describe_application", {"application": "web"})),
            reply("web runs 2 replicas, all ready."),
        ]
    )
    use_model(state, model)
    events = await turn(
        state, tenant, tenant["owner"], "how is web doing?", workspace="acme-ws", project="app"
    )

    types = [e.type for e in events]
    assert types == [
        "session",
        "tool_call",
        "tool_result",
        "tool_call",
        "tool_result",
        "delta",
        "final",
    ]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert len({e.turn_id for e in events}) == 1
    assert sum(1 for e in events if e.type in TERMINAL_TYPES) == 1
    session = events[0]
    assert session.cluster == "simulated" and session.workspace == "acme-ws"
    calls, results = of_type(events, "tool_call"), of_type(events, "tool_result")
    assert [c.call_id for c in calls] == [r.call_id for r in results]
    assert results[1].status == "ok" and "web: 2/2 ready" in results[1].summary
    assert final_text(events) == "web runs 2 replicas, all ready."
    # the model read the tool output as delimited, untrusted data
    seen = tool_messages(model.calls[2])
    assert len(seen) == 2
    assert seen[1].content.startswith(
        '<tool-output tool="describe_application" status="ok" trust="untrusted">'
    )


async def test_parallel_calls_all_run_and_answer_in_order(state: AppState, tenant: Tenant) -> None:
    model = ScriptedChatModel(
        script=[
            reply(
                "",
                ("describe_application", {"application": "web"}),
                ("describe_application", {"application": "api"}),
                ("list_events", {"application": "worker"}),
            ),
            reply("done"),
        ]
    )
    use_model(state, model)
    events = await turn(
        state, tenant, tenant["owner"], "check everything", workspace="acme-ws", project="app"
    )
    results = of_type(events, "tool_result")
    assert [r.tool for r in results] == [
        "describe_application",
        "describe_application",
        "list_events",
    ]
    assert all(r.status == "ok" for r in results)
    assert "api: 3/3 ready" in results[1].summary
    assert len(tool_messages(model.calls[1])) == 3


async def test_tool_errors_go_back_to_the_model_which_recovers(
    state: AppState, tenant: Tenant
) -> None:
    model = ScriptedChatModel(
        script=[
            reply("", ("get_metrics", {"application": "web", "minutes": 99999})),
            reply("", ("get_metrics", {"application": "missing-app"})),
            reply("", ("get_metrics", {"application": "web", "minutes": 30})),
            reply("web's metrics look normal."),
        ]
    )
    use_model(state, model)
    events = await turn(
        state, tenant, tenant["owner"], "metrics of web", workspace="acme-ws", project="app"
    )
    statuses = [r.status for r in of_type(events, "tool_result")]
    assert statuses == ["error", "error", "ok"]
    first_error = tool_messages(model.calls[1])[-1].content
    assert "invalid arguments for get_metrics" in first_error and "minutes" in first_error
    second_error = tool_messages(model.calls[2])[-1].content
    assert "missing-app" in second_error and "not found" in second_error
    assert final_text(events) == "web's metrics look normal."


async def test_the_step_budget_stops_a_model_that_never_answers(
    state: AppState, tenant: Tenant
) -> None:
    state.runtime.budgets = type(state.runtime.budgets)(max_steps=3)
    model = ScriptedChatModel(
        responder=lambda messages, tools: reply("", ("list_applications", {}))
    )
    use_model(state, model)
    events = await turn(state, tenant, tenant["owner"], "loop", workspace="acme-ws", project="app")
    final = of_type(events, "final")[-1]
    assert final.status == "budget_exceeded"
    assert "step budget (3 model calls)" in final.text
    assert "What I found so far" in final.text
    assert len(model.calls) == 3


async def test_the_token_budget_stops_an_expensive_turn(state: AppState, tenant: Tenant) -> None:
    state.runtime.budgets = type(state.runtime.budgets)(max_tokens=5000)
    model = ScriptedChatModel(
        responder=lambda messages, tools: reply("", ("list_applications", {}), usage=(4000, 500))
    )
    use_model(state, model)
    events = await turn(state, tenant, tenant["owner"], "spend", workspace="acme-ws", project="app")
    final = of_type(events, "final")[-1]
    assert final.status == "budget_exceeded" and "token budget" in final.text
    assert final.input_tokens == 8000 and len(model.calls) == 2


async def test_the_time_budget_stops_a_slow_model(state: AppState, tenant: Tenant) -> None:
    state.runtime.budgets = type(state.runtime.budgets)(max_seconds=0.3)
    model = ScriptedChatModel(responder=lambda m, t: reply("late"), latency_seconds=1.0)
    use_model(state, model)
    events = await turn(state, tenant, tenant["owner"], "hurry", workspace="acme-ws", project="app")
    final = of_type(events, "final")[-1]
    assert final.status == "budget_exceeded" and "time budget" in final.text


async def test_a_crashing_model_ends_the_turn_with_an_error_event(
    state: AppState, tenant: Tenant
) -> None:
    use_model(state, ScriptedChatModel(script=[ValueError("bad request: model not found")]))
    events = await turn(state, tenant, tenant["owner"], "hello", workspace="acme-ws")
    assert [e.type for e in events] == ["session", "error"]
    assert events[-1].code == "internal_error"
    # the session is usable again afterwards
    use_model(state, ScriptedChatModel(script=[reply("hi")]))
    again = await turn(
        state, tenant, tenant["owner"], "hello again", session_id=events[0].session_id
    )
    assert final_text(again) == "hi"


async def test_usage_and_tool_calls_are_metered(state: AppState, tenant: Tenant) -> None:
    from platform_core.billing.service import today, usage_days

    use_model(
        state,
        ScriptedChatModel(
            script=[
                reply("", ("list_applications", {}), usage=(100, 20)),
                reply("ok", usage=(50, 10)),
            ]
        ),
    )
    await turn(state, tenant, tenant["owner"], "apps?", workspace="acme-ws", project="app")
    async with state.db.session() as session:
        rows = await usage_days(session, tenant.org.id, today(), today())
    totals: dict[str, Any] = {row.meter: row.quantity for row in rows}
    assert totals == {"llm_tokens_in": 150, "llm_tokens_out": 30, "tool_calls": 1}


async def test_the_conversation_continues_and_remembers_its_workspace(
    state: AppState, tenant: Tenant
) -> None:
    use_model(
        state,
        ScriptedChatModel(
            script=[
                reply(
                    "",
                    (
                        "describe_application",
                        {"application": "web", "workspace": "acme-ws", "project": "app"},
                    ),
                ),
                reply("web is fine"),
                reply("", ("describe_application", {"application": "api"})),
                reply("api too"),
            ]
        ),
    )
    first = await turn(state, tenant, tenant["owner"], "web?")
    session_id = first[0].session_id
    second = await turn(state, tenant, tenant["owner"], "and api?", session_id=session_id)
    assert second[0].workspace == "acme-ws"
    result = of_type(second, "tool_result")[0]
    assert result.status == "ok" and re.search(r"api: \d/3 ready", result.summary)
    twin = state.cluster
    assert isinstance(twin, SimulatedCluster)
