"""One Kubernetes API server, called safely from async code.

The official ``kubernetes`` client is synchronous (urllib3 underneath). ``Kube.call`` runs each
call in a worker thread with ``asyncio.to_thread`` rather than the client's ``async_req`` (which
hands back a ``multiprocessing`` ``AsyncResult`` that can only be waited for by blocking): the
event loop stays free, cancellation and ``asyncio.timeout`` work as usual, and retries sleep with
``asyncio.sleep`` instead of holding a thread.

Every call gets:

* a timeout - ``_request_timeout=(connect, read)`` on the socket, and an outer deadline on the
  thread, so a hanging API server costs at most ``connect + read`` per attempt;
* retries with exponential back-off and jitter (bounded, honouring ``Retry-After``) on 429, 5xx
  and network failures. urllib3's own retries are switched off (``retries=False``) so that this
  is the only retry loop. Reads are retried on any failure; writes only when the request cannot
  have been applied twice in a harmful way (connection refused, 429, 5xx, dropped connection) -
  a create that did go through before a 5xx then surfaces as ``Conflict``;
* error mapping to domain errors (``errors``), raised ``from None`` so no client exception (with
  its URL and header dump) leaks to callers.

Responses are read raw (``_preload_content=False``) and decoded as JSON dicts: the manifests we
send are dicts built by ``platform_core.cluster.manifests``, and reading the answers in the same
shape keeps one representation instead of two. Request bodies still pass through the client's
generated models (``validate_call``), which rejects a malformed manifest before it is sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3
import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from pydantic import ValidationError

from platform_core.cluster.kubernetes.errors import RETRYABLE_STATUS, from_status, unreachable
from platform_core.errors import InvalidInput, NotFound, Unavailable

logger = logging.getLogger(__name__)
Obj = dict[str, Any]
_SAFE = ("read_", "list_", "get_")
_JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds to wait for a connection and for an answer, per attempt."""

    connect: float = 5.0
    read: float = 30.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``attempts`` tries in all; the n-th retry waits about ``base * 2**n`` (capped, jittered)."""

    attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 4.0

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2**retry)
        wait = random.uniform(ceiling / 2, ceiling)  # "equal jitter": never zero, never in step
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_delay))
        return wait


def _retry_after(exc: ApiException) -> float | None:
    headers = exc.headers or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class Kube:
    """Typed API groups of one API server plus ``call``, the only way they are invoked."""

    def __init__(
        self,
        api_client: Any,
        *,
        name: str,
        timeouts: Timeouts = Timeouts(),
        retry: RetryPolicy = RetryPolicy(),
    ) -> None:
        self.api_client = api_client
        self.name = name
        self.timeouts = timeouts
        self.retry = retry
        self.core = client.CoreV1Api(api_client)
        self.apps = client.AppsV1Api(api_client)
        self.batch = client.BatchV1Api(api_client)
        self.autoscaling = client.AutoscalingV2Api(api_client)
        self.custom = client.CustomObjectsApi(api_client)

    def close(self) -> None:
        self.api_client.close()

    async def call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Obj:
        """Invoke ``method`` and return the decoded JSON answer."""
        data = await self.raw(method, *args, **kwargs)
        if not data:
            return {}
        decoded = json.loads(data)
        return decoded if isinstance(decoded, dict) else {"value": decoded}

    async def maybe(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Obj | None:
        """Like ``call`` but ``None`` when the object does not exist."""
        try:
            return await self.call(method, *args, **kwargs)
        except NotFound:
            return None

    async def items(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> list[Obj]:
        """The ``items`` of a list call."""
        return list((await self.call(method, *args, **kwargs)).get("items") or [])

    async def text(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
        """A plain-text answer (pod logs)."""
        return (await self.raw(method, *args, **kwargs)).decode("utf-8", "replace")

    async def raw(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> bytes:
        name = getattr(method, "__name__", "call")
        what = f"{self.name}: {name}"
        safe = name.startswith(_SAFE)
        if name.startswith(("create_", "replace_")) and "_headers" not in kwargs:
            kwargs["_headers"] = dict(_JSON)  # the generated client sends no Content-Type here
        kwargs.update(
            _preload_content=False,
            _request_timeout=(self.timeouts.connect, self.timeouts.read),
        )
        for attempt in range(self.retry.attempts):
            last = attempt + 1 == self.retry.attempts
            try:
                return await self._once(method, args, kwargs)
            except ApiException as exc:
                status = int(exc.status or 0)
                if status in RETRYABLE_STATUS and not last:
                    await asyncio.sleep(self.retry.delay(attempt, _retry_after(exc)))
                    continue
                if status == 0:  # the client's wrapping of a TLS failure: no HTTP answer at all
                    problem = "TLS handshake failed" if "SSL" in str(exc.reason) else "no response"
                    raise unreachable(what, problem) from None
                raise from_status(status, exc.body, what=what) from None
            except (urllib3.exceptions.HTTPError, TimeoutError, OSError) as exc:
                retryable = safe or isinstance(
                    exc,
                    urllib3.exceptions.ConnectTimeoutError
                    | urllib3.exceptions.ProtocolError
                    | ConnectionRefusedError,
                )
                logger.debug("%s failed (attempt %d): %r", what, attempt + 1, exc)
                if retryable and not last:
                    await asyncio.sleep(self.retry.delay(attempt))
                    continue
                raise unreachable(what, _describe(exc)) from None
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first.get("loc", ()))
                raise InvalidInput(
                    f"{what}: the request does not match the Kubernetes schema at {where}: "
                    f"{first.get('msg')}"
                ) from None
        raise Unavailable(f"{what}: no attempt was made")  # pragma: no cover - attempts >= 1

    async def _once(
        self, method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> bytes:
        deadline = self.timeouts.connect + self.timeouts.read + 1.0
        async with asyncio.timeout(deadline):
            response = await asyncio.to_thread(method, *args, **kwargs)
        try:
            data = response.data
        finally:
            response.release_conn()
        return bytes(data or b"")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError | TimeoutError):
        return "timed out"
    if isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
        return "could not connect"
    if isinstance(exc, urllib3.exceptions.ProtocolError):
        return "connection dropped"
    return type(exc).__name__


# ---------------------------------------------------------------------------- configuration


def _prepare(configuration: Any) -> Any:
    configuration.retries = False  # ``Kube.raw`` is the one retry loop
    return client.ApiClient(configuration)


def api_client_from_kubeconfig(kubeconfig: str | Mapping[str, Any]) -> Any:
    """An ``ApiClient`` for a kubeconfig given as YAML text or as a parsed document."""
    document = yaml.safe_load(kubeconfig) if isinstance(kubeconfig, str) else dict(kubeconfig)
    if not isinstance(document, dict):
        raise InvalidInput("the kubeconfig is not a YAML mapping")
    configuration = client.Configuration()
    try:
        config.load_kube_config_from_dict(  # type: ignore[no-untyped-call]
            config_dict=document, client_configuration=configuration, persist_config=False
        )
    except (config.ConfigException, KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"unusable kubeconfig: {exc}") from None
    return _prepare(configuration)


def api_client_from_file(path: Path) -> Any:
    """An ``ApiClient`` for the kubeconfig file at ``path`` (its current context)."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise Unavailable(f"cannot read kubeconfig {path}: {exc.strerror}") from None
    return api_client_from_kubeconfig(text)


def in_cluster_api_client() -> Any:
    """An ``ApiClient`` from the pod's service account (when running inside the host cluster)."""
    configuration = client.Configuration()
    try:
        config.load_incluster_config(  # type: ignore[no-untyped-call]
            client_configuration=configuration
        )
    except config.ConfigException as exc:
        raise Unavailable(f"no kubeconfig configured and not running in a cluster: {exc}") from None
    return _prepare(configuration)
