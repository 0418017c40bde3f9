"""API latency and throughput on loopback, for an authenticated read and a write.

Starts the service in a subprocess (embedded defaults: SQLite file, in-process Redis; or the
database/Redis given), seeds the demo tenant, then:

1. an open-loop phase at a fixed rate (default 100 requests/s) on the read endpoint
   ``GET /api/v1/organizations/demo/workspaces`` (auth, rate limit, scoped query, audit-free);
2. the same for the write endpoint ``POST .../projects`` (auth, permission, plan check, insert,
   audit record, commit);
3. a closed-loop phase with concurrent clients on the read endpoint, for peak throughput.

Open loop means requests are sent on schedule whatever the answers, so a slow response cannot
hide the queueing it causes. Prints a table and, last, one JSON line of figures.

    .venv/bin/python bench/api_latency.py [--rate 100] [--seconds 20] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

AIOPS = str(Path(sys.executable).with_name("aiops"))
READ = "/api/v1/organizations/demo/workspaces"
WRITE = "/api/v1/organizations/demo/workspaces/demo/projects"


def percentile(ordered: list[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile of sorted values (NaN for none)."""
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


@dataclass
class Phase:
    name: str
    latencies_ms: list[float]
    errors: int
    seconds: float

    def percentile(self, q: float) -> float:
        return percentile(sorted(self.latencies_ms), q)

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def row(self) -> str:
        return (
            f"{self.name:<28} {len(self.latencies_ms):>7} {self.errors:>6} "
            f"{statistics.median(self.latencies_ms):>8.2f} {self.percentile(95):>8.2f} "
            f"{self.percentile(99):>8.2f} {self.throughput:>10.1f}"
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def service_env(
    data_dir: Path,
    port: int,
    *,
    database_url: str | None,
    redis_url: str | None,
    namespace: str = "aiops-bench",
    **settings: str,
) -> dict[str, str]:
    """The service's environment for one run: none of ours inherited, its own data directory
    and port, the given database and Redis (a namespace of this run's own), and ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_")}
    env.update(AIOPS_DATA_DIR=str(data_dir), AIOPS_PORT=str(port), **settings)
    if database_url:
        env["AIOPS_DATABASE_URL"] = database_url
    if redis_url:
        env["AIOPS_REDIS_URL"] = redis_url
        env["AIOPS_REDIS_NAMESPACE"] = f"{namespace}-{port}"
    return env


def prepare(env: dict[str, str]) -> str:
    """Migrate, seed the demo on the unlimited plan, and return an access token."""
    for command in (
        ["db", "upgrade"],
        ["admin", "seed-demo"],
        ["admin", "set-plan", "demo", "enterprise"],
    ):
        subprocess.run([AIOPS, *command], env=env, check=True, capture_output=True)
    issued = subprocess.run(
        [AIOPS, "admin", "issue-token", "admin@demo.local"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return next(
        line.split(" ", 1)[1] for line in issued.stdout.splitlines() if line.startswith("token: ")
    )


async def wait_healthy(base_url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                if (await client.get(f"{base_url}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError("the service did not become healthy")


async def open_loop(
    client: httpx.AsyncClient, name: str, rate: float, seconds: float, request: object
) -> Phase:
    latencies: list[float] = []
    errors = 0

    async def one(index: int) -> None:
        nonlocal errors
        started = time.perf_counter()
        try:
            response = await request(client, index)  # type: ignore[operator]
            ok = response.status_code < 400
        except httpx.HTTPError:
            ok = False
        if ok:
            latencies.append((time.perf_counter() - started) * 1000)
        else:
            errors += 1

    tasks = []
    start = time.perf_counter()
    total = int(rate * seconds)
    for index in range(total):
        delay = start + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index)))
    await asyncio.gather(*tasks)
    return Phase(name, latencies, errors, time.perf_counter() - start)


async def closed_loop(client: httpx.AsyncClient, concurrency: int, seconds: float) -> Phase:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await client.get(READ)
            if response.status_code == 200:
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                errors += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Phase(f"read, {concurrency} clients", latencies, errors, time.perf_counter() - start)


async def drive(base_url: str, token: str, args: argparse.Namespace) -> list[Phase]:
    await wait_healthy(base_url)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits) as client:
        for _ in range(50):  # warm-up: connections, caches, JIT-free paths
            await client.get(READ)
        read = await open_loop(
            client,
            f"read @ {args.rate:g}/s",
            args.rate,
            args.seconds,
            lambda c, i: c.get(READ),
        )
        write = await open_loop(
            client,
            f"write @ {args.write_rate:g}/s",
            args.write_rate,
            args.seconds,
            lambda c, i: c.post(WRITE, json={"name": f"bench-{os.getpid()}-{i}"}),
        )
        peak = await closed_loop(client, args.concurrency, args.seconds / 2)
    return [read, write, peak]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=100.0, help="read requests per second")
    parser.add_argument("--write-rate", type=float, default=50.0, help="writes per second")
    parser.add_argument(
        "--seconds", type=float, default=20.0, help="length of each open-loop phase"
    )
    parser.add_argument("--concurrency", type=int, default=16, help="clients in the peak phase")
    parser.add_argument("--database-url", help="default: the embedded SQLite file")
    parser.add_argument("--redis-url", help="default: the in-process Redis")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="aiops-bench-") as tmp:
        port = free_port()
        env = service_env(
            Path(tmp),
            port,
            database_url=args.database_url,
            redis_url=args.redis_url,
            AIOPS_RATE_LIMIT_USER_PER_MINUTE="10000000",
            AIOPS_RATE_LIMIT_IP_PER_MINUTE="10000000",
        )
        token = prepare(env)
        server = subprocess.Popen(
            [AIOPS, "serve", "--no-migrate"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            phases = asyncio.run(drive(f"http://127.0.0.1:{port}", token, args))
        finally:
            server.terminate()
            server.wait(timeout=20)

    backend = "postgresql" if args.database_url else "sqlite"
    print(f"backend: {backend} + {'redis' if args.redis_url else 'in-process redis'}")
    header = ("phase", "ok", "errors", "p50 ms", "p95 ms", "p99 ms", "req/s")
    print(
        f"{header[0]:<28} {header[1]:>7} {header[2]:>6} "
        + " ".join(f"{title:>8}" for title in header[3:6])
        + f" {header[6]:>10}"
    )
    for phase in phases:
        print(phase.row())
    read, write, peak = phases
    print(
        json.dumps(
            {
                "backend": backend,
                "read_rate_rps": args.rate,
                "read_p50_ms": round(statistics.median(read.latencies_ms), 2),
                "read_p95_ms": round(read.percentile(95), 2),
                "read_p99_ms": round(read.percentile(99), 2),
                "write_rate_rps": args.write_rate,
                "write_p50_ms": round(statistics.median(write.latencies_ms), 2),
                "write_p95_ms": round(write.percentile(95), 2),
                "write_p99_ms": round(write.percentile(99), 2),
                "peak_read_throughput_rps": round(peak.throughput, 1),
                "peak_read_p95_ms": round(peak.percentile(95), 2),
                "errors": read.errors + write.errors + peak.errors,
            }
        )
    )


if __name__ == "__main__":
    main()
