"""Tests of skbo.models.transforms (outcome standardization)."""

from __future__ import annotations

import pytest
import torch

from skbo.models.transforms import Standardize


def test_forward_and_untransform_round_trip(dtype, device):
    Y = torch.tensor([1.0, 4.0, 2.0, 9.0], dtype=dtype, device=device)
    tf = Standardize(Y)
    Ys, Yvar = tf(Y)
    assert Yvar is None
    assert Ys.dtype == dtype and Ys.device == device
    assert torch.allclose(
        Ys.mean(), torch.zeros((), dtype=dtype, device=device), atol=1e-6
    )
    assert torch.allclose(Ys.std(), torch.ones((), dtype=dtype, device=device))
    assert torch.allclose(tf.untransform(Ys), Y)


def test_noise_and_covariance_scale_with_variance(dtype):
    Y = torch.tensor([0.0, 2.0, 4.0], dtype=dtype)
    tf = Standardize(Y)
    assert float(tf.std) == pytest.approx(2.0)
    _, Yvar = tf(Y, torch.full((3,), 4.0, dtype=dtype))
    assert torch.allclose(Yvar, torch.ones(3, dtype=dtype))
    cov = torch.eye(2, dtype=dtype).expand(5, 2, 2)
    assert torch.allclose(tf.untransform_covariance(cov), 4.0 * cov)


@pytest.mark.parametrize("Y", [[3.0], [2.5, 2.5, 2.5], [1e6, 1e6, 1e6]])
def test_degenerate_outcomes_keep_unit_scale(Y, dtype):
    tf = Standardize(torch.tensor(Y, dtype=dtype))
    assert float(tf.std) == 1.0
    assert float(tf.mean) == pytest.approx(Y[0])


def test_buffers_follow_to():
    tf = Standardize(torch.tensor([1.0, 2.0]))
    tf = tf.to(torch.float64)
    assert tf.mean.dtype == torch.float64 and tf.std.dtype == torch.float64
    assert set(tf.state_dict()) == {"mean", "std"}


@pytest.mark.parametrize("Y", [torch.zeros(0), torch.zeros(3, 1), [1.0, 2.0]])
def test_bad_input(Y):
    with pytest.raises(ValueError, match="1-D tensor"):
        Standardize(Y)  # type: ignore[arg-type]
