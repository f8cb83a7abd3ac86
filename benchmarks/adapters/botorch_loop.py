"""A BoTorch reference loop, written the way the BoTorch tutorials write it.

Per suggestion: ``SingleTaskGP`` (``MixedSingleTaskGP`` when the space has a
categorical) on inputs in the unit cube (the harness's ``encode``), outcome
``Standardize(m=1)``, ``fit_gpytorch_mll``, ``qLogNoisyExpectedImprovement``
with ``X_baseline`` = all observations, then ``optimize_acqf`` (10 restarts,
512 raw samples) on continuous spaces or ``optimize_acqf_mixed_alternating``
(same restarts and raw samples) when integers or categoricals are present:
integers are discrete dimensions with their allowed encoded values (those with
more than 20 values are relaxed by BoTorch and rounded to the nearest allowed
value on decode), categoricals are BoTorch categorical dimensions on their
index. The initial design is scrambled Sobol (``draw_sobol_samples``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from benchmarks.space import Dim, Point, decode, discrete_values, encode, from_unit

NUM_RESTARTS = 10
RAW_SAMPLES = 512


def botorch_suggest(
    train_X: np.ndarray,
    train_y: np.ndarray,
    dims: Sequence[Dim] | None = None,
) -> np.ndarray:
    """One BoTorch suggestion (encoded, shape (d,)) for minimizing ``train_y``.

    ``dims=None`` means every column is continuous in [0, 1].
    """
    import torch
    from botorch.acquisition.logei import qLogNoisyExpectedImprovement
    from botorch.fit import fit_gpytorch_mll
    from botorch.models.gp_regression import SingleTaskGP
    from botorch.models.gp_regression_mixed import MixedSingleTaskGP
    from botorch.models.transforms.outcome import Standardize
    from botorch.optim.optimize import optimize_acqf
    from botorch.optim.optimize_mixed import optimize_acqf_mixed_alternating
    from gpytorch.mlls import ExactMarginalLogLikelihood

    X = torch.as_tensor(train_X, dtype=torch.double)
    Y = -torch.as_tensor(train_y, dtype=torch.double).unsqueeze(-1)  # BoTorch maximizes
    ints, cats = discrete_values(dims) if dims is not None else ({}, {})
    if cats:
        model: Any = MixedSingleTaskGP(
            X, Y, cat_dims=sorted(cats), outcome_transform=Standardize(m=1)
        )
    else:
        model = SingleTaskGP(X, Y, outcome_transform=Standardize(m=1))
    fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
    acqf = qLogNoisyExpectedImprovement(model, X_baseline=X)
    bounds = torch.stack([torch.zeros(X.shape[-1]), torch.ones(X.shape[-1])]).double()
    if ints or cats:
        candidate, _ = optimize_acqf_mixed_alternating(
            acqf,
            bounds,
            discrete_dims=ints or None,
            cat_dims=cats or None,
            num_restarts=NUM_RESTARTS,
            raw_samples=RAW_SAMPLES,
        )
    else:
        candidate, _ = optimize_acqf(
            acqf, bounds, q=1, num_restarts=NUM_RESTARTS, raw_samples=RAW_SAMPLES
        )
    return candidate.detach().reshape(-1).numpy()


class BoTorchLoop:
    """Sobol initial design, then :func:`botorch_suggest` each iteration."""

    settings: ClassVar[dict[str, Any]] = {
        "library": "botorch",
        "model": "SingleTaskGP (MixedSingleTaskGP with categoricals), defaults",
        "outcome_transform": "Standardize(m=1)",
        "inputs": "unit cube (benchmarks.space.encode; log dims in log space)",
        "fit": "fit_gpytorch_mll(ExactMarginalLogLikelihood)",
        "acquisition": "qLogNoisyExpectedImprovement(X_baseline=all observations)",
        "optimizer": f"optimize_acqf(num_restarts={NUM_RESTARTS}, "
        f"raw_samples={RAW_SAMPLES}); optimize_acqf_mixed_alternating (same "
        "restarts/raw samples) with integer (discrete_dims) or categorical "
        "(cat_dims, index-coded) dimensions",
        "initial_design": "scrambled Sobol (draw_sobol_samples)",
        "seeding": "torch.manual_seed(seed) at start",
    }

    def __init__(self, dims: Sequence[Dim], n_initial: int, seed: int) -> None:
        import torch
        from botorch.utils.sampling import draw_sobol_samples

        torch.manual_seed(seed)
        self.dims = tuple(dims)
        d = len(self.dims)
        bounds = torch.stack([torch.zeros(d), torch.ones(d)]).double()
        sobol = draw_sobol_samples(bounds, n=n_initial, q=1, seed=seed).squeeze(1)
        # The Sobol points are uniform in the cube; map them like random search
        # does (full bins for integers and categories).
        self._initial = from_unit(self.dims, sobol.numpy())
        self.X: list[Point] = []
        self.y: list[float] = []

    def ask(self) -> Point:
        if len(self.X) < len(self._initial):
            return self._initial[len(self.X)]
        Z = botorch_suggest(encode(self.dims, self.X), np.asarray(self.y), self.dims)
        return decode(self.dims, Z)[0]

    def tell(self, point: Point, value: float) -> None:
        self.X.append(point)
        self.y.append(value)
