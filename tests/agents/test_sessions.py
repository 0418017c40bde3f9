"""Sessions on the real Redis: one turn at a time, history across restarts, expiry, compaction."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from agents.compaction import compact, estimate_tokens
from agents.models.scripted import ScriptedChatModel, reply
from agents.sessions import SessionStore
from aiops.app import create_app
from aiops.state import AppState
from platform_core.config import Settings
from platform_core.errors import Conflict, NotFound
from tests.support.agent import final_text, turn, use_model
from tests.support.tenants import make_tenant


async def test_a_second_concurrent_turn_gets_a_clear_conflict(state: AppState) -> None:
    tenant = await make_tenant(state, "acme", apps=True)
    use_model(
        state, ScriptedChatModel(responder=lambda m, t: reply("slow answer"), latency_seconds=0.5)
    )
    first = await turn(state, tenant, tenant["owner"], "hello", workspace="acme-ws")
    session_id = first[0].session_id

    async def again() -> str:
        return final_text(
            await turn(state, tenant, tenant["owner"], "again", session_id=session_id)
        )

    running = asyncio.create_task(again())
    await asyncio.sleep(0.1)
    with pytest.raises(Conflict, match="already answering"):
        await turn(state, tenant, tenant["owner"], "meanwhile", session_id=session_id)
    assert await running == "slow answer"
    # once the turn is over the session takes messages again
    assert final_text(await turn(state, tenant, tenant["owner"], "now", session_id=session_id))


async def test_a_turn_reads_the_conversation_only_once_it_holds_it(
    state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A turn that ends just as the next message arrives: its answer must not be lost."""
    tenant = await make_tenant(state, "acme", apps=True)
    use_model(state, ScriptedChatModel(responder=lambda m, t: reply("noted")))
    first = await turn(state, tenant, tenant["owner"], "hello", workspace="acme-ws")
    session_id = first[0].session_id
    store = state.runtime.sessions
    real_acquire = store.acquire

    async def acquire_after_another_turn_saved(held: str) -> str:
        # the previous turn finishes while this message waits for the conversation
        other = await store.load(held)
        assert other is not None
        other.messages += [HumanMessage(content="from the turn before"), AIMessage(content="ok")]
        await store.save(other)
        return await real_acquire(held)

    monkeypatch.setattr(store, "acquire", acquire_after_another_turn_saved)
    await turn(state, tenant, tenant["owner"], "and now?", session_id=session_id)

    saved = await store.load(session_id)
    assert saved is not None
    contents = [m.content for m in saved.messages]
    assert "from the turn before" in contents and "and now?" in contents


async def test_history_survives_a_service_restart(state: AppState, settings: Settings) -> None:
    tenant = await make_tenant(state, "acme")
    use_model(state, ScriptedChatModel(script=[reply("first answer")]))
    events = await turn(state, tenant, tenant["owner"], "remember this", workspace="acme-ws")
    session_id = events[0].session_id

    restarted = create_app(settings).state.aiops  # a new process: same Redis and database
    await restarted.start()
    try:
        model = ScriptedChatModel(script=[reply("second answer")])
        use_model(restarted, model)
        later = await turn(
            restarted, tenant, tenant["owner"], "what did I say?", session_id=session_id
        )
        assert final_text(later) == "second answer"
        contents = [str(m.content) for m in model.calls[0]]
        assert "remember this" in contents and "first answer" in contents
        assert later[0].workspace == "acme-ws"
    finally:
        await restarted.close()


async def test_sessions_belong_to_their_owner(state: AppState) -> None:
    tenant = await make_tenant(state, "acme")
    use_model(state, ScriptedChatModel(responder=lambda m, t: reply("ok")))
    events = await turn(state, tenant, tenant["owner"], "mine", workspace="acme-ws")
    with pytest.raises(NotFound):
        await turn(state, tenant, tenant["admin"], "yours?", session_id=events[0].session_id)
    store = state.runtime.sessions
    owner_id = str(tenant["owner"].user.id)
    listed = await store.list_for(owner_id=owner_id, organization_id=str(tenant.org.id))
    assert [s.id for s in listed] == [events[0].session_id]
    assert listed[0].title == "mine"


async def test_sessions_expire_after_their_ttl(state: AppState) -> None:
    store = SessionStore(state.redis, state.keyspace, ttl_seconds=1)
    session = await store.create(owner_id="u", organization_id="o", title="t")
    assert await store.load(session.id) is not None
    await asyncio.sleep(2.1)
    assert await store.load(session.id) is None
    assert await store.list_for(owner_id="u", organization_id="o") == []


async def test_using_a_session_extends_its_life(state: AppState) -> None:
    store = SessionStore(state.redis, state.keyspace, ttl_seconds=2)
    session = await store.create(owner_id="u", organization_id="o")
    for _ in range(3):
        await asyncio.sleep(1.0)
        await store.save(session)
    assert await store.load(session.id) is not None


def test_long_histories_are_folded_into_a_summary() -> None:
    messages = []
    for index in range(30):
        messages.append(HumanMessage(content=f"question {index} " + "x" * 400))
        messages.append(AIMessage(content=f"answer {index} " + "y" * 400))
    kept, summary = compact(messages, None, budget_tokens=1500)
    assert estimate_tokens(kept) <= 1500
    assert isinstance(kept[0], HumanMessage) and str(kept[-1].content).startswith("answer 29")
    assert summary is not None and "question 0" in summary and "answer 0" in summary
    untouched, none = compact(messages[-4:], None, budget_tokens=10_000)
    assert untouched == messages[-4:] and none is None
