"""Build the LangChain chat model for a configured remote provider (Ollama, OpenAI-compatible).

The runtime only relies on what every ``BaseChatModel`` offers (``bind_tools`` and ``astream``
yielding ``AIMessageChunk`` deltas, tool calls and ``usage_metadata`` at the end), so the job
here is to make the two integrations behave the same way where their defaults differ:

* timeouts must bite: the ollama client has *no* timeout by default and ChatOpenAI's per-chunk
  stream timeout defaults to 120 s whatever the request timeout says;
* retries belong to the runtime (it retries once, then falls back), so the SDK must not retry;
* usage must arrive when streaming: Ollama always sends it in its last chunk, an
  OpenAI-compatible server only when asked to (``stream_options.include_usage``);
* nothing may come from the environment (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ...): the
  service's settings are the one source of configuration.

A model holds its HTTP clients (and their pooled connections): build one per configuration
and event loop, reuse it across turns, and ``aclose_chat_model`` it when done.
"""

from __future__ import annotations

from typing import Any

import httpx
import openai
from langchain_core.language_models import BaseChatModel
from langchain_ollama import ChatOllama
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from agents.models.config import ModelConfig

# Keyless OpenAI-compatible servers (vLLM, llama.cpp, LM Studio) accept any key, but the SDK
# refuses to build a client without one, and would otherwise read OPENAI_API_KEY.
KEYLESS_API_KEY = "not-needed"


def build_chat_model(config: ModelConfig) -> BaseChatModel:
    """The chat model for ``config``; offline, local and scripted are built by the runtime."""
    if config.provider == "ollama":
        return _build_ollama(config)
    if config.provider == "openai":
        return _build_openai(config)
    raise ValueError(
        f"provider {config.provider!r} is not a remote chat model; "
        "build_chat_model only builds 'ollama' and 'openai'"
    )


def _build_ollama(config: ModelConfig) -> ChatOllama:
    client_kwargs: dict[str, Any] = {"timeout": httpx.Timeout(config.timeout_seconds)}
    if config.api_key is not None:
        # Ollama behind an authenticating proxy, or ollama.com. Set explicitly so the client
        # does not pick up OLLAMA_API_KEY from the environment instead.
        client_kwargs["headers"] = {"Authorization": f"Bearer {config.api_key.get_secret_value()}"}
    return ChatOllama(
        model=config.model,
        base_url=config.base_url,
        temperature=config.temperature,
        num_ctx=config.context_window,
        num_predict=config.max_output_tokens,
        client_kwargs=client_kwargs,
        # Checking the model at construction would be a blocking call on the event loop and a
        # failure outside the runtime's fallback path; the first request finds out anyway.
        validate_model_on_init=False,
    )


def _build_openai(config: ModelConfig) -> ChatOpenAI:
    api_key = config.api_key or SecretStr(KEYLESS_API_KEY)
    return ChatOpenAI(
        model=config.model,
        base_url=config.base_url,
        api_key=api_key,
        temperature=config.temperature,
        max_tokens=config.max_output_tokens,
        # A Timeout object (unhashable) also makes langchain-openai build a client for this
        # model instead of sharing a process-wide cached one across event loops.
        timeout=openai.Timeout(config.timeout_seconds),
        stream_chunk_timeout=config.timeout_seconds,
        max_retries=0,
        stream_usage=True,
        # Chat Completions is what OpenAI-compatible servers implement; never the Responses API.
        use_responses_api=False,
    )


async def aclose_chat_model(model: BaseChatModel) -> None:
    """Close the HTTP clients a model built here holds; other models are left alone.

    Neither integration offers a close method, so this reaches for the SDK clients they keep.
    """
    if isinstance(model, ChatOllama):
        await model._async_client.close()  # type: ignore[no-untyped-call] # untyped in ollama
        model._client.close()  # type: ignore[no-untyped-call]
    elif isinstance(model, ChatOpenAI):
        if model.root_async_client is not None:
            await model.root_async_client.close()
        if model.root_client is not None:
            model.root_client.close()
