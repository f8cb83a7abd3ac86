"""Random search: independent draws from the space's sampling law."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from benchmarks.space import Dim, Point, sample


class RandomSearch:
    """Uniform (log-uniform for log dimensions) independent sampling."""

    settings: ClassVar[dict[str, Any]] = {
        "library": "numpy",
        "sampler": "independent uniform draws (log-uniform on log dims), "
        "benchmarks.space.sample",
    }

    def __init__(self, dims: Sequence[Dim], n_initial: int, seed: int) -> None:
        self.dims = tuple(dims)
        self.rng = np.random.RandomState(seed)

    def ask(self) -> Point:
        return sample(self.dims, 1, self.rng)[0]

    def tell(self, point: Point, value: float) -> None:
        pass
