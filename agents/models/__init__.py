"""Chat models for the agent runtime: configuration, remote providers, failure classification."""

from agents.models.config import (
    DEFAULT_OLLAMA_BASE_URL,
    DEFAULT_OLLAMA_MODEL,
    ModelConfig,
    Provider,
)
from agents.models.errors import UnavailableReason, is_unavailable, unavailable_reason
from agents.models.providers import aclose_chat_model, build_chat_model

__all__ = [
    "DEFAULT_OLLAMA_BASE_URL",
    "DEFAULT_OLLAMA_MODEL",
    "ModelConfig",
    "Provider",
    "UnavailableReason",
    "aclose_chat_model",
    "build_chat_model",
    "is_unavailable",
    "unavailable_reason",
]
