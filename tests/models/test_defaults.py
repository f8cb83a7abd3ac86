"""Tests of skbo.models.defaults (priors, constraints, kernel, likelihood)."""

from __future__ import annotations

import math

import gpytorch
import pytest
import torch
from gpytorch.priors import LogNormalPrior

from skbo.models.defaults import (
    MIN_INFERRED_NOISE,
    MIN_LENGTHSCALE,
    categorical_lengthscale_prior,
    default_kernel,
    default_likelihood,
    dim_scaled_lengthscale_prior,
    lower_bound_constraint,
    sync_transformed_priors,
)
from skbo.models.kernels import (
    CategoricalKernel,
    Matern52Kernel,
    RBFKernel,
    kernel_matrix,
)


def test_priors_and_constraint():
    p = dim_scaled_lengthscale_prior(20)
    assert float(p.loc) == 0.0  # median 1 up to d = 24
    assert float(p.scale) == pytest.approx(1.0)
    # Beyond: the median follows the mode of Hvarfner et al.'s prior.
    hvarfner_mode = math.exp(math.sqrt(2) + 0.5 * math.log(100) - 3.0)
    assert math.exp(float(dim_scaled_lengthscale_prior(100).loc)) == pytest.approx(
        hvarfner_mode
    )
    assert float(categorical_lengthscale_prior(4).mode) == pytest.approx(4.0)
    with pytest.raises(ValueError, match="d must be"):
        dim_scaled_lengthscale_prior(0)
    with pytest.raises(ValueError, match="n_groups"):
        categorical_lengthscale_prior(0)
    c = lower_bound_constraint()
    assert float(c.transform(torch.tensor(-50.0))) >= MIN_LENGTHSCALE
    assert float(c.transform(c.inverse_transform(torch.tensor(0.3)))) == pytest.approx(
        0.3
    )


@pytest.mark.parametrize("kind", ["matern52", "rbf"])
def test_default_kernel_continuous(kind):
    k = default_kernel(6, kind=kind)
    assert isinstance(k, Matern52Kernel if kind == "matern52" else RBFKernel)
    assert k.active_dims is None
    prior = k.lengthscale_prior
    assert isinstance(prior, LogNormalPrior)
    assert torch.allclose(k.lengthscale, prior.mode.to(k.lengthscale).expand(1, 6))
    assert float(k.raw_lengthscale_constraint.lower_bound) == pytest.approx(
        MIN_LENGTHSCALE
    )


def test_default_kernel_mixed_and_all_categorical():
    k = default_kernel(6, categorical_groups=[[1, 2], [4, 5]])
    assert isinstance(k, gpytorch.kernels.ProductKernel)
    cont, cat = k.kernels
    assert cont.active_dims.tolist() == [0, 3]
    assert float(cont.lengthscale_prior.loc) == 0.0
    assert cat.active_dims.tolist() == [1, 2, 4, 5]
    assert torch.allclose(cat.lengthscale, torch.full((1, 2), 2.0))
    only = default_kernel(3, categorical_groups=[[0, 1, 2]])
    assert isinstance(only, CategoricalKernel)
    X = torch.rand(5, 6)
    assert torch.allclose(kernel_matrix(k, X, X), cont.dense(X, X) * cat.dense(X, X))
    assert torch.allclose(kernel_matrix(k, X, X), k(X, X).to_dense(), atol=1e-6)


def test_default_kernel_validation():
    with pytest.raises(ValueError, match="kind"):
        default_kernel(2, kind="linear")
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        default_kernel(2, categorical_groups=[[1, 2]])


def test_default_likelihood():
    lik = default_likelihood()
    assert isinstance(lik, gpytorch.likelihoods.GaussianLikelihood)
    assert float(lik.noise.detach()) == pytest.approx(math.exp(-5.0), rel=1e-6)
    assert float(lik.noise_covar.raw_noise_constraint.lower_bound) == pytest.approx(
        MIN_INFERRED_NOISE
    )
    fixed = default_likelihood(torch.tensor([0.0, 0.5], dtype=torch.float64))
    assert isinstance(fixed, gpytorch.likelihoods.FixedNoiseGaussianLikelihood)
    assert bool((fixed.noise > 0).all()) and float(fixed.noise[1]) == 0.5


def test_sync_transformed_priors_follows_dtype():
    kernel = default_kernel(3).double()
    prior = kernel.lengthscale_prior
    sync_transformed_priors(kernel)
    assert prior.loc.dtype == torch.float64 and prior.scale.dtype == torch.float64
    kernel = kernel.float()
    sync_transformed_priors(kernel)
    assert prior.loc.dtype == torch.float32
