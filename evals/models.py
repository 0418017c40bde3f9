"""Which chat model answers the cases: chosen by provider name, built once per invocation.

``offline`` is the deterministic planner (the default, and the runtime's fallback whatever is
chosen); ``ollama`` and ``openai`` are the remote providers; ``local`` is llama-cpp, imported
only when asked for (it is heavy and optional); ``scripted`` takes a factory from the caller
(tests), called once per case because a script is consumed as it is played. A real model is
built once and shared by every case: loading a local model or opening HTTP pools per case would
measure the loading, not the agent.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from agents.models.config import ModelConfig, Provider
from agents.models.offline import OfflinePlanner
from agents.models.router import ModelRouter
from evals.scenario import Scenario

PROVIDERS: tuple[str, ...] = ("offline", "local", "ollama", "openai", "scripted")
ScriptedFactory = Callable[[Scenario], BaseChatModel]


@dataclass(frozen=True)
class ModelChoice:
    provider: str = "offline"
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    timeout_seconds: float = 120.0
    context_window: int | None = None

    def config(self) -> ModelConfig:
        if self.provider not in PROVIDERS:
            raise ValueError(
                f"unknown provider {self.provider!r}; use one of {', '.join(PROVIDERS)}"
            )
        provider: Provider = self.provider  # type: ignore[assignment]
        return ModelConfig(
            provider=provider,
            model=self.model or "",
            base_url=self.base_url,
            api_key=SecretStr(self.api_key) if self.api_key else None,
            timeout_seconds=self.timeout_seconds,
            context_window=self.context_window,
        )

    @property
    def label(self) -> str:
        return self.config().label


class Models:
    """Routers for the cases of one invocation."""

    def __init__(self, choice: ModelChoice, scripted: ScriptedFactory | None = None) -> None:
        self.choice = choice
        self.config = choice.config()
        self.scripted = scripted
        self.shared: BaseChatModel | None = None
        if choice.provider == "scripted" and scripted is None:
            raise ValueError("the scripted provider needs a model factory (it is for tests)")
        if choice.provider in ("ollama", "openai"):
            from agents.models.providers import build_chat_model

            self.shared = build_chat_model(self.config)
        elif choice.provider == "local":
            local = importlib.import_module("agents.models.local")
            self.shared = local.build_local_model(self.config)

    def router(self, case: Scenario) -> ModelRouter:
        model = self.shared
        if self.scripted is not None and self.choice.provider == "scripted":
            model = self.scripted(case)
        chosen = model

        def build(_: ModelConfig) -> BaseChatModel:
            if chosen is None:
                raise ValueError(f"no model for {self.config.label}")
            return chosen

        return ModelRouter(self.config, offline=OfflinePlanner(), build=build)

    async def close(self) -> None:
        if self.shared is not None and self.choice.provider in ("ollama", "openai"):
            from agents.models.providers import aclose_chat_model

            await aclose_chat_model(self.shared)
