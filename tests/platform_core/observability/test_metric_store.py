"""The metric store: round trip, retention DDL, 5-minute rollups, idempotent writes, isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from platform_core.clickhouse import ClickHouseUnavailableError, acquire, release
from platform_core.observability import metric_schema
from platform_core.observability.store import MetricStore
from tests.platform_core.observability.apps import new_app

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def minutes(count: int, start: datetime = T0) -> list[datetime]:
    return [start + i * MINUTE for i in range(count)]


def assert_points(
    got: list[tuple[datetime, float]], expected: list[tuple[datetime, float]]
) -> None:
    assert [t for t, _ in got] == [t for t, _ in expected]
    assert [v for _, v in got] == pytest.approx([v for _, v in expected])


async def show_create(store: MetricStore, table: str) -> str:
    connection = acquire(store.target, 5.0)
    try:
        statement = f"SHOW CREATE TABLE {store.target.database}.{table}"
        return str(await connection.run(lambda c: c.command(statement)))
    finally:
        release(connection)


async def test_written_points_read_back_per_metric(metric_store: MetricStore) -> None:
    app = new_app()
    cpu = [(t, 0.1 * i) for i, t in enumerate(minutes(30))]
    memory = [(t, 1e8 + i) for i, t in enumerate(minutes(30))]
    assert await metric_store.write_series(app, {"cpu": cpu, "memory": memory}) == 60

    got = await metric_store.read(app, ["cpu", "memory", "latency_p95"], T0, T0 + 29 * MINUTE)

    assert_points(got["cpu"], cpu)
    assert got["memory"] == memory
    assert got["latency_p95"] == []  # every requested metric is answered, empty when unknown
    assert await metric_store.last_timestamp(app) == T0 + 29 * MINUTE


async def test_non_finite_values_are_not_stored(metric_store: MetricStore) -> None:
    app = new_app()
    written = await metric_store.write_series(
        app, {"cpu": [(T0, float("nan")), (T0 + MINUTE, 1.0), (T0 + 2 * MINUTE, float("inf"))]}
    )
    assert written == 1
    assert await metric_store.read(app, ["cpu"], T0, T0 + 5 * MINUTE) == {
        "cpu": [(T0 + MINUTE, 1.0)]
    }


async def test_tables_expire_rows_by_retention(metric_store: MetricStore) -> None:
    await metric_store.last_timestamp(new_app())  # creates the schema
    raw = await show_create(metric_store, metric_schema.POINTS_TABLE)
    rollup = await show_create(metric_store, metric_schema.ROLLUP_TABLE)
    assert "TTL toDateTime(ingested_at) + toIntervalDay(14)" in raw
    assert "TTL toDateTime(computed_at) + toIntervalDay(400)" in rollup
    assert "ORDER BY (organization_id, workspace_id, project, application, metric, ts)" in raw
    custom = "\n".join(metric_schema.schema_statements("aiops", 3, 30))
    assert "INTERVAL 3 DAY" in custom and "INTERVAL 30 DAY" in custom


async def test_rollup_holds_average_min_and_max_per_five_minutes(
    metric_store: MetricStore,
) -> None:
    app = new_app()
    rng = np.random.default_rng(3)
    values = rng.uniform(0, 100, 23)  # 23 minutes: four whole buckets and a partial one
    await metric_store.write_series(app, {"cpu": list(zip(minutes(23), values, strict=True))})
    end = T0 + 30 * MINUTE

    for aggregate, reduce in (("avg", np.mean), ("min", np.min), ("max", np.max)):
        got = await metric_store.read(app, ["cpu"], T0, end, 300, aggregate=aggregate)
        expected = [
            (T0 + 5 * k * MINUTE, float(reduce(values[5 * k : 5 * k + 5]))) for k in range(5)
        ]
        assert_points(got["cpu"], expected)

    hourly = await metric_store.read(app, ["cpu"], T0, end, 3600)
    assert_points(hourly["cpu"], [(T0, float(np.mean(values)))])


async def test_writing_the_same_minutes_again_changes_nothing(metric_store: MetricStore) -> None:
    app = new_app()
    points = [(t, float(i)) for i, t in enumerate(minutes(12))]
    await metric_store.write_series(app, {"cpu": points})
    await metric_store.write_series(app, {"cpu": points})
    await metric_store.write_series(app, {"cpu": points[3:8]})

    raw = await metric_store.read(app, ["cpu"], T0, T0 + 20 * MINUTE)
    rollup = await metric_store.read(app, ["cpu"], T0, T0 + 20 * MINUTE, 300)
    summary = await metric_store.summary(app, ["cpu"], T0, T0 + 20 * MINUTE)

    assert raw["cpu"] == points
    assert_points(rollup["cpu"], [(T0, 2.0), (T0 + 5 * MINUTE, 7.0), (T0 + 10 * MINUTE, 10.5)])
    assert summary["cpu"].count == 12


async def test_a_bucket_filled_by_two_writes_and_a_correction_is_exact(
    metric_store: MetricStore,
) -> None:
    app = new_app()
    await metric_store.write_series(app, {"cpu": [(t, 10.0) for t in minutes(2)]})
    await metric_store.write_series(app, {"cpu": [(t, 20.0) for t in minutes(3, T0 + 2 * MINUTE)]})
    await metric_store.write_series(app, {"cpu": [(T0, 40.0)]})  # a corrected first minute

    got = await metric_store.read(app, ["cpu"], T0, T0 + 4 * MINUTE, 300)
    highest = await metric_store.read(app, ["cpu"], T0, T0 + 4 * MINUTE, 300, aggregate="max")

    assert_points(got["cpu"], [(T0, (40 + 10 + 20 * 3) / 5)])
    assert highest["cpu"] == [(T0, 40.0)]


async def test_one_organization_never_reads_another_s_series(metric_store: MetricStore) -> None:
    mine = new_app()
    theirs = new_app(org=None)
    same_names = type(mine)(theirs.organization_id, mine.workspace_id, "app", "web")
    await metric_store.write_series(mine, {"cpu": [(t, 1.0) for t in minutes(10)]})

    for other in (theirs, same_names):
        assert await metric_store.read(other, ["cpu"], T0, T0 + 10 * MINUTE) == {"cpu": []}
        assert await metric_store.read(other, ["cpu"], T0, T0 + 10 * MINUTE, 300) == {"cpu": []}
        assert await metric_store.last_timestamp(other) is None
        assert await metric_store.summary(other, ["cpu"], T0, T0 + 10 * MINUTE) == {}


async def test_expired_raw_points_are_filled_from_the_rollup(metric_store: MetricStore) -> None:
    app = new_app()
    await metric_store.write_series(
        app, {"cpu": [(t, float(i)) for i, t in enumerate(minutes(60))]}
    )
    cut = T0 + 30 * MINUTE
    connection = acquire(metric_store.target, 5.0)
    try:  # what the raw TTL does to old rows, done now
        await connection.run(
            lambda c: c.command(
                f"ALTER TABLE {metric_store.target.database}.metric_points DELETE "
                "WHERE workspace_id = {ws:UUID} AND ts < {cut:DateTime64(3, 'UTC')}",
                parameters={"ws": app.workspace_id, "cut": cut},
                settings={"mutations_sync": 2},
            )
        )
    finally:
        release(connection)

    got = (await metric_store.read(app, ["cpu"], T0, T0 + 59 * MINUTE))["cpu"]

    assert [t for t, _ in got[:6]] == [T0 + 5 * k * MINUTE for k in range(6)]
    assert got[0][1] == pytest.approx(2.0)  # the average of minutes 0-4
    assert got[6:] == [(t, float(30 + i)) for i, t in enumerate(minutes(30, cut))]


async def test_a_closed_store_says_it_is_unavailable(clickhouse_url: str) -> None:
    store = MetricStore.from_url(clickhouse_url)
    assert await store.ping()
    await store.close()
    with pytest.raises(ClickHouseUnavailableError):
        await store.read(new_app(), ["cpu"], T0, T0 + MINUTE)
