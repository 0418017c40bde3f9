"""Functions: Kaniko build Job -> Knative Service revision -> real invocations.

``deploy`` starts a build Job named as ``manifests.kaniko_build_job`` names it. When its timer
fires the build really checks the source the way the Dockerfile's ``py_compile`` step would
(syntax errors fail the build with Python's own message) and honours a
``function_build_failure`` fault bound to the source's hash. A successful build creates the next
revision (``<name>-00001``, ...) which becomes ready a few seconds later and takes all traffic.
An unchanged source that already built successfully is not rebuilt (the image is
content-addressed), unless a rebuild is forced.

Invocations run the serving revision's source in the sandbox (``sandbox.py``); their output and
an access line are appended to the function's log.
"""

from __future__ import annotations

from platform_core.cluster import manifests
from platform_core.cluster.naming import random_suffix
from platform_core.cluster.schemas import FunctionBuild, FunctionInfo, FunctionPhase, FunctionSpec
from platform_core.cluster.twin.core import TwinCore, handler
from platform_core.cluster.twin.effects import live_faults
from platform_core.cluster.twin.state import Build, FnRevision, Function, Namespace, Workspace

MAX_BUILDS = 10
MAX_LOG_LINES = 500
MAX_REVISIONS = 20  # older revisions are garbage-collected, as Knative does
REVISION_READY_SECONDS = 4.0


def deploy(core: TwinCore, ws: Workspace, ns: Namespace, spec: FunctionSpec) -> Function:
    fn = ns.functions.get(spec.name)
    if fn is None:
        fn = Function(name=spec.name, created=core.t, spec=spec.model_dump())
        ns.functions[spec.name] = fn
    changed = not fn.builds or fn.builds[-1].sha != manifests.source_sha256(spec)
    fn.spec = spec.model_dump()
    core.note(ws.id, ns.name, fn.name, "deployed changed source" if changed else "redeployed")
    start_build(core, ws, ns, fn)
    return fn


def start_build(
    core: TwinCore, ws: Workspace, ns: Namespace, fn: Function, *, force: bool = False
) -> Build:
    spec = FunctionSpec.model_validate(fn.spec)
    sha = manifests.source_sha256(spec)
    last = fn.builds[-1] if fn.builds else None
    if not force and last is not None and last.sha == sha and last.status == "Succeeded":
        _ensure_revision(core, ws, ns, fn, last)
        return last
    number = last.number + 1 if last is not None else 1
    image = manifests.function_image(ws.id, ns.name, spec)
    job = manifests.kaniko_build_job(ns.name, spec, build_number=number, image=image)
    build = Build(
        number=number,
        job_name=job["metadata"]["name"],
        status="Running",
        image=image,
        sha=sha,
        started=core.t,
        spec=dict(fn.spec),
    )
    fn.builds = [*fn.builds[-(MAX_BUILDS - 1) :], build]
    core.event(
        ns,
        "Job",
        build.job_name,
        "SuccessfulCreate",
        f"Created pod: {build.job_name}-{random_suffix(core.rng)}",
        source="job-controller",
    )
    core.schedule(
        core.t + core.rng.uniform(25.0, 45.0), "fn.build", ws.id, ns.name, fn.name, number
    )
    return build


def _failure(core: TwinCore, fn: Function, build: Build, spec: FunctionSpec) -> list[str] | None:
    for fault in live_faults(core, fn.fault_ids):
        if fault.sha == build.sha:
            return ['  File "/app/handler.py", line 1', str(fault.params["error"])]
    try:
        compile(spec.source, "/app/handler.py", "exec")
    except SyntaxError as exc:
        lines = [f'  File "/app/handler.py", line {exc.lineno}']
        if exc.text:
            lines.append(f"    {exc.text.rstrip()}")
        return [*lines, f"SyntaxError: {exc.msg}"]
    except ValueError as exc:  # e.g. null bytes in the source
        return [f"ValueError: {exc}"]
    return None


def _kaniko_log(build: Build, failure: list[str] | None) -> list[str]:
    base = manifests.FUNCTION_BASE_IMAGE
    step = "python -m py_compile /app/handler.py /app/runtime.py"
    log = [
        f"INFO[0000] Retrieving image manifest {base}",
        f"INFO[0000] Retrieving image {base} from registry index.docker.io",
        "INFO[0001] Built cross stage deps: map[]",
        "INFO[0001] Executing 0 build triggers",
        f"INFO[0001] Building stage '{base}' [idx: '0', base-idx: '-1']",
        "INFO[0002] Unpacking rootfs as cmd COPY handler.py runtime.py /app/ requires it.",
        "INFO[0009] WORKDIR /app",
        "INFO[0009] COPY handler.py runtime.py /app/",
        f"INFO[0009] RUN {step}",
        "INFO[0009] Initializing snapshotter ...",
        "INFO[0009] Taking snapshot of full filesystem...",
        f"INFO[0011] Running: [/bin/sh -c {step}]",
    ]
    if failure is not None:
        return [
            *log,
            *failure,
            "error building image: error building stage: failed to execute "
            "command: waiting for process to exit: exit status 1",
        ]
    return [
        *log,
        "INFO[0012] Taking snapshot of full filesystem...",
        "INFO[0013] ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1",
        f"INFO[0013] USER {manifests.FUNCTION_USER}:{manifests.FUNCTION_USER}",
        f"INFO[0014] Pushing image to {build.image}",
        f"INFO[0016] Pushed {build.image.split(':')[0]}@sha256:{build.sha}",
    ]


