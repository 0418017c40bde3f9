"""Function operations of the twin: build, deploy, invoke for real, logs."""

from __future__ import annotations

import re

from platform_core.cluster.quantity import memory_bytes
from platform_core.cluster.schemas import (
    FunctionInfo,
    FunctionRequest,
    FunctionResponse,
    FunctionRevision,
    FunctionSpec,
    LogLine,
)
from platform_core.cluster.twin import functions
from platform_core.cluster.twin.api_batch import BatchAPI
from platform_core.cluster.twin.sandbox import Sandbox, SandboxLimits
from platform_core.cluster.twin.state import Function, Namespace, Workspace
from platform_core.errors import NotFound, Unavailable

_KANIKO_CLOCK = re.compile(r"^INFO\[(\d{4})\]")


class FunctionAPI(BatchAPI):
    """The functions half of ``ClusterGateway``."""

    sandbox: Sandbox

    def _function(
        self, workspace: str, namespace: str, name: str
    ) -> tuple[Workspace, Namespace, Function]:
        ws, ns = self.namespace(workspace, namespace)
        fn = ns.functions.get(name)
        if fn is None:
            raise NotFound(f'services.serving.knative.dev "{name}" not found')
        return ws, ns, fn

    async def deploy_function(
        self, workspace: str, namespace: str, spec: FunctionSpec
    ) -> FunctionInfo:
        ws, ns = self.writable(workspace, namespace)
        fn = functions.deploy(self, ws, ns, spec)
        return functions.info(self, ws, ns, fn)

    async def get_function(self, workspace: str, namespace: str, name: str) -> FunctionInfo:
        ws, ns, fn = self._function(workspace, namespace, name)
        return functions.info(self, ws, ns, fn)

    async def list_functions(self, workspace: str, namespace: str) -> list[FunctionInfo]:
        ws, ns = self.namespace(workspace, namespace)
        return [functions.info(self, ws, ns, fn) for fn in ns.functions.values()]

    async def list_function_revisions(
        self, workspace: str, namespace: str, name: str
    ) -> list[FunctionRevision]:
        _, _, fn = self._function(workspace, namespace, name)
        current = functions.serving(fn)
        return [
            FunctionRevision(
                name=r.name,
                image=r.image,
                created_at=self.dt(r.created),
                ready=r.ready,
                traffic_percent=100 if r is current else 0,
            )
            for r in fn.revisions
        ]

    async def invoke_function(
        self, workspace: str, namespace: str, name: str, request: FunctionRequest
    ) -> FunctionResponse:
        _, _, fn = self._function(workspace, namespace, name)
        revision = functions.serving(fn)
        if revision is None:
            raise Unavailable(
                f'function "{name}" has no ready revision (phase {functions.phase(fn)})'
            )
        spec = FunctionSpec.model_validate(revision.spec)
        limits = SandboxLimits(
            timeout_seconds=spec.timeout_seconds,
            memory_bytes=memory_bytes(spec.memory),
            memory_text=spec.memory,
        )
        result = await self.sandbox.run(
            source=spec.source,
            handler=spec.handler,
            request=request.model_dump(),
            env=dict(spec.env),
            limits=limits,
        )
        for line in result.logs:
            functions.log(self, fn, line)
        access = f"{request.method} {request.path} {result.status_code} {result.duration_ms:.1f}ms"
        functions.log(self, fn, access + (f" error={result.error!r}" if result.error else ""))
        return FunctionResponse(
            ok=result.ok,
            status_code=result.status_code,
            headers=result.headers,
            body=result.body,
            duration_ms=result.duration_ms,
            revision=revision.name,
            error=result.error,
            error_kind=result.error_kind,
            logs=result.logs,
        )

    async def get_function_logs(
        self,
        workspace: str,
        namespace: str,
        name: str,
        *,
        tail_lines: int | None = None,
        build: bool = False,
    ) -> list[LogLine]:
        _, _, fn = self._function(workspace, namespace, name)
        if build:
            latest = fn.builds[-1]
            lines, offset = [], 0.0
            for text in latest.log:
                match = _KANIKO_CLOCK.match(text)
                offset = float(match.group(1)) if match else offset
                lines.append(LogLine(timestamp=self.dt(latest.started + offset), message=text))
        else:
            lines = [LogLine(timestamp=self.dt(t), message=text) for t, text in fn.logs]
        return lines[-tail_lines:] if tail_lines else lines

    async def delete_function(self, workspace: str, namespace: str, name: str) -> None:
        ws, ns, _ = self._function(workspace, namespace, name)
        del ns.functions[name]
        self.note(ws.id, ns.name, name, "deleted")
