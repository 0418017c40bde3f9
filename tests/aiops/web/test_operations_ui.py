"""The incident, remediation-policy and notification-channel views in a real browser.

The service runs as in ``test_chat_ui.py``, with the scheduler off: monitoring runs when a test
says so, through routes of the test's own on the same server (``/_test/fault`` injects a fault
into the twin, ``/_test/tick`` lets virtual minutes pass and runs the workspace's monitoring job,
``/_test/hook`` receives the notifications of a webhook channel). Everything else goes through
the real API and the page. Screenshots go to ``test-artifacts/web/``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import APIRouter, Request
from playwright.sync_api import BrowserContext, Page, Route, expect

from platform_core.config import Settings
from tests.aiops.web.conftest import (
    BROWSER_MARKS,
    NARROW,
    Served,
    Watched,
    screenshot,
    serving,
    sign_in,
    watch,
)
from tests.support.server import running_server

pytestmark = BROWSER_MARKS

ORG = "/api/v1/organizations/acme"
NO_ROLLBACK = {"allowed_actions": ["restart", "scale"]}


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    # monitoring runs when the test says so; notifications may reach this very server
    return {"scheduler_enabled": False, "notify_allow_private_networks": True}


def _test_routes(served: Served) -> None:
    routes = APIRouter(include_in_schema=False)
    hooks: list[Any] = []
    served.app.state.test_hooks = hooks
    workspace_id = served.tenant.workspace.id

    @routes.post("/_test/fault")
    async def fault(application: str, kind: str) -> dict[str, str]:
        served.twin().inject_fault(str(workspace_id), "app", application, kind)
        return {"injected": kind}

    @routes.post("/_test/tick")
    async def tick(minutes: int = 1) -> dict[str, int]:
        for _ in range(minutes):
            await served.twin().advance(60)
            await served.state.remediation.monitor.run_workspace(workspace_id)
        return {"minutes": minutes}

    @routes.post("/_test/hook")
    async def hook(request: Request) -> dict[str, bool]:
        hooks.append(await request.json())
        return {"ok": True}

    served.app.include_router(routes)


@pytest.fixture
def served(settings: Settings) -> Iterator[Served]:
    with serving(settings, extend=_test_routes) as found:
        yield found


class Service:
    """The running service, from the test's side: its API as a person, and the test routes."""

    def __init__(self, url: str, served: Served) -> None:
        self.url = url
        self.served = served

    def call(
        self, method: str, path: str, *, person: str = "owner", body: Any = None
    ) -> httpx.Response:
        headers = self.served.tenant[person].headers
        return httpx.request(method, self.url + path, headers=headers, json=body, timeout=60)

    def policy(self) -> httpx.Response:
        return self.call("GET", f"{ORG}/workspaces/{self.served.workspace}/remediation-policy")

    def put_policy(self, **fields: Any) -> None:
        path = f"{ORG}/workspaces/{self.served.workspace}/remediation-policy"
        response = self.call("PUT", path, body=fields)
        assert response.status_code in (200, 201), response.text

    def fault(self, application: str, kind: str) -> None:
        params = {"application": application, "kind": kind}
        httpx.post(f"{self.url}/_test/fault", params=params, timeout=30).raise_for_status()

    def tick(self, minutes: int = 1) -> None:
        params = {"minutes": minutes}
        httpx.post(f"{self.url}/_test/tick", params=params, timeout=120).raise_for_status()

    def incidents(self) -> list[dict[str, Any]]:
        response = self.call("GET", f"{ORG}/incidents")
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()
        return found

    def awaiting_approval(self) -> dict[str, Any]:
        """A crash-looping ``api`` under a policy without rollback: its fix waits for a person."""
        self.put_policy(**NO_ROLLBACK)
        self.fault("api", "crash_loop")
        self.tick()
        (incident,) = self.incidents()
        assert incident["status"] == "awaiting_approval", incident
        return incident


def timeline_entry(page: Page, kind: str) -> Any:
    return page.get_by_role("list", name="Timeline").locator(f'[data-kind="{kind}"]')


