"""Pod templates and per-application load parameters.

``make_template`` turns an ``ApplicationSpec`` into the twin's ``PodTemplate`` through the same
``manifests.pod_template`` a Kubernetes gateway sends, so the ReplicaSet hash (and therefore pod
names) change exactly when a real Deployment's would. ``new_load`` draws the application's traffic
model from its seed.
"""

from __future__ import annotations

import math
import random

from platform_core.cluster import manifests
from platform_core.cluster.naming import pod_template_hash
from platform_core.cluster.quantity import cpu_millis, memory_bytes
from platform_core.cluster.schemas import ApplicationSpec, ResourceRequirements
from platform_core.cluster.twin.state import App, Load, PodTemplate


def make_template(spec: ApplicationSpec, *, restarted_at: str | None = None) -> PodTemplate:
    manifest = manifests.pod_template(spec, restarted_at=restarted_at)
    res = spec.resources
    return PodTemplate(
        hash=pod_template_hash(manifest),
        image=spec.image,
        command=list(spec.command) if spec.command is not None else None,
        args=list(spec.args) if spec.args is not None else None,
        env=dict(spec.env),
        resources=res.model_dump(),
        port=spec.port,
        labels=dict(spec.labels),
        restarted_at=restarted_at,
        cpu_req=cpu_millis(res.requests.cpu),
        cpu_lim=cpu_millis(res.limits.cpu),
        mem_req=memory_bytes(res.requests.memory),
        mem_lim=memory_bytes(res.limits.memory),
    )


def spec_of(app: App) -> ApplicationSpec:
    """The ApplicationSpec the current template was made from."""
    tpl = app.template
    return ApplicationSpec(
        name=app.name,
        image=tpl.image,
        replicas=app.replicas,
        env=tpl.env,
        resources=ResourceRequirements.model_validate(tpl.resources),
        port=tpl.port,
        command=tpl.command,
        args=tpl.args,
        labels=tpl.labels,
    )


def new_load(seed: int, tpl: PodTemplate, replicas: int) -> Load:
    """Traffic parameters for a reasonably sized app.

    At the daily peak each pod uses 70-110 % of its CPU request (what a sensibly configured
    HorizontalPodAutoscaler would aim for), but never more than half its limit, so the initial
    replica count copes with the load and a fault or a drastic scale-in is needed to saturate it.
    """
    rng = random.Random(seed)
    base_rps = math.exp(rng.uniform(math.log(4.0), math.log(60.0)))
    idle = max(2.0, 0.03 * tpl.cpu_lim)
    peak = min(0.5 * tpl.cpu_lim, tpl.cpu_req * rng.uniform(0.7, 1.1))
    cpu_per_req = max(0.05, (peak - idle) * max(1, replicas) / base_rps)
    image = tpl.image.split("/")[-1]
    style = "combined" if image.startswith(("nginx", "httpd")) else rng.choice(["logfmt", "json"])
    return Load(
        base_rps=base_rps,
        cpu_per_req=cpu_per_req,
        idle_cpu=idle,
        base_mem=tpl.mem_lim * rng.uniform(0.35, 0.5),
        base_latency=rng.uniform(15.0, 120.0),
        base_err=rng.uniform(0.0005, 0.004),
        phase_h=rng.uniform(-3.0, 3.0),
        seed=seed,
        style=style,
    )
