"""A fake OpenAI-compatible server (Chat Completions), for tests that run the real ChatOpenAI.

Same scripting, faults, recording and lifecycle as ``fake_ollama`` (whose ``FakeModelServer``
it extends); only the wire format differs:

* ``POST /v1/chat/completions``, streamed as server-sent events (``data: {...}`` chunks of
  ``chat.completion.chunk``: a role delta, content deltas, tool calls as index/id/name and
  argument fragments, a finish chunk, a usage chunk when ``stream_options.include_usage``, then
  ``data: [DONE]``), or one ``chat.completion`` object;
* ``GET /v1/models``;
* errors in OpenAI's shape ``{"error": {"message", "type", "param", "code"}}``; with
  ``api_key`` set, a request without that bearer token gets a real 401.

Usage::

    with FakeOpenAI(api_key="sk-test") as server:
        server.script(Reply.call("get_pod_logs", {"pod": "web-1"}), HTTPError(503))
        model = ChatOpenAI(model="m", base_url=server.base_url, api_key="sk-test")
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from typing import Any

from tests.support.fake_ollama import (
    FakeModelServer,
    HTTPError,
    RecordedRequest,
    Reply,
    Responder,
    ResponseWriter,
    ScriptedToolCall,
)

__all__ = ["FakeOpenAI"]


def _sse(payload: Mapping[str, Any] | str) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload)
    return f"data: {data}\n\n".encode()


def _fragments(text: str, parts: int = 3) -> list[str]:
    """Split ``text`` into up to ``parts`` pieces, as a model streams tool arguments."""
    size = max(1, -(-len(text) // parts))
    return [text[start : start + size] for start in range(0, len(text), size)] or [""]


def _error_type(status: int) -> str:
    return {
        401: "invalid_request_error",
        404: "invalid_request_error",
        429: "requests",
    }.get(status, "invalid_request_error" if status < 500 else "server_error")


class FakeOpenAI(FakeModelServer):
    """An OpenAI-compatible Chat Completions endpoint under ``/v1``."""

    chat_path = "/v1/chat/completions"
    stream_content_type = "text/event-stream; charset=utf-8"

    def __init__(
        self,
        *,
        api_key: str | None = None,
        models: tuple[str, ...] | None = None,
        responder: Responder | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(responder=responder, host=host)
        self.api_key = api_key
        self.models = models

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    # -- validation ----------------------------------------------------------------------

    def check(self, request: RecordedRequest) -> HTTPError | None:
        if not request.path.startswith("/v1/"):
            return None
        if self.api_key is not None:
            presented = request.headers.get("authorization", "").removeprefix("Bearer ")
            if presented != self.api_key:
                return HTTPError(401, "Incorrect API key provided.")
        if request.path != self.chat_path:
            return None
        if not request.body:
            return HTTPError(400, "We could not parse the JSON body of your request.")
        model = request.model
        if not model:
            return HTTPError(400, "you must provide a model parameter")
        if not isinstance(request.body.get("messages"), list) or not request.messages:
            return HTTPError(400, "'messages' is a required property")
        if self.models is not None and model not in self.models:
            return HTTPError(
                404, f"The model `{model}` does not exist or you do not have access to it."
            )
        return None

    def error_body(self, status: int, message: str) -> Any:
        code = {401: "invalid_api_key", 404: "model_not_found"}.get(status)
        return {
            "error": {"message": message, "type": _error_type(status), "param": None, "code": code}
        }

    # -- chat ----------------------------------------------------------------------------

    def wants_stream(self, request: RecordedRequest) -> bool:
        return request.body.get("stream") is True

    @staticmethod
    def _finish_reason(reply: Reply) -> str:
        return reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")

    @staticmethod
    def _call_id(call: ScriptedToolCall) -> str:
        return call.id or f"call_{uuid.uuid4().hex[:24]}"

    @staticmethod
    def _usage(reply: Reply) -> dict[str, int]:
        return {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.output_tokens,
            "total_tokens": reply.prompt_tokens + reply.output_tokens,
        }

    def stream_pieces(self, reply: Reply, request: RecordedRequest) -> list[bytes]:
        include_usage = bool((request.body.get("stream_options") or {}).get("include_usage"))
        head = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": request.model,
            "system_fingerprint": "fp_fake",
        }

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            payload: dict[str, Any] = {**head, "choices": [choice]}
            if include_usage:
                payload["usage"] = None
            return _sse(payload)

        pieces = [chunk({"role": "assistant", "content": ""})]
        pieces.extend(chunk({"content": text}) for text in reply.chunks)
        for index, call in enumerate(reply.tool_calls):
            opening = {
                "index": index,
                "id": self._call_id(call),
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            pieces.append(chunk({"tool_calls": [opening]}))
            pieces.extend(
                chunk({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]})
                for fragment in _fragments(call.wire_arguments)
            )
        pieces.append(chunk({}, self._finish_reason(reply)))
        if include_usage:
            pieces.append(_sse({**head, "choices": [], "usage": self._usage(reply)}))
        pieces.append(_sse("[DONE]"))
        return pieces

    def stream_error_pieces(self, message: str) -> list[bytes]:
        # As vLLM and friends do: an error object as an event, then the end marker.
        return [_sse(self.error_body(500, message)), _sse("[DONE]")]

    def complete_body(self, reply: Reply, request: RecordedRequest) -> Any:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": reply.text if reply.chunks or not reply.tool_calls else None,
            "refusal": None,
        }
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": self._call_id(call),
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.wire_arguments},
                }
                for call in reply.tool_calls
            ]
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.model,
            "system_fingerprint": "fp_fake",
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": self._finish_reason(reply),
                }
            ],
            "usage": self._usage(reply),
        }

    # -- other endpoints -----------------------------------------------------------------

    def _model_entry(self, name: str) -> dict[str, Any]:
        return {"id": name, "object": "model", "created": 1_700_000_000, "owned_by": "fake"}

    async def handle_other(self, request: RecordedRequest, response: ResponseWriter) -> bool:
        if request.method != "GET" or not request.path.startswith("/v1/models"):
            return False
        names = self.models or ()
        if request.path == "/v1/models":
            listing = [self._model_entry(name) for name in names]
            await response.json(200, {"object": "list", "data": listing})
            return True
        name = request.path.removeprefix("/v1/models/")
        if self.models is not None and name not in self.models:
            await response.json(404, self.error_body(404, f"The model `{name}` does not exist."))
        else:
            await response.json(200, self._model_entry(name))
        return True
