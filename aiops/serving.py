"""How the service runs under uvicorn, for ``aiops serve`` and for the benchmarks that measure
the service as deployed."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from platform_core.config import Settings


def server_config(app: FastAPI, settings: Settings) -> uvicorn.Config:
    """Logging is the service's own (``aiops.logging``, its access log included; uvicorn's is
    off); no proxy headers trusted (the client address feeds rate limits and audit)."""
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )
