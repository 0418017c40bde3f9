"""Langfuse traces: one trace per turn, a generation per model call, a tool span per tool call.

The runtime reports calls after they finish, so observations are created after the fact with
their real times. The SDK's ``start_observation`` always stamps "now" as the start, so spans are
started on the SDK's own OpenTelemetry tracer with an explicit ``start_time`` (ns since the
epoch), wrapped in the SDK's public observation classes (which write Langfuse's attributes: type,
input, output, model, usage, level) and ended with an explicit ``end_time``.

The turn's root observation (``agent-turn``, type agent) is started at the turn's start time and
stays open until ``finish``; each model/tool call becomes a child of it as soon as it is
reported. Trace attributes (name, session, user, tags, organization/workspace/run metadata) go
through the SDK's ``propagate_attributes`` into a context every span of the turn is started in,
so every observation carries them (Langfuse aggregates per user/session over observations).
The root is always a new trace, whatever OpenTelemetry span the runtime has open, and its trace
id is the run id (see ``langfuse_clients``).

Export is batched by the SDK's span processor on its own thread: reporting never waits on the
network. A span is exported at most ``flush_interval`` seconds (default 1) after it ends;
``flush()`` forces it and ``close()`` flushes and shuts the exporter down. Failures are logged
on ``agents.telemetry`` and dropped; OpenTelemetry's exporter logs its own delivery failures.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from datetime import UTC, datetime
from typing import Any

from langfuse import (
    LangfuseAgent,
    LangfuseGeneration,
    LangfuseOtelSpanAttributes,
    LangfuseTool,
    propagate_attributes,
)
from langfuse.types import SpanLevel
from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace

from agents.telemetry import langfuse_clients
from agents.telemetry.base import ModelCall, ToolCall, TurnInfo, TurnOutcome, TurnTrace
from agents.telemetry.history import as_utc

logger = logging.getLogger("agents.telemetry")

TRACE_NAME = "agent-turn"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TOOL_LEVELS: dict[str, SpanLevel] = {"error": "ERROR", "denied": "WARNING"}
_TURN_LEVELS: dict[str, SpanLevel] = {
    "error": "ERROR",
    "denied": "WARNING",
    "budget_exceeded": "WARNING",
}


def to_ns(moment: datetime) -> int:
    """Exact nanoseconds since the epoch (float timestamps would lose microseconds)."""
    delta = as_utc(moment) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


class LangfuseTelemetry:
    """Reports every turn to a Langfuse project over OTLP/HTTP."""

    def __init__(
        self,
        host: str,
        public_key: str,
        secret_key: str,
        *,
        environment: str | None = None,
        release: str | None = None,
        flush_interval: float = 1.0,
        timeout: int = 5,
    ) -> None:
        self.host = host.rstrip("/")
        config = langfuse_clients.ClientConfig(
            host=self.host,
            public_key=public_key,
            secret_key=secret_key,
            environment=environment,
            release=release,
            flush_interval=flush_interval,
            timeout=timeout,
        )
        self._shared: langfuse_clients.SharedClient | None = langfuse_clients.acquire(config)
        # Turns started and not finished, ended by close(). Weak: a turn the runtime dropped
        # without finishing must not pin memory for the life of the process.
        self._open: weakref.WeakSet[_LangfuseTrace] = weakref.WeakSet()

    def __repr__(self) -> str:
        return f"LangfuseTelemetry({self.host!r})"

    async def start_turn(self, turn: TurnInfo) -> TurnTrace:
        trace = _LangfuseTrace(self, turn)
        if trace.started:
            self._open.add(trace)
        return trace

    async def flush(self) -> None:
        """Export everything reported so far (blocking network I/O, run off the event loop)."""
        shared = self._shared
        if shared is None:
            return
        try:
            await asyncio.to_thread(shared.flush)
        except Exception as exc:
            logger.warning("flushing Langfuse traces to %s failed: %s", self.host, exc)

    async def close(self) -> None:
        """End turns still open (marked unfinished), flush, and release the SDK client."""
        shared, self._shared = self._shared, None
        if shared is None:
            return
        for trace in list(self._open):
            trace.abandon()
        try:
            await asyncio.to_thread(langfuse_clients.release, shared)
        except Exception as exc:
            logger.warning("closing the Langfuse sink for %s failed: %s", self.host, exc)


def _trace_context(turn: TurnInfo) -> otel_context.Context:
    """A fresh context (no parent span) carrying the turn's trace attributes."""
    metadata = {"organization_id": str(turn.organization_id), "run_id": str(turn.run_id)}
    if turn.workspace is not None:
        metadata["workspace"] = turn.workspace
    token = otel_context.attach(otel_context.Context())
    try:
        with propagate_attributes(
            user_id=turn.user_id,
            session_id=turn.session_id,
            tags=list(turn.tags) or None,
            trace_name=TRACE_NAME,
            metadata=metadata,
        ):
            return otel_context.get_current()
    finally:
        otel_context.detach(token)


