"""The planner as a langchain chat model (tools are bound the usual way)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatResult

from agents.models.offline.actions import Call
from agents.models.offline.conversation import read
from agents.models.offline.intents import detect
from agents.models.offline.plans import next_action

MAX_STEPS_PER_TURN = 8


def _tool_names(tools: Sequence[Any]) -> set[str]:
    names = set()
    for tool in tools:
        if isinstance(tool, dict):
            function = tool.get("function", tool)
            names.add(str(function.get("name")))
        else:
            names.add(str(getattr(tool, "name", tool)))
    return names


class OfflinePlanner(BaseChatModel):
    @property
    def _llm_type(self) -> str:
        return "offline-planner"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        return self.bind(tools=list(tools), **kwargs)

    def decide(self, messages: list[BaseMessage], tools: Sequence[Any]) -> AIMessage:
        convo = read(messages)
        if len(convo.steps) >= MAX_STEPS_PER_TURN:
            last = convo.steps[-1]
            return AIMessage(content=f"I have gathered this much so far:\n{last.body()}")
        action = next_action(detect(convo.request), convo, _tool_names(tools))
        usage = UsageMetadata(input_tokens=0, output_tokens=0, total_tokens=0)
        if isinstance(action, Call):
            call_id = f"call_{uuid.uuid4().hex[:12]}"
            # an argument left unset is left out, so each tool's default applies
            args = {key: value for key, value in action.args.items() if value is not None}
            return AIMessage(
                content="",
                tool_calls=[
                    {"name": action.tool, "args": args, "id": call_id, "type": "tool_call"}
                ],
                usage_metadata=usage,
            )
        return AIMessage(content=action.text, usage_metadata=usage)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        message = self.decide(messages, kwargs.get("tools", []))
        return ChatResult(generations=[ChatGeneration(message=message)])
