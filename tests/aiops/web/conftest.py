"""What the browser tests share: the real service on a loopback port (with the offline planner
and a tenant whose workspace runs applications on the twin), headless Chromium (Debian's
package) driven by Playwright, and the steps every walkthrough takes (signing in, screenshots).

The browser tests run on the SQLite database only: the UI does not depend on which database the
service uses, and the API's own tests cover both. Screenshots go to ``test-artifacts/web/``.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi import FastAPI
from playwright.sync_api import BrowserContext, Page, ViewportSize, expect, sync_playwright

from agents.models.offline import OfflinePlanner
from aiops.app import create_app
from aiops.state import AppState
from aiops.web.router import router as web_router
from platform_core.cluster.twin.cluster import SimulatedCluster
from platform_core.config import Settings
from tests.support.agent import use_model
from tests.support.databases import close_and_wipe, drop_redis_namespace
from tests.support.tenants import PASSWORD, Tenant, make_tenant

CHROMIUM = Path(os.environ.get("AIOPS_CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking flags Chromium dials out at start, which a closed
# network refuses (and which a test has no business doing anyway).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "web"
WAIT_MS = 20_000
NARROW: ViewportSize = {"width": 360, "height": 780}

# for the test modules' ``pytestmark``
BROWSER_MARKS = [
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium package "
        "(or set AIOPS_CHROMIUM to a Chromium binary)",
    ),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.slow,
]

T = TypeVar("T")


# ---------------------------------------------------------------------------- the service


def run_async(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` in a loop of its own (Playwright's sync API keeps one running here)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()


@dataclass
class Served:
    app: FastAPI
    state: AppState
    tenant: Tenant

    @property
    def email(self) -> str:
        return str(self.tenant["owner"].user.email)

    @property
    def workspace(self) -> str:
        return self.tenant.workspace.name

    def twin(self) -> SimulatedCluster:
        twin = self.state.cluster
        assert isinstance(twin, SimulatedCluster)
        return twin

    def replicas(self, application: str) -> int:
        """The application's replicas on the twin (read once the server has stopped)."""
        twin = self.twin()
        found = run_async(twin.get_application(str(self.tenant.workspace.id), "app", application))
        return found.replicas


def with_ui(app: FastAPI) -> FastAPI:
    """The UI's routes, unless the application already serves them."""
    if not any(getattr(route, "name", None) == "web.index" for route in app.routes):
        app.include_router(web_router)
    return app


@contextmanager
def serving(
    settings: Settings, *, extend: Callable[[Served], None] | None = None
) -> Iterator[Served]:
    """The service with its tenant, ready to be run by ``running_server``; ``extend`` may add
    routes of the test's own before it runs."""
    app = with_ui(create_app(settings))
    state: AppState = app.state.aiops

    async def prepare() -> Tenant:
        await state.start()
        use_model(state, OfflinePlanner(), provider="offline")
        tenant = await make_tenant(state, "acme", apps=True)
        # connections are made again in the server's own event loop
        await state.db.dispose()
        await state.redis.connection_pool.disconnect()
        return tenant

    async def cleanup() -> None:
        await close_and_wipe(state)
        await drop_redis_namespace(settings)

    tenant = run_async(prepare())
    served = Served(app=app, state=state, tenant=tenant)
    if extend is not None:
        extend(served)
    try:
        yield served
    finally:
        run_async(cleanup())


@pytest.fixture
def served(settings: Settings) -> Iterator[Served]:
    with serving(settings) as found:
        yield found


# ---------------------------------------------------------------------------- the browser


@pytest.fixture(scope="module")
def browser() -> Iterator[BrowserContext]:
    profile = tempfile.TemporaryDirectory(prefix="aiops-chromium-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile.name,
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
            locale="en-GB",
            timezone_id="UTC",
        )
        context.set_default_timeout(WAIT_MS)
        try:
            yield context
        finally:
            context.close()
    profile.cleanup()


@dataclass
class Watched:
    page: Page
    problems: list[str]


def watch(page: Page) -> Watched:
    """Record the page's script errors and CSP violations."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))

    def console(message: Any) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            problems.append(f"CSP: {message.text}")

    page.on("console", console)
    return Watched(page, problems)


@pytest.fixture
def tab(browser: BrowserContext) -> Iterator[Watched]:
    """A fresh tab (its own sessionStorage: signed out) that records script errors and CSP
    violations."""
    page = browser.new_page()
    try:
        yield watch(page)
    finally:
        page.close()


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Page, url: str, email: str) -> None:
    """Sign in at ``url`` (the chat, unless its hash names another view)."""
    page.goto(url)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("navigation", name="Sections")).to_be_visible()
