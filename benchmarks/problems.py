"""The regret-suite problems: a space, a noise-free objective and its known minimum.

Synthetic functions come from :mod:`skbo.test_functions` (minimization, known
``optimal_value``). Observation noise, the integer restriction and the mixed
problem are defined here so that every tool sees exactly the same problem.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks import mixed_problem
from benchmarks.space import Dim, Point, integer, real

NOISE_STD = 0.1
"""Standard deviation of the Gaussian noise of ``hartmann6_noisy``."""

INT_LEVELS = 20
"""``hartmann6_int``: each input restricted to ``k / 19``, ``k = 0..19``."""

# NOTE: found by exhaustive enumeration of all 20**6 grid points (vectorized
# Hartmann-6, about 2 s); its value, -3.29826..., is recomputed from the
# objective at construction, and tests check it is a strict grid local minimum.
HARTMANN_INT_ARGMIN = (4, 3, 9, 5, 6, 12)


@dataclass(frozen=True)
class Problem:
    """A minimization problem as every tool sees it.

    Parameters
    ----------
    name : str
        Identifier used on the command line and in results.
    dims : tuple of Dim
        The search space.
    true_fn : callable
        Noise-free objective, point -> float.
    optimum : float
        Known global minimum of ``true_fn`` over ``dims``.
    noise_std : float
        Standard deviation of the Gaussian noise added to observations.
    description : str
        One line for the settings and the docs.
    """

    name: str
    dims: tuple[Dim, ...]
    true_fn: Callable[[Point], float]
    optimum: float
    noise_std: float = 0.0
    description: str = ""

    @property
    def dim(self) -> int:
        """Number of parameters."""
        return len(self.dims)

    def objective(self, seed: int) -> Callable[[Point], float]:
        """What the tool observes: ``true_fn`` plus seeded Gaussian noise.

        The noise stream depends only on ``seed`` and on the call order, so all
        tools run with the same seed draw the same noise sequence.
        """
        if self.noise_std == 0.0:
            return self.true_fn
        rng = np.random.RandomState(seed + 7919)

        def noisy(point: Point) -> float:
            return self.true_fn(point) + self.noise_std * float(rng.standard_normal())

        return noisy

    def settings(self) -> dict[str, Any]:
        """JSON-able description recorded with every result."""
        return {
            "dim": self.dim,
            "optimum": self.optimum,
            "noise_std": self.noise_std,
            "description": self.description,
            "dims": [d.describe() for d in self.dims],
        }


def _call(fn: Any, x: np.ndarray) -> float:
    """Evaluate a test function on one point given as a (d,) array."""
    value = np.asarray(fn(x.reshape(1, -1)), dtype=float)
    return float(value.reshape(-1)[0])


def synthetic(
    cls_name: str, name: str, noise_std: float = 0.0, **kwargs: Any
) -> Problem:
    """A continuous problem from :mod:`skbo.test_functions`."""
    from skbo import test_functions

    tf = getattr(test_functions, cls_name)(**kwargs)
    bounds = np.asarray(tf.bounds, dtype=float)
    dims = tuple(
        real(f"x{i}", bounds[0, i], bounds[1, i]) for i in range(bounds.shape[1])
    )
    names = [d.name for d in dims]

    def true_fn(point: Point) -> float:
        return _call(tf.evaluate_true, np.array([point[n] for n in names], dtype=float))

    label = f"{cls_name}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"
    noise = f", Gaussian noise std {noise_std}" if noise_std else ""
    return Problem(
        name, dims, true_fn, float(tf.optimal_value), noise_std, label + noise
    )


def hartmann6_int() -> Problem:
    """Hartmann-6 with every input restricted to ``INT_LEVELS`` levels."""
    from skbo import test_functions

    tf = test_functions.Hartmann(dim=6)
    dims = tuple(integer(f"k{i}", 0, INT_LEVELS - 1) for i in range(6))

    def true_fn(point: Point) -> float:
        x = np.array([point[d.name] for d in dims], dtype=float) / (INT_LEVELS - 1)
        return _call(tf.evaluate_true, x)

    argmin = {d.name: k for d, k in zip(dims, HARTMANN_INT_ARGMIN, strict=True)}
    description = (
        f"Hartmann(dim=6) at x_i = k_i/{INT_LEVELS - 1}, k_i in 0..{INT_LEVELS - 1};"
        f" optimum by exhaustive enumeration at k = {HARTMANN_INT_ARGMIN}"
    )
    return Problem("hartmann6_int", dims, true_fn, true_fn(argmin), 0.0, description)


def mixed6() -> Problem:
    """The mixed real/int/log/categorical problem of :mod:`benchmarks.mixed_problem`."""
    return Problem(
        "mixed6",
        mixed_problem.DIMS,
        mixed_problem.mixed6,
        mixed_problem.OPTIMUM,
        0.0,
        "benchmarks/mixed_problem.py: 2 reals, 1 log real, 1 int, 1 log int, "
        f"1 categorical; exact optimum 0 at {mixed_problem.ARGMIN}",
    )


PROBLEMS: dict[str, Callable[[], Problem]] = {
    "branin": lambda: synthetic("Branin", "branin"),
    "hartmann6": lambda: synthetic("Hartmann", "hartmann6", dim=6),
    "ackley10": lambda: synthetic("Ackley", "ackley10", dim=10),
    "levy8": lambda: synthetic("Levy", "levy8", dim=8),
    "rosenbrock5": lambda: synthetic("Rosenbrock", "rosenbrock5", dim=5),
    "styblinski_tang8": lambda: synthetic("StyblinskiTang", "styblinski_tang8", dim=8),
    "hartmann6_noisy": lambda: synthetic(
        "Hartmann", "hartmann6_noisy", noise_std=NOISE_STD, dim=6
    ),
    "hartmann6_int": hartmann6_int,
    "mixed6": mixed6,
}
"""Problem factories by name (built lazily: most need :mod:`skbo.test_functions`)."""


def get_problems(names: Sequence[str]) -> list[Problem]:
    """Build the named problems; raise ``ValueError`` for unknown names."""
    unknown = sorted(set(names) - set(PROBLEMS))
    if unknown:
        raise ValueError(f"unknown problems {unknown}; choose from {sorted(PROBLEMS)}.")
    return [PROBLEMS[name]() for name in names]
