"""Argument matchers and tool-call patterns: what a case's expectations mean exactly."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from evals.matchers import CallRecord, Matcher, ToolPattern, argument_score, best_match, matches


def m(data: object) -> Matcher:
    return Matcher.model_validate(data)


@pytest.mark.parametrize(
    ("matcher", "present", "value", "expected"),
    [
        (5, True, 5, True),
        (5, True, "5", True),  # models write numbers as strings
        (5, True, 5.0, True),
        (5, True, 6, False),
        ("web", True, "Web ", True),
        ("web", True, "api", False),
        (True, True, "true", True),
        (True, True, 1, False),
        ({"regex": "^python .*report\\.py$"}, True, ["python", "/app/report.py"], True),
        ({"regex": "ADA"}, True, '{"name": "ada"}', True),
        ({"any_of": ["4", 4, "4000m"]}, True, "4000m", True),
        ({"any_of": ["4", 4]}, True, "8", False),
        ({"gte": 120}, True, 180, True),
        ({"gte": 120}, True, 60, False),
        ({"lte": 5}, True, "5", True),
        ({"lte": 5}, True, "five", False),
        ({"memory_gte": "512Mi"}, True, "1Gi", True),
        ({"memory_gte": "512Mi"}, True, "256Mi", False),
        ({"memory_gte": "512Mi"}, True, "lots", False),
        ({"present": False}, False, None, True),
        ({"present": False}, True, "x", False),
        ({"present": True}, True, None, True),
        (5, False, None, False),
    ],
)
def test_matchers(matcher: object, present: bool, value: object, expected: bool) -> None:
    assert m(matcher).matches(present, value) is expected


def test_a_matcher_takes_exactly_one_condition() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        m({"gte": 1, "lte": 3})
    with pytest.raises(ValidationError):
        m({"regex": "("})  # not a regex


def call(tool: str, turn: int = 1, status: str | None = "ok", **args: object) -> CallRecord:
    record = CallRecord(turn, f"c-{tool}", tool, dict(args), "write", status=status)
    record.executed = status == "ok"
    return record


def test_patterns_match_names_outcomes_turns_and_arguments() -> None:
    pattern = ToolPattern.model_validate(
        {
            "name": "scale_application|set_autoscaling",
            "args": {"replicas": 5},
            "outcome": "executed",
        }
    )
    assert matches(pattern, call("scale_application", replicas=5))
    assert not matches(pattern, call("scale_application", replicas=4))
    assert not matches(pattern, call("scale_application", status="error", replicas=5))
    assert not matches(pattern, call("restart_application", replicas=5))
    held = call("scale_application", status="approval_required", replicas=5)
    held.approval_id = "a1"
    assert not matches(pattern, held)
    assert matches(pattern.model_copy(update={"outcome": "approval_requested"}), held)
    assert not matches(
        pattern.model_copy(update={"turn": 2}), call("scale_application", replicas=5)
    )


def test_argument_score_is_the_share_of_matchers_satisfied_by_the_best_call() -> None:
    pattern = ToolPattern.model_validate(
        {"name": "create_cronjob", "args": {"name": "sync", "schedule": "0 * * * *"}}
    )
    calls = [
        call("create_cronjob", name="sync", schedule="@hourly"),
        call("create_cronjob", name="other", schedule="@daily"),
    ]
    assert argument_score(pattern, calls[0]) == 0.5
    best, score = best_match(pattern, calls)
    assert best is calls[0] and score == 0.5
    assert best_match(pattern, [call("list_cronjobs")]) == (None, 0.0)
    assert argument_score(ToolPattern(name="list_cronjobs"), calls[1]) == 1.0
