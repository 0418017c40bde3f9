"""The offline planner understands requests as operators write them.

Names are checked against what exists instead of being guessed from a word's position; typing
slips, polite and terse phrasings, and everyday words for fixes are understood; follow-ups lean
on the conversation. These talk to the planner directly (see ``offline_dialogue``).
"""

from __future__ import annotations

import pytest

from agents.models.offline.intents import detect
from tests.agents.models.offline_dialogue import Dialogue, apps, describe, done, named_list
from tools.results import ToolResult


@pytest.mark.parametrize(
    ("message", "kind", "fields"),
    [
        ("scael worker to 3 pls", "scale", {"app": "worker", "replicas": 3}),
        ("lsit my worksapces", "list_workspaces", {}),
        ("restrat api", "restart", {"app": "api"}),
        ("add two more replicas to checkout", "scale", {"delta": 2, "replicas": None}),
        ("Could you please give me an overview of the applications here? Thanks!", "list_apps", {}),
        ("which version of api is deployed?", "describe", {"app": "api"}),
        ("what's our token spend this month?", "usage", {}),
        ("what has api's cpu usage been over the past 2 hours?", "metrics", {"minutes": 120}),
        ("run the backup job now please", "trigger_cronjob", {"name": "backup"}),
        ("did the last backup run ok?", "cronjob_history", {"name": "backup"}),
        ("nuke the staging workspace", "delete_workspace", {"workspace": "staging"}),
        ("what's web logging lately?", "logs", {}),
        ("api pods keep getting OOMKilled. sort it out", "diagnose", {"app": "api"}),
        ("memory on api keeps creeping up until it gets killed", "diagnose", {"app": "api"}),
        ("let's look at the staging workspace", "help", {"workspace": "staging"}),
        ("do the same for api", "repeat", {"app": "api"}),
        ("hmm, make that 4", "amend", {"replicas": 4}),
        ("now run it once", "run_it", {}),
        ("put it back to what it was before", "revert", {}),
        ("go ahead and roll it back", "rollback", {"app": None}),
        ("wait, leave it as it is, don't change anything", "cancel", {}),
        ("just do it", "affirm", {}),
    ],
)
def test_requests_are_understood(message: str, kind: str, fields: dict[str, object]) -> None:
    intent = detect(message)
    assert intent.kind == kind
    for key, value in fields.items():
        assert getattr(intent, key) == value, key


def test_the_fix_is_asked_for_in_many_words() -> None:
    for message in ("sort it out", "can you fix it", "please repair that", "take care of it"):
        assert detect(f"web is crashing, {message}").extra["fix"], message
    assert not detect("why is web crashing?").extra["fix"]


@pytest.mark.parametrize(
    "message",
    [
        "customers are getting 500 errors from cart. please look into it",
        "why is p95 latency on cart so high since this afternoon?",
        "cart is missing replicas since the node drain",
    ],
)
def test_ordinary_words_are_not_taken_for_the_application(message: str) -> None:
    chat = Dialogue({"describe_application": describe()})
    chat.say(message)
    assert ("describe_application", {"application": "cart"}) in chat.calls


def test_an_unclear_name_is_checked_against_what_exists() -> None:
    chat = Dialogue({"list_cronjobs": named_list("CronJob", "backup", "cleanup")})
    answer = chat.say("kick off the cleanup cronjob manually, the one marketing asked for")
    assert chat.tools_called == ["list_cronjobs", "trigger_cronjob"]
    assert chat.calls[-1] == ("trigger_cronjob", {"cronjob": "cleanup"})
    assert answer == "trigger_cronjob done"


def test_a_name_that_does_not_exist_is_looked_up_not_acted_on() -> None:
    missing = ToolResult.error('cronjobs.batch "export" not found in namespace "app"')
    chat = Dialogue(
        {
            "get_cronjob_history": lambda a: (
                missing
                if a["cronjob"] == "export"
                else ToolResult.ok(f"runs of CronJob {a['cronjob']}:\n- r-1 (scheduled): Succeeded")
            ),
            "list_cronjobs": named_list("CronJob", "nightly-export", "backup"),
        }
    )
    chat.say("how did the export job do?")
    assert chat.tools_called == ["get_cronjob_history", "list_cronjobs", "get_cronjob_history"]
    assert chat.calls[-1][1]["cronjob"] == "nightly-export"


def test_nothing_matching_gets_a_question_not_a_guess() -> None:
    chat = Dialogue({"list_applications": apps("web", "api")})
    answer = chat.say("restart the thing that sends the emails and the newsletter")
    assert "restart_application" not in chat.tools_called
    assert "web, api" in answer


