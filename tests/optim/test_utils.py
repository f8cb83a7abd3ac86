"""Tests of skbo.optim.utils: conversions, batching, row matching, checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from skbo.optim.mixed import IntegerColumn, MixedSpec
from skbo.optim.utils import (
    check_bounds,
    check_fixed_features,
    check_int,
    check_X_avoid,
    evaluate_batched,
    fix_features,
    from_numpy,
    match_rows,
    to_numpy,
    unique_rows,
)


def test_numpy_round_trip(dtype: torch.dtype, device: torch.device) -> None:
    X = torch.rand(3, 2, dtype=dtype, device=device)
    a = to_numpy(X)
    assert a.dtype == np.float64
    assert a.flags.c_contiguous
    Y = from_numpy(a, X)
    assert Y.dtype == dtype
    assert Y.device == device
    assert torch.equal(Y, X)


def test_evaluate_batched_chunks_without_grad() -> None:
    seen: list[tuple[int, bool]] = []

    def acqf(X: torch.Tensor) -> torch.Tensor:
        seen.append((X.shape[0], torch.is_grad_enabled()))
        return X.sum(dim=(-2, -1))

    X = torch.rand(10, 3, requires_grad=True)
    out = evaluate_batched(acqf, X, batch_limit=4)
    assert seen == [(4, False), (4, False), (2, False)]
    assert torch.allclose(out, X.detach().sum(-1))
    assert not out.requires_grad
    assert evaluate_batched(acqf, X[:0]).shape == (0,)


def test_match_rows_and_unique_rows() -> None:
    X = torch.tensor([[0.0, 1.0], [0.5, 0.5], [0.5, 0.5 + 1e-10], [0.5, 0.5 + 1e-6]])
    Y = torch.tensor([[0.5, 0.5]], dtype=torch.float64)
    assert match_rows(X.double(), Y).tolist() == [False, True, True, False]
    assert match_rows(X, None).tolist() == [False] * 4
    assert match_rows(X, Y[:0]).tolist() == [False] * 4
    # Large inputs are chunked with the same result.
    big = torch.rand(5000, 3, dtype=torch.float64)
    hits = match_rows(big, big[::7].clone())
    assert hits.sum() == len(range(0, 5000, 7))
    assert unique_rows(torch.tensor([[1.0], [0.0], [1.0], [2.0], [0.0]])).tolist() == [
        0,
        1,
        3,
    ]
    assert unique_rows(torch.zeros(0, 2)).shape == (0,)


def test_fix_features() -> None:
    X = torch.zeros(2, 3)
    assert fix_features(X, None) is X
    Y = fix_features(X, {0: 0.25, 2: 1.0})
    assert Y[:, 0].tolist() == [0.25, 0.25]
    assert Y[:, 2].tolist() == [1.0, 1.0]
    assert bool((X == 0).all())  # the input is untouched


def test_checks() -> None:
    bounds = torch.tensor([[0.0, -1.0], [1.0, 1.0]], dtype=torch.float64)
    assert check_bounds(bounds) is not None
    assert check_fixed_features(None, bounds) == {}
    assert check_fixed_features({np.int64(1): np.float32(0.5)}, bounds) == {1: 0.5}
    with pytest.raises(ValueError, match="column True is out of range"):
        check_fixed_features({True: 0.5}, bounds)
    spec = MixedSpec((IntegerColumn(0, 0, 3),))
    with pytest.raises(ValueError, match="discrete column"):
        check_fixed_features({0: 0.5}, bounds, spec)
    with pytest.raises(ValueError, match="outside its bounds"):
        check_fixed_features({1: float("nan")}, bounds)
    assert check_X_avoid(None, bounds) is None
    avoid = check_X_avoid(torch.zeros(2, 2, dtype=torch.float32), bounds)
    assert avoid is not None and avoid.dtype == torch.float64
    assert check_int(np.int64(4), "n", 1) == 4
    with pytest.raises(TypeError, match="n must be an int, got bool"):
        check_int(True, "n", 0)


def test_screening_block_only_when_it_saves_samples() -> None:
    from skbo.acquisition import qLogNoisyExpectedImprovement
    from skbo.models import SingleTaskGP
    from skbo.optim.initializers import _screening as screening
    from skbo.sampling import SobolQMCNormalSampler

    X = torch.rand(
        8, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    model = SingleTaskGP(X, X.sum(-1))
    small = qLogNoisyExpectedImprovement(
        model, X_baseline=X, sampler=SobolQMCNormalSampler(32, seed=0)
    )
    big = qLogNoisyExpectedImprovement(model, X_baseline=X, closed_form=False)
    exact = qLogNoisyExpectedImprovement(model, X_baseline=X[:1])
    assert screening(exact, 16) is None  # closed form: nothing to screen with
    assert screening(lambda Z: Z.sum(), 16) is None  # no ``subsample``
    assert screening(big, None) is None
    assert screening(small, 32) is None  # no fewer samples
    block = screening(big, 16)
    assert block is not None
    with block:
        assert big._sample_limit == 16
    assert big._sample_limit is None
