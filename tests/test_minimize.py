"""Tests of minimize()."""

from __future__ import annotations

import math

import numpy as np
import pytest

from skbo import Integer, Real, minimize
from skbo.callbacks import ThresholdStopper

FAST = {"num_restarts": 2, "raw_samples": 32}


def f(x: list[float]) -> float:
    return float((x[0] - 0.25) ** 2 + (x[1] - 0.75) ** 2)


def test_basic_result() -> None:
    res = minimize(
        f,
        [(0.0, 1.0), (0.0, 1.0)],
        n_calls=10,
        random_state=0,
        acq_optimizer_kwargs=FAST,
    )
    assert len(res.x_iters) == 10 and res.func_vals.shape == (10,)
    assert res.fun == pytest.approx(min(res.func_vals))
    assert f(res.x) == pytest.approx(res.fun)


def test_determinism() -> None:
    a = minimize(
        f,
        [(0.0, 1.0), (0.0, 1.0)],
        n_calls=8,
        random_state=3,
        acq_optimizer_kwargs=FAST,
    )
    b = minimize(
        f,
        [(0.0, 1.0), (0.0, 1.0)],
        n_calls=8,
        random_state=3,
        acq_optimizer_kwargs=FAST,
    )
    assert a.x_iters == b.x_iters


def test_x0_evaluated_and_counted() -> None:
    seen = []

    def g(x):
        seen.append(list(x))
        return f(x)

    res = minimize(
        g,
        [(0.0, 1.0), (0.0, 1.0)],
        n_calls=7,
        x0=[[0.1, 0.1], [0.2, 0.2]],
        random_state=0,
        acq_optimizer_kwargs=FAST,
    )
    assert seen[:2] == [[0.1, 0.1], [0.2, 0.2]]
    assert len(res.x_iters) == 7


def test_x0_y0_warm_start_not_evaluated() -> None:
    seen = []

    def g(x):
        seen.append(list(x))
        return f(x)

    res = minimize(
        g,
        [(0.0, 1.0), (0.0, 1.0)],
        n_calls=4,
        x0=[[0.25, 0.75]],
        y0=[0.0],
        n_initial_points=2,
        random_state=0,
        acq_optimizer_kwargs=FAST,
    )
    assert [0.25, 0.75] not in seen
    assert len(res.x_iters) == 5 and res.fun == 0.0


def test_single_x0_point_and_scalar_y0() -> None:
    res = minimize(
        f,
        [(0.0, 1.0), (0.0, 1.0)],
        n_calls=3,
        x0=[0.5, 0.5],
        y0=1.0,
        n_initial_points=1,
        random_state=0,
        acq_optimizer_kwargs=FAST,
    )
    assert res.x_iters[0] == [0.5, 0.5]


def test_batch_parallel() -> None:
    res = minimize(
        f,
        [(0.0, 1.0), (0.0, 1.0)],
        n_calls=9,
        batch_size=3,
        n_jobs=2,
        n_initial_points=3,
        random_state=0,
        acq_optimizer_kwargs=FAST,
    )
    assert len(res.x_iters) == 9
    assert len({tuple(p) for p in res.x_iters}) == 9


def test_callback_stops() -> None:
    res = minimize(
        f,
        [(0.0, 1.0), (0.0, 1.0)],
        n_calls=30,
        n_initial_points=3,
        callback=lambda r: len(r.x_iters) >= 5,
        random_state=0,
        acq_optimizer_kwargs=FAST,
    )
    assert len(res.x_iters) == 5


def test_threshold_callback() -> None:
    res = minimize(
        f,
        [(0.0, 1.0), (0.0, 1.0)],
        n_calls=30,
        callback=[ThresholdStopper(10.0)],
        random_state=0,
        acq_optimizer_kwargs=FAST,
    )
    assert len(res.x_iters) == 1


def test_failed_evaluations_recorded() -> None:
    def g(x):
        return float("nan") if x[0] < 0.3 else f(x)

    res = minimize(
        g,
        [(0.0, 1.0), (0.0, 1.0)],
        n_calls=10,
        random_state=0,
        acq_optimizer_kwargs=FAST,
    )
    assert len(res.x_iters) == 10
    assert res.failed.any()
    assert math.isfinite(res.fun)


def test_func_raising_keeps_history() -> None:
    calls = []

    def g(x):
        calls.append(x)
        if len(calls) == 4:
            raise RuntimeError("boom")
        return f(x)

    with pytest.raises(RuntimeError, match="boom") as info:
        minimize(
            g,
            [(0.0, 1.0), (0.0, 1.0)],
            n_calls=10,
            random_state=0,
            acq_optimizer_kwargs=FAST,
        )
    partial = info.value.optimize_result
    assert len(partial.x_iters) == 3


def test_func_non_scalar() -> None:
    with pytest.raises(TypeError, match="real scalar"):
        minimize(lambda x: [1.0, 2.0], [(0.0, 1.0)], n_calls=3, random_state=0)


def test_integer_dimension() -> None:
    res = minimize(
        lambda x: (x[0] - 3) ** 2 + x[1],
        [Integer(0, 10), Real(0.0, 1.0)],
        n_calls=10,
        random_state=0,
        acq_optimizer_kwargs=FAST,
    )
    assert all(isinstance(p[0], int) for p in res.x_iters)


def test_verbose(capsys) -> None:
    minimize(
        f,
        [(0.0, 1.0), (0.0, 1.0)],
        n_calls=6,
        verbose=True,
        random_state=0,
        acq_optimizer_kwargs=FAST,
    )
    assert "Iteration" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_calls": 0}, ValueError, "n_calls"),
        ({"n_calls": 3, "n_initial_points": 5}, ValueError, "exceed n_calls"),
        ({"x0": [[2.0, 0.5]]}, ValueError, None),
        ({"x0": [[0.5, 0.5]], "y0": [1.0, 2.0]}, ValueError, "y0"),
        ({"y0": [1.0]}, ValueError, "without x0"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"n_jobs": 0}, ValueError, "n_jobs"),
        ({"callback": 3}, TypeError, "callback"),
    ],
)
def test_bad_input(kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        minimize(f, [(0.0, 1.0), (0.0, 1.0)], **{"n_calls": 10, **kwargs})


def test_empty_space() -> None:
    with pytest.raises(ValueError):
        minimize(f, [], n_calls=3)


def test_numpy_values_accepted() -> None:
    res = minimize(
        lambda x: np.float32(f(x)),
        [(0.0, 1.0), (0.0, 1.0)],
        n_calls=6,
        random_state=0,
        acq_optimizer_kwargs=FAST,
    )
    assert isinstance(res.fun, float)


def test_explore_every_passes_through() -> None:
    res = minimize(
        f,
        [(0.0, 1.0), (0.0, 1.0)],
        n_calls=9,
        n_initial_points=3,
        random_state=0,
        explore_every=2,
        acq_optimizer_kwargs=FAST,
    )
    assert len({tuple(x) for x in res.x_iters}) == 9
    assert res.fun < 0.1
