"""The one typed settings object. Nothing else in the project reads the environment.

Every setting is read from an ``AIOPS_``-prefixed environment variable (or a ``.env`` file). The
defaults are the embedded ones: a SQLite file and an in-process Redis under ``.aiops/``, so the
service runs with nothing else installed. Outside development and test, default secrets are
refused at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "staging", "production"]

DEV_SECRET_KEY = "dev-only-insecure-secret-change-me"  # noqa: S105 - refused outside dev/test
DEMO_PASSWORD = "hexabase-demo"  # noqa: S105 - demo only; refused outside development
LOOSE_ENVIRONMENTS: frozenset[str] = frozenset({"development", "test"})


class Settings(BaseSettings):
    """Service configuration; see the README's configuration table for every field."""

    model_config = SettingsConfigDict(
        env_prefix="AIOPS_", env_file=".env", extra="ignore", frozen=True
    )

    environment: Environment = "development"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    data_dir: Path = Path(".aiops")
    public_url: str | None = None

    database_url: str | None = None
    database_pool_size: int = Field(default=10, ge=1)
    redis_url: str = "memory://"
    redis_namespace: str = "aiops"
    # a follower of a turn that runs on another replica holds one while it waits for events
    redis_max_connections: int = Field(default=1000, ge=10)
    clickhouse_url: str | None = None
    metric_raw_ttl_days: int = Field(default=14, ge=1, le=3650)
    metric_rollup_ttl_days: int = Field(default=400, ge=1, le=3650)
    metric_step_seconds: int = Field(default=60, ge=10, le=3600)
    metric_ingest_lookback_hours: float = Field(default=6.0, gt=0.0, le=24 * 30)
    metric_max_backfill_days: float = Field(default=7.0, gt=0.0, le=30.0)
    metric_ingest_delay_seconds: float = Field(default=0.0, ge=0.0, le=600.0)
    monitor_warmup_hours: float = Field(default=24.0, gt=0.0, le=24 * 14)
    monitor_max_apps: int = Field(default=1000, ge=1)
    monitor_multivariate: bool = True
    langfuse_host: str | None = None
    langfuse_public_key: str | None = None
    langfuse_secret_key: SecretStr | None = None

    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    jwt_private_key: SecretStr | None = None
    jwt_private_key_file: Path | None = None
    jwt_retired_public_key_files: list[Path] = Field(default_factory=list)
    jwt_issuer: str = "hexabase-aiops"
    jwt_audience: str = "hexabase-aiops"
    access_token_ttl_seconds: int = Field(default=15 * 60, ge=30)
    refresh_token_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    service_token_ttl_seconds: int = Field(default=60, ge=5, le=900)
    invitation_ttl_hours: int = Field(default=7 * 24, ge=1)

    password_hash_time_cost: int = Field(default=3, ge=1)
    password_hash_memory_kib: int = Field(default=64 * 1024, ge=8 * 1024)
    password_hash_parallelism: int = Field(default=2, ge=1)

    rate_limit_enabled: bool = True
    rate_limit_user_per_minute: int = Field(default=600, ge=1)
    rate_limit_ip_per_minute: int = Field(default=1200, ge=1)
    rate_limit_login_per_minute: int = Field(default=10, ge=1)

    cluster: Literal["simulated", "kubernetes"] = "simulated"
    cluster_seed: int = 7
    twin_time_scale: float = Field(default=1.0, ge=0.0, le=3600.0)
    twin_save_interval_seconds: float = Field(default=10.0, gt=0.0)
    kubeconfig: Path | None = None
    prometheus_url: str | None = None

    model_provider: Literal["offline", "ollama", "openai", "local"] = "offline"
    model_name: str | None = None
    model_base_url: str | None = None
    model_api_key: SecretStr | None = None
    model_timeout_seconds: float = Field(default=60.0, gt=0.0)
    model_context_window: int | None = Field(default=None, gt=0)
    agent_max_steps: int = Field(default=10, ge=1, le=100)
    agent_max_tokens: int = Field(default=60_000, ge=1000)
    agent_max_seconds: float = Field(default=180.0, gt=0.0)
    agent_context_tokens: int = Field(default=12_000, ge=1000)
    tool_output_budget_chars: int = Field(default=6000, ge=500)
    session_ttl_hours: int = Field(default=24, ge=1)
    approval_ttl_minutes: int = Field(default=15, ge=1)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str | None = None
    slack_update_interval_seconds: float = Field(default=1.0, ge=0.2, le=10.0)

    scheduler_enabled: bool = True
    scheduler_concurrency: int = Field(default=4, ge=1, le=64)
    monitor_interval_seconds: float = Field(default=60.0, ge=5.0, le=3600.0)
    remediation_approval_ttl_minutes: int = Field(default=240, ge=5, le=7 * 24 * 60)
    notify_allow_private_networks: bool = False

    cors_origins: list[str] = Field(default_factory=list)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = True

    demo_password: SecretStr = SecretStr(DEMO_PASSWORD)

    @field_validator("redis_namespace")
    @classmethod
    def _namespace_is_simple(cls, value: str) -> str:
        if not value or not all(ch.isalnum() or ch in "-_:" for ch in value):
            raise ValueError("use letters, digits, '-', '_' or ':'")
        return value

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment in LOOSE_ENVIRONMENTS:
            return self
        problems = []
        if self.secret_key.get_secret_value() == DEV_SECRET_KEY:
            problems.append("AIOPS_SECRET_KEY is the development default")
        if len(self.secret_key.get_secret_value()) < 32:
            problems.append("AIOPS_SECRET_KEY must be at least 32 characters")
        if self.jwt_private_key is None and self.jwt_private_key_file is None:
            problems.append("set AIOPS_JWT_PRIVATE_KEY or AIOPS_JWT_PRIVATE_KEY_FILE")
        if problems:
            raise ValueError(f"refusing to start in {self.environment!r}: " + "; ".join(problems))
        return self

    @property
    def is_development(self) -> bool:
        return self.environment in LOOSE_ENVIRONMENTS

    @property
    def resolved_database_url(self) -> str:
        """The configured database URL, or the embedded SQLite file under ``data_dir``."""
        if self.database_url:
            return normalize_database_url(self.database_url)
        return f"sqlite+aiosqlite:///{self.data_dir / 'aiops.db'}"

    @property
    def resolved_clickhouse_url(self) -> str:
        """The configured ClickHouse URL, or the embedded chDB store under ``data_dir``."""
        if self.clickhouse_url:
            return self.clickhouse_url
        return f"chdb://{(self.data_dir / 'clickhouse').resolve()}"

    @property
    def langfuse_enabled(self) -> bool:
        return bool(self.langfuse_host and self.langfuse_public_key and self.langfuse_secret_key)

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


def normalize_database_url(url: str) -> str:
    """Pick the async driver for a plain ``postgresql://`` or ``sqlite://`` URL."""
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def get_settings() -> Settings:
    """Read settings from the environment (call once at the edge and pass the result on)."""
    return Settings()
