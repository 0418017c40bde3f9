"""Reading and changing an organization's agent settings."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

ProviderName = Literal["offline", "ollama", "openai"]


class AgentSettingsRead(BaseModel):
    provider: ProviderName | None = Field(description="None: the service's default model")
    model: str | None
    base_url: str | None
    api_key_set: bool
    read_only: bool
    updated_at: datetime | None


class AgentSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: ProviderName | None = None
    model: str | None = Field(default=None, max_length=200)
    base_url: str | None = Field(default=None, max_length=500, pattern=r"^https?://\S+$")
    api_key: SecretStr | None = Field(default=None, description="Stored encrypted; never shown")
    read_only: bool = False

    @model_validator(mode="after")
    def _complete(self) -> AgentSettingsUpdate:
        if self.provider == "openai" and not self.base_url:
            raise ValueError("an OpenAI-compatible provider needs base_url")
        if self.provider in (None, "offline") and (self.model or self.base_url or self.api_key):
            raise ValueError("model, base_url and api_key only go with provider ollama or openai")
        return self