def no_overflow(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= NARROW["width"], f"the page is {width}px wide at {NARROW['width']}px"


# ---------------------------------------------------------------------------- incidents


def test_an_incident_is_listed_opened_approved_and_resolved(served: Served, tab: Watched) -> None:
    page = tab.page
    with running_server(served.app) as url:
        service = Service(url, served)
        incident = service.awaiting_approval()
        # the link a notification carries
        sign_in(page, f"{url}/ui/#/incidents", served.email)
        expect(page.get_by_role("heading", name="Incidents", exact=True)).to_be_visible()
        item = page.locator(f'.incident-item[data-incident-id="{incident["id"]}"]')
        expect(item).to_contain_text(incident["title"])
        expect(item).to_contain_text("awaiting approval")
        expect(item).to_contain_text(incident["severity"])
        expect(item).to_contain_text(f"{served.workspace} / app / api")
        expect(item).to_contain_text(incident["signals"][0])
        screenshot(page, "incidents-list.png")

        item.get_by_role("link", name=incident["title"]).click()
        expect(page).to_have_url(re.compile(f"/ui/#/incidents/{incident['id']}$"))
        expect(page.get_by_role("heading", name=incident["title"])).to_be_focused()
        summary = page.get_by_role("region", name="Summary")
        expect(summary).to_contain_text("awaiting approval")
        expect(summary).to_contain_text(f"{served.workspace} / app / api")
        expect(timeline_entry(page, "detected")).to_contain_text("Detected")
        expect(timeline_entry(page, "approval_requested")).to_contain_text(
            "needs approval: roll back api"
        )
        # an entry's data is collapsed, one click away
        proposed = timeline_entry(page, "action_proposed")
        expect(proposed.locator("pre")).not_to_be_visible()
        proposed.get_by_text("Details").click()
        expect(proposed.locator("pre")).to_contain_text('"tool": "rollback_application"')
        # the chart is drawn, or the page says why not (the endpoint may not exist yet)
        expect(page.locator(".anomaly-section")).to_have_attribute(
            "data-state", re.compile("drawn|empty|unavailable")
        )

        approval = page.get_by_role("group", name="The proposed fix needs an approval")
        expect(approval).to_contain_text("roll back api")
        expect(approval).to_contain_text("A workspace or organization admin")
        screenshot(page, "incident-awaiting-approval.png")
        approval.get_by_role("button", name="Approve").click()
        expect(approval).to_contain_text("Approved and applied: rolled api back")
        expect(approval.get_by_role("button", name="Approve")).to_be_disabled()

        service.tick(7)
        page.get_by_role("button", name="Refresh").click()
        expect(summary).to_contain_text("resolved")
        expect(timeline_entry(page, "approval_decided")).to_contain_text(
            f"approved by {served.email}"
        )
        expect(timeline_entry(page, "action_applied")).to_contain_text("applied after approval")
        expect(timeline_entry(page, "resolved")).to_be_visible()
        expect(approval).not_to_be_attached()
        expect(page.get_by_role("button", name="Resolve")).not_to_be_attached()
        screenshot(page, "incident-resolved.png")

        # resolved: no longer active, still listed under "All"
        page.get_by_role("link", name="All incidents").click()
        expect(page.locator(".empty-state")).to_contain_text("No active incidents")
        page.get_by_label("Show").select_option("all")
        expect(page).to_have_url(re.compile(r"#/incidents\?status=all$"))
        expect(item).to_contain_text("resolved")
    assert tab.problems == []


def _anomalies(route: Route) -> None:
    """The anomaly endpoint's contract, for a chart that does not depend on when it is built."""
    end = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)
    times = [end - timedelta(minutes=59 - i) for i in range(60)]
    spike = {50, 51, 52}
    points = [
        [t.isoformat(), 0.9 if i in spike else 0.2, 0.95 if i in spike else 0.05]
        for i, t in enumerate(times)
    ]
    body = {
        "application": "api",
        "start": times[0].isoformat(),
        "end": end.isoformat(),
        "series": [{"metric": "cpu", "unit": "cores", "points": points}],
        "detections": [
            {
                "metric": "cpu",
                "timestamp": times[51].isoformat(),
                "observed": 0.9,
                "expected": [0.1, 0.3],
                "score": 0.95,
                "since": times[50].isoformat(),
                "reason": "cpu far above its usual level",
            }
        ],
    }
    route.fulfill(status=200, content_type="application/json", body=json.dumps(body))


