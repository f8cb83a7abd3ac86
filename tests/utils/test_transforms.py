"""Tests of skbo.utils.transforms: t-batch and pending-point decorators, scaling."""

from __future__ import annotations

import pytest
import torch

from skbo.exceptions import SkboError
from skbo.utils.transforms import (
    concatenate_pending_points,
    match_batch_shape,
    normalize,
    t_batch_mode_transform,
    unnormalize,
)


class SumAcq:
    """Returns the sum of each t-batch (shape-correct)."""

    def __init__(self, X_pending=None):
        self.X_pending = X_pending
        self.seen = None

    @concatenate_pending_points
    @t_batch_mode_transform()
    def forward(self, X):
        self.seen = X
        return X.sum(dim=(-2, -1))


class SingleAcq:
    @t_batch_mode_transform(expected_q=1)
    def forward(self, X):
        return X.sum(dim=(-2, -1))


class BadShapeAcq:
    def __init__(self, check=True):
        self.forward = t_batch_mode_transform(assert_output_shape=check)(
            lambda self_, X: X.sum()
        ).__get__(self)


def test_two_d_input_gives_zero_dim(device, dtype):
    X = torch.ones(3, 2, device=device, dtype=dtype)
    acq = SumAcq()
    out = acq.forward(X)
    assert out.shape == ()
    assert acq.seen.shape == (1, 3, 2)
    assert out.item() == 6.0


@pytest.mark.parametrize("shape", [(4, 3, 2), (5, 4, 3, 2)])
def test_batched_input_gives_batch_shape(shape, dtype):
    out = SumAcq().forward(torch.ones(shape, dtype=dtype))
    assert out.shape == shape[:-2]


def test_expected_q_is_checked():
    assert SingleAcq().forward(torch.ones(7, 1, 2)).shape == (7,)
    with pytest.raises(
        ValueError, match=r"q=1 .*got X of shape \(7, 2, 2\).*q-variant"
    ):
        SingleAcq().forward(torch.ones(7, 2, 2))


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        ([[0.0, 1.0]], TypeError, "floating-point torch.Tensor"),
        (torch.ones(2, 2, dtype=torch.int64), TypeError, "torch.int64"),
        (torch.ones(3), ValueError, r"got shape \(3,\)"),
    ],
)
def test_bad_inputs(X, error, match):
    with pytest.raises(error, match=match):
        SumAcq().forward(X)


def test_output_shape_is_asserted():
    with pytest.raises(
        SkboError, match=r"returned shape \(\), expected the t-batch shape \(4,\)"
    ):
        BadShapeAcq().forward(torch.ones(4, 1, 2))
    assert BadShapeAcq(check=False).forward(torch.ones(4, 1, 2)).shape == ()


def test_pending_points_are_appended_to_every_t_batch(device, dtype):
    pending = torch.full((2, 3), 0.5, device=device, dtype=torch.float64)
    acq = SumAcq(X_pending=pending)
    X = torch.zeros(4, 1, 3, device=device, dtype=dtype)
    out = acq.forward(X)
    assert acq.seen.shape == (4, 3, 3)
    assert acq.seen.dtype == dtype
    torch.testing.assert_close(acq.seen[:, 1:], pending.to(dtype).expand(4, 2, 3))
    torch.testing.assert_close(out, torch.full((4,), 3.0, device=device, dtype=dtype))
    # 2-D input: appended, then lifted.
    assert acq.forward(torch.zeros(1, 3, device=device, dtype=dtype)).shape == ()
    assert acq.seen.shape == (1, 3, 3)


def test_no_pending_leaves_X_untouched():
    acq = SumAcq()
    X = torch.rand(2, 1, 3)
    acq.forward(X)
    assert acq.seen is X


def test_pending_dimension_mismatch():
    acq = SumAcq(X_pending=torch.zeros(1, 4))
    with pytest.raises(ValueError, match="d=3 columns but X_pending has shape"):
        acq.forward(torch.zeros(2, 1, 3))


def test_match_batch_shape():
    X = torch.rand(2, 3)
    Y = torch.rand(5, 6, 4, 3)
    out = match_batch_shape(X, Y)
    assert out.shape == (5, 6, 2, 3)
    assert torch.equal(out[4, 5], X)


def test_normalize_roundtrip(device, dtype):
    bounds = torch.tensor(
        [[-1.0, 10.0], [3.0, 20.0]], device=device, dtype=torch.float64
    )
    X = torch.tensor(
        [[-1.0, 10.0], [3.0, 20.0], [1.0, 12.5]], device=device, dtype=dtype
    )
    U = normalize(X, bounds)
    assert U.dtype == dtype
    expected = torch.tensor(
        [[0.0, 0.0], [1.0, 1.0], [0.5, 0.25]], device=device, dtype=dtype
    )
    torch.testing.assert_close(U, expected)
    torch.testing.assert_close(unnormalize(U, bounds), X)


@pytest.mark.parametrize(
    ("bounds", "match"),
    [
        (torch.zeros(3, 2), r"shape \(2, d\)"),
        (torch.zeros(2, 3), r"shape \(2, d\)"),
        (torch.tensor([[0.0, 1.0], [1.0, 1.0]]), "bounds\\[0\\] < bounds\\[1\\]"),
    ],
)
@pytest.mark.parametrize("fn", [normalize, unnormalize])
def test_bad_bounds(fn, bounds, match):
    with pytest.raises(ValueError, match=match):
        fn(torch.zeros(4, 2), bounds)
