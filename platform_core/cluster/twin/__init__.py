"""The simulated platform twin: an in-process, deterministic ``ClusterGateway``."""

from platform_core.cluster.twin.cluster import SimulatedCluster
from platform_core.cluster.twin.faults import FAULT_KINDS, FaultInfo, FaultKind
from platform_core.cluster.twin.sandbox import Sandbox, SandboxLimits

__all__ = ["FAULT_KINDS", "FaultInfo", "FaultKind", "Sandbox", "SandboxLimits", "SimulatedCluster"]
