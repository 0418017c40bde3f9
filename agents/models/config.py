"""Which chat model the agent runtime talks to, and how.

One frozen value per configured model. Defaults are filled in per provider when the object is
built, so every consumer (provider factory, telemetry, the fallback notice) sees the resolved
model name and URL rather than re-deriving them. Nothing here reads the environment: the
service's settings decide the values and pass them in.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

Provider = Literal["offline", "ollama", "openai", "local", "scripted"]

DEFAULT_OLLAMA_BASE_URL = "http://127.0.0.1:11434"
DEFAULT_OLLAMA_MODEL = "qwen2.5:7b-instruct"

# Providers whose model name has an obvious default. ``openai`` (any compatible server) and
# ``local`` (a model file) have none: guessing would only move the error to the first call.
DEFAULT_MODELS: dict[str, str] = {
    "ollama": DEFAULT_OLLAMA_MODEL,
    "offline": "offline-planner",
    "scripted": "scripted",
}

# Providers that talk HTTP to a server; only these take a base URL.
REMOTE_PROVIDERS: frozenset[str] = frozenset({"ollama", "openai"})


class ModelConfig(BaseModel):
    """A chat model to build: provider, model name, endpoint and sampling limits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: Provider
    model: str = ""
    base_url: str | None = None
    api_key: SecretStr | None = None
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    timeout_seconds: float = Field(default=60.0, gt=0.0)
    max_output_tokens: int | None = Field(default=None, gt=0)
    context_window: int | None = Field(default=None, gt=0)
    """Tokens of context; sent to Ollama as ``num_ctx`` (its own default is small)."""

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        values = dict(data)
        provider = values.get("provider")
        if not values.get("model") and isinstance(provider, str) and provider in DEFAULT_MODELS:
            values["model"] = DEFAULT_MODELS[provider]
        if provider == "ollama" and not values.get("base_url"):
            values["base_url"] = DEFAULT_OLLAMA_BASE_URL
        if isinstance(values.get("base_url"), str):
            # Normalised so "http://host/v1/" and "http://host/v1" are the same endpoint.
            values["base_url"] = values["base_url"].strip().rstrip("/") or None
        return values

    @model_validator(mode="after")
    def _check_endpoint(self) -> ModelConfig:
        if not self.model.strip():
            raise ValueError(f"provider {self.provider!r} needs a model name")
        if self.base_url is not None:
            if self.provider not in REMOTE_PROVIDERS:
                raise ValueError(f"provider {self.provider!r} does not take a base_url")
            parts = urlsplit(self.base_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"base_url must be an http(s) URL, got {self.base_url!r}")
        elif self.provider == "openai":
            raise ValueError(
                "provider 'openai' needs a base_url (any OpenAI-compatible server, "
                "e.g. https://api.openai.com/v1)"
            )
        return self

    @property
    def label(self) -> str:
        """``provider:model``, for logs, telemetry and the fallback notice (never the key)."""
        return f"{self.provider}:{self.model}"
