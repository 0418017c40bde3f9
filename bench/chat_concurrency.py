"""Chat under load: concurrent conversations over SSE against the running service.

Starts the real service on loopback (embedded defaults: SQLite file, in-process Redis, chDB; or
the real Redis with ``--redis``), seeds the demo, and answers with a scripted model whose every
call takes a fixed ``--model-ms`` (200 ms): a turn asks for one tool (``describe_application``
on the twin) and then answers, so it spends 2 x 200 ms in the model. After a warm-up,
``--clients`` (200) clients at once (or spread over ``--spread`` seconds) each create a
conversation, post one message with ``Accept: text/event-stream`` and read the stream to its
last event. Rate limits are off (``AIOPS_RATE_LIMIT_ENABLED=false``), and so are the monitoring
jobs unless ``--scheduler``.

Added latency is a turn's wall time (message posted -> final event read) minus its model time
(the model calls it made, from the final event, times ``--model-ms``). A model call that sleeps
longer than asked because the event loop is busy counts as added: that is the service's doing
(the server reports that lag separately). Also reported: the server's CPU time per turn (all
its threads, from /proc), which bounds its throughput. Prints a table and, last, one JSON line.

The scripted model lives in the server process, not here: this file is also the server entry
(``--serve``), run as a subprocess that builds the app with ``create_app(settings)``, starts
uvicorn on the event loop ``aiops serve`` uses, and swaps the agent runtime's model router once
the app has started (the runtime exists only then). A subprocess rather than a thread, so the
clients' own work shares neither the server's GIL nor its event loop: the service is measured
as deployed, the load generator only sharing the machine's cores.

    .venv/bin/python bench/chat_concurrency.py [--clients 200] [--model-ms 200] [--spread 0]
        [--redis redis://127.0.0.1:6379/0] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from api_latency import free_port, prepare
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from agents.models.config import ModelConfig
from agents.models.offline import OfflinePlanner
from agents.models.router import ModelRouter
from agents.models.scripted import ScriptedChatModel, reply
from aiops.app import create_app
from aiops.cli.chat_http import read_sse
from aiops.state import AppState
from platform_core.config import get_settings

CHAT = "/api/v1/chat"
STEPS = 2  # model calls per turn: the tool call, then the answer
SERVE_READY = "serving"


def percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


# ---------------------------------------------------------------------- the server (--serve)


class TimedModel(ScriptedChatModel):
    """The scripted model, noting how much longer than asked each call took (event-loop lag)."""

    oversleep_ms: list[float] = []

    async def _agenerate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> Any:
        started = time.perf_counter()
        try:
            return await super()._agenerate(messages, stop, run_manager, **kwargs)
        finally:
            taken = time.perf_counter() - started
            self.oversleep_ms.append((taken - self.latency_seconds) * 1000)
            self.calls.clear()  # the script would keep every prompt


def answer(messages: list[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
    """Ask for one read, then answer from its result."""
    if isinstance(messages[-1], ToolMessage):
        return reply("web is running with its replicas ready.", usage=(900, 40))
    return reply("", ("describe_application", {"application": "web"}), usage=(800, 20))


class GcPauses:
    """The garbage collector's pauses (they stop the event loop too)."""

    def __init__(self) -> None:
        self.ms: list[float] = []
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.ms.append((time.perf_counter() - self._started) * 1000)


async def serve(args: argparse.Namespace) -> dict[str, float]:
    """The service with the scripted model swapped in, until the bench closes our stdin;
    returns how late the model calls woke up (event-loop lag)."""
    pauses = GcPauses()
    gc.callbacks.append(pauses)
    app = create_app(get_settings())
    config = uvicorn.Config(app, host="127.0.0.1", port=args.port, log_config=None)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.02)
    model = TimedModel(responder=answer, latency_seconds=args.model_ms / 1000)
    state: AppState = app.state.aiops
    state.runtime.models = ModelRouter(
        ModelConfig(provider="scripted", model=f"scripted-{args.model_ms:g}ms"),
        offline=OfflinePlanner(),
        build=lambda _: model,
    )
    pauses.ms.clear()  # only the pauses while serving count
    print(SERVE_READY, flush=True)
    await asyncio.to_thread(sys.stdin.read)
    server.should_exit = True
    await serving
    lag = sorted(model.oversleep_ms)
    return {
        "model_call_lag_p50": round(statistics.median(lag), 1),
        "model_call_lag_p95": round(percentile(lag, 95), 1),
        "model_call_lag_max": round(lag[-1], 1),
        "gc_pause_max": round(max(pauses.ms, default=0.0), 1),
        "gc_pause_total": round(sum(pauses.ms), 1),
    }