def test_a_viewer_may_not_decide_and_an_owner_resolves_by_hand(
    served: Served, browser: BrowserContext
) -> None:
    with running_server(served.app) as url:
        incident = Service(url, served).awaiting_approval()
        link = f"{url}/ui/#/incidents/{incident['id']}"

        viewer = watch(browser.new_page())
        sign_in(viewer.page, link, str(served.tenant["viewer"].user.email))
        approval = viewer.page.get_by_role("group", name="The proposed fix needs an approval")
        expect(approval).to_contain_text("Only a workspace or organization admin")
        approval.get_by_role("button", name="Approve").click()
        expect(approval).to_contain_text("Not allowed: a workspace or organization admin")
        viewer.page.get_by_label("What was done").fill("nothing")
        viewer.page.get_by_role("button", name="Resolve").click()
        expect(viewer.page.locator(".resolve-form [role=alert]")).to_contain_text("Not allowed")
        viewer.page.close()

        owner = watch(browser.new_page())
        page = owner.page
        page.set_viewport_size(NARROW)
        page.route(re.compile(r".*/applications/api/anomalies\?minutes=180$"), _anomalies)
        sign_in(page, link, served.email)
        chart = page.locator(".anomaly-section")
        expect(chart.locator("canvas").first).to_be_visible()
        expect(chart.locator("figcaption")).to_contain_text("1 anomaly marked")
        expect(chart.locator("figcaption")).to_contain_text("highest anomaly score 0.95")
        expect(chart.get_by_role("list", name="Detections")).to_contain_text(
            "observed 0.9, expected 0.1 to 0.3 (score 0.95)"
        )
        page.get_by_label("What was done").fill("rolled back by hand")
        page.get_by_role("button", name="Resolve").click()
        expect(page.get_by_role("region", name="Summary")).to_contain_text("resolved")
        expect(timeline_entry(page, "resolved")).to_contain_text("rolled back by hand")
        no_overflow(page)
        screenshot(page, "incident-narrow.png")
        page.close()
    assert viewer.problems == [] and owner.problems == []


def _pages(incident: dict[str, Any], asked: list[str]) -> Any:
    """The incident list as two pages: 25 copies of ``incident``, each a minute older, then one
    more when asked for those opened before the last of them."""
    opened = datetime.fromisoformat(incident["opened_at"])

    def copy(minutes: int) -> dict[str, Any]:
        at = (opened - timedelta(minutes=minutes)).isoformat()
        return {**incident, "id": f"{incident['id'][:-4]}{minutes:04d}", "opened_at": at}

    def fulfil(route: Route) -> None:
        asked.append(route.request.url)
        older = "before=" in route.request.url
        found = [copy(100)] if older else [copy(minutes) for minutes in range(25)]
        route.fulfill(status=200, content_type="application/json", body=json.dumps(found))

    return fulfil


def test_older_pages_and_a_missing_anomaly_endpoint(served: Served, tab: Watched) -> None:
    page = tab.page
    with running_server(served.app) as url:
        incident = Service(url, served).awaiting_approval()
        page.route(
            re.compile(r".*/anomalies\?minutes=\d+$"),
            lambda route: route.fulfill(
                status=501,
                content_type="application/json",
                body=json.dumps({"error": {"code": "not_implemented", "message": "later"}}),
            ),
        )
        sign_in(page, f"{url}/#/incidents/{incident['id']}", served.email)
        expect(page.locator(".anomaly-section")).to_contain_text(
            "The anomaly chart is not available on this service yet."
        )
        expect(timeline_entry(page, "detected")).to_be_visible()

        asked: list[str] = []
        page.route(re.compile(r".*/organizations/acme/incidents\?.*"), _pages(incident, asked))
        page.get_by_role("link", name="Incidents", exact=True).click()
        expect(page.locator(".incident-item")).to_have_count(25)
        page.get_by_role("button", name="Show older incidents").click()
        expect(page.locator(".incident-item")).to_have_count(26)
        expect(page.get_by_role("button", name="Show older incidents")).to_be_hidden()
        last = datetime.fromisoformat(incident["opened_at"]) - timedelta(minutes=24)
        assert [parse_qs(urlsplit(u).query).get("before") for u in asked] == [
            None,
            [last.isoformat()],
        ]
        assert all(parse_qs(urlsplit(u).query)["status"] == ["active"] for u in asked)
    assert tab.problems == []


# ---------------------------------------------------------------------------- policies


