"""The loop of one turn: call the model, run its tool calls, until an answer or a budget."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessage, BaseMessage, SystemMessage, ToolMessage

from agents.events import AgentEvent, DeltaEvent, FinalEvent
from agents.execution import run_tool_calls
from agents.models.errors import is_unavailable
from agents.reporting import trace_model
from agents.turn import Turn, merge_chunks, text_of, tool_message, utcnow
from prompts import render
from tools.results import ToolResult

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from agents.runtime import AgentRuntime


async def run_loop(runtime: AgentRuntime, turn: Turn) -> AsyncIterator[AgentEvent]:
    while True:
        spent = turn.over_budget()
        if spent is not None:
            yield turn.stamp(budget_final(turn, spent))
            return
        message: list[AIMessage] = []
        async for event in model_step(runtime, turn, message):
            yield event
        if not message:
            continue  # the wall-time budget ran out mid-call: the check above reports it
        ai = message[0]
        if ai.invalid_tool_calls:
            unusable_call(runtime, turn, ai)
            continue
        turn.session.messages.append(ai)
        if not ai.tool_calls:
            yield turn.stamp(final_event(turn, text_of(ai)))
            return
        async for event in run_tool_calls(runtime, turn, ai):
            yield event
        if turn.paused:
            return


def unusable_call(runtime: AgentRuntime, turn: Turn, ai: AIMessage) -> None:
    """A call the model wrote badly: one retry with the parse error, then the planner."""
    turn.session.messages.append(ai)
    for bad in ai.invalid_tool_calls:
        error = ToolResult.error(
            f"your call could not be parsed ({bad.get('error')}); "
            "call the tool again with valid JSON arguments"
        )
        turn.session.messages.append(
            tool_message(bad.get("id") or "invalid", bad.get("name") or "?", error)
        )
    if not turn.retried_invalid_call:
        turn.retried_invalid_call = True
    elif turn.model.provider != "offline":
        turn.fallback = f"{turn.model.label} wrote unusable tool calls twice"
        turn.model = runtime.models.offline


async def model_step(
    runtime: AgentRuntime, turn: Turn, out: list[AIMessage]
) -> AsyncIterator[AgentEvent]:
    messages = [system_message(runtime, turn), *turn.session.messages]
    model = turn.model
    bound = turn.bound.get(model.label)
    if bound is None:
        schemas = [t.schema() for t in turn.offered]
        bound = model.chat_model.bind_tools(schemas) if schemas else model.chat_model
        turn.bound[model.label] = bound
    started = utcnow()
    chunks: list[BaseMessage] = []
    turn.steps += 1
    try:
        async with asyncio.timeout(max(turn.seconds_left(), 0.001)):
            async for chunk in bound.astream(messages):
                text = text_of(chunk)
                if text:
                    yield turn.stamp(DeltaEvent(text=text))
                chunks.append(chunk)
    except Exception as error:
        await trace_model(turn, model, messages, AIMessage(content=""), started, error)
        if isinstance(error, TimeoutError) and turn.seconds_left() <= 0:
            return
        if model.provider == "offline" or not is_unavailable(error):
            raise
        turn.fallback = f"{model.label} was unavailable ({type(error).__name__})"
        turn.model = runtime.models.offline
        async for event in model_step(runtime, turn, out):
            yield event
        return
    ai = merge_chunks(chunks)
    usage: dict[str, Any] = dict(ai.usage_metadata or {})
    turn.input_tokens += int(usage.get("input_tokens", 0))
    turn.output_tokens += int(usage.get("output_tokens", 0))
    await trace_model(turn, model, messages, ai, started, None)
    out.append(ai)


def system_message(runtime: AgentRuntime, turn: Turn) -> SystemMessage:
    """The system prompt, rendered once per turn for this caller and place."""
    if turn.system is None:
        turn.system = SystemMessage(content=render_system(runtime, turn))
    return turn.system


def render_system(runtime: AgentRuntime, turn: Turn) -> str:
    subject = turn.ctx.subject
    org = turn.ctx.organization
    return render(
        "system",
        today=utcnow().date().isoformat(),
        user=subject.display,
        role=subject.grants.orgs.get(org.id, "member"),
        organization=org.name,
        workspace=turn.session.workspace,
        project=turn.session.project,
        simulated=runtime.cluster_label == "simulated",
        read_only=turn.read_only,
        summary=turn.session.summary,
        tools=[t.name for t in turn.offered],
    )


def final_event(turn: Turn, text: str) -> FinalEvent:
    if turn.fallback:
        text = (
            f"(The configured model could not answer: {turn.fallback}; "
            f"the offline planner answered instead.)\n\n{text}"
        )
    return FinalEvent(
        text=text,
        fallback=turn.fallback,
        input_tokens=turn.input_tokens,
        output_tokens=turn.output_tokens,
        steps=turn.steps,
    )


def budget_final(turn: Turn, spent: str) -> FinalEvent:
    found = [
        text_of(m).split("\n", 2)[1] if "\n" in text_of(m) else text_of(m)
        for m in turn.session.messages[-6:]
        if isinstance(m, ToolMessage)
    ]
    text = f"I stopped because this turn used up {spent}."
    if found:
        text += " What I found so far:\n" + "\n".join(f"- {line[:200]}" for line in found)
    event = final_event(turn, text)
    event.status = "budget_exceeded"
    turn.session.messages.append(AIMessage(content=text))
    return event