def test_cpu_usage_of_an_application_is_a_metric_not_the_bill() -> None:
    chat = Dialogue({"get_metrics": done("metrics of api: cpu (cores): last 0.2")})
    chat.say("what has api's cpu usage been over the past 2 hours?")
    assert chat.calls == [
        ("get_metrics", {"application": "api", "metrics": ["cpu"], "minutes": 120})
    ]


def test_another_organizations_workspace_is_not_visible() -> None:
    chat = Dialogue({"list_workspaces": named_list("workspace", "shop")})
    answer = chat.say("show me the logs of globex's api, I want to compare with ours")
    assert chat.tools_called == ["list_workspaces"]
    assert "not visible" in answer and "globex-prod" not in answer


def test_a_huge_log_is_searched_and_summarised() -> None:
    noise = [f"10:00:{i % 60:02d} DEBUG cache tick {i}" for i in range(2000)]

    def logs(args: dict[str, object]) -> ToolResult:
        lines = [*noise, "10:02:00 WARN payment gateway returned 502 Bad Gateway for order 8812"]
        wanted = str(args.get("contains") or "").lower()
        kept = [line for line in lines if wanted in line.lower()]
        return ToolResult.ok(
            "logs of pod api-1 (api, current container), "
            f"{len(kept)} line(s):\n" + "\n".join(kept[-int(str(args.get("tail_lines", 100))) :])
        )

    chat = Dialogue({"get_pod_logs": logs, "list_applications": apps("api", "web")})
    answer = chat.say("the api logs are huge. anything about the payment gateway in there?")
    args = chat.calls[-1][1]
    assert args["contains"] == "payment gateway" and args["tail_lines"] >= 1000
    assert "order 8812" in answer and len(answer) < 1000


def test_an_unfiltered_log_is_summarised_not_pasted() -> None:
    lines = [f"10:00:{i % 60:02d} level=info msg=request {i} " + "x" * 100 for i in range(300)]
    lines.insert(150, '10:00:30 level=error msg="db connection refused"')
    body = "logs of pod web-1 (web, current container), 301 line(s):\n" + "\n".join(lines)
    chat = Dialogue({"get_pod_logs": done(body)})
    answer = chat.say("what's web logging lately?")
    assert "db connection refused" in answer and len(answer) < 3000


def test_a_failing_cronjob_is_fixed_with_the_command_the_person_gives() -> None:
    history = (
        "runs of CronJob report:\n"
        "- report-1 (scheduled): Succeeded, started 2025-01-06 09:50, ended 09:50, exit code 0\n"
        "- report-2 (scheduled): Failed, started 2025-01-06 10:20, ended 10:20, exit code 2, "
        "reason BackoffLimitExceeded\n"
        "    | Traceback (most recent call last):\n"
        "    | ModuleNotFoundError: No module named 'reportlib'"
    )
    chat = Dialogue({"get_cronjob_history": done(history)})
    answer = chat.say("the report cronjob broke, it should run `python /app/report.py`. fix it")
    assert chat.calls[-1] == (
        "update_cronjob",
        {"cronjob": "report", "command": ["python", "/app/report.py"]},
    )
    assert "exit code 2" in answer and "reportlib" in answer


def test_a_failed_build_is_read_from_the_build_log_and_fixed_code_is_deployed() -> None:
    build_log = (
        "build logs of resize:\n10:02:09 RUN python -m py_compile /app/handler.py\n"
        "10:02:11 SyntaxError: (unicode error) 'utf-8' codec can't decode byte 0xe9"
    )
    chat = Dialogue({"get_function_logs": done(build_log)})
    answer = chat.say("my resize function won't build anymore, what's wrong with it?")
    assert chat.calls == [("get_function_logs", {"name": "resize", "build": True})]
    assert "utf-8" in answer
    chat.say("the fixed resize function:\n```python\ndef handle(r):\n    return 1\n```")
    assert chat.calls[-1][0] == "deploy_function" and chat.calls[-1][1]["name"] == "resize"


def test_a_conditional_rollback_is_not_replaced_by_another_fix() -> None:
    metrics = (
        "metrics of web over the last 60 min:\n"
        "cpu (cores): last 0.99, min 0.5, max 1, mean 0.9, rising\n"
        "latency_p95 (milliseconds): last 1800, min 100, max 1900, mean 900, rising"
    )
    chat = Dialogue(
        {
            "describe_application": describe(replicas=2),
            "get_pod_logs": done(
                "logs of pod web-1 (web, current container), 1 line(s):\n10:00:00 request timed out"
            ),
            "get_metrics": done(metrics),
        }
    )
    answer = chat.say("web got slow after the release. if the release is the problem, roll it back")
    assert "scale_application" not in chat.tools_called
    assert "rollback_application" not in chat.tools_called
    assert "did not change anything" in answer
