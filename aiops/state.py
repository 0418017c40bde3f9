"""The service's long-lived components, built once at start-up from the settings.

``build`` makes what needs no I/O (database engine, Redis client, key ring); ``start`` loads the
cluster (the twin's saved state) and assembles the agent runtime; ``close`` saves and releases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from redis.asyncio import Redis

from agents.runtime import AgentRuntime
from agents.telemetry.base import Telemetry
from aiops.agent import build_runtime, telemetry_for
from aiops.chat.turns import TurnManager
from aiops.cluster import TwinRunner, build_cluster
from aiops.remediation.assembly import Remediation, StoreAnomalies, build_remediation
from platform_core.auth.keys import KeyRing
from platform_core.auth.service import AuthService
from platform_core.cluster.protocol import ClusterGateway
from platform_core.config import Settings
from platform_core.db import Database
from platform_core.kv import KeySpace, create_redis
from platform_core.observability.ingest import MetricIngestor
from platform_core.observability.monitor import AnomalyMonitor
from platform_core.observability.store import MetricStore
from platform_core.tenancy.invitations import Invitations


@dataclass
class AppState:
    settings: Settings
    db: Database
    redis: Redis
    keyspace: KeySpace
    auth: AuthService
    invitations: Invitations
    gateway: ClusterGateway | None = None
    twin_runner: TwinRunner | None = None
    telemetry: Telemetry | None = None
    metrics: MetricStore | None = None
    _runtime: AgentRuntime | None = field(default=None, repr=False)
    _turns: TurnManager | None = field(default=None, repr=False)
    _remediation: Remediation | None = field(default=None, repr=False)

    @classmethod
    def build(cls, settings: Settings) -> AppState:
        redis = create_redis(settings.redis_url, max_connections=settings.redis_max_connections)
        keyspace = KeySpace(settings.redis_namespace)
        auth = AuthService(settings, KeyRing.from_settings(settings), redis, keyspace)
        return cls(
            settings=settings,
            db=Database(settings.resolved_database_url, pool_size=settings.database_pool_size),
            redis=redis,
            keyspace=keyspace,
            auth=auth,
            invitations=Invitations(
                secret_key=settings.secret_key.get_secret_value(),
                ttl_hours=settings.invitation_ttl_hours,
                passwords=auth.passwords,
            ),
        )

    async def start(self, *, run_clock: bool = False, run_scheduler: bool = False) -> None:
        """Load the cluster and assemble the agent; ``run_clock`` moves the twin with wall time,
        ``run_scheduler`` starts the monitoring jobs (if ``AIOPS_SCHEDULER_ENABLED``)."""
        settings = self.settings
        if self.gateway is None:
            self.gateway, self.twin_runner = await build_cluster(settings, self.db)
        if self.telemetry is None:
            self.telemetry = telemetry_for(settings)
        if self.metrics is None:
            self.metrics = MetricStore.from_url(
                settings.resolved_clickhouse_url,
                raw_ttl_days=settings.metric_raw_ttl_days,
                rollup_ttl_days=settings.metric_rollup_ttl_days,
            )
        if run_clock and self.twin_runner is not None:
            self.twin_runner.start()
        if run_scheduler and settings.scheduler_enabled:
            self.remediation.scheduler.start()

    @property
    def cluster(self) -> ClusterGateway:
        if self.gateway is None:
            raise RuntimeError("the service has not started: call AppState.start()")
        return self.gateway

    @property
    def turns(self) -> TurnManager:
        if self._turns is None:
            self._turns = TurnManager(
                self.redis, self.keyspace, max_turn_seconds=self.settings.agent_max_seconds
            )
        return self._turns

    @property
    def runtime(self) -> AgentRuntime:
        if self._runtime is None:
            if self.telemetry is None:
                raise RuntimeError("the service has not started: call AppState.start()")
            self._runtime = build_runtime(
                self.settings,
                db=self.db,
                redis=self.redis,
                keyspace=self.keyspace,
                gateway=self.cluster,
                telemetry=self.telemetry,
                metrics=self.metrics,
            )
        return self._runtime

    @property
    def remediation(self) -> Remediation:
        if self._remediation is None:
            if self.metrics is None:
                raise RuntimeError("the service has not started: call AppState.start()")
            settings = self.settings
            anomalies = StoreAnomalies(
                ingestor=MetricIngestor(
                    self.cluster,
                    self.metrics,
                    lookback=timedelta(hours=settings.metric_ingest_lookback_hours),
                    step_seconds=settings.metric_step_seconds,
                    max_backfill=timedelta(days=settings.metric_max_backfill_days),
                    delay=timedelta(seconds=settings.metric_ingest_delay_seconds),
                ),
                monitor=AnomalyMonitor(
                    self.metrics,
                    warmup=timedelta(hours=settings.monitor_warmup_hours),
                    step_seconds=settings.metric_step_seconds,
                    multivariate_seconds=5 * settings.metric_step_seconds
                    if settings.monitor_multivariate
                    else None,
                    max_apps=settings.monitor_max_apps,
                ),
            )
            self._remediation = build_remediation(
                self.settings,
                db=self.db,
                redis=self.redis,
                keyspace=self.keyspace,
                gateway=self.cluster,
                runtime=self.runtime,
                anomalies=anomalies,
            )
        return self._remediation

    async def close(self) -> None:
        if self._remediation is not None:
            await self._remediation.close()
        if self._turns is not None:
            await self._turns.close()
        if self.twin_runner is not None:
            await self.twin_runner.stop()
        if self.telemetry is not None:
            await self.telemetry.close()
        if self.metrics is not None:
            await self.metrics.close()
        await self.db.dispose()
        await self.redis.aclose()
