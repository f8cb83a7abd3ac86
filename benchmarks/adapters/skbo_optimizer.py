"""skbo's ask/tell ``Optimizer`` (what ``skbo.minimize`` runs), default options."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from benchmarks.space import Dim, Point, as_list, as_point, to_skbo


class SkboOptimizer:
    """``skbo.Optimizer(n_initial_points=n_initial, random_state=seed)``."""

    settings: ClassVar[dict[str, Any]] = {
        "library": "skbo",
        "class": "skbo.Optimizer (the engine of skbo.minimize)",
        "acquisition": "LogEI (default; qLogEI for batches)",
        "initial_point_generator": "sobol (default)",
        "n_initial_points": "same as every tool",
        "n_threads": "1 (default)",
        "model_recommendation": "x_best_predicted: evaluated point with the best "
        "posterior mean (recorded next to the best observed point)",
    }

    def __init__(self, dims: Sequence[Dim], n_initial: int, seed: int) -> None:
        from skbo import Optimizer  # type: ignore[attr-defined]

        self.dims = tuple(dims)
        self.opt = Optimizer(
            to_skbo(self.dims), n_initial_points=n_initial, random_state=seed
        )

    def ask(self) -> Point:
        return as_point(self.dims, self.opt.ask())

    def tell(self, point: Point, value: float) -> None:
        self.opt.tell(as_list(self.dims, point), value)

    def recommend(self) -> Point | None:
        """The evaluated point with the best posterior mean, if a model exists."""
        x = self.opt.get_result().x_best_predicted
        return None if x is None else as_point(self.dims, x)
