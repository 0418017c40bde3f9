"""URL checks shared by channels and notifications.

Channel URLs are typed in by tenants and fetched by the service, so they are held to a narrow
shape (http or https, a host, no credentials, bounded length) and, at send time, refused when
they point into private networks (``is_public_destination``) unless the notifier allows it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator

MAX_URL_LENGTH = 2048


def check_http_url(value: str) -> str:
    """Return ``value`` if it is an http(s) URL with a host, else raise ``ValueError``.

    The message never repeats the URL: for a Slack webhook the URL itself is the secret.
    """
    if len(value) > MAX_URL_LENGTH:
        raise ValueError(f"must be at most {MAX_URL_LENGTH} characters")
    if any(char.isspace() or ord(char) < 32 for char in value):
        raise ValueError("must not contain spaces or control characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise ValueError("must be a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError("must be an http or https URL")
    if not parts.hostname:
        raise ValueError("must include a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry credentials; use the channel's secret instead")
    return value


HttpUrlStr = Annotated[str, AfterValidator(check_http_url)]


def masked_url(value: str) -> str:
    """Scheme and host only, e.g. ``https://hooks.slack.com/…``: safe to show and to log."""
    parts = urlsplit(value)
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/…"


def display_url(value: str) -> str:
    """The URL without its query string and fragment, which may carry tokens."""
    parts = urlsplit(value)
    hidden = "?…" if parts.query or parts.fragment else ""
    return f"{parts.scheme}://{parts.netloc}{parts.path}{hidden}"


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def is_public_destination(url: str) -> bool:
    """Whether every address the URL's host resolves to is a public one.

    Guards against a tenant pointing a webhook at the service's own network (cloud metadata,
    cluster services). A name that does not resolve counts as public here: the request then
    fails on its own with a connection error. The check runs before the request, so a name
    whose records change in between (DNS rebinding) is not covered.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        return _is_public(host)
    except ValueError:
        pass  # not an IP literal: resolve it
    port = parts.port or (443 if parts.scheme == "https" else 80)
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return True
    return all(_is_public(str(info[4][0])) for info in infos)
