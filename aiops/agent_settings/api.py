"""``/api/v1/organizations/{org}/agent-settings``: the organization's model and read-only mode."""

from __future__ import annotations

from fastapi import APIRouter

from aiops.http.deps import Caller, DbSession, Org, State
from platform_core.agent_settings import service
from platform_core.agent_settings.schemas import AgentSettingsRead, AgentSettingsUpdate
from platform_core.auth.secrets import SecretBox

router = APIRouter(prefix="/api/v1/organizations/{org}/agent-settings", tags=["agent"])


@router.get("", name="agent_settings.get", operation_id="getAgentSettings")
async def get_agent_settings(org: Org, ctx: Caller, session: DbSession) -> AgentSettingsRead:
    """Which model answers the organization's conversations, and whether the agent may change
    anything (the API key is never shown)."""
    return await service.read_settings(session, ctx, org)


@router.put("", name="agent_settings.update", operation_id="updateAgentSettings")
async def update_agent_settings(
    org: Org, body: AgentSettingsUpdate, ctx: Caller, session: DbSession, state: State
) -> AgentSettingsRead:
    """Set the organization's own model (Ollama or OpenAI-compatible; the offline planner stays
    the fallback) and read-only mode. Organization owners and admins only."""
    box = SecretBox(state.settings.secret_key.get_secret_value())
    return await service.update_settings(session, ctx, org, body, box)
