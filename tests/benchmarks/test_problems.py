"""Tests of the benchmark problems: known optima and seeded noise."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `benchmarks` lives at the repository root
    sys.path.insert(0, str(ROOT))

from benchmarks import mixed_problem  # noqa: E402
from benchmarks.problems import (  # noqa: E402
    HARTMANN_INT_ARGMIN,
    PROBLEMS,
    get_problems,
)
from benchmarks.space import sample  # noqa: E402


def test_mixed6_optimum_is_exact_and_global_on_samples() -> None:
    problem = get_problems(["mixed6"])[0]
    assert problem.true_fn(mixed_problem.ARGMIN) == problem.optimum == 0.0
    values = [
        problem.true_fn(p) for p in sample(problem.dims, 3000, np.random.RandomState(0))
    ]
    assert min(values) > problem.optimum


@pytest.mark.parametrize("kind", ["linear", "rbf", "poly"])
def test_mixed6_category_minimum_is_its_offset(kind: str) -> None:
    offset, target = mixed_problem.TARGETS[kind]
    assert mixed_problem.mixed6({"kind": kind, **target}) == pytest.approx(offset)
    nearby = {**target, "x1": target["x1"] + 0.05}
    assert mixed_problem.mixed6({"kind": kind, **nearby}) > offset


def test_mixed6_targets_are_allowed_points() -> None:
    for _, target in mixed_problem.TARGETS.values():
        for d in mixed_problem.DIMS[:-1]:
            assert d.low <= target[d.name] <= d.high
            if d.kind == "int":
                assert float(target[d.name]).is_integer()


def test_unknown_problem_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown problems"):
        get_problems(["nope"])


def test_synthetic_problems_have_no_point_below_the_optimum() -> None:
    pytest.importorskip(
        "skbo.test_functions", reason="skbo.test_functions not available"
    )
    rng = np.random.RandomState(0)
    for name in PROBLEMS:
        problem = get_problems([name])[0]
        values = [problem.true_fn(p) for p in sample(problem.dims, 200, rng)]
        assert min(values) >= problem.optimum - 1e-9, name


def test_hartmann6_int_argmin_is_a_strict_grid_local_minimum() -> None:
    pytest.importorskip(
        "skbo.test_functions", reason="skbo.test_functions not available"
    )
    problem = get_problems(["hartmann6_int"])[0]
    names = [d.name for d in problem.dims]
    best = dict(zip(names, HARTMANN_INT_ARGMIN, strict=True))
    assert problem.optimum == pytest.approx(-3.2982627, abs=1e-6)
    for name, step in itertools.product(names, (-1, 1)):
        neighbour = {**best, name: best[name] + step}
        if 0 <= neighbour[name] <= 19:
            assert problem.true_fn(neighbour) > problem.optimum
    values = [
        problem.true_fn(p) for p in sample(problem.dims, 500, np.random.RandomState(1))
    ]
    assert min(values) > problem.optimum


def test_noise_is_seeded_and_only_on_the_noisy_problem() -> None:
    pytest.importorskip(
        "skbo.test_functions", reason="skbo.test_functions not available"
    )
    noisy, clean = get_problems(["hartmann6_noisy", "hartmann6"])
    point = {d.name: 0.5 for d in noisy.dims}
    a = [noisy.objective(3)(point) for _ in range(2)]
    f = noisy.objective(3)
    b = [f(point), f(point)]
    assert a[0] == b[0] and b[0] != b[1]
    assert np.std([f(point) for _ in range(400)]) == pytest.approx(0.1, rel=0.15)
    assert clean.objective(3)(point) == clean.true_fn(point) == noisy.true_fn(point)