def run_server(args: argparse.Namespace) -> None:
    loop_factory = uvicorn.Config(create_app).get_loop_factory()  # uvloop, as `aiops serve`
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        lag = runner.run(serve(args))
    Path(args.stats).write_text(json.dumps(lag))


# ---------------------------------------------------------------------- the clients


@dataclass
class Turn:
    create_ms: float = 0.0
    first_event_ms: float = 0.0
    wall_ms: float = 0.0
    steps: int = 0
    started: float = 0.0
    ended: float = 0.0
    error: str | None = None


async def one_turn(client: httpx.AsyncClient, index: int, delay: float) -> Turn:
    """Create a conversation, post one message as SSE, read to the last event."""
    turn = Turn()
    await asyncio.sleep(delay)
    begun = time.perf_counter()
    try:
        body = {"organization": "demo", "workspace": "demo", "project": "default"}
        created = await client.post(f"{CHAT}/sessions", json={**body, "title": f"bench {index}"})
        if created.status_code != 201:
            turn.error = f"create: {created.status_code}"
            return turn
        turn.started = time.perf_counter()
        turn.create_ms = (turn.started - begun) * 1000
        url = f"{CHAT}/sessions/{created.json()['id']}/messages"
        message, headers = {"content": "how is web doing?"}, {"Accept": "text/event-stream"}
        async with client.stream("POST", url, json=message, headers=headers) as response:
            if response.status_code != 200:
                turn.error = f"message: {response.status_code}"
                return turn
            async for event in read_sse(response):
                turn.first_event_ms = turn.first_event_ms or (time.perf_counter() - turn.started)
                if event.type == "final":
                    turn.steps = event.steps
                    if event.status != "completed" or event.steps != STEPS:
                        turn.error = f"final {event.status} after {event.steps} model calls"
                elif event.type in ("approval_required", "error"):
                    turn.error = f"ended with {event.type}"
        turn.ended = time.perf_counter()
        turn.first_event_ms *= 1000
        turn.wall_ms = (turn.ended - turn.started) * 1000
        if not turn.steps and turn.error is None:
            turn.error = "the stream ended without a final event"
    except httpx.HTTPError as error:
        turn.error = type(error).__name__
    return turn


async def drive(
    base_url: str, token: str, args: argparse.Namespace, cpu: Callable[[], Cpu]
) -> tuple[list[Turn], Cpu]:
    """The warm-up, then the measured wave; the turns and the server's CPU seconds in it."""
    limits = httpx.Limits(max_connections=args.clients + 10, max_keepalive_connections=None)
    async with httpx.AsyncClient(
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}"},
        limits=limits,
        timeout=httpx.Timeout(120.0),
    ) as client:
        await asyncio.gather(*(one_turn(client, i, 0.05 * i) for i in range(args.warmup)))
        used = cpu()
        step = args.spread / args.clients
        turns = await asyncio.gather(*(one_turn(client, i, step * i) for i in range(args.clients)))
        return list(turns), cpu() - used


@dataclass(frozen=True)
class Cpu:
    """CPU seconds: the server (all threads), its event loop (main thread), this client."""

    server: float
    loop: float
    client: float

    @classmethod
    def now(cls, pid: int) -> Cpu:
        def used(stat: str) -> float:  # utime + stime, Linux /proc
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        server, loop = used(f"/proc/{pid}/stat"), used(f"/proc/{pid}/task/{pid}/stat")
        return cls(server=server, loop=loop, client=time.process_time())

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(self.server - other.server, self.loop - other.loop, self.client - other.client)


# ---------------------------------------------------------------------- the harness


def service_env(data_dir: Path, port: int, args: argparse.Namespace) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_")}
    env.update(
        AIOPS_DATA_DIR=str(data_dir),
        AIOPS_PORT=str(port),
        AIOPS_RATE_LIMIT_ENABLED="false",
        AIOPS_SCHEDULER_ENABLED="true" if args.scheduler else "false",
        AIOPS_LOG_LEVEL="WARNING",
    )
    env.update(dict(item.split("=", 1) for item in args.set))
    if args.database_url:
        env["AIOPS_DATABASE_URL"] = args.database_url
    if args.redis:
        env["AIOPS_REDIS_URL"] = args.redis
        env["AIOPS_REDIS_NAMESPACE"] = f"aiops-bench-chat-{port}"
    return env


