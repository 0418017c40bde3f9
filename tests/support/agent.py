"""Driving the agent runtime in tests: a person's turn, a decision, a scripted model."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel

from agents.events import AgentEvent, SessionEvent
from agents.models.config import ModelConfig
from agents.models.offline import OfflinePlanner
from agents.models.router import ModelRouter
from agents.runtime import TurnRequest
from aiops.state import AppState
from platform_core.context import CallContext
from tests.support.tenants import Person, Tenant


def use_model(state: AppState, model: BaseChatModel, provider: str = "scripted") -> None:
    """Make every organization's turns answer with ``model`` (the planner stays the fallback)."""
    config = ModelConfig(provider=provider, model="scripted-model")  # type: ignore[arg-type]
    state.runtime.models = ModelRouter(config, offline=OfflinePlanner(), build=lambda _: model)


async def context(state: AppState, person: Person) -> CallContext:
    async with state.db.session() as session:
        subject = await state.auth.authenticate(session, person.token)
        await session.commit()
    return CallContext(subject=subject, request_id="test")


async def turn(
    state: AppState,
    tenant: Tenant,
    person: Person,
    message: str,
    **options: Any,
) -> list[AgentEvent]:
    request = TurnRequest(
        call=await context(state, person), organization=tenant.org, message=message, **options
    )
    return [event async for event in await state.runtime.chat(request)]


async def decide(
    state: AppState, tenant: Tenant, person: Person, approval_id: str, *, approve: bool
) -> list[AgentEvent]:
    events = await state.runtime.decide(
        call=await context(state, person),
        organization=tenant.org,
        approval_id=approval_id,
        approve=approve,
    )
    return [event async for event in events]


def of_type(events: list[AgentEvent], kind: str) -> list[Any]:
    return [event for event in events if event.type == kind]


def final_text(events: list[AgentEvent]) -> str:
    finals = of_type(events, "final")
    assert finals, f"no final event in {[e.type for e in events]}"
    return str(finals[-1].text)


def session_event(**fields: Any) -> SessionEvent:
    """A turn's first event; ``fields`` override the plain defaults."""
    defaults: dict[str, Any] = {
        "seq": 1,
        "turn_id": "t1",
        "session_id": "s1",
        "title": "hi",
        "organization": "demo",
        "workspace": None,
        "provider": "offline",
        "model": "offline-planner",
        "cluster": "simulated",
        "read_only": False,
    }
    return SessionEvent(**{**defaults, **fields})
