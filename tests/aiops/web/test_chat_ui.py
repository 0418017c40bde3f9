"""The chat UI in a real browser: headless Chromium (Debian's package) driven by Playwright.

The service runs for real on a loopback port with the offline planner and a tenant whose
workspace has applications on the twin (``conftest.py``). The walkthrough signs in, asks for a
change, sees the tool card and the approval card, approves, and sees the answer and the twin's
new replica count. Screenshots go to ``test-artifacts/web/``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, Request, Route, expect

from tests.aiops.web.conftest import (
    BROWSER_MARKS,
    NARROW,
    Served,
    Watched,
    screenshot,
    sign_in,
)
from tests.support.server import running_server
from tests.support.tenants import PASSWORD

pytestmark = BROWSER_MARKS


def open_chat(page: Page, url: str, email: str) -> None:
    sign_in(page, url, email)
    expect(page.get_by_label("Message to the assistant")).to_be_visible()


def ask(page: Page, text: str) -> None:
    """Send a message once the previous answer has finished, as a person would: while the
    assistant answers, Send is disabled and Enter sends nothing."""
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled()
    box = page.get_by_label("Message to the assistant")
    box.fill(text)
    box.press("Enter")


def last_answer(page: Page) -> Any:
    return page.locator(".message-assistant .answer-final").last


# ---------------------------------------------------------------------------- the walkthrough


def test_scale_an_application_with_an_approval(served: Served, tab: Watched) -> None:
    page = tab.page
    with running_server(served.app) as url:
        open_chat(page, url, served.email)
        expect(page.get_by_label("Organization")).to_have_value("acme")
        expect(page.get_by_label("Workspace", exact=True)).to_have_value(served.workspace)

        ask(page, f"scale web in workspace {served.workspace} to 3 replicas")
        tool = page.locator('.tool-card[data-tool="scale_application"]')
        expect(tool).to_be_visible()
        expect(tool.locator(".badge-status")).to_have_text("awaiting approval")
        approval = page.get_by_role("group", name="Approval needed")
        expect(approval).to_contain_text(f"scale web in {served.workspace}/app to 3 replicas")
        expect(approval).to_contain_text("You, the person who asked")
        expect(page.get_by_role("status").filter(has_text="Simulated cluster")).to_be_visible()
        # the arguments are in the card, one click away
        tool.locator("summary").first.click()
        expect(tool.locator("pre.json").first).to_contain_text('"replicas": 3')
        screenshot(page, "chat-approval.png")

        approval.get_by_role("button", name="Approve").click()
        expect(approval).to_contain_text("Approved")
        expect(tool.locator(".badge-status")).to_have_text("done")
        expect(tool).to_contain_text("from 2 to 3 replicas")
        expect(last_answer(page)).to_contain_text(
            f"scaled web in {served.workspace}/app from 2 to 3 replicas"
        )
        expect(approval.get_by_role("button", name="Approve")).to_be_disabled()

        ask(page, f"how many replicas does web have in workspace {served.workspace}?")
        expect(last_answer(page)).to_contain_text("web has 3 replicas")

        # the conversation is listed, and comes back the same from its history
        conversation = page.locator(".session-button").first
        expect(conversation).to_contain_text(f"scale web in workspace {served.workspace}")
        page.get_by_role("button", name="New conversation").click()
        expect(page.locator(".tool-card")).to_have_count(0)
        conversation.click()
        expect(page.locator('.tool-card[data-tool="scale_application"]')).to_contain_text(
            "from 2 to 3 replicas"
        )
        screenshot(page, "chat-final.png")

        page.get_by_role("button", name="Rename").click()
        page.get_by_label("Conversation title").fill("web scaling")
        page.get_by_label("Conversation title").press("Enter")
        expect(page.get_by_role("heading", name="web scaling")).to_be_visible()
        expect(conversation).to_contain_text("web scaling")
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Delete").click()
        expect(page.locator(".session-button")).to_have_count(0)
        expect(page.get_by_label("Message to the assistant")).to_be_focused()
    assert tab.problems == []
    assert served.replicas("web") == 3


def test_metrics_are_charted(served: Served, tab: Watched) -> None:
    page = tab.page
    with running_server(served.app) as url:
        open_chat(page, url, served.email)
        ask(page, f"show cpu and memory metrics for web in workspace {served.workspace}")
        metrics = page.locator('.tool-card[data-tool="get_metrics"]')
        expect(metrics.locator(".chart canvas").first).to_be_visible()
        expect(metrics.locator(".chart figcaption").first).to_contain_text("over time: ")
        ask(page, f"any anomalies in web in workspace {served.workspace}?")
        anomalies = page.locator('.tool-card[data-tool="detect_anomalies"]')
        expect(anomalies.locator(".tool-summary")).to_be_attached()
        if "anomaly signal" in (anomalies.locator(".tool-summary").text_content() or ""):
            # the detections are marked on their metric's chart, whichever that is
            marked = anomalies.locator(".chart figcaption").filter(has_text="marked")
            expect(marked.first).to_be_visible()
        expect(last_answer(page)).to_be_visible()
        # tall enough for both answers: the conversation pane scrolls, not the page
        page.set_viewport_size({"width": 1280, "height": 3200})
        screenshot(page, "chat-charts.png")
    assert tab.problems == []


def test_narrow_screen_and_keyboard_only(served: Served, browser: BrowserContext) -> None:
    page = browser.new_page()
    page.set_viewport_size(NARROW)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        with running_server(served.app) as url:
            page.goto(url)
            # signing in with the keyboard alone: the email box has focus
            expect(page.get_by_label("Email")).to_be_focused()
            page.keyboard.type(served.email)
            page.keyboard.press("Tab")
            page.keyboard.type(PASSWORD)
            page.keyboard.press("Enter")
            box = page.get_by_label("Message to the assistant")
            expect(box).to_be_focused()
            page.keyboard.type(f"scale worker in workspace {served.workspace} to 2 replicas")
            page.keyboard.press("Enter")

            approval = page.get_by_role("group", name="Approval needed")
            expect(approval).to_be_visible()
            # focus moved to the card: Tab reaches its Approve button
            approve = approval.get_by_role("button", name="Approve")
            for _ in range(8):
                if approve.evaluate("button => button === document.activeElement"):
                    break
                page.keyboard.press("Tab")
            expect(approve).to_be_focused()
            page.keyboard.press("Enter")
            expect(last_answer(page)).to_contain_text("from 1 to 2 replicas")
            expect(box).to_be_focused()

            overflow = page.evaluate("document.documentElement.scrollWidth")
            assert overflow <= NARROW["width"], f"the page is {overflow}px wide at 360px"
            toggle = page.get_by_role("button", name="Conversations")
            expect(toggle).to_have_attribute("aria-expanded", "false")
            screenshot(page, "chat-narrow.png")
            toggle.click()
            expect(page.get_by_role("navigation", name="Conversations")).to_be_visible()
            screenshot(page, "chat-narrow-conversations.png")
    finally:
        page.close()
    assert problems == []
    assert served.replicas("worker") == 2


# ---------------------------------------------------------------------------- error states


def _sse_blocks(body: str) -> list[str]:
    return [block + "\n\n" for block in body.split("\n\n") if block.strip()]


def test_a_dropped_stream_resumes_after_the_last_event(served: Served, tab: Watched) -> None:
    page = tab.page
    resumed: list[str | None] = []

    def cut_short(route: Route) -> None:
        # the real answer, cut after its first event, as a dropped connection leaves it
        response = route.fetch()
        first = _sse_blocks(response.text())[0]
        route.fulfill(status=200, headers=dict(response.headers), body=first)

    def follows(request: Request) -> None:
        if "/turns/" in request.url:
            resumed.append(request.headers.get("last-event-id"))

    page.on("request", follows)
    with running_server(served.app) as url:
        open_chat(page, url, served.email)
        page.route(re.compile(r".*/messages$"), cut_short)
        ask(page, f"scale web in workspace {served.workspace} to 4 replicas")
        approval = page.get_by_role("group", name="Approval needed")
        expect(approval).to_be_visible()
        expect(page.locator('.tool-card[data-tool="scale_application"]')).to_have_count(1)

        # a new message instead of a decision: the service drops the approval, and so does the card
        page.unroute(re.compile(r".*/messages$"))
        ask(page, "list applications")
        expect(approval).to_contain_text("a new message was sent instead")
        expect(approval.get_by_role("button", name="Approve")).to_be_disabled()
    assert len(resumed) == 1 and resumed[0] is not None and resumed[0].endswith(":1")
    assert tab.problems == []


def test_refusals_and_network_errors_are_explained(served: Served, tab: Watched) -> None:
    page = tab.page
    conflict = {
        "error": {
            "code": "conflict",
            "message": "this conversation is already answering; wait for it to finish",
        }
    }
    with running_server(served.app) as url:
        page.goto(url)
        page.get_by_label("Email").fill(served.email)
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page.get_by_role("alert").filter(has_text="Wrong email or password")).to_be_visible()
        open_chat(page, url, served.email)

        # 409: the message is not taken; it goes back to the box with the reason and a retry
        page.route(
            re.compile(r".*/messages$"),
            lambda route: route.fulfill(
                status=409, content_type="application/json", body=json.dumps(conflict)
            ),
        )
        ask(page, "list applications")
        notice = page.locator("#notice")
        expect(notice).to_contain_text("already answering")
        expect(page.get_by_label("Message to the assistant")).to_have_value("list applications")
        page.unroute(re.compile(r".*/messages$"))

        # the network fails: said plainly, and Retry sends it again
        page.route(re.compile(r".*/messages$"), lambda route: route.abort("internetdisconnected"))
        page.get_by_label("Message to the assistant").press("Enter")
        expect(notice).to_contain_text("cannot be reached")
        page.unroute(re.compile(r".*/messages$"))
        notice.get_by_role("button", name="Retry").click()
        expect(page.locator('.tool-card[data-tool="list_applications"]')).to_be_visible()
        expect(last_answer(page)).to_be_visible()

        # the sign-in is revoked elsewhere: back to the sign-in page, with a message
        page.evaluate(
            """async () => {
                const tokens = JSON.parse(sessionStorage.getItem("aiops.auth"));
                await fetch("/api/v1/auth/logout", {
                    method: "POST",
                    headers: {Authorization: `Bearer ${tokens.access}`,
                              "Content-Type": "application/json"},
                    body: JSON.stringify({refresh_token: tokens.refresh}),
                });
            }"""
        )
        ask(page, "list applications")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        expect(page.locator("#signin-message")).to_contain_text("signed out")
        screenshot(page, "chat-signed-out.png")
    assert tab.problems == []


def test_sign_in_with_a_pasted_token(served: Served, tab: Watched) -> None:
    page = tab.page
    with running_server(served.app) as url:
        page.goto(url)
        page.get_by_label("Access token or API key").fill("not-a-token")
        page.get_by_role("button", name="Use this token").click()
        expect(page.locator("#signin-message")).to_contain_text("not accepted")
        page.get_by_label("Access token or API key").fill(served.tenant["viewer"].token)
        page.get_by_role("button", name="Use this token").click()
        expect(page.get_by_label("Message to the assistant")).to_be_visible()
        expect(page.locator("#user-name")).to_have_text("viewer")
        page.get_by_role("button", name="Sign out").click()
        expect(page.locator("#signin-message")).to_contain_text("You have signed out")
    assert tab.problems == []


@pytest.mark.parametrize("settings_overrides", [{"access_token_ttl_seconds": 30}])
def test_the_access_token_is_refreshed_before_it_expires(served: Served, tab: Watched) -> None:
    page = tab.page
    with running_server(served.app) as url:
        open_chat(page, url, served.email)
        before = page.evaluate("JSON.parse(sessionStorage.getItem('aiops.auth')).access")
        with page.expect_request(re.compile(r".*/auth/refresh$"), timeout=15_000):
            pass
        page.wait_for_function(
            "old => JSON.parse(sessionStorage.getItem('aiops.auth')).access !== old", arg=before
        )
        ask(page, "list applications")
        expect(last_answer(page)).to_be_visible()
    assert tab.problems == []


def test_markdown_from_the_model_cannot_inject_markup(served: Served, tab: Watched) -> None:
    page = tab.page
    hostile = "\n".join(
        [
            "# Title <img src=x onerror=alert(1)>",
            "**bold** and *it* and `<b>code</b>` and snake_case_name",
            "[click](javascript:alert(1)) [ok](https://example.org/a?b=1)",
            "<script>alert(1)</script>",
            "- one",
            "- two",
            "",
            "| a | b |",
            "|---|---|",
            "| <i>1</i> | 2 |",
            "```",
            "<svg onload=alert(1)>",
            "```",
        ]
    )
    with running_server(served.app) as url:
        page.goto(url)
        result = page.evaluate(
            """async (text) => {
                const { renderMarkdown } = await import("/static/js/markdown.js");
                const holder = document.createElement("div");
                holder.append(renderMarkdown(text));
                const links = [...holder.querySelectorAll("a")];
                return {
                    tags: [...holder.querySelectorAll("*")].map((e) => e.tagName.toLowerCase()),
                    handlers: [...holder.querySelectorAll("*")]
                        .flatMap((e) => [...e.attributes].map((a) => a.name))
                        .filter((name) => name.startsWith("on")),
                    links: links.map((a) => [a.getAttribute("href"), a.rel]),
                    text: holder.textContent,
                };
            }""",
            hostile,
        )
    assert not {"img", "script", "svg", "b", "i"} & set(result["tags"])
    assert result["handlers"] == []
    assert {"h3", "strong", "em", "code", "ul", "li", "table", "pre"} <= set(result["tags"])
    assert result["links"] == [["https://example.org/a?b=1", "noopener noreferrer nofollow"]]
    assert "<script>alert(1)</script>" in result["text"]
    assert "snake_case_name" in result["text"]
    assert tab.problems == []


def test_the_event_stream_parser_handles_split_chunks(served: Served, tab: Watched) -> None:
    chunks = [
        "id: t:1\r",
        '\nevent: delta\r\ndata: {"a"',
        ":1}\r\n\r\n",
        ": a comment\n\nid: t:2\ndata: x\ndata: y\n",
        "\n",
    ]
    with running_server(served.app) as url:
        tab.page.goto(url)
        events = tab.page.evaluate(
            """async (chunks) => {
                const { SseParser } = await import("/static/js/sse.js");
                const parser = new SseParser();
                return chunks.flatMap((chunk) => parser.push(chunk));
            }""",
            chunks,
        )
    assert events == [
        {"id": "t:1", "event": "delta", "data": '{"a":1}'},
        {"id": "t:2", "event": "message", "data": "x\ny"},
    ]
