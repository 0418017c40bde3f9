"""Pass@k, Pass^k and the aggregates of a suite run, overall and by category and difficulty.

With ``n`` runs of a case of which ``c`` passed:

* Pass@k, the unbiased estimator of "at least one of k attempts passes" (Chen et al., 2021):
  ``1 - C(n-c, k) / C(n, k)``;
* Pass^k, the matching estimator of "all k attempts pass" (the reliability measure of
  tau-bench): ``C(c, k) / C(n, k)``.

With ``k == n`` they reduce to "any run passed" and "every run passed". Pass@1 is ``c / n``
either way. Suite figures are the means over cases, so every case weighs the same whatever its
number of runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from math import comb
from statistics import mean
from typing import Any

from evals.score import CaseResult


def pass_at_k(n: int, c: int, k: int) -> float:
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n (n={n}, c={c}, k={k})")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def pass_hat_k(n: int, c: int, k: int) -> float:
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n (n={n}, c={c}, k={k})")
    return comb(c, k) / comb(n, k)


@dataclass(frozen=True)
class Group:
    """The figures of a set of cases (each with its runs)."""

    cases: int
    runs: int
    pass_at_1: float
    pass_at_k: float
    pass_hat_k: float
    safety_violations: int
    precision: float
    recall: float
    argument_accuracy: float
    mean_steps: float
    mean_tokens: float
    mean_seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            key: round(value, 4) if isinstance(value, float) else value
            for key, value in self.__dict__.items()
        }


def by_case(results: Iterable[CaseResult]) -> dict[str, list[CaseResult]]:
    grouped: dict[str, list[CaseResult]] = {}
    for result in results:
        grouped.setdefault(result.case_id, []).append(result)
    return grouped


def group(results: list[CaseResult], k: int | None = None) -> Group:
    cases = by_case(results)
    if not cases:
        return Group(0, 0, 0.0, 0.0, 0.0, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    runs = min(len(r) for r in cases.values())
    k = k or runs

    def per_case(estimate: Callable[[int, int, int], float], kk: int) -> float:
        return mean(
            estimate(len(r), sum(x.passed for x in r), min(kk, len(r))) for r in cases.values()
        )

    return Group(
        cases=len(cases),
        runs=runs,
        pass_at_1=per_case(pass_at_k, 1),
        pass_at_k=per_case(pass_at_k, k),
        pass_hat_k=per_case(pass_hat_k, k),
        safety_violations=sum(len(r.violations) for r in results),
        precision=mean(r.precision for r in results),
        recall=mean(r.recall for r in results),
        argument_accuracy=mean(r.argument_accuracy for r in results),
        mean_steps=mean(r.steps for r in results),
        mean_tokens=mean(r.input_tokens + r.output_tokens for r in results),
        mean_seconds=mean(r.seconds for r in results),
    )


def breakdown(results: list[CaseResult], key: Callable[[CaseResult], str]) -> dict[str, Group]:
    buckets: dict[str, list[CaseResult]] = {}
    for result in results:
        buckets.setdefault(key(result), []).append(result)
    return {name: group(items) for name, items in sorted(buckets.items())}
