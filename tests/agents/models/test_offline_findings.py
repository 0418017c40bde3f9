"""Findings about runs: the failed CronJob run's own exit code and error."""

from __future__ import annotations

from agents.models.offline.conversation import Step
from agents.models.offline.findings_jobs import diagnose_cronjob, history_answer

HISTORY = (
    "runs of CronJob report:\n"
    "- report-1 (scheduled): Succeeded, started 2025-01-06 09:50, ended 09:50, exit code 0\n"
    "- report-2 (scheduled): Succeeded, started 2025-01-06 10:00, ended 10:00, exit code 0\n"
    "- report-3 (scheduled): Failed, started 2025-01-06 10:20, ended 10:20, exit code 3, "
    "reason BackoffLimitExceeded\n"
    "    | INFO starting python /app/report.py\n"
    "    | Traceback (most recent call last):\n"
    "    | ModuleNotFoundError: No module named 'reportlib'"
)


def step(text: str) -> Step:
    return Step("c1", "get_cronjob_history", {"cronjob": "report"}, "ok", f"status: ok\n{text}")


def test_the_exit_code_is_the_failed_runs_own() -> None:
    finding = diagnose_cronjob("report", step(HISTORY))
    assert "the last one report-3 (exit code 3)" in finding
    assert "ModuleNotFoundError: No module named 'reportlib'" in finding
    assert "exit code 0" not in finding


def test_a_history_without_failures_says_how_the_runs_went() -> None:
    ok = "\n".join(HISTORY.splitlines()[:3])
    answer = history_answer("report", step(ok))
    assert answer.startswith("The last run of CronJob report, report-2 (scheduled")
    assert "2 succeeded" in answer and "failed" not in answer.lower()
