"""The twin's engine: state, virtual clock, timers and object lookup.

Time only moves when a caller advances it (``advance_sync(seconds)`` or ``await
advance(seconds)``). Everything that happens "later" on a real cluster - an image pull finishing,
a readiness probe passing, a crash-loop back-off ending, a CronJob firing, a Kaniko build
completing - is a timer on one heap; advancing pops the due timers in time order and runs their
handlers, then sets the clock to the target. A periodic ``tick`` timer (every 15 s, the HPA
sync period) evaluates the load model for all applications at once. Between timers nothing
costs anything, which is what makes a virtual minute of 1,000 steady applications cheap.

Timers carry a ``token``; an object bumps its token when earlier timers become meaningless
(a pod being deleted, a CronJob being rescheduled), so stale timers are dropped when popped.

Randomness comes from one ``random.Random(seed)`` and from ``stable_seed`` hashes of object
identities, never from global state or the wall clock, so equal seeds and equal call sequences
give equal snapshots.
"""

from __future__ import annotations

import asyncio
import heapq
import random
from collections.abc import Callable
from datetime import UTC, datetime

from platform_core.cluster.quantity import cpu_millis, memory_bytes
from platform_core.cluster.twin.state import (
    App,
    Event,
    Namespace,
    TwinConfig,
    TwinState,
    Workspace,
)
from platform_core.errors import Conflict, NotFound, Unavailable

Handler = Callable[["TwinCore", str, str, str, int], None]
HANDLERS: dict[str, Handler] = {}
TICK_SECONDS = 15.0
MAX_EVENTS_PER_NAMESPACE = 1000
DEFAULT_START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
_ASYNC_SLICE = 300.0  # virtual seconds processed between yields to the event loop


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs when a timer of ``kind`` fires."""

    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


class TwinCore:
    """State, clock and lookups shared by the twin's API mixins and controllers."""

    def __init__(
        self,
        *,
        seed: int = 0,
        start: datetime | None = None,
        nodes_per_workspace: int = 3,
        node_cpu: str = "8",
        node_memory: str = "32Gi",
    ) -> None:
        config = TwinConfig(nodes_per_workspace, cpu_millis(node_cpu), memory_bytes(node_memory))
        begin = (start or DEFAULT_START).astimezone(UTC).timestamp()
        self.state = TwinState(seed=seed, now=begin, config=config)
        self.rng = random.Random(seed)
        # Transient bookkeeping of controllers running right now (never part of a snapshot).
        self.busy: set[tuple[str, str, str]] = set()
        self.dirty: set[tuple[str, str, str]] = set()
        first_tick = (begin // TICK_SECONDS + 1) * TICK_SECONDS
        self.schedule(first_tick, "tick")

    # ------------------------------------------------------------------ clock

    @property
    def t(self) -> float:
        """Virtual time, seconds since the epoch."""
        return self.state.now

    @property
    def clock(self) -> datetime:
        """Virtual time as an aware ``datetime``."""
        return self.dt(self.state.now)

    @staticmethod
    def dt(t: float) -> datetime:
        return datetime.fromtimestamp(t, UTC)

    async def now(self) -> datetime:
        return self.clock

    def schedule(
        self, at: float, kind: str, ws: str = "", ns: str = "", name: str = "", token: int = 0
    ) -> None:
        """Run ``HANDLERS[kind](self, ws, ns, name, token)`` when the clock reaches ``at``."""
        self.state.seq += 1
        heapq.heappush(
            self.state.timers, (max(at, self.t), self.state.seq, kind, ws, ns, name, token)
        )

    def advance_sync(self, seconds: float) -> None:
        """Move the virtual clock forward, running everything that falls due on the way."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._run_until(self.t + seconds)

    async def advance(self, seconds: float) -> None:
        """Like ``advance_sync`` but yields to the event loop every few virtual minutes."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        target = self.t + seconds
        while self.t < target:
            self._run_until(min(target, self.t + _ASYNC_SLICE))
            await asyncio.sleep(0)

    def _run_until(self, target: float) -> None:
        timers = self.state.timers
        while timers and timers[0][0] <= target:
            at, _, kind, ws, ns, name, token = heapq.heappop(timers)
            self.state.now = max(self.state.now, at)
            HANDLERS[kind](self, ws, ns, name, token)
        self.state.now = max(self.state.now, target)

    # ------------------------------------------------------------------ lookups

    def workspace(self, workspace: str) -> Workspace:
        """The workspace in any phase but ``terminated``."""
        found = self.state.workspaces.get(workspace)
        if found is None or found.phase == "terminated":
            raise NotFound(f"workspace {workspace!r} not found")
        return found

    def active_workspace(self, workspace: str) -> Workspace:
        """The workspace if its API server answers; otherwise the error a client would see."""
        found = self.workspace(workspace)
        if found.phase == "provisioning":
            raise Unavailable(f"workspace {workspace!r} is still provisioning; try again shortly")
        if found.phase == "suspended":
            raise Conflict(f"workspace {workspace!r} is suspended; resume it first")
        if found.phase == "terminating":
            raise Conflict(f"workspace {workspace!r} is being deleted")
        return found

    def namespace(self, workspace: str, namespace: str) -> tuple[Workspace, Namespace]:
        ws = self.active_workspace(workspace)
        ns = ws.namespaces.get(namespace)
        if ns is None:
            raise NotFound(f'namespaces "{namespace}" not found')
        return ws, ns

    def app(self, workspace: str, namespace: str, name: str) -> tuple[Workspace, Namespace, App]:
        ws, ns = self.namespace(workspace, namespace)
        app = ns.apps.get(name)
        if app is None:
            raise NotFound(f'deployments.apps "{name}" not found in namespace "{namespace}"')
        return ws, ns, app

    def find(self, workspace: str, namespace: str) -> tuple[Workspace, Namespace] | None:
        """Lookup for timer handlers: ``None`` instead of errors when the object is gone."""
        ws = self.state.workspaces.get(workspace)
        if ws is None or ws.phase not in {"active", "terminating"}:
            return None
        ns = ws.namespaces.get(namespace)
        return None if ns is None else (ws, ns)

    # ------------------------------------------------------------------ events

    def event(
        self,
        ns: Namespace,
        kind: str,
        name: str,
        reason: str,
        message: str,
        *,
        warning: bool = False,
        source: str = "kubelet",
    ) -> None:
        """Record an Event; a repeat of the same object/reason/message bumps its count."""
        key = f"{kind}\x1f{name}\x1f{reason}\x1f{message}"
        existing = ns.events.pop(key, None)
        if existing is not None:
            existing.count += 1
            existing.last = self.t
            ns.events[key] = existing
            return
        kind_type = "Warning" if warning else "Normal"
        ns.events[key] = Event(kind_type, reason, message, kind, name, source, 1, self.t, self.t)
        if len(ns.events) > MAX_EVENTS_PER_NAMESPACE:
            del ns.events[next(iter(ns.events))]

    def note(self, ws: str, ns: str, name: str, text: str) -> None:
        """Remember the last operation on an object (reported as a fault's remedy)."""
        self.state.notes[f"{ws}/{ns}/{name}"] = text

    def uid(self) -> str:
        """A UUID-shaped identifier from the twin's RNG."""
        value = self.rng.getrandbits(128)
        text = f"{value:032x}"
        return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-a{text[17:20]}-{text[20:]}"
