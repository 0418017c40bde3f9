"""Langfuse traces, captured by a local OTLP endpoint standing in for Langfuse's ingestion API.

What is asserted is what Langfuse would receive: the OTLP spans, their Langfuse attributes, the
parent/child structure, the exact times and the basic-auth header. Sinks use distinct public keys
unless a test is about sharing one (the SDK keeps process-wide state per key).
"""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from typing import Any

import pytest
from opentelemetry import trace as otel_trace

from agents.telemetry.langfuse import LangfuseTelemetry, to_ns
from tests.support.agent_turns import play, sample_turn
from tests.support.otlp import CapturedSpan, otlp_collector
from tests.support.server import free_port

TYPE = "langfuse.observation.type"


def _attr_json(span: CapturedSpan, key: str) -> Any:
    return json.loads(span.attributes[key])


def _key(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def test_a_turn_becomes_one_trace_with_a_generation_per_model_call_and_a_tool_span() -> None:
    public, secret = _key("pk-lf"), _key("sk-lf")
    turn = sample_turn()
    info, outcome = turn.info, turn.outcome
    with otlp_collector() as collector:
        telemetry = LangfuseTelemetry(
            collector.url + "/",
            public,
            secret,
            environment="test",
            release="1.2.3",
            flush_interval=0.1,
        )
        try:
            finished = time.monotonic()
            await play(telemetry, turn)
            # No flush: the batch processor exports on its own shortly after the turn ends.
            spans = collector.wait_for_spans(6, timeout=5)
            exported_after = time.monotonic() - finished
        finally:
            await telemetry.close()

    assert exported_after < 2.0
    assert len(spans) == 6
    request = collector.requests[0]
    expected_auth = base64.b64encode(f"{public}:{secret}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected_auth}"
    assert request.headers["x-langfuse-public-key"] == public

    roots = [s for s in spans if s.parent_span_id == ""]
    assert len(roots) == 1
    root = roots[0]
    assert {s.trace_id for s in spans} == {info.run_id.hex}  # the trace id is the run id
    assert root.name == "agent-turn" and root.attributes[TYPE] == "agent"
    assert (root.start_ns, root.end_ns) == (to_ns(info.started_at), to_ns(outcome.ended_at))
    assert root.attributes["langfuse.observation.input"] == info.user_message
    assert root.attributes["langfuse.observation.output"] == outcome.final_answer
    assert _attr_json(root, "langfuse.trace.metadata.status") == "completed"
    for span in spans:  # trace attributes ride on every observation
        assert span.scope_attributes == {"public_key": public}
        assert span.attributes["session.id"] == info.session_id
        assert span.attributes["user.id"] == info.user_id
        assert span.attributes["langfuse.trace.name"] == "agent-turn"
        assert span.attributes["langfuse.trace.tags"] == list(info.tags)
        assert span.attributes["langfuse.environment"] == "test"
        assert span.attributes["langfuse.release"] == "1.2.3"
        metadata = {
            key: _attr_json(span, f"langfuse.trace.metadata.{key}")
            for key in ("organization_id", "workspace", "run_id")
        }
        assert metadata == {
            "organization_id": str(info.organization_id),
            "workspace": info.workspace,
            "run_id": str(info.run_id),
        }

    children = sorted((s for s in spans if s is not root), key=lambda s: (s.start_ns, s.name))
    assert all(s.parent_span_id == root.span_id for s in children)
    generations = [s for s in children if s.attributes[TYPE] == "generation"]
    tools = [s for s in children if s.attributes[TYPE] == "tool"]
    assert len(generations) == 2 and len(tools) == 3

    for span, call in zip(generations, turn.model_calls, strict=True):
        assert span.name == "model-call"
        assert (span.start_ns, span.end_ns) == (to_ns(call.started_at), to_ns(call.ended_at))
        assert span.attributes["langfuse.observation.model.name"] == call.model
        assert _attr_json(span, "langfuse.observation.usage_details") == {
            "input": call.input_tokens,
            "output": call.output_tokens,
            "total": call.input_tokens + call.output_tokens,
        }
        assert _attr_json(span, "langfuse.observation.input") == call.input_messages
        output = _attr_json(span, "langfuse.observation.output")
        assert output["content"] == call.output_text
        assert output["tool_calls"] == call.tool_calls
    failed = generations[1]
    assert failed.attributes["langfuse.observation.level"] == "ERROR"
    assert failed.attributes["langfuse.observation.status_message"] == turn.model_calls[1].error
    assert failed.status_code == 2  # OTel STATUS_CODE_ERROR
    assert "langfuse.observation.level" not in generations[0].attributes

    for span, tool_call in zip(tools, turn.tool_calls, strict=True):
        assert span.name == f"tool:{tool_call.tool}"
        assert (span.start_ns, span.end_ns) == (
            to_ns(tool_call.started_at),
            to_ns(tool_call.ended_at),
        )
        assert _attr_json(span, "langfuse.observation.input") == tool_call.arguments
        assert span.attributes["langfuse.observation.output"] == tool_call.output
        assert _attr_json(span, "langfuse.observation.metadata.status") == tool_call.status
        assert _attr_json(span, "langfuse.observation.metadata.risk") == tool_call.risk
    assert tools[1].attributes["langfuse.observation.level"] == "ERROR"
    assert (
        tools[1].attributes["langfuse.observation.status_message"]
        == "timeout talking to the cluster"
    )


async def test_sinks_in_one_process_stay_apart_and_a_key_can_be_reused_after_close() -> None:
    key_a, key_b = _key("pk-a"), _key("pk-b")
    with otlp_collector() as first, otlp_collector() as second, otlp_collector() as third:
        sink_a = LangfuseTelemetry(first.url, key_a, "sk-a", flush_interval=0.1)
        sink_b = LangfuseTelemetry(second.url, key_b, "sk-b", flush_interval=0.1)
        turn_a, turn_b = sample_turn(), sample_turn()
        await play(sink_a, turn_a)
        await play(sink_b, turn_b)
        await sink_a.close()
        await sink_b.close()
        # Same public key as a closed sink, new host: must not reuse the dead exporter.
        again = LangfuseTelemetry(third.url, key_a, "sk-a", flush_interval=0.1)
        turn_again = sample_turn()
        await play(again, turn_again)
        await again.flush()
        await again.close()

    assert {s.trace_id for s in first.spans()} == {turn_a.info.run_id.hex}
    assert {s.trace_id for s in second.spans()} == {turn_b.info.run_id.hex}
    assert {s.trace_id for s in third.spans()} == {turn_again.info.run_id.hex}
    assert len(first.spans()) == len(second.spans()) == len(third.spans()) == 6


async def test_sinks_sharing_a_key_share_one_client_until_the_last_closes() -> None:
    key = _key("pk-shared")
    with otlp_collector() as collector:
        one = LangfuseTelemetry(collector.url, key, "sk", flush_interval=0.1)
        two = LangfuseTelemetry(collector.url, key, "sk", flush_interval=0.1)
        assert one._shared is two._shared
        await one.close()
        turn = sample_turn()
        await play(two, turn)
        await two.flush()
        await two.close()

    assert {s.trace_id for s in collector.spans()} == {turn.info.run_id.hex}
    provider = otel_trace.get_tracer_provider()
    assert provider is not getattr(one._shared, "provider", None)  # global provider untouched


async def test_closing_ends_a_turn_that_never_finished() -> None:
    turn = sample_turn()
    with otlp_collector() as collector:
        telemetry = LangfuseTelemetry(collector.url, _key("pk-open"), "sk", flush_interval=5)
        trace = await telemetry.start_turn(turn.info)
        await trace.tool_call(turn.tool_calls[0])
        await telemetry.close()  # flushes: no need to wait for the 5 s batch interval
        spans = collector.spans()
        await trace.finish(turn.outcome)  # after close: ignored, no error

    root = next(s for s in spans if s.name == "agent-turn")
    assert root.attributes["langfuse.observation.level"] == "WARNING"
    assert len(spans) == 2


async def test_an_unreachable_langfuse_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    telemetry = LangfuseTelemetry(
        f"http://127.0.0.1:{free_port()}", _key("pk-down"), "sk", flush_interval=0.1, timeout=1
    )
    started = time.monotonic()
    await play(telemetry, sample_turn())
    reported = time.monotonic() - started
    await telemetry.flush()
    await telemetry.close()

    assert reported < 0.5  # reporting never waits on the network
    assert time.monotonic() - started < 10