def measure(args: argparse.Namespace) -> tuple[list[Turn], Cpu, dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="aiops-chat-bench-") as tmp:
        port = free_port()
        env = service_env(Path(tmp), port, args)
        token = prepare(env)
        log, stats = Path(tmp) / "server.log", Path(tmp) / "server.json"
        command = [sys.executable, __file__, "--serve", "--port", str(port), "--stats", str(stats)]
        command += ["--model-ms", str(args.model_ms)]
        with log.open("w") as errors:
            server = subprocess.Popen(
                command,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )
        assert server.stdin is not None and server.stdout is not None
        try:
            if server.stdout.readline().strip() != SERVE_READY:
                raise RuntimeError(f"the service did not start:\n{log.read_text()[-3000:]}")
            url = f"http://127.0.0.1:{port}"
            turns, cpu = asyncio.run(drive(url, token, args, lambda: Cpu.now(server.pid)))
        finally:
            server.stdin.close()  # asks the server to stop (and write its figures)
            try:
                server.wait(timeout=120)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if server.returncode != 0 or any(t.error for t in turns):
            print(f"server log (tail):\n{log.read_text()[-3000:]}", file=sys.stderr)
        return turns, cpu, json.loads(stats.read_text()) if stats.exists() else {}


# ---------------------------------------------------------------------- the report


def report(
    args: argparse.Namespace, turns: list[Turn], cpu: Cpu, server: dict[str, float]
) -> dict[str, Any]:
    ok = [t for t in turns if t.error is None]
    errors = [t.error for t in turns if t.error is not None]
    added = sorted(t.wall_ms - t.steps * args.model_ms for t in ok)
    span = max(t.ended for t in ok) - min(t.started for t in ok) if ok else 0.0
    throughput = len(ok) / span if span else 0.0
    backend = (
        f"{'postgresql' if args.database_url else 'sqlite'}+{'redis' if args.redis else 'memory'}"
    )
    print(f"backend: {backend}; scheduler {'on' if args.scheduler else 'off'}")
    when = f"over {args.spread:g} s" if args.spread else "at once"
    print(f"{len(turns)} turns started {when}, each {STEPS} model calls x {args.model_ms:g} ms")
    print(f"{'per turn':<32} {'p50':>9} {'p95':>9} {'p99':>9} {'max':>9}")
    for name, values in (
        ("added latency (ms)", added),
        ("wall time (ms)", sorted(t.wall_ms for t in ok)),
        ("create session (ms)", sorted(t.create_ms for t in ok)),
        ("first event after posting (ms)", sorted(t.first_event_ms for t in ok)),
    ):
        row = (
            [statistics.median(values), *(percentile(values, q) for q in (95, 99)), values[-1]]
            if values
            else []
        )
        print(f"{name:<32} " + " ".join(f"{v:>9.1f}" for v in row))
    print(f"throughput {throughput:.1f} turns/s over {span:.2f} s")
    per_turn = {k: v / len(turns) * 1000 for k, v in vars(cpu).items()}
    print(
        f"CPU per turn (ms): server {per_turn['server']:.1f} (its event loop "
        f"{per_turn['loop']:.1f}, busy {cpu.loop / span if span else 0:.0%} of the wave), "
        f"this load generator {per_turn['client']:.1f}"
    )
    print(f"model calls woke up late by (ms): {server}")
    print(f"errors: {len(errors)}")
    for error in sorted(set(errors)):
        print(f"  {errors.count(error)} x {error}")
    return {
        "clients": args.clients,
        "backend": backend,
        "spread_s": args.spread,
        "model_ms_per_call": args.model_ms,
        "errors": len(errors),
        "turns_per_s": round(throughput, 1),
        "p50_added_ms": round(statistics.median(added), 1) if added else None,
        "p95_added_ms": round(percentile(added, 95), 1) if added else None,
        "p99_added_ms": round(percentile(added, 99), 1) if added else None,
        "server_cpu_ms_per_turn": round(per_turn["server"], 1),
        "server_loop_cpu_ms_per_turn": round(per_turn["loop"], 1),
        **{f"{key}_ms": value for key, value in server.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200, help="conversations, one turn each")
    parser.add_argument("--spread", type=float, default=0.0, help="start them over N seconds")
    parser.add_argument("--model-ms", type=float, default=200.0, help="latency per model call")
    parser.add_argument("--warmup", type=int, default=20, help="turns before the measured wave")
    parser.add_argument("--redis", help="Redis URL (default: the in-process Redis)")
    parser.add_argument("--database-url", help="default: the embedded SQLite file")
    parser.add_argument("--scheduler", action="store_true", help="run the monitoring jobs too")
    parser.add_argument(
        "--set", action="append", default=[], metavar="AIOPS_X=V", help="another server setting"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--stats", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        run_server(args)
        return
    print(json.dumps(report(args, *measure(args))))


if __name__ == "__main__":
    main()
