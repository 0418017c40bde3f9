"""Agent runtime overhead per tool-calling step, with the model's own time taken out.

A scripted model with zero latency asks for one read tool per step (``describe_application`` on
the twin) for ``--steps`` steps, then answers. Everything else is real: the toolset (rights,
target resolution in the database, audit record, redaction), the twin, sessions and approvals in
the real Redis, ClickHouse history through chDB, the event stream. Overhead per step is the
turn's wall time minus the time spent inside the model, divided by the steps.

    .venv/bin/python bench/agent_overhead.py [--turns 40] [--steps 10] [--redis redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage

from agents.models.config import ModelConfig
from agents.models.offline import OfflinePlanner
from agents.models.router import ModelRouter
from agents.models.scripted import ScriptedChatModel, reply
from agents.runtime import TurnRequest
from aiops.state import AppState
from platform_core.config import Settings
from platform_core.context import CallContext
from platform_core.db.migrate import upgrade
from platform_core.demo import seed_demo, seed_demo_cluster

model_seconds = 0.0


class TimedModel(ScriptedChatModel):
    """The scripted model, keeping a tally of the time spent inside it."""

    async def _agenerate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> Any:
        global model_seconds
        started = time.perf_counter()
        try:
            return await super()._agenerate(messages, stop, run_manager, **kwargs)
        finally:
            model_seconds += time.perf_counter() - started


def responder(steps: int) -> Any:
    def answer(messages: list[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
        done = sum(1 for m in messages if getattr(m, "tool_call_id", None))
        if done % (steps + 1) == steps:
            return reply("done", usage=(0, 0))
        return reply("", ("describe_application", {"application": "web"}), usage=(0, 0))

    return answer


async def prepare(data_dir: Path, redis_url: str | None) -> tuple[AppState, CallContext, Any]:
    values: dict[str, Any] = {"data_dir": data_dir, "rate_limit_enabled": False}
    if redis_url:
        values.update(redis_url=redis_url, redis_namespace=f"aiops-bench-{int(time.time())}")
    settings = Settings(_env_file=None, **values)
    state = AppState.build(settings)
    await upgrade(state.db.engine)
    async with state.db.session() as session:
        demo = await seed_demo(session, settings, state.auth.passwords)
        pair = await state.auth.open_session(session, demo.admin.id)
        subject = await state.auth.authenticate(session, pair.access_token)
        await session.commit()
    await state.start()
    await seed_demo_cluster(state.gateway, demo)  # type: ignore[arg-type]
    return state, CallContext(subject=subject, request_id="bench"), demo.organization


async def measure(args: argparse.Namespace) -> dict[str, float]:
    global model_seconds
    with tempfile.TemporaryDirectory(prefix="aiops-agent-bench-") as tmp:
        state, call, org = await prepare(Path(tmp), args.redis)
        model = TimedModel(responder=responder(args.steps))
        config = ModelConfig(provider="scripted", model="zero-latency")
        state.runtime.models = ModelRouter(config, offline=OfflinePlanner(), build=lambda _: model)
        per_step: list[float] = []
        try:
            for index in range(args.turns + args.warmup):
                model_seconds = 0.0
                started = time.perf_counter()
                request = TurnRequest(
                    call=call,
                    organization=org,
                    message="how is web?",
                    workspace="demo",
                    project="default",
                )
                events = [event async for event in await state.runtime.chat(request)]
                wall = time.perf_counter() - started
                assert events[-1].type == "final", events[-1]
                if index >= args.warmup:
                    per_step.append((wall - model_seconds) / args.steps * 1000)
        finally:
            await state.close()
    ordered = sorted(per_step)
    return {
        "step_overhead_p50_ms": round(statistics.median(ordered), 3),
        "step_overhead_p95_ms": round(ordered[max(0, round(0.95 * len(ordered)) - 1)], 3),
        "turns": args.turns,
        "steps_per_turn": args.steps,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379/0",
        help="Redis URL ('' for the in-process Redis)",
    )
    args = parser.parse_args()
    figures: dict[str, float] = asyncio.run(measure(args))
    # The same with one step per turn: what a turn costs on its own (session, rights, audit,
    # metering, history), which the per-step figure above spreads over its steps.
    single = asyncio.run(measure(argparse.Namespace(**{**vars(args), "steps": 1})))
    figures["one_step_turn_overhead_p50_ms"] = single["step_overhead_p50_ms"]
    print(f"turns: {figures['turns']} x {figures['steps_per_turn']} tool-calling steps")
    print(
        f"runtime overhead per step: p50 {figures['step_overhead_p50_ms']} ms, "
        f"p95 {figures['step_overhead_p95_ms']} ms (model time excluded)"
    )
    print(f"a turn of one step: p50 {figures['one_step_turn_overhead_p50_ms']} ms")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
