"""The function runtime contract, shared by the real image and the twin's sandbox.

A function is Python source that defines a handler (``handle`` unless configured otherwise)::

    def handle(request: dict) -> dict | str:
        return {"hello": request["json"]["name"]}

``request`` has ``method``, ``path``, ``headers`` (lower-case keys), ``query``, ``body`` (text) and
``json`` (the parsed body, or ``None`` when the body is not JSON).

The return value becomes the HTTP response:

* a ``str`` -> ``200`` with ``text/plain``;
* a ``dict`` with ``"status_code"`` (or ``"statusCode"``) and/or ``"body"`` -> that status, the
  optional ``"headers"`` and the body (JSON-encoded unless it is already a string);
* any other JSON-serialisable value -> ``200`` with ``application/json``.

This file is copied verbatim into the function's image (``runtime.py``, run as the container
command) and executed by the twin's sandbox, so both answer exactly the same way. It must only
use the standard library.
"""

from __future__ import annotations

import json
from typing import Any

_STATUS_KEYS = ("status_code", "statusCode")


def make_request(
    method: str, path: str, headers: dict[str, str], query: dict[str, str], body: str
) -> dict[str, Any]:
    """The ``request`` dict handed to the handler."""
    try:
        parsed: Any = json.loads(body) if body else None
    except ValueError:
        parsed = None
    return {
        "method": method,
        "path": path,
        "headers": {k.lower(): v for k, v in headers.items()},
        "query": dict(query),
        "body": body,
        "json": parsed,
    }


def shape_response(result: object) -> tuple[int, dict[str, str], str]:
    """``(status, headers, body)`` for a handler's return value; ``TypeError`` if unusable."""
    if isinstance(result, str):
        return 200, {"content-type": "text/plain; charset=utf-8"}, result
    if isinstance(result, dict) and any(k in result for k in (*_STATUS_KEYS, "body")):
        status = next((result[k] for k in _STATUS_KEYS if k in result), 200)
        if not isinstance(status, int) or not 100 <= status <= 599:
            raise TypeError(f"invalid status code {status!r}")
        headers = {str(k).lower(): str(v) for k, v in dict(result.get("headers") or {}).items()}
        body = result.get("body", "")
        if not isinstance(body, str):
            body = json.dumps(body)
            headers.setdefault("content-type", "application/json")
        headers.setdefault("content-type", "text/plain; charset=utf-8")
        return status, headers, body
    try:
        text = json.dumps(result)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"handler returned a value that is not JSON-serialisable: {exc}") from exc
    return 200, {"content-type": "application/json"}, text


def serve(source_path: str, handler_name: str, port: int) -> None:  # pragma: no cover
    """Serve the handler over HTTP (the container entrypoint of a built function image)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from pathlib import Path
    from urllib.parse import parse_qsl, urlsplit

    namespace: dict[str, Any] = {"__name__": "function"}
    code = compile(Path(source_path).read_text(), source_path, "exec")
    exec(code, namespace)  # noqa: S102 - running the user's function is the point
    handler = namespace[handler_name]

    class _Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace")
            request = make_request(
                self.command, url.path, dict(self.headers.items()), dict(parse_qsl(url.query)), body
            )
            try:
                status, headers, text = shape_response(handler(request))
            except Exception as exc:  # a failing handler is a 500, not a dead server
                status, headers, text = 500, {"content-type": "text/plain"}, f"{exc!r}"
            payload = text.encode()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    ThreadingHTTPServer(("0.0.0.0", port), _Handler).serve_forever()  # noqa: S104


if __name__ == "__main__":  # pragma: no cover
    import os

    serve(
        os.environ.get("FUNCTION_SOURCE", "/app/handler.py"),
        os.environ.get("FUNCTION_HANDLER", "handle"),
        int(os.environ.get("PORT", "8080")),
    )
