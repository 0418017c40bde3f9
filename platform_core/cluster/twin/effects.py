"""What the injected faults do to a pod, decided from the pod's template.

Faults are bound to what a real defect is bound to, which is what makes the remedies work:

* a bad image tag, a leak, a slow code path or a buggy error path lives in an *image*: pods
  running that image have the effect, pods of any other image (after a rollback or a fixed
  release) do not;
* a bad command lives in the pod template's *command/args*;
* an out-of-memory working set lives in the *workload*: every pod whose memory limit is below
  the working set is killed, whatever its revision;
* a CPU spike is extra *load* for a time window; it hurts only while capacity is short.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from platform_core.cluster.twin.core import TwinCore
from platform_core.cluster.twin.model import Floats
from platform_core.cluster.twin.state import App, Fault, Pod, PodTemplate

MIB = 2**20


@dataclass(slots=True)
class Effects:
    pull_fails: bool = False
    crashes: bool = False
    mem_slope: float = 0.0
    mem_target: float = 0.0
    lat_add: float = 0.0
    err_add: float = 0.0
    err_msg: str = ""


def live_faults(core: TwinCore, fault_ids: list[str]) -> list[Fault]:
    """The app's faults that have not been cleared by the operator."""
    faults = (core.state.faults.get(fid) for fid in fault_ids)
    return [f for f in faults if f is not None and f.cleared_at is None]


def command_matches(fault: Fault, command: list[str] | None, args: list[str] | None) -> bool:
    return fault.command == command and fault.params.get("args") == args


def template_effects(core: TwinCore, app: App, tpl: PodTemplate) -> Effects:
    """Effects a new pod of ``tpl`` gets from the app's faults."""
    effects = Effects()
    for fault in live_faults(core, app.fault_ids):
        params = fault.params
        if fault.kind == "crash_loop" and params["cause"] == "bad_image":
            effects.pull_fails |= tpl.image == fault.image
        elif fault.kind == "crash_loop":
            effects.crashes |= command_matches(fault, tpl.command, tpl.args)
        elif fault.kind == "memory_leak" and tpl.image == fault.image:
            effects.mem_slope = float(params["rate_mib_per_min"]) * MIB / 60.0
        elif fault.kind == "oom_kill":
            working_set = float(params["working_set_bytes"])
            if tpl.mem_lim < working_set:
                effects.mem_slope = (working_set - app.load.base_mem) / float(
                    params["ramp_seconds"]
                )
            else:
                effects.mem_target = working_set
        elif fault.kind == "latency_spike" and tpl.image == fault.image:
            effects.lat_add = float(params["added_ms"])
        elif fault.kind == "error_spike" and tpl.image == fault.image:
            effects.err_add = float(params["rate"])
            effects.err_msg = str(params["message"])
    return effects


def apply(pod: Pod, effects: Effects) -> None:
    pod.pull_fails = effects.pull_fails
    pod.crashes = effects.crashes
    pod.mem_slope = effects.mem_slope
    pod.mem_target = effects.mem_target
    pod.lat_add = effects.lat_add
    pod.err_add = effects.err_add
    pod.err_msg = effects.err_msg


def _spikes(core: TwinCore, app: App) -> list[Fault]:
    """CPU spikes of the app, cleared ones included: their window bounds them in time."""
    faults = (core.state.faults.get(fid) for fid in app.fault_ids)
    return [f for f in faults if f is not None and f.kind == "cpu_spike"]


def cpu_factor(core: TwinCore, app: App, t: Floats) -> Floats:
    """Multiplier of CPU cost per request at times ``t`` (CPU spike windows)."""
    factor = np.ones_like(t)
    for fault in _spikes(core, app):
        end = fault.window_end if fault.window_end is not None else np.inf
        inside = (t >= fault.injected_at) & (t < end)
        factor = np.where(inside, factor * float(fault.params["factor"]), factor)
    return factor


def cpu_factor_now(core: TwinCore, app: App) -> float:
    factor = 1.0
    for fault in _spikes(core, app):
        end = fault.window_end if fault.window_end is not None else float("inf")
        if fault.injected_at <= core.t < end:
            factor *= float(fault.params["factor"])
    return factor
