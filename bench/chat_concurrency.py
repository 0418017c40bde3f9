"""Chat under load: concurrent conversations over SSE against the running service.

Starts the real service on loopback (embedded defaults: SQLite file, in-process Redis, chDB; or
PostgreSQL and the real Redis with ``--database-url`` and ``--redis``), seeds the demo, and
answers with a scripted model whose every call takes a fixed ``--model-ms`` (200 ms): a turn asks
for one tool (``describe_application`` on the twin) and then answers, so it spends 2 x 200 ms in
the model. After a warm-up, ``--clients`` (200) conversations are open together: each is created,
then sends ``--turns`` (3) messages with ``Accept: text/event-stream``, reading each stream to its
last event and pausing ``--think`` seconds (10, drawn uniformly from 0.5-1.5x, seeded) before the
next message, as a person reads the answer and types. The conversations start evenly over
``--spread`` seconds (default: one pause), so their turns overlap as those of people chatting at
the same time do. ``--turns 1 --spread 0`` is the burst: every conversation posts at the same
instant. Rate limits are off (``AIOPS_RATE_LIMIT_ENABLED=false``), and so are the monitoring jobs
unless ``--scheduler``. The service logs as deployed (access log at INFO) to a file.

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

    .venv/bin/python bench/chat_concurrency.py [--clients 200] [--turns 3] [--think 10]
        [--spread S] [--model-ms 200] [--redis redis://127.0.0.1:6379/0] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis
import uvicorn
from api_latency import free_port, percentile, prepare, service_env
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from agents.models.config import ModelConfig
from agents.models.offline import OfflinePlanner
from agents.models.router import ModelRouter
from agents.models.scripted import ScriptedChatModel, reply
from aiops.app import create_app
from aiops.cli.chat_http import read_sse
from aiops.logging import configure_logging
from aiops.serving import server_config
from aiops.state import AppState
from platform_core.config import get_settings

CHAT = "/api/v1/chat"
STEPS = 2  # model calls per turn: the tool call, then the answer
SERVE_READY = "serving"


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
    settings = get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    app = create_app(settings)
    server = uvicorn.Server(server_config(app, settings))
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
    first_event_ms: float = 0.0
    wall_ms: float = 0.0
    steps: int = 0
    started: float = 0.0
    ended: float = 0.0
    error: str | None = None


@dataclass
class Conversation:
    """One user: a conversation, then messages with reading-and-typing pauses between them."""

    create_ms: float = 0.0
    error: str | None = None
    turns: list[Turn] = field(default_factory=list)


async def post_message(client: httpx.AsyncClient, session_id: str) -> Turn:
    """Post one message as SSE and read the stream to its last event."""
    turn = Turn(started=time.perf_counter())
    url = f"{CHAT}/sessions/{session_id}/messages"
    message, headers = {"content": "how is web doing?"}, {"Accept": "text/event-stream"}
    try:
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
    except httpx.HTTPError as error:
        turn.error = type(error).__name__
        return turn
    turn.ended = time.perf_counter()
    turn.first_event_ms *= 1000
    turn.wall_ms = (turn.ended - turn.started) * 1000
    if not turn.steps and turn.error is None:
        turn.error = "the stream ended without a final event"
    return turn


async def converse(
    client: httpx.AsyncClient, index: int, delay: float, turns: int, pauses: list[float]
) -> Conversation:
    """Wait ``delay``, create a conversation, then send ``turns`` messages, each after the
    previous answer's last event and one of ``pauses`` (the user reading and typing)."""
    conversation = Conversation()
    await asyncio.sleep(delay)
    begun = time.perf_counter()
    body = {"organization": "demo", "workspace": "demo", "project": "default"}
    try:
        created = await client.post(f"{CHAT}/sessions", json={**body, "title": f"bench {index}"})
    except httpx.HTTPError as error:
        conversation.error = f"create: {type(error).__name__}"
        return conversation
    if created.status_code != 201:
        conversation.error = f"create: {created.status_code}"
        return conversation
    conversation.create_ms = (time.perf_counter() - begun) * 1000
    for number in range(turns):
        if number:
            await asyncio.sleep(pauses[number - 1])
        conversation.turns.append(await post_message(client, created.json()["id"]))
    return conversation