@handler("fn.build")
def _on_build(core: TwinCore, ws_id: str, ns_id: str, name: str, number: int) -> None:
    found = core.find(ws_id, ns_id)
    fn = found[1].functions.get(name) if found is not None else None
    if found is None or fn is None:
        return
    build = next((b for b in fn.builds if b.number == number), None)
    if build is None or build.status != "Running":
        return
    ws, ns = found
    failure = _failure(core, fn, build, FunctionSpec.model_validate(build.spec))
    build.log = _kaniko_log(build, failure)
    build.finished = core.t
    if failure is not None:
        build.status, build.message = "Failed", failure[-1]
        core.event(
            ns,
            "Job",
            build.job_name,
            "BackoffLimitExceeded",
            "Job has reached the specified backoff limit",
            warning=True,
            source="job-controller",
        )
        return
    build.status, build.message = "Succeeded", f"pushed {build.image}"
    core.event(ns, "Job", build.job_name, "Completed", "Job completed", source="job-controller")
    _ensure_revision(core, ws, ns, fn, build)


def _ensure_revision(
    core: TwinCore, ws: Workspace, ns: Namespace, fn: Function, build: Build
) -> None:
    """Roll out a revision for ``build`` unless the latest revision already runs it."""
    latest = fn.revisions[-1] if fn.revisions else None
    if latest is not None and latest.image == build.image and latest.spec == fn.spec:
        return
    spec = FunctionSpec.model_validate(fn.spec)
    generation = int(latest.name.rsplit("-", 1)[1]) + 1 if latest is not None else 1
    manifest = manifests.knative_service_manifest(
        ns.name, spec, image=build.image, generation=generation
    )
    revision = FnRevision(
        name=manifest["spec"]["template"]["metadata"]["name"],
        image=build.image,
        created=core.t,
        spec=dict(fn.spec),
    )
    fn.revisions = [*fn.revisions[-(MAX_REVISIONS - 1) :], revision]
    core.event(
        ns,
        "Service",
        fn.name,
        "Created",
        f'Created Revision "{revision.name}"',
        source="service-controller",
    )
    core.schedule(core.t + REVISION_READY_SECONDS, "fn.ready", ws.id, ns.name, fn.name, generation)


@handler("fn.ready")
def _on_ready(core: TwinCore, ws_id: str, ns_id: str, name: str, generation: int) -> None:
    found = core.find(ws_id, ns_id)
    fn = found[1].functions.get(name) if found is not None else None
    wanted = manifests.knative_revision_name(name, generation)
    revision = next((r for r in fn.revisions if r.name == wanted), None) if fn else None
    if found is None or fn is None or revision is None:
        return
    revision.ready = True
    handler_name = revision.spec["handler"]
    log(core, fn, f"Serving function {fn.name} ({revision.name}) handler={handler_name} on :8080")
    core.event(
        found[1],
        "Service",
        fn.name,
        "Ready",
        f'Revision "{revision.name}" is ready and receives 100% of traffic',
        source="service-controller",
    )


def serving(fn: Function) -> FnRevision | None:
    """The revision receiving traffic: the latest ready one."""
    return next((r for r in reversed(fn.revisions) if r.ready), None)


def log(core: TwinCore, fn: Function, line: str) -> None:
    fn.logs.append((core.t, line))
    if len(fn.logs) > MAX_LOG_LINES:
        del fn.logs[: len(fn.logs) - MAX_LOG_LINES]


def phase(fn: Function) -> FunctionPhase:
    build = fn.builds[-1]
    if build.status == "Running":
        return "Building"
    if build.status == "Failed":
        return "BuildFailed"
    latest = fn.revisions[-1] if fn.revisions else None
    return "Ready" if latest is not None and latest.ready else "Deploying"


def info(core: TwinCore, ws: Workspace, ns: Namespace, fn: Function) -> FunctionInfo:
    spec = FunctionSpec.model_validate(fn.spec)
    build = fn.builds[-1]
    current = serving(fn)
    return FunctionInfo(
        name=fn.name,
        namespace=ns.name,
        phase=phase(fn),
        url=f"http://{fn.name}.{ns.name}.{ws.id}.fn.hexabase.local",
        ready=current is not None,
        latest_revision=current.name if current is not None else None,
        latest_build=FunctionBuild(
            job_name=build.job_name,
            status=build.status,
            image=build.image,
            source_sha256=build.sha,
            started_at=core.dt(build.started),
            finished_at=core.dt(build.finished) if build.finished is not None else None,
            message=build.message,
        ),
        timeout_seconds=spec.timeout_seconds,
        memory=spec.memory,
        cpu=spec.cpu,
        min_scale=spec.min_scale,
        max_scale=spec.max_scale,
        created_at=core.dt(fn.created),
    )
