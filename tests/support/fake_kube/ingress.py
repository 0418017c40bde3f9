"""The fake's plain-HTTP side: Prometheus' range-query API and the Knative ingress.

* ``GET|POST /prometheus/api/v1/query_range`` (``query``, ``start``, ``end``, ``step``) answers
  from ``metrics.Usage.query_range``;
* ``/knative/<workspace>/<namespace>/<service>/<path>`` is what a Knative Service's ``status.url``
  points at: it forwards the request to the process of the revision receiving the traffic (503
  "no healthy upstream" when there is none), as Knative's ingress and activator would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from tests.support.fake_kube.world import FakeKube

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def build_ingress(world: FakeKube) -> Starlette:
    http = httpx.AsyncClient(timeout=120)

    async def query_range(request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            params |= {k: str(v) for k, v in (await request.form()).items()}
        try:
            start, end = float(params["start"]), float(params["end"])
            step = float(params["step"].rstrip("s"))
        except (KeyError, ValueError):
            return JSONResponse(
                {"status": "error", "errorType": "bad_data", "error": "bad parameters"}, 400
            )
        with world.lock:
            answer = world.usage.query_range(params.get("query", ""), start, end, step)
        return JSONResponse(answer, 200 if answer["status"] == "success" else 400)

    async def knative(request: Request) -> Response:
        ws, ns, name = (request.path_params[k] for k in ("ws", "ns", "name"))
        with world.lock:
            port = world.knative.upstream(ws, ns, name)
        if port is None:
            return Response("no healthy upstream", 503)
        upstream = await http.request(
            request.method,
            f"http://127.0.0.1:{port}/{request.path_params.get('rest', '')}",
            params=request.query_params,
            headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
            content=await request.body(),
        )
        return Response(upstream.content, upstream.status_code, dict(upstream.headers))

    return Starlette(
        routes=[
            Route("/prometheus/api/v1/query_range", query_range, methods=["GET", "POST"]),
            Route("/knative/{ws}/{ns}/{name}", knative, methods=METHODS),
            Route("/knative/{ws}/{ns}/{name}/{rest:path}", knative, methods=METHODS),
        ]
    )
