"""Assembling the agent runtime from the settings and the service's components."""

from __future__ import annotations

import uuid

from langchain_core.language_models import BaseChatModel
from redis.asyncio import Redis

from agents.approvals import ApprovalStore
from agents.budgets import Budgets
from agents.models.config import ModelConfig
from agents.models.offline import OfflinePlanner
from agents.models.providers import build_chat_model
from agents.models.router import ModelRouter
from agents.runtime import AgentRuntime, OrgAgentSettings, OrgSettingsLookup
from agents.sessions import SessionStore
from agents.telemetry.base import Telemetry
from agents.telemetry.factory import build_telemetry
from platform_core.agent_settings.service import get_settings
from platform_core.auth.secrets import SecretBox
from platform_core.cluster.protocol import ClusterGateway
from platform_core.config import Settings
from platform_core.db import Database
from platform_core.kv import KeySpace
from platform_core.observability.store import MetricStore
from tools.toolset import Toolset


def default_model(settings: Settings) -> ModelConfig:
    return ModelConfig(
        provider=settings.model_provider,
        model=settings.model_name or "",
        base_url=settings.model_base_url,
        api_key=settings.model_api_key,
        timeout_seconds=settings.model_timeout_seconds,
        context_window=settings.model_context_window,
    )


def telemetry_for(settings: Settings) -> Telemetry:
    secret = settings.langfuse_secret_key
    return build_telemetry(
        clickhouse_url=settings.resolved_clickhouse_url,
        langfuse_host=settings.langfuse_host,
        langfuse_public_key=settings.langfuse_public_key,
        langfuse_secret_key=secret.get_secret_value() if secret else None,
        environment=settings.environment,
    )


def model_router(settings: Settings) -> ModelRouter:
    models = settings.data_dir / "models"

    def build(config: ModelConfig) -> BaseChatModel:
        if config.provider == "local":  # imported only when chosen: llama.cpp is optional
            from agents.models.local import build_local_model

            return build_local_model(config, models_directory=models)
        return build_chat_model(config)

    return ModelRouter(default_model(settings), offline=OfflinePlanner(), build=build)


def org_settings_lookup(settings: Settings, db: Database) -> OrgSettingsLookup:
    """Each turn reads its organization's agent settings (read-only mode, its own model)."""
    box = SecretBox(settings.secret_key.get_secret_value())
    timeout = settings.model_timeout_seconds

    async def lookup(organization_id: uuid.UUID) -> OrgAgentSettings | None:
        async with db.session() as session:
            row = await get_settings(session, organization_id)
        if row is None:
            return None
        model = None
        if row.provider is not None:
            api_key = box.open(row.api_key_encrypted) if row.api_key_encrypted else None
            model = ModelConfig(
                provider=row.provider,
                model=row.model or "",
                base_url=row.base_url,
                api_key=api_key,
                timeout_seconds=timeout,
            )
        return OrgAgentSettings(read_only=row.read_only, model=model)

    return lookup


def build_runtime(
    settings: Settings,
    *,
    db: Database,
    redis: Redis,
    keyspace: KeySpace,
    gateway: ClusterGateway,
    telemetry: Telemetry,
    metrics: MetricStore | None = None,
) -> AgentRuntime:
    return AgentRuntime(
        db=db,
        gateway=gateway,
        sessions=SessionStore(redis, keyspace, ttl_seconds=settings.session_ttl_hours * 3600),
        approvals=ApprovalStore(redis, keyspace, ttl_seconds=settings.approval_ttl_minutes * 60),
        toolset=Toolset(output_budget=settings.tool_output_budget_chars),
        models=model_router(settings),
        org_settings=org_settings_lookup(settings, db),
        telemetry=telemetry,
        budgets=Budgets(
            max_steps=settings.agent_max_steps,
            max_tokens=settings.agent_max_tokens,
            max_seconds=settings.agent_max_seconds,
            context_tokens=settings.agent_context_tokens,
        ),
        cluster_label=settings.cluster,
        metrics=metrics,
    )
