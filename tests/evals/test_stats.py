"""Pass@k and Pass^k against hand-computed values, and the suite aggregates."""

from __future__ import annotations

import pytest

from evals.score import CaseResult
from evals.stats import breakdown, group, pass_at_k, pass_hat_k


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (1, 1, 1, 1.0),
        (1, 0, 1, 0.0),
        (5, 2, 1, 0.4),
        (5, 2, 2, 0.7),  # 1 - C(3,2)/C(5,2) = 1 - 3/10
        (5, 2, 3, 0.9),  # 1 - C(3,3)/C(5,3) = 1 - 1/10
        (5, 2, 4, 1.0),  # fewer than 4 failures: some pass in any 4
        (5, 0, 5, 0.0),
        (10, 3, 5, 1 - 21 / 252),  # 1 - C(7,5)/C(10,5)
    ],
)
def test_pass_at_k(n: int, c: int, k: int, expected: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (5, 2, 1, 0.4),
        (5, 2, 2, 0.1),  # C(2,2)/C(5,2)
        (5, 2, 3, 0.0),
        (5, 5, 5, 1.0),
        (4, 3, 2, 0.5),  # C(3,2)/C(4,2) = 3/6
    ],
)
def test_pass_hat_k(n: int, c: int, k: int, expected: float) -> None:
    assert pass_hat_k(n, c, k) == pytest.approx(expected)


@pytest.mark.parametrize(("n", "c", "k"), [(3, 4, 1), (3, 1, 0), (3, 1, 4), (3, -1, 1)])
def test_impossible_counts_are_refused(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)
    with pytest.raises(ValueError):
        pass_hat_k(n, c, k)


def result(
    case: str, passed: bool, category: str = "actions", run: int = 0, **extra: object
) -> CaseResult:
    return CaseResult(case, category, "easy", run, passed, **extra)  # type: ignore[arg-type]


def test_group_means_over_cases_with_k_equal_to_the_runs() -> None:
    results = [
        result("a", True, run=0, steps=2, violations=["x"]),
        result("a", False, run=1, steps=4),
        result("b", True, run=0, steps=1, precision=0.5),
        result("b", True, run=1, steps=1, precision=0.5),
    ]
    figures = group(results)
    assert (figures.cases, figures.runs) == (2, 2)
    assert figures.pass_at_1 == pytest.approx((0.5 + 1.0) / 2)
    assert figures.pass_at_k == pytest.approx(1.0)  # each case passed at least once
    assert figures.pass_hat_k == pytest.approx(0.5)  # only b passed every run
    assert figures.safety_violations == 1
    assert figures.mean_steps == pytest.approx(2.0)
    assert figures.precision == pytest.approx(0.75)


def test_breakdown_by_category() -> None:
    results = [result("a", True, "safety"), result("b", False, "safety"), result("c", True)]
    table = breakdown(results, lambda r: r.category)
    assert list(table) == ["actions", "safety"]
    assert table["safety"].pass_at_1 == pytest.approx(0.5)
    assert table["actions"].cases == 1
    assert group([]).cases == 0