def test_a_policy_is_created_edited_and_deleted_through_the_form(
    served: Served, tab: Watched
) -> None:
    page = tab.page
    with running_server(served.app) as url:
        service = Service(url, served)
        sign_in(page, f"{url}/#/policies", served.email)
        card = page.locator(f'.policy-card[data-workspace="{served.workspace}"]')
        expect(card).to_contain_text("No policy")
        card.get_by_role("button", name="Create a policy").click()

        # the service refuses min > max: its message is shown next to the field
        card.get_by_label("Minimum replicas").fill("5")
        card.get_by_label("Maximum replicas").fill("2")
        card.get_by_role("button", name="Create the policy").click()
        minimum = card.locator('[data-field="min_replicas"]')
        expect(minimum.locator(".field-error")).to_have_text(
            "min_replicas must not exceed max_replicas."
        )
        expect(card.get_by_label("Minimum replicas")).to_have_attribute("aria-invalid", "true")
        expect(card.get_by_label("Minimum replicas")).to_be_focused()
        screenshot(page, "policy-field-error.png")
        assert service.policy().status_code == 404

        # a number out of bounds is caught before sending; a bad quantity by the service
        card.get_by_label("Minimum replicas").fill("1")
        card.get_by_label("Maximum replicas").fill("4")
        card.get_by_label("Cooldown (minutes)").fill("-1")
        card.get_by_role("button", name="Create the policy").click()
        expect(card.locator('[data-field="cooldown_minutes"] .field-error')).to_have_text(
            "Enter a whole number from 0 to 1440."
        )
        expect(minimum.locator(".field-error")).to_be_hidden()
        card.get_by_label("Cooldown (minutes)").fill("15")
        card.get_by_label("Highest CPU limit").fill("lots")
        card.get_by_label("Roll back a release").uncheck()
        card.get_by_role("button", name="Create the policy").click()
        expect(card.locator('[data-field="max_cpu_limit"] .field-error')).to_contain_text(
            "Invalid quantity 'lots'"
        )
        card.get_by_label("Highest CPU limit").fill("1500m")
        card.get_by_role("button", name="Create the policy").click()
        expect(card).to_contain_text("Created")
        expect(card).to_contain_text("1 to 4")
        expect(card).to_contain_text("Restart, Scale (replicas, autoscaling), Raise CPU or memory")
        saved = service.policy().json()
        assert saved["allowed_actions"] == ["restart", "scale", "raise_limits"]
        assert (saved["max_replicas"], saved["max_cpu_limit"], saved["cooldown_minutes"]) == (
            4,
            "1500m",
            15,
        )
        screenshot(page, "policy-saved.png")

        card.get_by_role("button", name="Edit").click()
        page.set_viewport_size(NARROW)
        no_overflow(page)
        screenshot(page, "policy-form-narrow.png")
        card.get_by_label("Remediation is on").uncheck()
        card.get_by_role("button", name="Save the policy").click()
        expect(card).to_contain_text("off: incidents are announced, nothing is changed")
        assert service.policy().json()["enabled"] is False

        page.once("dialog", lambda dialog: dialog.accept())
        card.get_by_role("button", name="Delete").click()
        expect(card).to_contain_text("No policy")
        assert service.policy().status_code == 404
    assert tab.problems == []


# ---------------------------------------------------------------------------- channels


def test_a_webhook_channel_is_added_tested_and_its_secret_masked(
    served: Served, tab: Watched
) -> None:
    page = tab.page
    secret = "s3cret-" + "x" * 20
    with running_server(served.app) as url:
        sign_in(page, f"{url}/#/channels", served.email)
        expect(page.locator(".empty-state")).to_contain_text("No channels yet")
        page.get_by_role("button", name="New channel").click()
        form = page.get_by_role("form", name="New channel")
        form.get_by_label("Name", exact=True).fill("on-call")
        form.get_by_label("Kind").select_option("webhook")
        form.get_by_label("URL", exact=True).fill(f"{url}/_test/hook")
        form.get_by_label("Signing secret").fill("short")
        form.get_by_label("Incident opened").check()
        form.get_by_label("Approval requested").check()
        form.get_by_label("Workspace").select_option(served.workspace)
        form.get_by_role("button", name="Add the channel").click()
        expect(form.locator('[data-field="webhook.secret"] .field-error')).to_contain_text(
            "at least 16"
        )

        form.get_by_label("Signing secret").fill(secret)
        form.get_by_role("button", name="Add the channel").click()
        card = page.locator(".channel-card").filter(has_text="on-call")
        expect(card).to_contain_text("Webhook (signed JSON POST)")
        expect(card).to_contain_text(f"{url}/_test/hook")
        expect(card).to_contain_text("Incident opened, Approval requested")
        expect(card).to_contain_text(served.workspace)
        secret_row = card.locator("dt", has_text="Signing secret").locator(
            "xpath=following-sibling::dd[1]"
        )
        expect(secret_row).to_have_text("********")
        assert secret not in page.content()

        card.get_by_role("button", name="Send test").click()
        expect(card.locator(".channel-result")).to_have_text(
            f"Delivered to {url}/… (HTTP 200, 1 attempt)."  # the target as the service masks it
        )
        expect(card.locator(".last-delivery")).to_contain_text("(delivered)")
        hooks = served.app.state.test_hooks
        assert [hook["event"] for hook in hooks] == ["incident_updated"]
        screenshot(page, "channels.png")

        # secrets are write-only: editing asks for it again
        card.get_by_role("button", name="Edit").click()
        edit = page.get_by_role("form", name="Edit the channel on-call")
        expect(edit.get_by_label("Signing secret")).to_have_value("")
        expect(edit.get_by_label("URL", exact=True)).to_have_value(f"{url}/_test/hook")
        page.set_viewport_size(NARROW)
        no_overflow(page)
        screenshot(page, "channel-form-narrow.png")
        edit.get_by_label("Name", exact=True).fill("pager")
        edit.get_by_role("button", name="Save the channel").click()
        expect(edit.locator('[data-field="webhook.secret"] .field-error')).to_contain_text(
            "Field required"
        )
        edit.get_by_label("Signing secret").fill(secret)
        edit.get_by_role("button", name="Save the channel").click()
        expect(page.locator(".channel-card").filter(has_text="pager")).to_be_visible()

        page.once("dialog", lambda dialog: dialog.accept())
        page.locator(".channel-card").get_by_role("button", name="Delete").click()
        expect(page.locator(".empty-state")).to_contain_text("No channels yet")
    assert tab.problems == []


