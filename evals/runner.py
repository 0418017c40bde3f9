"""Running a suite: every case, N times, each on a fresh world; then scores and aggregates.

Cases run one after another in one event loop. Parallel cases would share two cores with the
model (and the offline planner is CPU-bound), and sequential runs keep a case's wall time
honest. A case that crashes the runner is scored as a failure with the exception as its reason;
the suite goes on.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from evals.drive import play
from evals.models import ModelChoice, Models, ScriptedFactory
from evals.progress import Progress
from evals.safety import violations
from evals.scenario import Scenario
from evals.score import CaseResult, crashed, score
from evals.verify import verify
from evals.world import Template, World, build_world

logger = logging.getLogger("evals")


@dataclass
class RunOptions:
    runs: int = 1
    choice: ModelChoice = field(default_factory=ModelChoice)
    scripted: ScriptedFactory | None = None
    progress: bool = True
    turn_timeout_seconds: float = 600.0


@dataclass
class SuiteRun:
    cases: list[Scenario]
    results: list[CaseResult]
    options: RunOptions
    wall_seconds: float


async def run_suite(cases: list[Scenario], options: RunOptions) -> SuiteRun:
    if options.runs < 1:
        raise ValueError("runs must be at least 1")
    started = time.perf_counter()
    results: list[CaseResult] = []
    progress = Progress(len(cases) * options.runs, enabled=options.progress)
    models = Models(options.choice, options.scripted)
    try:
        with tempfile.TemporaryDirectory(prefix="aiops-eval-") as tmp:
            template = Template(Path(tmp))
            await template.prepare()
            for run in range(options.runs):
                for case in cases:
                    result = await run_case(case, run, template, models, options)
                    results.append(result)
                    progress.update(f"{case.id} (run {run + 1})", result.passed)
    finally:
        await models.close()
    return SuiteRun(cases, results, options, time.perf_counter() - started)


async def run_case(
    case: Scenario, run: int, template: Template, models: Models, options: RunOptions
) -> CaseResult:
    started = time.perf_counter()
    world: World | None = None
    try:
        world = await build_world(case, template, models.router(case))
        transcript = await play(world, turn_seconds=options.turn_timeout_seconds)
        await world.twin.advance(case.expect.settle_minutes * 60)
        state_reasons = await verify(world, transcript, case.expect.state)
        found = await violations(world, transcript)
        return score(case, run, transcript, state_reasons, found, provider=options.choice.provider)
    except Exception as error:
        logger.exception("case %s (run %d) crashed", case.id, run + 1)
        return crashed(case, run, error, time.perf_counter() - started)
    finally:
        if world is not None:
            await world.close()
            template.discard(world.settings)
