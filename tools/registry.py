"""Every tool, listed explicitly: nothing is discovered by import side effects."""

from __future__ import annotations

from tools.applications import (
    describe_application,
    list_applications,
    restart_application,
    rollback_application,
    scale_application,
    set_autoscaling,
    set_resources,
)
from tools.base import Tool
from tools.billing import get_usage
from tools.capacity import forecast_load, recommend_rightsizing
from tools.cronjobs import (
    create_cronjob,
    get_cronjob_history,
    list_cronjobs,
    trigger_cronjob,
    update_cronjob,
)
from tools.functions import (
    delete_function,
    deploy_function,
    get_function_logs,
    invoke_function,
    list_functions,
)
from tools.observability import detect_anomalies, get_metrics, get_pod_logs, list_events
from tools.workspaces import (
    create_project,
    delete_workspace,
    get_workspace,
    list_projects,
    list_workspaces,
    provision_workspace,
)

ALL_TOOLS: tuple[Tool, ...] = (
    list_workspaces,
    get_workspace,
    provision_workspace,
    delete_workspace,
    list_projects,
    create_project,
    list_applications,
    describe_application,
    scale_application,
    restart_application,
    rollback_application,
    set_autoscaling,
    set_resources,
    get_pod_logs,
    list_events,
    get_metrics,
    detect_anomalies,
    forecast_load,
    recommend_rightsizing,
    list_cronjobs,
    create_cronjob,
    trigger_cronjob,
    update_cronjob,
    get_cronjob_history,
    list_functions,
    deploy_function,
    invoke_function,
    get_function_logs,
    delete_function,
    get_usage,
)
TOOLS_BY_NAME: dict[str, Tool] = {t.name: t for t in ALL_TOOLS}
assert len(TOOLS_BY_NAME) == len(ALL_TOOLS), "tool names must be unique"
