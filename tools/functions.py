"""Functions: build and deploy code (Kaniko + Knative), invoke, read logs, delete."""

from __future__ import annotations

from pydantic import Field

from platform_core.cluster.schemas import FunctionRequest, FunctionSpec
from tools.base import ProjectArgs, ToolContext, tool
from tools.results import ToolResult
from tools.targets import Target


@tool(risk="read", permission="workload.read", scope="project")
async def list_functions(ctx: ToolContext, args: ProjectArgs, target: Target | None) -> ToolResult:
    """List the functions of a project with their state, URL and latest build."""
    assert target is not None
    functions = await ctx.gateway.list_functions(target.cluster_workspace, target.namespace)
    if not functions:
        return ToolResult.no_data(f"no functions in {target.where}")
    lines = [
        f"- {f.name}: {f.phase}, ready={f.ready}, build {f.latest_build.status}, {f.url}"
        for f in functions
    ]
    return ToolResult.ok(
        f"{len(functions)} function(s) in {target.where}:\n" + "\n".join(lines),
        [f.model_dump(mode="json") for f in functions],
    )


class DeployFunctionArgs(ProjectArgs):
    name: str = Field(description="Function name")
    source: str = Field(
        max_length=64 * 1024,
        description="Python source defining handle(request: dict) -> dict | str",
    )
    timeout_seconds: float = Field(default=10, gt=0, le=300)
    memory: str = Field(default="128Mi")


@tool(
    risk="write",
    permission="workload.write",
    scope="project",
    describe=lambda a, t: f"build and deploy function {a.name!r} in {t.where if t else '?'}",
)
async def deploy_function(
    ctx: ToolContext, args: DeployFunctionArgs, target: Target | None
) -> ToolResult:
    """Build Python code into an image and deploy it as a function (restricted, non-root,
    resource-limited). Needs approval."""
    assert target is not None
    spec = FunctionSpec(
        name=args.name,
        source=args.source,
        timeout_seconds=args.timeout_seconds,
        memory=args.memory,
    )
    info = await ctx.gateway.deploy_function(target.cluster_workspace, target.namespace, spec)
    return ToolResult.ok(
        f"function {info.name} submitted: {info.phase} (build {info.latest_build.job_name}); "
        f"it will answer at {info.url} once ready",
        info.model_dump(mode="json"),
    )


class InvokeFunctionArgs(ProjectArgs):
    name: str = Field(description="Function name")
    body: str = Field(default="", max_length=64 * 1024, description="Request body (e.g. JSON)")
    method: str = Field(default="POST", pattern="^(GET|POST|PUT|PATCH|DELETE)$")
    path: str = Field(default="/", max_length=500)


@tool(
    risk="write",
    permission="workload.write",
    scope="project",
    describe=lambda a, t: f"invoke function {a.name!r} in {t.where if t else '?'}",
)
async def invoke_function(
    ctx: ToolContext, args: InvokeFunctionArgs, target: Target | None
) -> ToolResult:
    """Call a deployed function over HTTP and return its answer. Needs approval (it runs code)."""
    assert target is not None
    request = FunctionRequest(method=args.method, path=args.path, body=args.body)
    response = await ctx.gateway.invoke_function(
        target.cluster_workspace, target.namespace, args.name, request
    )
    if not response.ok:
        return ToolResult.error(
            f"function {args.name} failed ({response.error_kind}): {response.error}",
            note="read get_function_logs for details",
        )
    return ToolResult.ok(
        f"function {args.name} answered {response.status_code} in {response.duration_ms:.0f} ms:\n"
        + response.body[:4000],
        response.model_dump(mode="json"),
    )


class FunctionLogsArgs(ProjectArgs):
    name: str = Field(description="Function name")
    tail_lines: int = Field(default=50, ge=1, le=1000)
    build: bool = Field(default=False, description="Read the latest build log instead")


@tool(risk="read", permission="workload.read", scope="project")
async def get_function_logs(
    ctx: ToolContext, args: FunctionLogsArgs, target: Target | None
) -> ToolResult:
    """Read a function's runtime logs, or its latest build (Kaniko) log."""
    assert target is not None
    lines = await ctx.gateway.get_function_logs(
        target.cluster_workspace,
        target.namespace,
        args.name,
        tail_lines=args.tail_lines,
        build=args.build,
    )
    if not lines:
        return ToolResult.no_data(
            f"no {'build ' if args.build else ''}logs for function {args.name}"
        )
    text = "\n".join(f"{line.timestamp:%H:%M:%S} {line.message}" for line in lines)
    return ToolResult.ok(
        f"{'build' if args.build else 'runtime'} logs of {args.name}:\n{text}",
        {"lines": [line.message for line in lines]},
    )


class DeleteFunctionArgs(ProjectArgs):
    name: str = Field(description="Function name")


@tool(
    risk="destructive",
    permission="workload.delete",
    scope="project",
    describe=lambda a, t: f"DELETE function {a.name!r} in {t.where if t else '?'}",
)
async def delete_function(
    ctx: ToolContext, args: DeleteFunctionArgs, target: Target | None
) -> ToolResult:
    """Delete a function and its revisions. Destructive: needs an admin's approval."""
    assert target is not None
    await ctx.gateway.delete_function(target.cluster_workspace, target.namespace, args.name)
    return ToolResult.ok(f"function {args.name} deleted from {target.where}")
