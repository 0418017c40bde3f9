"""Application (Deployment) operations of the twin."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from platform_core.cluster.schemas import (
    Application,
    ApplicationSpec,
    ResourceRequirements,
    Revision,
)
from platform_core.cluster.twin import deployments, templates, views
from platform_core.cluster.twin.api_workspaces import WorkspaceAPI
from platform_core.cluster.twin.state import Hpa
from platform_core.errors import Conflict, InvalidInput, NotFound


def plain_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Validation errors as JSON-safe data (for the error's ``details``)."""
    return [
        dict(e) for e in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


def _validated(data: dict[str, Any]) -> ApplicationSpec:
    try:
        return ApplicationSpec.model_validate(data)
    except ValidationError as exc:
        message = str(exc.errors()[0]["msg"])
        raise InvalidInput(message, details={"errors": plain_errors(exc)}) from exc


class AppAPI(WorkspaceAPI):
    """The application half of ``ClusterGateway``."""

    async def create_application(
        self, workspace: str, namespace: str, spec: ApplicationSpec
    ) -> Application:
        ws, ns = self.writable(workspace, namespace)
        if spec.name in ns.apps:
            raise Conflict(f'deployments.apps "{spec.name}" already exists')
        app = deployments.create_app(self, ws, ns, spec)
        self.note(ws.id, ns.name, app.name, "created")
        return views.application(self, ns, app)

    async def get_application(self, workspace: str, namespace: str, name: str) -> Application:
        _, ns, app = self.app(workspace, namespace, name)
        return views.application(self, ns, app)

    async def list_applications(self, workspace: str, namespace: str) -> list[Application]:
        _, ns = self.namespace(workspace, namespace)
        return [views.application(self, ns, app) for app in ns.apps.values()]

    async def update_application(
        self,
        workspace: str,
        namespace: str,
        name: str,
        *,
        image: str | None = None,
        env: Mapping[str, str] | None = None,
        resources: ResourceRequirements | None = None,
        command: Sequence[str] | None = None,
        args: Sequence[str] | None = None,
    ) -> Application:
        ws, ns, app = self.app(workspace, namespace, name)
        changes: dict[str, Any] = {}
        if image is not None:
            changes["image"] = image
        if env is not None:
            changes["env"] = dict(env)
        if resources is not None:
            changes["resources"] = resources.model_dump()
        if command is not None:
            changes["command"] = list(command)
        if args is not None:
            changes["args"] = list(args)
        spec = _validated({**templates.spec_of(app).model_dump(), **changes})
        tpl = templates.make_template(spec, restarted_at=app.template.restarted_at)
        what = _describe(changes)
        if deployments.set_template(self, ws, ns, app, tpl, cause=f"updated {what}"):
            self.note(ws.id, ns.name, name, f"updated {what}")
        return views.application(self, ns, app)

    async def scale_application(
        self, workspace: str, namespace: str, name: str, *, replicas: int
    ) -> Application:
        ws, ns, app = self.app(workspace, namespace, name)
        if not 0 <= replicas <= 200:
            raise InvalidInput("replicas must be between 0 and 200")
        if replicas != app.replicas:
            app.progress_at = self.t  # a scale is progress: the deadline counts from here
        app.replicas = replicas
        self.note(ws.id, ns.name, name, f"scaled to {replicas} replicas")
        deployments.reconcile(self, ws, ns, app)
        return views.application(self, ns, app)

    async def restart_application(self, workspace: str, namespace: str, name: str) -> Application:
        ws, ns, app = self.app(workspace, namespace, name)
        restarted_at = self.clock.isoformat().replace("+00:00", "Z")
        tpl = templates.make_template(templates.spec_of(app), restarted_at=restarted_at)
        deployments.set_template(self, ws, ns, app, tpl, cause="rollout restart")
        self.note(ws.id, ns.name, name, "restarted (rollout restart)")
        return views.application(self, ns, app)

    async def rollback_application(
        self, workspace: str, namespace: str, name: str, *, to_revision: int | None = None
    ) -> Application:
        ws, ns, app = self.app(workspace, namespace, name)
        current = app.rsets[app.template.hash].revision
        history = sorted(app.rsets.values(), key=lambda rs: rs.revision)
        if to_revision is None:
            older = [rs for rs in history if rs.revision < current]
            if not older:
                raise Conflict(f'no previous revision to roll back to for deployment "{name}"')
            target = older[-1]
        else:
            found = [rs for rs in history if rs.revision == to_revision]
            if not found:
                raise NotFound(f"unable to find specified revision {to_revision} in history")
            target = found[0]
        if target.hash == app.template.hash:
            return views.application(self, ns, app)
        revision = target.revision
        deployments.set_template(self, ws, ns, app, target.template, cause=target.change_cause)
        self.event(
            ns,
            "Deployment",
            name,
            "DeploymentRollback",
            f'Rolled back deployment "{name}" to revision {revision}',
            source="deployment-controller",
        )
        self.note(ws.id, ns.name, name, f"rolled back to revision {revision}")
        return views.application(self, ns, app)

    async def list_revisions(self, workspace: str, namespace: str, name: str) -> list[Revision]:
        _, ns, app = self.app(workspace, namespace, name)
        return views.revisions(self, ns, app)

    async def set_autoscaling(
        self,
        workspace: str,
        namespace: str,
        name: str,
        *,
        min_replicas: int,
        max_replicas: int,
        target_cpu_utilization: int = 80,
    ) -> Application:
        ws, ns, app = self.app(workspace, namespace, name)
        if not 1 <= min_replicas <= max_replicas <= 200:
            raise InvalidInput("need 1 <= min_replicas <= max_replicas <= 200")
        if not 1 <= target_cpu_utilization <= 100:
            raise InvalidInput("target_cpu_utilization must be between 1 and 100 (percent)")
        app.hpa = Hpa(
            min_replicas=min_replicas,
            max_replicas=max_replicas,
            target=target_cpu_utilization,
            desired=app.replicas,
        )
        self.note(
            ws.id,
            ns.name,
            name,
            f"autoscaling {min_replicas}-{max_replicas} replicas at {target_cpu_utilization}% CPU",
        )
        return views.application(self, ns, app)

    async def remove_autoscaling(self, workspace: str, namespace: str, name: str) -> Application:
        ws, ns, app = self.app(workspace, namespace, name)
        if app.hpa is None:
            raise NotFound(f'horizontalpodautoscalers.autoscaling "{name}" not found')
        app.hpa = None
        self.note(ws.id, ns.name, name, "autoscaling removed")
        return views.application(self, ns, app)

    async def delete_application(self, workspace: str, namespace: str, name: str) -> None:
        ws, ns, app = self.app(workspace, namespace, name)
        deployments.delete_app(self, ws, ns, app)
        self.note(ws.id, ns.name, name, "deleted")


def _describe(changes: dict[str, Any]) -> str:
    parts = []
    for key, value in changes.items():
        if key == "resources":
            limits = value["limits"]
            parts.append(f"resources (limits cpu {limits['cpu']}, memory {limits['memory']})")
        elif key == "image":
            parts.append(f"image to {value}")
        else:
            parts.append(key)
    return ", ".join(parts) or "nothing"
