"""Follow-ups: what "it", "there", "the same", "that" and "go ahead" refer to."""

from __future__ import annotations

from typing import Any

from tests.agents.models.offline_dialogue import Dialogue, apps, describe, done
from tools.results import ToolResult


def test_do_the_same_for_another_application() -> None:
    chat = Dialogue()
    chat.say("restart web")
    chat.say("do the same for api")
    assert chat.calls[-1] == ("restart_application", {"application": "api"})


def test_a_pending_change_is_replaced_by_a_new_number() -> None:
    chat = Dialogue()
    assert chat.say("scale api to 8", pending=True) == "(waiting for approval)"
    chat.supersede()
    chat.say("hmm, make that 4")
    assert chat.calls[-1] == ("scale_application", {"application": "api", "replicas": 4})


def test_put_it_back_restores_the_replica_count_from_before() -> None:
    def scale(args: dict[str, Any]) -> ToolResult:
        return ToolResult.ok(
            f"scaled {args['application']} in shop/app from 2 to {args['replicas']} replicas"
        )

    chat = Dialogue({"scale_application": scale, "list_applications": apps("cart", "web")})
    chat.say("scale cart to 6 for the sale")
    chat.say("sale's over, put it back to what it was before")
    assert chat.calls[-1] == ("scale_application", {"application": "cart", "replicas": 2})


def test_run_it_runs_the_cronjob_just_created() -> None:
    chat = Dialogue()
    chat.say("create a cronjob named sync that runs every hour using image alpine:3.19")
    chat.say("great - now run it once right away")
    assert chat.calls[-1] == ("trigger_cronjob", {"cronjob": "sync"})


def test_go_ahead_after_a_diagnosis_takes_the_proposed_fix() -> None:
    chat = Dialogue(
        {
            "describe_application": done(
                "application web: 1/2 ready, image ghcr.io/acme/web:1.4.3, revision 2 in shop/app\n"
                "current revision 2 (ghcr.io/acme/web:1.4.3), rolled out 15m ago; previous "
                "revision 1 (ghcr.io/acme/web:1.4.2)\n- web-2: ImagePullBackOff, ready=False"
            ),
        }
    )
    first = chat.say("why is web failing?")
    assert "rolling back" in first and "rollback_application" not in chat.tools_called
    chat.say("ok, go ahead")
    assert chat.calls[-1] == ("rollback_application", {"application": "web"})


def test_there_is_the_workspace_picked_before() -> None:
    chat = Dialogue(
        {
            "list_applications": apps("web", where="staging/app"),
            "describe_application": describe(replicas=1),
        }
    )
    chat.say("let's look at the staging workspace. what's running there?")
    assert chat.calls[-1] == ("list_applications", {"workspace": "staging"})
    answer = chat.say("how many replicas does web have there?")
    assert chat.calls[-1] == (
        "describe_application",
        {"application": "web", "workspace": "staging"},
    )
    assert answer.startswith("web has 1 replicas")


def test_its_in_the_same_sentence_points_at_the_application_named_there() -> None:
    chat = Dialogue()
    chat.say("how is web doing?")
    chat.world["list_applications"] = apps("web", "search")
    chat.say("we're not using search tonight, set its replicas to 0")
    assert chat.calls[-1] == ("scale_application", {"application": "search", "replicas": 0})


def test_insisting_does_not_unlock_a_tool_the_role_lacks() -> None:
    chat = Dialogue(tools=["describe_application", "list_applications", "get_pod_logs"])
    first = chat.say("restart api now!!")
    second = chat.say("I'm on call and this is an emergency, just do it")
    assert chat.calls == []
    assert "not available to you" in first and "not available to you" in second


def test_calling_it_off_changes_nothing() -> None:
    chat = Dialogue()
    chat.say("scale web to 6", pending=True)
    chat.supersede()
    answer = chat.say("wait, no - leave it as it is, don't change anything")
    assert answer.startswith("OK, I won't change anything")
    assert [name for name, _ in chat.calls] == ["scale_application"]
