"""A local OTLP/HTTP trace collector standing in for Langfuse's ingestion endpoint.

The Langfuse SDK exports spans as OTLP protobuf (gzip-compressed by default) to
``{host}/api/public/otel/v1/traces`` with basic auth. This collector accepts exactly that on
127.0.0.1, decodes every request and keeps the spans as plain dicts, so tests can assert on what
would have reached Langfuse without a Langfuse server.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

TRACES_PATH = "/api/public/otel/v1/traces"


def any_value(value: AnyValue) -> Any:
    """An OTLP attribute value as a Python value."""
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {item.key: any_value(item.value) for item in value.kvlist_value.values}
    return None if kind is None else getattr(value, kind)


@dataclass(frozen=True)
class CapturedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    scope_name: str
    scope_attributes: dict[str, Any]
    resource: dict[str, Any]
    status_code: int


@dataclass
class CapturedRequest:
    path: str
    headers: dict[str, str]
    spans: list[CapturedSpan]


@dataclass
class OtlpCollector:
    url: str
    requests: list[CapturedRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def spans(self) -> list[CapturedSpan]:
        with self._lock:
            return [span for request in self.requests for span in request.spans]

    def wait_for_spans(self, count: int, timeout: float = 10.0) -> list[CapturedSpan]:
        """Wait until at least ``count`` spans arrived; return them all."""
        deadline = time.monotonic() + timeout
        while len(self.spans()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} spans, got {len(self.spans())}")
            time.sleep(0.02)
        return self.spans()


def decode(body: bytes, encoding: str | None) -> list[CapturedSpan]:
    if encoding == "gzip":
        body = gzip.decompress(body)
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        resource = {kv.key: any_value(kv.value) for kv in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            scope_attributes = {kv.key: any_value(kv.value) for kv in scope_spans.scope.attributes}
            for span in scope_spans.spans:
                spans.append(
                    CapturedSpan(
                        name=span.name,
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                        attributes={kv.key: any_value(kv.value) for kv in span.attributes},
                        scope_name=scope_spans.scope.name,
                        scope_attributes=scope_attributes,
                        resource=resource,
                        status_code=span.status.code,
                    )
                )
    return spans


@contextmanager
def otlp_collector() -> Iterator[OtlpCollector]:
    """Serve an OTLP/HTTP trace endpoint on a free loopback port until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    collector = OtlpCollector(url=f"http://127.0.0.1:{server.server_address[1]}")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path != TRACES_PATH:
                self.send_response(404)
                self.end_headers()
                return
            spans = decode(body, self.headers.get("Content-Encoding"))
            headers = {key.lower(): value for key, value in self.headers.items()}
            with collector._lock:
                collector.requests.append(CapturedRequest(self.path, headers, spans))
            payload = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield collector
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
