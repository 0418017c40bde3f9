"""``ModelConfig``: per-provider defaults, and the mistakes it refuses up front."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from agents.models import DEFAULT_OLLAMA_BASE_URL, DEFAULT_OLLAMA_MODEL, ModelConfig


def test_ollama_defaults() -> None:
    config = ModelConfig(provider="ollama")

    assert config.model == DEFAULT_OLLAMA_MODEL
    assert config.base_url == DEFAULT_OLLAMA_BASE_URL
    assert config.api_key is None
    assert config.temperature == 0
    assert config.timeout_seconds == 60
    assert config.max_output_tokens is None
    assert config.context_window is None
    assert config.label == f"ollama:{DEFAULT_OLLAMA_MODEL}"


def test_offline_and_scripted_have_default_names() -> None:
    assert ModelConfig(provider="offline").model == "offline-planner"
    assert ModelConfig(provider="scripted").model == "scripted"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"provider": "openai", "model": "gpt-4o-mini"}, "needs a base_url"),
        ({"provider": "openai", "base_url": "http://127.0.0.1:8000/v1"}, "needs a model"),
        ({"provider": "local"}, "needs a model"),
        ({"provider": "ollama", "model": "   "}, "needs a model"),
        ({"provider": "ollama", "base_url": "127.0.0.1:11434"}, "http"),
        ({"provider": "ollama", "base_url": "ftp://host"}, "http"),
        ({"provider": "offline", "base_url": "http://127.0.0.1:1"}, "does not take a base_url"),
        ({"provider": "llamafile"}, "provider"),
        ({"provider": "ollama", "timeout_seconds": 0}, "timeout_seconds"),
        ({"provider": "ollama", "temperature": -0.1}, "temperature"),
        ({"provider": "ollama", "context_window": 0}, "context_window"),
        ({"provider": "ollama", "max_output_tokens": 0}, "max_output_tokens"),
        ({"provider": "ollama", "num_ctx": 4096}, "num_ctx"),
    ],
)
def test_refused(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ModelConfig(**values)


def test_base_url_is_normalised() -> None:
    a = ModelConfig(provider="openai", model="m", base_url="http://vllm:8000/v1/")
    b = ModelConfig(provider="openai", model="m", base_url="http://vllm:8000/v1")

    assert a.base_url == "http://vllm:8000/v1"
    assert a == b and hash(a) == hash(b)


def test_frozen_and_usable_as_a_cache_key() -> None:
    config = ModelConfig(provider="ollama", api_key=SecretStr("k"))

    with pytest.raises(ValidationError):
        config.model = "other"  # type: ignore[misc]
    assert {config: "model"}[ModelConfig(provider="ollama", api_key=SecretStr("k"))] == "model"


def test_api_key_is_never_shown() -> None:
    config = ModelConfig(
        provider="openai", model="m", base_url="http://h/v1", api_key=SecretStr("sk-secret")
    )

    assert "sk-secret" not in repr(config)
    assert "sk-secret" not in str(config)
    assert "sk-secret" not in config.label
    assert "sk-secret" not in config.model_dump_json()
    assert config.api_key is not None and config.api_key.get_secret_value() == "sk-secret"