def schedule(args: argparse.Namespace) -> list[tuple[float, list[float]]]:
    """Each conversation's start and its pauses: starts evenly over ``--spread`` seconds, pauses
    uniform in [0.5, 1.5] x ``--think`` (seeded, so runs compare)."""
    rng = random.Random(args.seed)
    step = args.spread / args.clients
    return [
        (step * i, [args.think * rng.uniform(0.5, 1.5) for _ in range(args.turns - 1)])
        for i in range(args.clients)
    ]


async def drive(
    base_url: str, token: str, args: argparse.Namespace, cpu: Callable[[], Cpu]
) -> tuple[list[Conversation], Cpu]:
    """The warm-up, then the measured conversations; they and the server's CPU seconds."""
    limits = httpx.Limits(max_connections=args.clients + 10, max_keepalive_connections=None)
    async with httpx.AsyncClient(
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}"},
        limits=limits,
        timeout=httpx.Timeout(120.0),
    ) as client:
        await asyncio.gather(*(converse(client, i, 0.05 * i, 1, []) for i in range(args.warmup)))
        used = cpu()
        plan = schedule(args)
        conversations = await asyncio.gather(
            *(
                converse(client, i, start, args.turns, pauses)
                for i, (start, pauses) in enumerate(plan)
            )
        )
        return list(conversations), cpu() - used


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


def chat_env(data_dir: Path, port: int, args: argparse.Namespace) -> dict[str, str]:
    env = service_env(
        data_dir,
        port,
        database_url=args.database_url,
        redis_url=args.redis,
        namespace="aiops-bench-chat",
        AIOPS_RATE_LIMIT_ENABLED="false",
        AIOPS_SCHEDULER_ENABLED="true" if args.scheduler else "false",
        AIOPS_HOST="127.0.0.1",
    )
    env.update(dict(item.split("=", 1) for item in args.set))
    return env


def forget(redis_url: str, namespace: str) -> None:
    """Delete what the run left in Redis (conversations live 24 hours otherwise)."""
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{namespace}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    finally:
        client.close()


def measure(args: argparse.Namespace) -> tuple[list[Conversation], Cpu, dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="aiops-chat-bench-") as tmp:
        port = free_port()
        env = chat_env(Path(tmp), port, args)
        token = prepare(env)
        log, stats = Path(tmp) / "server.log", Path(tmp) / "server.json"
        command = [sys.executable, __file__, "--serve", "--stats", str(stats)]
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
            talks, cpu = asyncio.run(drive(url, token, args, lambda: Cpu.now(server.pid)))
        finally:
            server.stdin.close()  # asks the server to stop (and write its figures)
            try:
                server.wait(timeout=120)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            if args.redis:
                forget(args.redis, env["AIOPS_REDIS_NAMESPACE"])
        if server.returncode != 0 or any(errors_of(talks)):
            print(f"server log (tail):\n{log.read_text()[-3000:]}", file=sys.stderr)
        return talks, cpu, json.loads(stats.read_text()) if stats.exists() else {}


# ---------------------------------------------------------------------- the report


def errors_of(conversations: list[Conversation]) -> list[str]:
    return [c.error for c in conversations if c.error] + [
        t.error for c in conversations for t in c.turns if t.error
    ]


def in_flight(turns: list[Turn]) -> tuple[float, int]:
    """Turns being answered at once: the time-weighted mean and the most."""
    edges = sorted([(t.started, 1) for t in turns] + [(t.ended, -1) for t in turns])
    if not edges:
        return 0.0, 0
    level = most = 0
    weighted = 0.0
    for (at, change), (following, _) in zip(edges, [*edges[1:], edges[-1]], strict=True):
        level += change
        most = max(most, level)
        weighted += level * (following - at)
    span = edges[-1][0] - edges[0][0]
    return (weighted / span if span else 0.0), most


def row(name: str, values: list[float]) -> str:
    if not values:
        return f"{name:<32} (none)"
    figures = [statistics.median(values), *(percentile(values, q) for q in (95, 99)), values[-1]]
    return f"{name:<32} " + " ".join(f"{v:>9.1f}" for v in figures)


