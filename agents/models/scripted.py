"""A chat model that follows a script: for tests, benchmarks and evals of the runtime itself.

Each call returns the next scripted reply, or asks a function for it (which sees the messages
and the bound tools). An optional fixed latency stands in for a real model's thinking time.
Usage is reported like a real model's, so budgets and metering can be tested.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict, PrivateAttr

Reply = AIMessage | Exception
Responder = Callable[[list[BaseMessage], list[dict[str, Any]]], Reply]


def reply(
    text: str = "", *calls: tuple[str, dict[str, Any]], usage: tuple[int, int] = (10, 5)
) -> AIMessage:
    """A scripted answer: text and/or tool calls ``(name, arguments)``."""
    return AIMessage(
        content=text,
        tool_calls=[
            {"name": name, "args": args, "id": f"call_{index}_{name}", "type": "tool_call"}
            for index, (name, args) in enumerate(calls)
        ],
        usage_metadata={
            "input_tokens": usage[0],
            "output_tokens": usage[1],
            "total_tokens": sum(usage),
        },
    )


class ScriptedChatModel(BaseChatModel):
    """Replies from ``script`` (in order) or from ``responder``; raises scripted exceptions."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    script: Sequence[Any] = ()  # AIMessage replies, or exceptions to raise
    responder: Responder | None = None
    latency_seconds: float = 0.0
    _position: int = PrivateAttr(default=0)
    calls: list[list[BaseMessage]] = []

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        return self.bind(tools=list(tools), **kwargs)

    def _next(self, messages: list[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
        self.calls.append(list(messages))
        if self.responder is not None:
            answer = self.responder(messages, tools)
        elif self._position < len(self.script):
            answer = self.script[self._position]
            self._position += 1
        else:
            raise RuntimeError("the script has no reply left")
        if isinstance(answer, Exception):
            raise answer
        return answer

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        message = self._next(messages, kwargs.get("tools", []))
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.latency_seconds:
            await asyncio.sleep(self.latency_seconds)
        message = self._next(messages, kwargs.get("tools", []))
        return ChatResult(generations=[ChatGeneration(message=message)])
