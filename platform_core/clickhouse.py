"""Connections to ClickHouse: URL parsing, and one blocking client per store.

Shared by the execution history (``agents.telemetry``) and the metric store
(``platform_core.observability``): with chDB both live in the same embedded engine.

Why connections are shaped the way they are:

* chDB hosts one engine per process, and a second path cannot be opened while the first is in
  use. Every sink on the same chDB path therefore shares one connection, reference counted, and
  the engine is closed when the last sink closes (so tests and restarts can move to another path).
* clickhouse-connect's client is blocking (for chDB it is the only client there is). Each
  connection owns a single worker thread that makes every call, so calls are serialized (a chDB
  handle must not be used concurrently) and a slow store never occupies the event loop or the
  loop's shared thread pool that other code relies on.
* Nothing touches the network or disk at construction: the client is opened on first use and, for
  a server, reopened on the next use after a failure, so a store that is down at start-up heals.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from clickhouse_connect.driver import create_client
from clickhouse_connect.driver.client import Client

logger = logging.getLogger("platform_core.clickhouse")
DEFAULT_DATABASE = "aiops"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
Schema = tuple[str, ...]  # the DDL statements a caller needs in place before its work

T = TypeVar("T")


class ClickHouseUnavailableError(RuntimeError):
    """The store could not answer (down, misconfigured, or closed)."""


def check_identifier(name: str) -> str:
    """A database or table name, checked: it is spliced into SQL, never user input."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"{name!r} is not a valid ClickHouse identifier")
    return name


@dataclass(frozen=True)
class ClickHouseTarget:
    """Where history lives, parsed from the configured URL (the password never shows in repr)."""

    interface: str  # "chdb", "http" or "https"
    database: str
    path: str | None = None
    host: str | None = None
    port: int | None = None
    username: str | None = None
    password: str = field(default="", repr=False)

    @property
    def display(self) -> str:
        """A loggable description without credentials."""
        if self.interface == "chdb":
            return f"chdb://{self.path}"
        return f"{self.interface}://{self.host}:{self.port}/{self.database}"