def report(
    args: argparse.Namespace, talks: list[Conversation], cpu: Cpu, server: dict[str, float]
) -> dict[str, Any]:
    turns = [t for c in talks for t in c.turns]
    ok = [t for t in turns if t.error is None]
    errors = errors_of(talks)
    added = sorted(t.wall_ms - t.steps * args.model_ms for t in ok)
    span = max(t.ended for t in ok) - min(t.started for t in ok) if ok else 0.0
    throughput = len(ok) / span if span else 0.0
    mean_in_flight, most_in_flight = in_flight(ok)
    backend = (
        f"{'postgresql' if args.database_url else 'sqlite'}+{'redis' if args.redis else 'memory'}"
    )
    print(f"backend: {backend}; scheduler {'on' if args.scheduler else 'off'}")
    when = f"over {args.spread:g} s" if args.spread else "at once"
    print(
        f"{len(talks)} conversations started {when}, {args.turns} message(s) each"
        + (f", {args.think:g} s (0.5-1.5x) between them" if args.turns > 1 else "")
        + f"; each turn {STEPS} model calls x {args.model_ms:g} ms"
    )
    print(f"{'per turn':<32} {'p50':>9} {'p95':>9} {'p99':>9} {'max':>9}")
    print(row("added latency (ms)", added))
    print(row("wall time (ms)", sorted(t.wall_ms for t in ok)))
    print(row("first event after posting (ms)", sorted(t.first_event_ms for t in ok)))
    print(row("create conversation (ms)", sorted(c.create_ms for c in talks if not c.error)))
    print(
        f"{len(ok)} turns in {span:.1f} s: {throughput:.1f} turns/s; turns in flight "
        f"{mean_in_flight:.1f} on average, {most_in_flight} at most"
    )
    per_turn = {k: v / max(1, len(turns)) * 1000 for k, v in vars(cpu).items()}
    print(
        f"CPU per turn (ms, conversation creation included): server {per_turn['server']:.1f} "
        f"(its event loop {per_turn['loop']:.1f}, busy {cpu.loop / span if span else 0:.0%} "
        f"of the run), this load generator {per_turn['client']:.1f}"
    )
    print(f"model calls woke up late by (ms): {server}")
    print(f"errors: {len(errors)}")
    for error in sorted(set(errors)):
        print(f"  {errors.count(error)} x {error}")
    return {
        "conversations": args.clients,
        "turns_per_conversation": args.turns,
        "think_s": args.think,
        "spread_s": args.spread,
        "backend": backend,
        "model_ms_per_call": args.model_ms,
        "errors": len(errors),
        "turns": len(ok),
        "turns_per_s": round(throughput, 1),
        "in_flight_mean": round(mean_in_flight, 1),
        "in_flight_max": most_in_flight,
        "p50_added_ms": round(statistics.median(added), 1) if added else None,
        "p95_added_ms": round(percentile(added, 95), 1) if added else None,
        "p99_added_ms": round(percentile(added, 99), 1) if added else None,
        "server_cpu_ms_per_turn": round(per_turn["server"], 1),
        "server_loop_cpu_ms_per_turn": round(per_turn["loop"], 1),
        **{f"{key}_ms": value for key, value in server.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200, help="conversations open together")
    parser.add_argument("--turns", type=int, default=3, help="messages per conversation")
    parser.add_argument(
        "--think", type=float, default=10.0, help="mean seconds between an answer and the next"
    )
    parser.add_argument(
        "--spread", type=float, help="start the conversations over N seconds (default: --think)"
    )
    parser.add_argument("--seed", type=int, default=7, help="for the pauses")
    parser.add_argument("--model-ms", type=float, default=200.0, help="latency per model call")
    parser.add_argument("--warmup", type=int, default=20, help="turns before the measured wave")
    parser.add_argument("--redis", help="Redis URL (default: the in-process Redis)")
    parser.add_argument("--database-url", help="default: the embedded SQLite file")
    parser.add_argument("--scheduler", action="store_true", help="run the monitoring jobs too")
    parser.add_argument(
        "--set", action="append", default=[], metavar="AIOPS_X=V", help="another server setting"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--stats", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        run_server(args)
        return
    if args.spread is None:
        args.spread = args.think
    if args.clients < 1 or args.turns < 1 or args.think < 0 or args.spread < 0:
        parser.error("--clients and --turns must be positive, --think and --spread not negative")
    print(json.dumps(report(args, *measure(args))))


if __name__ == "__main__":
    main()
