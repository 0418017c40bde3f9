"""The policy decides in code what runs without a person; anything unknown needs one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from platform_core.cluster.schemas import Application, ResourceList, ResourceRequirements
from platform_core.remediation.policy import PolicyRules, judge

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def rules(**changes: Any) -> PolicyRules:
    values: dict[str, Any] = {
        "enabled": True,
        "allowed_actions": frozenset({"restart", "scale", "rollback", "raise_limits"}),
        "applications": frozenset(),
        "min_replicas": 1,
        "max_replicas": 6,
        "max_cpu_limit": "2",
        "max_memory_limit": "1Gi",
        "max_actions_per_hour": 3,
        "cooldown_minutes": 10,
    }
    values.update(changes)
    return PolicyRules(**values)


def app(memory: str = "256Mi", cpu: str = "500m") -> Application:
    return Application(
        name="web",
        namespace="app",
        image="ghcr.io/acme/web:1.4.2",
        replicas=2,
        ready_replicas=2,
        updated_replicas=2,
        available_replicas=2,
        unavailable_replicas=0,
        revision=2,
        current_replica_set="web-abc",
        env={},
        resources=ResourceRequirements(
            requests=ResourceList(cpu="100m", memory="128Mi"),
            limits=ResourceList(cpu=cpu, memory=memory),
        ),
        port=8080,
        command=None,
        args=None,
        labels={},
        conditions=[],
        created_at=NOW - timedelta(days=1),
    )


def verdict(tool: str, recent: tuple[datetime, ...] = (), risk: str = "write", **arguments: Any):
    return judge(
        rules(**arguments.pop("_rules", {})),
        tool=tool,
        risk=risk,
        arguments={"application": "web", **arguments},
        application=app(),
        recent_actions=recent,
        now=NOW,
    )


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("restart_application", {}),
        ("rollback_application", {}),
        ("scale_application", {"replicas": 6}),
        ("set_autoscaling", {"min_replicas": 2, "max_replicas": 6}),
        ("set_resources", {"memory_limit": "512Mi"}),
        ("set_resources", {"cpu_limit": "2"}),
    ],
)
def test_actions_inside_the_policy_are_allowed(tool: str, arguments: dict[str, Any]) -> None:
    assert verdict(tool, **arguments).allowed


@pytest.mark.parametrize(
    ("tool", "arguments", "reason"),
    [
        ("scale_application", {"replicas": 9}, "outside the policy's bounds 1..6"),
        ("scale_application", {"replicas": 0}, "outside the policy's bounds"),
        ("set_autoscaling", {"min_replicas": 2, "max_replicas": 20}, "outside the policy's"),
        ("set_resources", {"memory_limit": "2Gi"}, "above the policy's maximum 1Gi"),
        ("set_resources", {"memory_limit": "128Mi"}, "lowering the memory limit"),
        ("set_resources", {"memory_request": "1Gi"}, "requests"),
        ("delete_function", {}, "not an action a remediation policy can allow"),
        ("update_cronjob", {}, "not an action"),
        ("set_resources", {"memory_limit": "lots"}, "not a quantity"),
    ],
)
def test_actions_outside_the_bounds_need_a_person(
    tool: str, arguments: dict[str, Any], reason: str
) -> None:
    result = verdict(tool, **arguments)
    assert not result.allowed
    assert reason in result.reason


def test_destructive_calls_always_need_a_person() -> None:
    assert "destructive" in verdict("rollback_application", risk="destructive").reason


def test_actions_the_workspace_did_not_allow_need_a_person() -> None:
    result = verdict("rollback_application", _rules={"allowed_actions": frozenset({"restart"})})
    assert not result.allowed and "does not allow 'rollback'" in result.reason


def test_applications_outside_the_policy_list_need_a_person() -> None:
    result = verdict("restart_application", _rules={"applications": frozenset({"api"})})
    assert not result.allowed and "not covered" in result.reason


def test_a_disabled_policy_allows_nothing() -> None:
    assert not verdict("restart_application", _rules={"enabled": False}).allowed


def test_rate_limit_and_cooldown() -> None:
    cooling = verdict("restart_application", recent=(NOW - timedelta(minutes=4),))
    assert not cooling.allowed and "cooling down" in cooling.reason
    rested = verdict("restart_application", recent=(NOW - timedelta(minutes=11),))
    assert rested.allowed
    busy = (NOW - timedelta(minutes=50), NOW - timedelta(minutes=35), NOW - timedelta(minutes=20))
    limited = verdict("restart_application", recent=busy)
    assert not limited.allowed and "limit of 3 per hour" in limited.reason
    old = (NOW - timedelta(minutes=70), NOW - timedelta(minutes=65), NOW - timedelta(minutes=61))
    assert verdict("restart_application", recent=old).allowed
