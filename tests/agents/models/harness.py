"""Shared by the provider tests: the real clients built by ``build_chat_model`` against fakes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.runnables import Runnable

from agents.models import ModelConfig, aclose_chat_model, build_chat_model
from tests.support.fake_ollama import FakeModelServer, FakeOllama
from tests.support.fake_openai import FakeOpenAI

MODEL = "qwen2.5:7b-instruct"

LIST_PODS: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "list_pods",
        "description": "List the pods of a namespace in the caller's workspace.",
        "parameters": {
            "type": "object",
            "properties": {
                "namespace": {"type": "string", "description": "Kubernetes namespace."},
                "phase": {
                    "type": "string",
                    "description": "Only pods in this phase.",
                    "enum": ["Running", "Pending", "Failed"],
                },
                "limit": {"type": "integer", "description": "At most this many.", "minimum": 1},
            },
            "required": ["namespace"],
        },
    },
}


@dataclass
class Harness:
    """One provider and the fake server it talks to; remembers the models it built."""

    provider: str
    server: FakeModelServer
    built: list[BaseChatModel] = field(default_factory=list)

    def config(self, **overrides: Any) -> ModelConfig:
        values: dict[str, Any] = {
            "provider": self.provider,
            "model": MODEL,
            "base_url": self.server.base_url,
            "timeout_seconds": 5.0,
        }
        values.update(overrides)
        return ModelConfig(**values)

    def model(self, **overrides: Any) -> BaseChatModel:
        model = build_chat_model(self.config(**overrides))
        self.built.append(model)
        return model

    async def aclose(self) -> None:
        for model in self.built:
            await aclose_chat_model(model)


def make_server(provider: str, **kwargs: Any) -> FakeModelServer:
    return FakeOllama(**kwargs) if provider == "ollama" else FakeOpenAI(**kwargs)


async def collect(
    model: Runnable[Any, Any], messages: Sequence[BaseMessage]
) -> tuple[list[AIMessageChunk], AIMessageChunk]:
    """Stream like the runtime does: every chunk, and their sum."""
    chunks: list[AIMessageChunk] = []
    async for chunk in model.astream(list(messages)):
        assert isinstance(chunk, AIMessageChunk)
        chunks.append(chunk)
    assert chunks, "the model streamed nothing"
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return chunks, total
