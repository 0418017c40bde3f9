"""Process-wide Langfuse SDK clients, one per public key, shared and reference counted.

Everything this package needs from the SDK's internals is here, so a Langfuse upgrade has one
place to check (the Langfuse tests in ``tests/agents/telemetry`` fail loudly if it breaks).

Why not just ``Langfuse(...)`` per sink: the SDK keeps a process-wide resource manager per public
key, and ``Langfuse(...)`` with a key it has seen returns that manager, even after it was shut
down and even if the host differs. A second sink with the same key (a restarted app in the same
process, the next test) would silently export into a dead processor. So:

* sinks with the same key share one client here; the last one to close shuts it down and removes
  the SDK's entry, so the next client for that key starts fresh;
* a shut-down entry left by someone else is removed before a new client is built;
* each client gets a TracerProvider of its own instead of the SDK's default, which would install
  itself as the global OpenTelemetry provider (or add Langfuse's exporter to the application's
  provider), mixing Langfuse export with whatever the rest of the service traces;
* that provider's ID generator takes the trace id from the run id, so a run found in the
  ClickHouse history opens in Langfuse at ``/trace/<run_id.hex>``.

If the SDK already holds a live manager for the key that this module did not create (someone
called ``Langfuse()`` directly), it is used as is, with a warning: its host and tracer win, and
closing the sink only flushes it.
"""

from __future__ import annotations

import logging
import threading
from contextvars import ContextVar
from dataclasses import dataclass

from langfuse import Langfuse
from langfuse._client.resource_manager import LangfuseResourceManager
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace import Tracer

logger = logging.getLogger("agents.telemetry")

# Set around the creation of a turn's root span: the trace id to use instead of a random one.
NEXT_TRACE_ID: ContextVar[int | None] = ContextVar("langfuse_next_trace_id", default=None)


class RunIdGenerator(RandomIdGenerator):
    """Random ids, except a root span created with ``NEXT_TRACE_ID`` set takes that trace id."""

    def generate_trace_id(self) -> int:
        pending = NEXT_TRACE_ID.get()
        return pending if pending else super().generate_trace_id()


@dataclass(frozen=True)
class ClientConfig:
    host: str
    public_key: str
    secret_key: str
    environment: str | None
    release: str | None
    flush_interval: float
    timeout: int


class SharedClient:
    """A Langfuse client and the OpenTelemetry provider it exports through."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self.users = 0
        self.provider: TracerProvider | None = None
        with LangfuseResourceManager._lock:
            existing = LangfuseResourceManager._instances.get(config.public_key)
            if existing is not None and existing._shutdown:
                del LangfuseResourceManager._instances[config.public_key]
                existing = None
        self.owned = existing is None
        if self.owned:
            self.provider = TracerProvider(
                resource=Resource.create({"service.name": "hexabase-aiops-agents"}),
                id_generator=RunIdGenerator(),
            )
        else:
            logger.warning(
                "a Langfuse client for public key %s already exists outside agents.telemetry; "
                "traces go through it (its host and settings apply)",
                config.public_key,
            )
        self.client = Langfuse(
            public_key=config.public_key,
            secret_key=config.secret_key,
            base_url=config.host,
            environment=config.environment,
            release=config.release,
            flush_interval=config.flush_interval,
            timeout=config.timeout,
            sample_rate=1.0,
            tracer_provider=self.provider,
        )

    @property
    def tracer(self) -> Tracer:
        """The SDK's own tracer: its instrumentation scope (name and public key) is what the
        Langfuse span processor exports, so spans must come from it to reach Langfuse."""
        return self.client._otel_tracer

    def flush(self) -> None:
        self.client.flush()

    def shutdown(self) -> None:
        if not self.owned:
            self.client.flush()
            return
        resources = self.client._resources
        try:
            self.client.shutdown()
            if self.provider is not None:
                self.provider.shutdown()
        finally:
            with LangfuseResourceManager._lock:
                key = self.config.public_key
                if LangfuseResourceManager._instances.get(key) is resources:
                    del LangfuseResourceManager._instances[key]


_CLIENTS: dict[str, SharedClient] = {}
_GUARD = threading.Lock()


def acquire(config: ClientConfig) -> SharedClient:
    """The shared client for ``config.public_key``, created on first use."""
    with _GUARD:
        shared = _CLIENTS.get(config.public_key)
        if shared is None:
            shared = _CLIENTS[config.public_key] = SharedClient(config)
        elif shared.config != config:
            logger.warning(
                "Langfuse keeps one exporter per public key: this sink (%s) reuses the one "
                "already open for %s",
                config.host,
                shared.config.host,
            )
        shared.users += 1
        return shared


def release(shared: SharedClient) -> None:
    """Drop one user; the last one flushes and shuts the client down (blocking: network)."""
    with _GUARD:
        shared.users -= 1
        last = shared.users == 0
        if last and _CLIENTS.get(shared.config.public_key) is shared:
            del _CLIENTS[shared.config.public_key]
    if last:
        shared.shutdown()
    else:
        shared.flush()
