"""Settings: embedded defaults, and no default secret outside development."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from platform_core.auth.keys import generate_private_key_pem
from platform_core.config import Settings, normalize_database_url


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_embedded_defaults() -> None:
    defaults = settings()
    assert defaults.resolved_database_url == "sqlite+aiosqlite:///.aiops/aiops.db"
    assert defaults.redis_url == "memory://"
    assert defaults.access_token_ttl_seconds == 900
    assert defaults.refresh_token_ttl_seconds == 7 * 24 * 3600


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_default_secrets_are_refused_outside_development(environment: str) -> None:
    with pytest.raises(ValidationError) as error:
        settings(environment=environment)
    message = str(error.value)
    assert "AIOPS_SECRET_KEY" in message and "AIOPS_JWT_PRIVATE_KEY" in message


def test_production_starts_with_real_secrets() -> None:
    configured = settings(
        environment="production",
        secret_key="s" * 40,
        jwt_private_key=generate_private_key_pem().decode(),
    )
    assert not configured.is_development


def test_environment_variables_are_read_with_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIOPS_PORT", "9123")
    monkeypatch.setenv("AIOPS_DATABASE_URL", "postgresql://db.internal/aiops")
    monkeypatch.setenv("AIOPS_CORS_ORIGINS", '["https://app.example.org"]')
    loaded = settings()
    assert loaded.port == 9123
    assert loaded.resolved_database_url == "postgresql+asyncpg://db.internal/aiops"
    assert loaded.cors_origins == ["https://app.example.org"]


def test_plain_urls_get_the_async_driver() -> None:
    assert normalize_database_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"
    assert normalize_database_url("postgres://h/d") == "postgresql+asyncpg://h/d"


def test_development_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    from platform_core.auth.keys import KeyRing

    first = KeyRing.from_settings(settings(data_dir=tmp_path))
    second = KeyRing.from_settings(settings(data_dir=tmp_path))
    assert first.kid == second.kid
    assert (tmp_path / "jwt-private.pem").stat().st_mode & 0o777 == 0o600
