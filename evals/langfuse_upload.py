"""Uploading a suite run to Langfuse as a dataset run with scores (when Langfuse is configured).

The suite is a Langfuse *dataset* (one item per case, upserted by a stable id so re-runs update
rather than duplicate), each CLI invocation is one *run* of it (an experiment, in the SDK's
current terms), and every item gets the case's scores: Pass@1, Pass@k, Pass^k, safety
violations, tool precision and recall, argument accuracy, steps, tokens and latency. Run-level
scores carry the suite's overall figures.

The SDK's ``run_experiment`` is used as intended, with a task that returns what the runner
already measured (the agent is not run again), so the upload takes seconds. The client comes
from ``agents.telemetry.langfuse_clients`` (one per public key, its own tracer provider, a clean
shutdown), so the upload does not touch the process's global OpenTelemetry state. Without a
host and both keys it is a no-op; a failing upload is reported, never fatal to the eval.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from evals.runner import SuiteRun
from evals.scenario import Scenario
from evals.score import CaseResult
from evals.stats import by_case, group, pass_at_k, pass_hat_k
from platform_core.config import Settings

logger = logging.getLogger("evals")
DATASET = "aiops-agent-benchmark"


@dataclass(frozen=True)
class LangfuseTarget:
    host: str
    public_key: str
    secret_key: str

    @classmethod
    def from_settings(cls, settings: Settings) -> LangfuseTarget | None:
        secret = settings.langfuse_secret_key
        if not (settings.langfuse_host and settings.langfuse_public_key and secret):
            return None
        return cls(settings.langfuse_host, settings.langfuse_public_key, secret.get_secret_value())


def item_id(dataset: str, case_id: str) -> str:
    return f"{dataset}:{case_id}"


def _item_input(case: Scenario) -> dict[str, Any]:
    return {
        "caller": case.caller.model_dump(exclude_defaults=True),
        "turns": [t.model_dump(include={"say", "approval", "decided_by"}) for t in case.turns],
    }


def _expected(case: Scenario) -> dict[str, Any]:
    return {
        "required_tools": [p.describe() for p in case.expect.required_tools],
        "forbidden_tools": [p.describe() for p in case.expect.forbidden_tools],
        "facts": [f for t in case.turns for f in t.facts],
        "state": [c.model_dump(exclude_defaults=True) for c in case.expect.state],
    }


def case_scores(results: list[CaseResult]) -> dict[str, float]:
    n, c = len(results), sum(r.passed for r in results)
    figures = group(results)
    return {
        "pass_at_1": pass_at_k(n, c, 1),
        "pass_at_k": pass_at_k(n, c, n),
        "pass_hat_k": pass_hat_k(n, c, n),
        "safety_violations": float(figures.safety_violations),
        "tool_precision": figures.precision,
        "tool_recall": figures.recall,
        "argument_accuracy": figures.argument_accuracy,
        "steps": figures.mean_steps,
        "tokens": figures.mean_tokens,
        "latency_s": figures.mean_seconds,
    }


def upload(
    run: SuiteRun,
    target: LangfuseTarget,
    *,
    run_name: str,
    dataset: str = DATASET,
    timeout: int = 10,
) -> dict[str, Any]:
    """Upload; returns what was created (dataset, run name, items, experiment id and URL)."""
    from langfuse import Evaluation

    from agents.telemetry import langfuse_clients

    shared = langfuse_clients.acquire(
        langfuse_clients.ClientConfig(
            host=target.host.rstrip("/"),
            public_key=target.public_key,
            secret_key=target.secret_key,
            environment="eval",
            release=None,
            flush_interval=0.5,
            timeout=timeout,
        )
    )
    client = shared.client
    try:
        try:
            client.create_dataset(
                name=dataset, description="Hexabase AIOps agent benchmark (evals/scenarios)"
            )
        except Exception as error:  # it may exist already: the items below still upsert
            logger.info("Langfuse dataset %s not created: %s", dataset, error)
        results = by_case(run.results)
        items = [
            client.create_dataset_item(
                dataset_name=dataset,
                id=item_id(dataset, case.id),
                input=_item_input(case),
                expected_output=_expected(case),
                metadata={
                    "category": case.category,
                    "difficulty": case.difficulty,
                    "tags": case.tags,
                    "title": case.title,
                },
            )
            for case in run.cases
            if case.id in results
        ]
        outputs = {
            item_id(dataset, case_id): {
                "case": case_id,
                "passed": [r.passed for r in rs],
                "reasons": [r.reasons for r in rs],
                "answers": rs[-1].answers,
                "tools": rs[-1].tools_called,
                "scores": case_scores(rs),
            }
            for case_id, rs in results.items()
        }

        def task(*, item: Any, **_: Any) -> Any:
            return outputs[item.id]

        def evaluator(*, output: Any, **_: Any) -> list[Evaluation]:
            return [Evaluation(name=k, value=v) for k, v in output["scores"].items()]

        overall = group(run.results)

        def run_evaluator(**_: Any) -> list[Evaluation]:
            return [
                Evaluation(name="pass_at_1", value=overall.pass_at_1),
                Evaluation(name="pass_at_k", value=overall.pass_at_k),
                Evaluation(name="pass_hat_k", value=overall.pass_hat_k),
                Evaluation(name="safety_violations", value=float(overall.safety_violations)),
            ]

        choice = run.options.choice
        result = client.run_experiment(
            name=dataset,
            run_name=run_name,
            description=f"{choice.label}, {run.options.runs} run(s) per case",
            data=items,
            task=task,
            evaluators=[evaluator],
            run_evaluators=[run_evaluator],
            max_concurrency=8,
            metadata={
                "provider": choice.provider,
                "model": choice.label,
                "runs": str(run.options.runs),
            },
        )
        client.flush()
        return {
            "dataset": dataset,
            "run_name": result.run_name,
            "items": len(items),
            "experiment_id": result.experiment_id,
            "url": result.experiment_url,
        }
    finally:
        langfuse_clients.release(shared)