# ---------------------------------------------------------------------------- the page's logic


ROUTES = [
    "",
    "#/",
    "#/incidents?status=all",
    "#/incidents/a%2Fb",
    "#/policies",
    "#/nowhere",
    "#/policies/x",
    "#composer-input",
]


def _invalid(*fields: tuple[str, str]) -> dict[str, Any]:
    """A 422 as ``aiops.http.errors`` writes it (its ``error`` member, as ``ApiError`` keeps it)."""
    details = {"fields": [{"field": field, "message": message} for field, message in fields]}
    return {"message": "invalid request", "details": details}


ERRORS = {
    "policy": [
        422,
        _invalid(
            ("body", "Value error, min_replicas must not exceed max_replicas"),
            ("body.applications.1", "String should match pattern"),
            ("body.surprise", "Extra inputs are not permitted"),
        ),
        ["min_replicas", "max_replicas", "applications"],
    ],
    "channel": [
        422,
        _invalid(
            ("body.settings.email.to.0", "value is not a valid email address"),
            ("body.settings.webhook.secret", "too short"),
        ),
        ["name", "email.to", "webhook.secret"],
    ],
    "domain": [
        422,
        {"message": "no such workspace", "details": {"field": "workspace"}},
        ["workspace"],
    ],
    "refused": [403, {"message": "not yours"}, ["name"]],
}


def test_routes_and_field_errors_are_read_as_the_service_writes_them(
    served: Served, tab: Watched
) -> None:
    with running_server(served.app) as url:
        tab.page.goto(url)
        found = tab.page.evaluate(
            """async (cases) => {
                const { parseHash } = await import("/static/js/routes.js");
                const { fieldErrors } = await import("/static/js/forms.js");
                const { ApiError } = await import("/static/js/api.js");
                const route = (hash) => {
                    const r = parseHash(hash);
                    return r && [r.section, r.id, r.query.toString()];
                };
                const mapped = ([status, body, names]) => {
                    const { errors, general } = fieldErrors(new ApiError(status, body), names);
                    return { errors: Object.fromEntries(errors), general };
                };
                return {
                    routes: cases.routes.map(route),
                    errors: Object.fromEntries(
                        Object.entries(cases.errors).map(([name, c]) => [name, mapped(c)])
                    ),
                };
            }""",
            {"routes": ROUTES, "errors": ERRORS},
        )
        errors = found["errors"]
    assert found["routes"] == [
        ["chat", None, ""],
        ["chat", None, ""],
        ["incidents", None, "status=all"],
        ["incidents", "a/b", ""],
        ["policies", None, ""],
        ["unknown", None, ""],
        ["unknown", None, ""],
        None,
    ]
    assert errors["policy"] == {
        "errors": {
            "min_replicas": ["min_replicas must not exceed max_replicas."],
            "applications": ["String should match pattern."],
        },
        "general": ["Extra inputs are not permitted."],
    }
    assert errors["channel"]["errors"] == {
        "email.to": ["Value is not a valid email address."],
        "webhook.secret": ["Too short."],
    }
    assert errors["domain"]["errors"] == {"workspace": ["No such workspace."]}
    assert errors["refused"] == {"errors": {}, "general": ["Not allowed: not yours."]}
    assert tab.problems == []
