"""scikit-optimize's ``Optimizer`` (what ``gp_minimize`` runs), ask/tell."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from benchmarks.space import Dim, Point, as_list, as_point, to_skopt


class SkoptGP:
    """``skopt.Optimizer(base_estimator="GP")`` with its default ``gp_hedge``."""

    settings: ClassVar[dict[str, Any]] = {
        "library": "scikit-optimize",
        "class": "skopt.Optimizer (the engine of gp_minimize)",
        "base_estimator": "GP",
        "acq_func": "gp_hedge (default)",
        "acq_optimizer": "auto (default)",
        "initial_point_generator": "random (default)",
        "n_initial_points": "same as every tool",
    }

    def __init__(self, dims: Sequence[Dim], n_initial: int, seed: int) -> None:
        from skopt import Optimizer

        self.dims = tuple(dims)
        self.opt = Optimizer(
            to_skopt(self.dims),
            base_estimator="GP",
            n_initial_points=n_initial,
            random_state=seed,
        )

    def ask(self) -> Point:
        return as_point(self.dims, self.opt.ask())

    def tell(self, point: Point, value: float) -> None:
        self.opt.tell(as_list(self.dims, point), value)
