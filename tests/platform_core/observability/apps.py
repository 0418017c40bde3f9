"""Application identities for store tests."""

from __future__ import annotations

import uuid

from platform_core.observability.store import AppKey


def new_app(name: str = "web", *, org: uuid.UUID | None = None) -> AppKey:
    """A fresh application identity: tests sharing the store never see each other's series."""
    return AppKey(org or uuid.uuid4(), uuid.uuid4(), "app", name)
