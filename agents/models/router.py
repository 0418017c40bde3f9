"""Which chat model answers an organization's turn, and the offline planner behind it.

The service's default model applies unless the organization configured its own. The offline
planner is always there: it is the embedded default (no model configured) and the fallback
when a configured model is unavailable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel

from agents.models.config import ModelConfig

ModelBuilder = Callable[[ModelConfig], BaseChatModel]


@dataclass(frozen=True)
class ModelChoice:
    provider: str
    model: str
    chat_model: BaseChatModel

    @property
    def label(self) -> str:
        return f"{self.provider}:{self.model}"


class ModelRouter:
    def __init__(
        self,
        default: ModelConfig,
        *,
        offline: BaseChatModel,
        build: ModelBuilder,
    ) -> None:
        self._default = default
        self._offline = ModelChoice("offline", "offline-planner", offline)
        self._build = build
        self._cache: dict[ModelConfig, BaseChatModel] = {}

    @property
    def offline(self) -> ModelChoice:
        return self._offline

    def choose(self, override: ModelConfig | None = None) -> ModelChoice:
        """The organization's own model if it configured one, else the service's default."""
        config = override or self._default
        if config.provider == "offline":
            return self._offline
        model = self._cache.get(config)
        if model is None:
            model = self._cache[config] = self._build(config)
        return ModelChoice(config.provider, config.model, model)
