"""Tests of skbo.models._prediction helpers."""

from __future__ import annotations

import pytest
import torch


def test_prior_mean_matches_the_mean_module() -> None:
    from gpytorch.means import ConstantMean, ZeroMean

    from skbo.models._prediction import prior_mean

    X = torch.rand(2, 5, 3, dtype=torch.float64)
    constant = ConstantMean().double()
    constant.constant.data.fill_(0.7)
    out = prior_mean(constant, X)
    torch.testing.assert_close(out, constant(X))
    out.sum().backward()
    assert constant.constant.grad is not None
    assert float(constant.constant.grad) == pytest.approx(10.0)
    torch.testing.assert_close(prior_mean(ZeroMean(), X), torch.zeros(2, 5).double())