class _LangfuseTrace:
    """One turn: the open root observation and the context its children start in."""

    def __init__(self, sink: LangfuseTelemetry, turn: TurnInfo) -> None:
        self._sink = sink
        self._turn = turn
        self._root: LangfuseAgent | None = None
        self._root_span: otel_trace.Span = otel_trace.INVALID_SPAN
        self._children = otel_context.Context()
        self._shared = shared = sink._shared
        if shared is None:
            logger.warning("Langfuse sink is closed; run %s is not traced", turn.run_id)
            return
        try:
            context = _trace_context(turn)
            token = langfuse_clients.NEXT_TRACE_ID.set(turn.run_id.int)
            try:
                span = shared.tracer.start_span(
                    TRACE_NAME, context=context, start_time=to_ns(turn.started_at)
                )
            finally:
                langfuse_clients.NEXT_TRACE_ID.reset(token)
            self._root = LangfuseAgent(
                otel_span=span,
                langfuse_client=shared.client,
                input=turn.user_message,
                metadata={"provider": turn.provider, "model": turn.model},
            )
            self._root_span = span
            self._children = otel_trace.set_span_in_context(span, context)
        except Exception as exc:
            self._root = None
            logger.warning("cannot trace run %s in Langfuse: %s", turn.run_id, exc)

    @property
    def started(self) -> bool:
        return self._root is not None

    def _start_child(
        self, shared: langfuse_clients.SharedClient, name: str, started_at: datetime
    ) -> otel_trace.Span:
        return shared.tracer.start_span(name, context=self._children, start_time=to_ns(started_at))

    async def model_call(self, call: ModelCall) -> None:
        shared = self._shared
        if self._root is None or shared is None:
            return
        try:
            output: dict[str, Any] = {"role": "assistant", "content": call.output_text}
            if call.tool_calls:
                output["tool_calls"] = call.tool_calls
            metadata = {"provider": call.provider, "call_id": str(call.call_id)}
            if call.fallback_from is not None:
                metadata["fallback_from"] = call.fallback_from
            LangfuseGeneration(
                otel_span=self._start_child(shared, "model-call", call.started_at),
                langfuse_client=shared.client,
                input=call.input_messages,
                output=output,
                metadata=metadata,
                model=call.model,
                usage_details={
                    "input": call.input_tokens,
                    "output": call.output_tokens,
                    "total": call.input_tokens + call.output_tokens,
                },
                level="ERROR" if call.error else None,
                status_message=call.error,
            ).end(end_time=to_ns(call.ended_at))
        except Exception as exc:
            logger.warning("dropping a Langfuse generation of run %s: %s", self._turn.run_id, exc)

    async def tool_call(self, call: ToolCall) -> None:
        shared = self._shared
        if self._root is None or shared is None:
            return
        try:
            LangfuseTool(
                otel_span=self._start_child(shared, f"tool:{call.tool}", call.started_at),
                langfuse_client=shared.client,
                input=call.arguments,
                output=call.output,
                metadata={"risk": call.risk, "status": call.status, "call_id": call.call_id},
                level=_TOOL_LEVELS.get(call.status),
                status_message=call.error or (None if call.status == "ok" else call.status),
            ).end(end_time=to_ns(call.ended_at))
        except Exception as exc:
            logger.warning("dropping a Langfuse tool span of run %s: %s", self._turn.run_id, exc)

    async def finish(self, outcome: TurnOutcome) -> None:
        root, self._root = self._root, None
        if root is None:
            return
        self._sink._open.discard(self)
        try:
            root.update(
                output=outcome.final_answer,
                metadata={
                    "status": outcome.status,
                    "steps": outcome.steps,
                    "input_tokens": outcome.input_tokens,
                    "output_tokens": outcome.output_tokens,
                    **({"extra": outcome.extra} if outcome.extra else {}),
                },
                level=_TURN_LEVELS.get(outcome.status),
                status_message=outcome.error,
            )
            self._root_span.set_attribute(
                f"{LangfuseOtelSpanAttributes.TRACE_METADATA}.status", json.dumps(outcome.status)
            )
        except Exception as exc:
            logger.warning("incomplete Langfuse trace for run %s: %s", self._turn.run_id, exc)
        finally:
            try:
                root.end(end_time=to_ns(outcome.ended_at))
            except Exception as exc:
                logger.warning(
                    "cannot end the Langfuse trace of run %s: %s", self._turn.run_id, exc
                )

    def abandon(self) -> None:
        """The sink closes before the turn finished: end the root now so it is exported."""
        root, self._root = self._root, None
        self._sink._open.discard(self)
        if root is None:
            return
        try:
            root.update(level="WARNING", status_message="turn not finished when telemetry closed")
            root.end()
        except Exception as exc:
            logger.warning("cannot end the Langfuse trace of run %s: %s", self._turn.run_id, exc)
