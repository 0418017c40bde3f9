"""The UI's static router: right content types and caching, nothing served outside its table,
and a page that the service's strict Content-Security-Policy lets run (no inline code)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser

import httpx
import pytest
from fastapi import FastAPI

from aiops.http.errors import install_error_handlers
from aiops.web.router import IMMUTABLE, REVALIDATE, WEB_ROOT, build_router, load_assets

ASSETS = load_assets()


@pytest.fixture
async def web() -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(build_router())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ui.test") as client:
        yield client


async def test_the_page_and_its_files_have_their_content_types(web: httpx.AsyncClient) -> None:
    page = await web.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["cache-control"] == REVALIDATE
    expected = {
        "/static/js/app.js": "text/javascript; charset=utf-8",
        "/static/app.css": "text/css; charset=utf-8",
        "/static/favicon.svg": "image/svg+xml",
        "/static/vendor/uplot-1.6.32/uPlot.iife.min.js": "text/javascript; charset=utf-8",
        "/static/vendor/uplot-1.6.32/uPlot.min.css": "text/css; charset=utf-8",
    }
    for path, content_type in expected.items():
        response = await web.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"] == content_type, path
    vendored = await web.get("/static/vendor/uplot-1.6.32/uPlot.iife.min.js")
    assert vendored.headers["cache-control"] == IMMUTABLE
    own = await web.get("/static/js/app.js")
    assert own.headers["cache-control"] == REVALIDATE


async def test_the_ui_path_serves_the_same_page(web: httpx.AsyncClient) -> None:
    # notifications link to /ui/#/incidents/<id>; the hash stays in the browser
    root = await web.get("/")
    for path in ("/ui/", "/ui"):
        page = await web.get(path)
        assert page.status_code == 200, path
        assert page.content == root.content and page.headers["etag"] == root.headers["etag"]
        assert page.headers["cache-control"] == REVALIDATE
    head = await web.head("/ui/")
    assert head.status_code == 200 and head.content == b""


@pytest.mark.parametrize(
    "name",
    [
        "js/views.js",
        "js/routes.js",
        "js/incidents.js",
        "js/incident.js",
        "js/incident-approval.js",
        "js/timeline.js",
        "js/anomaly-chart.js",
        "js/policies.js",
        "js/policy-form.js",
        "js/channels.js",
        "js/channel-form.js",
        "js/forms.js",
        "js/widgets.js",
    ],
)
async def test_the_views_modules_are_served(web: httpx.AsyncClient, name: str) -> None:
    response = await web.get(f"/static/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == REVALIDATE


async def test_an_unchanged_file_answers_304(web: httpx.AsyncClient) -> None:
    first = await web.get("/static/js/app.js")
    again = await web.get("/static/js/app.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    changed = await web.get("/static/js/app.js", headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200
    head = await web.head("/")
    assert head.status_code == 200 and head.content == b""


@pytest.mark.parametrize(
    "path",
    [
        "/static/",
        "/static/js",
        "/static/js/",
        "/static/vendor",
        "/static/router.py",
        "/static/__init__.py",
        "/static/index.html",
        "/static/vendor/uplot-1.6.32/LICENSE",
        "/static/nothing.js",
        "/static/..%2Frouter.py",
        "/static/js/..%2F..%2Frouter.py",
        "/static/%2e%2e/%2e%2e/app.py",
        "/static//etc/passwd",
        "/static/js/app.js%00.py",
        "/ui/index.html",
        "/ui/static/js/app.js",
        "/ui/../router.py",
    ],
)
async def test_nothing_outside_the_table_is_served(web: httpx.AsyncClient, path: str) -> None:
    response = await web.get(path)
    assert response.status_code == 404, path
    assert response.json()["error"]["code"] == "not_found"


def test_only_browser_files_are_in_the_table() -> None:
    assert "index.html" in ASSETS and "js/app.js" in ASSETS
    assert not [name for name in ASSETS if name.endswith((".py", ".pyc", ".md"))]


class _PageScan(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.references: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, _ in attrs:
            if name.startswith("on") or name == "style":
                self.problems.append(f"<{tag} {name}=…> is blocked by the CSP")
        if tag == "style":
            self.problems.append("<style> is blocked by the CSP")
        if tag == "script":
            self._in_script = True
            if not values.get("src"):
                self.problems.append("an inline <script> is blocked by the CSP")
        for name in ("src", "href"):
            value = values.get(name)
            if value and tag in ("script", "link", "img"):
                self.references.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append("an inline <script> is blocked by the CSP")


def test_the_page_runs_under_the_content_security_policy() -> None:
    scan = _PageScan()
    scan.feed((WEB_ROOT / "index.html").read_text())
    assert scan.problems == []
    # every script, style and icon comes from this service, and exists
    for reference in scan.references:
        assert reference.startswith("/static/"), reference
        assert reference.removeprefix("/static/") in ASSETS, reference


IMPORT = re.compile(r"""^\s*import\s[^;]*?from\s+"(\./[^"]+)";""", re.MULTILINE)
UNSAFE = re.compile(
    r"\.innerHTML\s*=|\.outerHTML\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\("
)


def _imports(name: str) -> list[str]:
    source = (WEB_ROOT / name).read_text()
    return [f"js/{target.removeprefix('./')}" for target in IMPORT.findall(source)]


def test_every_script_is_reached_from_the_page() -> None:
    reached, todo = set(), ["js/app.js"]
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo.extend(_imports(name))
    scripts = {name for name in ASSETS if name.startswith("js/")}
    assert scripts - reached == set(), "modules nothing imports"


def test_the_scripts_build_no_html_from_strings_and_import_what_exists() -> None:
    scripts = [name for name in ASSETS if name.startswith("js/")]
    assert "js/app.js" in scripts
    for name in scripts:
        source = (WEB_ROOT / name).read_text()
        assert not UNSAFE.search(source), f"{name} builds HTML from a string"
        for target in IMPORT.findall(source):
            resolved = f"js/{target.removeprefix('./')}"
            assert resolved in ASSETS, f"{name} imports {target}, which is not served"
