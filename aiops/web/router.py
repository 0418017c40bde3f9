"""Serves the browser UI: ``/`` and ``/ui/`` (the same page; links in notifications point at
``/ui/#/incidents/<id>``) and ``/static/...`` (its scripts, styles, vendored libraries).

Only files known when the module loads are served, looked up by exact relative path in a table,
so no request can name a file outside it (no traversal, no directory listing, never the Python
sources beside them). The page and the app's own files are revalidated on every load (``ETag``,
answered with 304 when unchanged) since they carry no version in their names; the vendored
libraries live in versioned folders and are cached as immutable.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from fastapi import APIRouter, Request, Response, status

from platform_core.errors import NotFound

WEB_ROOT = Path(__file__).resolve().parent
INDEX = "index.html"
VENDOR_PREFIX = "vendor/"
CONTENT_TYPES: Mapping[str, str] = MappingProxyType(
    {
        ".html": "text/html; charset=utf-8",
        ".js": "text/javascript; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".svg": "image/svg+xml",
        ".png": "image/png",
        ".woff2": "font/woff2",
    }
)
REVALIDATE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str
    etag: str
    cache_control: str


def load_assets(root: Path = WEB_ROOT) -> Mapping[str, Asset]:
    """Every servable file under ``root`` by its relative POSIX path (Python files excluded)."""
    assets: dict[str, Asset] = {}
    for path in sorted(root.rglob("*")):
        content_type = CONTENT_TYPES.get(path.suffix.lower())
        if content_type is None or not path.is_file() or "__pycache__" in path.parts:
            continue
        name = path.relative_to(root).as_posix()
        body = path.read_bytes()
        assets[name] = Asset(
            body=body,
            content_type=content_type,
            etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
            cache_control=IMMUTABLE if name.startswith(VENDOR_PREFIX) else REVALIDATE,
        )
    return MappingProxyType(assets)


def _matches(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if header is None:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return etag in candidates or "*" in candidates


def _serve(request: Request, asset: Asset) -> Response:
    headers = {"ETag": asset.etag, "Cache-Control": asset.cache_control}
    if _matches(request, asset.etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(asset.body, media_type=asset.content_type, headers=headers)


def build_router(assets: Mapping[str, Asset] | None = None) -> APIRouter:
    """The UI's routes over ``assets`` (by default the files beside this module)."""
    table = load_assets() if assets is None else assets
    web = APIRouter(tags=["web"], include_in_schema=False)

    @web.api_route("/", methods=["GET", "HEAD"], name="web.index")
    @web.api_route("/ui", methods=["GET", "HEAD"], name="web.ui_bare")
    @web.api_route("/ui/", methods=["GET", "HEAD"], name="web.ui")
    async def index(request: Request) -> Response:
        asset = table.get(INDEX)
        if asset is None:
            raise NotFound("the web UI is not installed")
        return _serve(request, asset)

    @web.api_route("/static/{name:path}", methods=["GET", "HEAD"], name="web.static")
    async def static(name: str, request: Request) -> Response:
        asset = table.get(name)
        # the page itself is only served at "/", where its caching is decided
        if asset is None or name == INDEX:
            raise NotFound("no such file")
        return _serve(request, asset)

    return web


router = build_router()
