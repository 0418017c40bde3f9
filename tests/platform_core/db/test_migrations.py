"""The migrations build, from empty, exactly the schema the models describe, on both dialects."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text

from platform_core.db.engine import create_engine
from platform_core.db.migrate import current_revision, upgrade
from platform_core.db.models import Base
from tests.support.databases import postgres_database, sqlite_database


async def _check_fresh_database(url: str) -> None:
    engine = create_engine(url)
    try:
        assert await current_revision(engine) is None
        await upgrade(engine)
        await upgrade(engine)  # idempotent
        assert await current_revision(engine) is not None
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
            plans = (await connection.execute(text("SELECT id FROM plans ORDER BY id"))).scalars()
            assert list(plans) == ["enterprise", "free", "team"]
        assert diff == []
    finally:
        await engine.dispose()


async def test_migrations_upgrade_an_empty_postgresql_database() -> None:
    async with postgres_database() as url:
        await _check_fresh_database(url)


async def test_migrations_upgrade_an_empty_sqlite_file(tmp_path: Path) -> None:
    async with sqlite_database(tmp_path) as url:
        await _check_fresh_database(url)
    assert (tmp_path / "aiops-test.db").exists()


async def test_select_after_migration_sees_no_tenant_rows(tmp_path: Path) -> None:
    from platform_core.tenancy.models import Organization

    async with sqlite_database(tmp_path) as url:
        engine = create_engine(url)
        await upgrade(engine)
        async with engine.connect() as connection:
            assert (await connection.execute(select(Organization))).all() == []
        await engine.dispose()
