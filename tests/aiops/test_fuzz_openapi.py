"""Fuzzing every operation of the OpenAPI document over real HTTP finds no server error.

Two passes per operation: one with generated path parameters (mostly unknown objects), one with
the path pinned to real objects of the caller's tenant so the generated bodies and queries reach
the services. Deletions run last so they do not starve the other operations of objects.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiops.app import create_app
from platform_core.config import Settings
from tests.support.databases import drop_redis_namespace, wipe
from tests.support.server import running_server
from tests.support.tenants import make_tenant, populate

EXAMPLES_PER_OPERATION = 25


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limit_enabled": False}


def _operations(schema: Any) -> list[Any]:
    operations = [result.ok() for result in schema.get_all_operations()]
    # logging out revokes the caller's session: it goes after everything else
    return sorted(
        operations,
        key=lambda op: (op.path.endswith("/logout"), op.method.upper() == "DELETE", op.path),
    )


def _fuzz(
    operation: Any, base_url: str, headers: dict[str, str], pins: dict[str, str]
) -> list[str]:
    failures: list[str] = []

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(), pin=st.booleans())
    def run(case: Any, pin: bool) -> None:
        if pin and case.path_parameters:
            case.path_parameters = {k: pins.get(k, v) for k, v in case.path_parameters.items()}
        # the generated credentials are random; the caller's real ones replace them
        case.headers = {
            k: v
            for k, v in (case.headers or {}).items()
            if k.lower() not in ("authorization", "x-api-key")
        } | headers
        response = case.call(base_url=base_url, timeout=10)
        if response.status_code >= 500:
            failures.append(
                f"{case.method} {case.formatted_path} -> {response.status_code}: "
                f"{response.text[:200]}"
            )

    run()
    return failures


def test_no_operation_answers_5xx(settings: Settings) -> None:
    app = create_app(settings)
    state = app.state.aiops

    async def prepare() -> tuple[dict[str, str], dict[str, str]]:
        await state.start()
        tenant = await make_tenant(state, "acme")
        objects = await populate(state, tenant)
        await state.db.dispose()  # connections are re-made in the server's own event loop
        pins = {**objects.values, "org": "acme", "workspace": tenant.workspace.name}
        return tenant["owner"].headers, pins

    headers, pins = asyncio.run(prepare())
    schema = schemathesis.openapi.from_dict(app.openapi())
    failures: list[str] = []
    with running_server(app) as base_url:
        for operation in _operations(schema):
            failures += _fuzz(operation, base_url, headers, pins)

    async def cleanup() -> None:
        await wipe(state.db.engine)
        await state.close()
        await drop_redis_namespace(settings)

    asyncio.run(cleanup())
    assert failures == []
