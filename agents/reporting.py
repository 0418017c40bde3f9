"""What a turn reports: telemetry of each model and tool call, and metering at its end."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessage, BaseMessage

from agents.models.router import ModelChoice
from agents.telemetry.base import ModelCall, ToolCall
from agents.turn import Turn, text_of, utcnow
from platform_core.billing import service as billing
from platform_core.billing.schemas import Meter
from tools.redaction import redact, redact_data
from tools.results import ToolResult

if TYPE_CHECKING:
    from agents.runtime import AgentRuntime

logger = logging.getLogger(__name__)


async def trace_model(
    turn: Turn,
    model: ModelChoice,
    messages: list[BaseMessage],
    ai: AIMessage,
    started: object,
    error: BaseException | None,
) -> None:
    usage: dict[str, Any] = dict(ai.usage_metadata or {})
    await turn.trace.model_call(
        ModelCall(
            call_id=uuid.uuid4(),
            provider=model.provider,
            model=model.model,
            started_at=started,  # type: ignore[arg-type]
            ended_at=utcnow(),
            input_tokens=int(usage.get("input_tokens", 0)),
            output_tokens=int(usage.get("output_tokens", 0)),
            input_messages=[
                # tool output was redacted by the toolset already
                {
                    "role": m.type,
                    "content": (text_of(m) if m.type == "tool" else redact(text_of(m)))[:2000],
                }
                for m in messages[-6:]
            ],
            output_text=redact(text_of(ai)),
            tool_calls=[redact_data({"name": c["name"], "args": c["args"]}) for c in ai.tool_calls],
            error=f"{type(error).__name__}: {redact(str(error))[:500]}" if error else None,
            fallback_from=None,
        )
    )


async def trace_tool(
    turn: Turn,
    call_id: str,
    tool: str,
    risk: str,
    arguments: dict[str, object],
    result: ToolResult,
    started: object,
) -> None:

    turn.tool_calls += 1
    await turn.trace.tool_call(
        ToolCall(
            call_id=call_id,
            tool=tool,
            risk=risk,
            arguments=redact_data(arguments),
            status=result.status,
            started_at=started,  # type: ignore[arg-type]
            ended_at=utcnow(),
            output=result.text()[:4000],
            error=result.summary if result.status == "error" else None,
        )
    )


async def meter(runtime: AgentRuntime, turn: Turn) -> None:
    """The turn's usage and the audit records of its reads, in one transaction."""
    org_id = turn.ctx.organization.id
    usage: dict[Meter, int] = {
        "llm_tokens_in": turn.input_tokens,
        "llm_tokens_out": turn.output_tokens,
        "tool_calls": turn.tool_calls,
    }
    try:
        async with runtime.db.session() as session:
            runtime.toolset.add_buffered_audit(turn.ctx, session)
            await billing.record_usages(session, org_id, usage)
            await session.commit()
    except Exception:
        logger.exception("could not meter or audit turn %s", turn.id)
