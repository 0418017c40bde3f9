"""Keep a conversation within the model's context budget.

When the history outgrows the budget, the oldest whole exchanges are folded into a short
written summary (what was asked and what was answered), and the recent exchanges stay verbatim.
Deterministic, needs no model call, and never splits a tool call from its result.
"""

from __future__ import annotations

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

CHARS_PER_TOKEN = 4
SUMMARY_ITEM_CHARS = 240


def estimate_tokens(messages: list[BaseMessage]) -> int:
    return (
        sum(len(str(m.content)) + 20 * len(getattr(m, "tool_calls", []) or []) for m in messages)
        // CHARS_PER_TOKEN
    )


def _exchanges(messages: list[BaseMessage]) -> list[list[BaseMessage]]:
    """Split history at each human message: an exchange is a request and all that followed."""
    exchanges: list[list[BaseMessage]] = []
    for message in messages:
        if isinstance(message, HumanMessage) or not exchanges:
            exchanges.append([])
        exchanges[-1].append(message)
    return exchanges


def _summarize(exchange: list[BaseMessage]) -> str:
    asked = next((str(m.content) for m in exchange if isinstance(m, HumanMessage)), "")
    answers = [m for m in exchange if isinstance(m, AIMessage) and m.content and not m.tool_calls]
    answered = str(answers[-1].content) if answers else "(no answer)"
    tools = [c["name"] for m in exchange if isinstance(m, AIMessage) for c in m.tool_calls]
    used = f" [tools: {', '.join(tools)}]" if tools else ""
    return (
        f"- asked: {asked[:SUMMARY_ITEM_CHARS]}{used}\n  answered: {answered[:SUMMARY_ITEM_CHARS]}"
    )


def compact(
    messages: list[BaseMessage], summary: str | None, *, budget_tokens: int, keep_exchanges: int = 3
) -> tuple[list[BaseMessage], str | None]:
    """Messages within budget, and the summary of what was folded away."""
    if estimate_tokens(messages) <= budget_tokens:
        return messages, summary
    exchanges = _exchanges(messages)
    folded: list[str] = [summary] if summary else []
    while len(exchanges) > 1 and (
        len(exchanges) > keep_exchanges
        or estimate_tokens([m for e in exchanges for m in e]) > budget_tokens
    ):
        folded.append(_summarize(exchanges.pop(0)))
    return [m for e in exchanges for m in e], "\n".join(folded) if folded else None
