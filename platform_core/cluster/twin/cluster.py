"""``SimulatedCluster``: the in-process twin of the platform's clusters.

It implements ``ClusterGateway`` for any number of workspaces, plus what only a twin can do:

* the virtual clock: ``now()``/``clock``, ``advance_sync(seconds)`` for plain code and
  ``await advance(seconds)`` inside an event loop (it yields every few virtual minutes). Nothing
  happens between calls - callers decide how much time passes;
* faults: ``inject_fault(workspace, namespace, target, kind, **params)``, ``faults()``,
  ``clear_fault(id)`` (see ``faults`` for the kinds and the remedy table);
* ``snapshot()`` / ``restore(data)`` / ``SimulatedCluster.from_snapshot(data)``: the complete
  state (clock, RNG, objects, timers, faults) as a JSON-serialisable dict.

Everything is deterministic for a seed: the same seed and the same calls give the same snapshot
(function invocations excepted - they really run and take real time).

Example::

    twin = SimulatedCluster(seed=7)
    await twin.provision_workspace("ws-1")
    await twin.advance(60)                       # the vCluster comes up
    spec = ApplicationSpec(name="web", image="nginx:1.27", replicas=3)
    await twin.create_application("ws-1", "default", spec)
    await twin.advance(30)                       # pods pull, start and become ready
    twin.inject_fault("ws-1", "default", "web", "oom_kill")
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter

from platform_core.cluster.protocol import ClusterGateway
from platform_core.cluster.twin import faults, ticks
from platform_core.cluster.twin.api_functions import FunctionAPI
from platform_core.cluster.twin.faults import FaultInfo
from platform_core.cluster.twin.sandbox import Sandbox
from platform_core.cluster.twin.state import TwinState

SNAPSHOT_FORMAT = "hexabase-twin/1"
_STATE = TypeAdapter(TwinState)
assert ticks  # imported for its timer handler


class SimulatedCluster(FunctionAPI):
    """A deterministic, simulated ``ClusterGateway`` with a virtual clock and fault injection."""

    def __init__(
        self,
        *,
        seed: int = 0,
        start: datetime | None = None,
        nodes_per_workspace: int = 3,
        node_cpu: str = "8",
        node_memory: str = "32Gi",
        sandbox: Sandbox | None = None,
    ) -> None:
        super().__init__(
            seed=seed,
            start=start,
            nodes_per_workspace=nodes_per_workspace,
            node_cpu=node_cpu,
            node_memory=node_memory,
        )
        self.sandbox = sandbox or Sandbox()

    # ------------------------------------------------------------------ faults

    def inject_fault(
        self, workspace: str, namespace: str, target: str, kind: str, **params: Any
    ) -> FaultInfo:
        """Make ``target`` (an application, CronJob or function) misbehave; see ``faults``."""
        return faults.inject(self, workspace, namespace, target, kind, params)

    def clear_fault(self, fault_id: str) -> FaultInfo:
        """Remove a fault's cause, whatever state the cluster is in."""
        return faults.clear(self, fault_id)

    def faults(self, *, workspace: str | None = None, active_only: bool = False) -> list[FaultInfo]:
        """Injected faults, re-evaluated now: ``active`` means the symptoms are present."""
        faults.evaluate_all(self)
        return [
            faults.info(self, f)
            for f in self.state.faults.values()
            if (workspace is None or f.workspace == workspace) and (not active_only or f.active)
        ]

    # ------------------------------------------------------------------ planted content

    def plant_log(self, workspace: str, namespace: str, application: str, text: str) -> None:
        """Make the application's containers print ``text`` now (tests, evals: e.g. a prompt
        injection hidden in a log line)."""
        _, _, app = self.app(workspace, namespace, application)
        app.planted_logs.append((self.t, text))

    def plant_event(
        self,
        workspace: str,
        namespace: str,
        *,
        kind: str,
        name: str,
        reason: str,
        message: str,
        warning: bool = True,
    ) -> None:
        """Record an arbitrary Event, as any controller with access to the namespace could."""
        _, ns = self.namespace(workspace, namespace)
        self.event(ns, kind, name, reason, message, warning=warning, source="external")

    # ------------------------------------------------------------------ snapshots

    def snapshot(self) -> dict[str, Any]:
        """The whole twin as JSON-serialisable data."""
        version, internal, gauss = self.rng.getstate()
        self.state.rng = [version, list(internal), gauss]
        data: dict[str, Any] = _STATE.dump_python(self.state, mode="json")
        return {"format": SNAPSHOT_FORMAT, "state": data}

    def restore(self, data: dict[str, Any]) -> None:
        """Replace this twin's state with a snapshot's."""
        if data.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"not a twin snapshot (expected format {SNAPSHOT_FORMAT!r})")
        self.state = _STATE.validate_python(data["state"])
        version, internal, gauss = self.state.rng
        self.rng.setstate((version, tuple(internal), gauss))
        self.busy.clear()
        self.dirty.clear()

    @classmethod
    def from_snapshot(
        cls, data: dict[str, Any], *, sandbox: Sandbox | None = None
    ) -> SimulatedCluster:
        twin = cls(sandbox=sandbox)
        twin.restore(data)
        return twin


if TYPE_CHECKING:

    def _implements_the_protocol(twin: SimulatedCluster) -> ClusterGateway:
        return twin  # mypy checks every signature against ClusterGateway here
