"""A 6-D mixed problem: reals, a log real, integers (one log-scaled), a category.

Notation
--------
Parameters: ``x1`` real in [0, 1]; ``x2`` real in [-2, 2]; ``n_units`` int in
[1, 32]; ``lr`` real in [1e-5, 1e-1], log-scaled; ``batch`` int in [4, 512],
log-scaled; ``kind`` categorical in {"linear", "rbf", "poly"}.

``u`` (5,) are the numeric parameters on their natural scale mapped to [0, 1]::

    u = (x1, (x2 + 2) / 4, (n_units - 1) / 31, (log10 lr + 5) / 4, (log2 batch - 2) / 7)

Each category ``c`` has a target ``t_c`` (5,) and an offset ``o_c``; with
``v = u - t_c``::

    f(x, c) = o_c + 4 v^T A v + 0.3 * sum_i (1 - cos(3 pi v_i)),   A_ij = 0.5^|i - j|

``A`` (the Kac-Murdock-Szego matrix) is positive definite, so both terms are
>= 0 and vanish only at ``v = 0``: the minimum over category ``c`` is ``o_c``,
reached at ``t_c``. Every target puts ``n_units`` and ``batch`` on allowed
integers, so the global minimum is exactly ``min_c o_c = 0`` at
``kind="rbf", x1=0.75, x2=-1, n_units=6, lr=1e-4, batch=16``. The three
categories place their optima far apart, so the category "shifts the best
values of the others"; the cosine term adds local minima and ``A`` couples the
coordinates.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from benchmarks.space import Dim, categorical, integer, real

DIMS: tuple[Dim, ...] = (
    real("x1", 0.0, 1.0),
    real("x2", -2.0, 2.0),
    integer("n_units", 1, 32),
    real("lr", 1e-5, 1e-1, log=True),
    integer("batch", 4, 512, log=True),
    categorical("kind", ("linear", "rbf", "poly")),
)

# category -> (offset, optimum of the numeric parameters)
TARGETS: dict[str, tuple[float, dict[str, float]]] = {
    "linear": (0.8, {"x1": 0.2, "x2": 1.2, "n_units": 25, "lr": 1e-2, "batch": 256}),
    "rbf": (0.0, {"x1": 0.75, "x2": -1.0, "n_units": 6, "lr": 1e-4, "batch": 16}),
    "poly": (0.4, {"x1": 0.5, "x2": 0.4, "n_units": 13, "lr": 1e-3, "batch": 64}),
}

OPTIMUM = 0.0
ARGMIN: dict[str, Any] = {"kind": "rbf", **TARGETS["rbf"][1]}

_IDX = np.arange(5)
_A = 0.5 ** np.abs(_IDX[:, None] - _IDX[None, :])


def _unit(p: dict[str, Any]) -> np.ndarray:
    return np.array(
        [
            float(p["x1"]),
            (float(p["x2"]) + 2.0) / 4.0,
            (float(p["n_units"]) - 1.0) / 31.0,
            (math.log10(float(p["lr"])) + 5.0) / 4.0,
            (math.log2(float(p["batch"])) - 2.0) / 7.0,
        ]
    )


def mixed6(params: dict[str, Any]) -> float:
    """The noise-free mixed objective (see the module notation).

    Examples
    --------
    >>> mixed6(ARGMIN)
    0.0
    >>> round(mixed6({**ARGMIN, "kind": "poly"}), 3) > 0.4
    True
    """
    offset, target = TARGETS[params["kind"]]
    v = _unit(params) - _unit(target)
    value = (
        offset
        + 4.0 * float(v @ _A @ v)
        + 0.3 * float(np.sum(1.0 - np.cos(3 * np.pi * v)))
    )
    return float(value)