def parse_clickhouse_url(url: str, database: str = DEFAULT_DATABASE) -> ClickHouseTarget:
    """Parse ``chdb:///abs/path`` or ``http(s)://user:pass@host:port/db``.

    For a server, a database in the URL path wins over ``database``. The database is created if
    missing, so it is not given to the client (which would fail to connect before it exists);
    every statement names it explicitly instead.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "chdb":
        if parts.netloc or not parts.path.startswith("/"):
            raise ValueError("a chDB URL must name an absolute path: chdb:///abs/path")
        path = os.path.realpath(unquote(parts.path))
        return ClickHouseTarget("chdb", check_identifier(database), path=path)
    if scheme not in ("http", "https"):
        raise ValueError(f"unsupported ClickHouse URL scheme {scheme!r} (use chdb, http or https)")
    if not parts.hostname:
        raise ValueError("a ClickHouse server URL must name a host")
    url_database = unquote(parts.path.strip("/"))
    return ClickHouseTarget(
        interface=scheme,
        database=check_identifier(url_database or database),
        host=parts.hostname,
        port=parts.port or (8443 if scheme == "https" else 8123),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else "",
    )


class Connection:
    """One lazily opened client and the one thread that uses it."""

    def __init__(self, target: ClickHouseTarget, connect_timeout: float) -> None:
        self.target = target
        self.users = 0
        self._connect_timeout = connect_timeout
        self._client: Client | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._ready_schemas: set[Schema] = set()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clickhouse")

    @property
    def closed(self) -> bool:
        return self._closed

    async def run(self, work: Callable[[Client], T], *, schema: Schema = ()) -> T:
        """Run ``work`` with the client on the connection's thread, after making sure the
        ``schema`` statements ran once on this client (users of one engine bring their own)."""
        if self._closed:
            raise ClickHouseUnavailableError("the ClickHouse connection is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, work, schema)

    def _call(self, work: Callable[[Client], T], schema: Schema) -> T:
        with self._lock:
            if self._closed:
                raise ClickHouseUnavailableError("the ClickHouse connection is closed")
            client = self._client = self._client or self._open()
            try:
                if schema and schema not in self._ready_schemas:
                    for statement in schema:
                        client.command(statement)
                    self._ready_schemas.add(schema)
                return work(client)
            except Exception:
                if self.target.interface != "chdb":
                    self._drop_client()  # a broken HTTP session is reopened on the next call
                raise

    def _open(self) -> Client:
        target = self.target
        if target.interface == "chdb":
            return create_client(interface="chdb", path=target.path, tz_mode="aware")
        return create_client(
            interface=target.interface,
            host=target.host,
            port=target.port,
            username=target.username,
            password=target.password,
            tz_mode="aware",
            connect_timeout=self._connect_timeout,
            send_receive_timeout=max(self._connect_timeout, 10.0),
            query_retries=1,
            autogenerate_session_id=False,
        )

    def _drop_client(self) -> None:
        client, self._client = self._client, None
        self._ready_schemas.clear()
        if client is not None:
            try:
                client.close()
            except Exception:
                logger.debug("closing a ClickHouse client failed", exc_info=True)

    def close(self) -> None:
        """Close the client on its own thread (after queued work) and stop the thread."""

        def shut() -> None:
            with self._lock:
                self._closed = True
                self._drop_client()

        self._executor.submit(shut).result()
        self._executor.shutdown(wait=True)


# chDB: one engine per process, so one connection per path, shared by every sink on it.
_CHDB_CONNECTIONS: dict[str, Connection] = {}
_CHDB_GUARD = threading.Lock()


def acquire(target: ClickHouseTarget, connect_timeout: float) -> Connection:
    if target.interface != "chdb" or target.path is None:
        connection = Connection(target, connect_timeout)
        connection.users = 1
        return connection
    with _CHDB_GUARD:
        shared = _CHDB_CONNECTIONS.get(target.path)
        if shared is None or shared.closed:
            shared = _CHDB_CONNECTIONS[target.path] = Connection(target, connect_timeout)
        shared.users += 1
        return shared


def release(connection: Connection) -> None:
    with _CHDB_GUARD:
        connection.users -= 1
        if connection.users > 0:
            return
        path = connection.target.path
        if path is not None and _CHDB_CONNECTIONS.get(path) is connection:
            del _CHDB_CONNECTIONS[path]
    connection.close()


def describe(exc: BaseException) -> str:
    """chDB errors carry a full native stack trace; keep the log line readable."""
    text = str(exc).split("Stack trace", 1)[0].strip()
    if len(text) > 500:
        text = text[:500] + "..."
    return f"{type(exc).__name__}: {text}"


class ConnectionUser:
    """What every user of a (shared) ClickHouse connection does alike: runs work on it with its
    own schema in place, answers readiness, and lets it go on close.

    Subclasses set ``label`` (how messages name them) and ``log`` (their own logger).
    """

    label = "ClickHouse"
    log = logger

    def __init__(self, target: ClickHouseTarget, schema: Schema, connect_timeout: float) -> None:
        self.target = target
        self.connect_timeout = connect_timeout
        self._schema = schema
        self._connection: Connection | None = acquire(target, connect_timeout)

    async def _run(self, work: Callable[[Client], T]) -> T:
        connection = self._connection
        if connection is None:
            raise ClickHouseUnavailableError(f"the {self.label} is closed")
        return await connection.run(work, schema=self._schema)

    async def ping(self) -> bool:
        """Readiness: can the store answer a query (and is the schema in place)? Never raises."""
        try:
            async with asyncio.timeout(2 * self.connect_timeout):
                result = await self._run(lambda c: c.command("SELECT 1"))
        except Exception as exc:
            self.log.warning("%s %s is not ready: %s", self.label, self, describe(exc))
            return False
        return bool(result == 1)

    async def _release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            await asyncio.to_thread(release, connection)
        except Exception as exc:
            self.log.warning("closing the %s failed: %s", self.label, describe(exc))
