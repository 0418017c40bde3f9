"""``/healthz`` (the process answers), ``/readyz`` (every configured backend answers),
``/metrics`` (Prometheus) and the JWKS at its well-known address."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from aiops.http.deps import State

router = APIRouter(tags=["health"])
CHECK_TIMEOUT_SECONDS = 2.0


@router.get("/healthz", name="health.live", operation_id="healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _timed(name: str, check: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check, timeout=CHECK_TIMEOUT_SECONDS)
    except Exception as error:  # every failure is reported, none is raised
        return {"name": name, "ok": False, "error": type(error).__name__}
    return {"name": name, "ok": True, "ms": round((time.perf_counter() - started) * 1000, 2)}


async def _clickhouse_ping(url: str) -> None:
    async with httpx.AsyncClient(timeout=CHECK_TIMEOUT_SECONDS) as client:
        response = await client.get(url.rstrip("/") + "/ping")
        response.raise_for_status()


@router.get("/readyz", name="health.ready", operation_id="readyz")
async def readyz(state: State) -> JSONResponse:
    """Ready when the database, Redis and (if configured over HTTP) ClickHouse answer."""
    checks = [_timed("database", state.db.ping()), _timed("redis", state.redis.ping())]
    url = state.settings.clickhouse_url
    if url and url.startswith(("http://", "https://")):
        checks.append(_timed("clickhouse", _clickhouse_ping(url)))
    results = await asyncio.gather(*checks)
    ready = all(result["ok"] for result in results)
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": results},
        status_code=200 if ready else 503,
    )


@router.get("/metrics", name="health.metrics", operation_id="metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    return Response(
        request.app.state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
    )


@router.get("/.well-known/jwks.json", name="auth.jwks_well_known", operation_id="wellKnownJwks")
async def well_known_jwks(state: State) -> dict[str, Any]:
    return state.auth.keys.jwks()
