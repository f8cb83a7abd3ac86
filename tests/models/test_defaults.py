"""Tests of skbo.models.defaults (priors, constraints, kernel, likelihood)."""

from __future__ import annotations

import math

import gpytorch
import pytest
import torch
from gpytorch.priors import LogNormalPrior

from skbo.models import SingleTaskGP
from skbo.models.defaults import (
    MIN_INFERRED_NOISE,
    MIN_INFERRED_NOISE_FLOAT32,
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


@pytest.mark.parametrize(
    ("dtype", "floor"),
    [
        (None, MIN_INFERRED_NOISE),
        (torch.float64, MIN_INFERRED_NOISE),
        (torch.float32, MIN_INFERRED_NOISE_FLOAT32),
    ],
)
def test_noise_floor_follows_the_precision(dtype, floor):
    assert MIN_INFERRED_NOISE == 1e-6 and MIN_INFERRED_NOISE_FLOAT32 == 1e-4
    lik = default_likelihood(dtype=dtype)
    bound = float(lik.noise_covar.raw_noise_constraint.lower_bound)
    assert bound == pytest.approx(floor)
    X = torch.rand(8, 2, dtype=dtype or torch.float64)
    model = SingleTaskGP(X, X.sum(-1))
    bound = float(model.likelihood.noise_covar.raw_noise_constraint.lower_bound)
    assert bound == pytest.approx(floor)


def test_sync_transformed_priors_follows_dtype():
    kernel = default_kernel(3).double()
    prior = kernel.lengthscale_prior
    sync_transformed_priors(kernel)
    assert prior.loc.dtype == torch.float64 and prior.scale.dtype == torch.float64
    kernel = kernel.float()
    sync_transformed_priors(kernel)
    assert prior.loc.dtype == torch.float32


def test_outputscale_option_wraps_the_default_kernel_and_is_fitted() -> None:
    from skbo.models import SingleTaskGP, fit_gp

    k = default_kernel(3, categorical_groups=[[1, 2]], outputscale=True)
    assert isinstance(k, gpytorch.kernels.ScaleKernel)
    assert isinstance(k.base_kernel, gpytorch.kernels.ProductKernel)
    assert float(k.outputscale.detach()) == pytest.approx(1.0)
    assert isinstance(k.outputscale_prior, gpytorch.priors.GammaPrior)
    g = torch.Generator().manual_seed(0)
    X = torch.rand(25, 2, generator=g, dtype=torch.float64)
    Y = 0.1 * torch.sin(6 * X).sum(-1)
    model = SingleTaskGP(X, Y, outputscale=True)
    result = fit_gp(model)
    assert not result.fallback
    assert float(model.covar_module.outputscale.detach()) != pytest.approx(1.0)
    post = model.posterior(X[:4].unsqueeze(-2))
    assert bool(torch.isfinite(post.mean).all() and (post.variance > 0).all())
    with pytest.raises(ValueError, match="covar_module or categorical_groups"):
        SingleTaskGP(X, Y, covar_module=default_kernel(2), outputscale=True)


@pytest.mark.parametrize("groups", [None, [[2, 3]]])
def test_outputscale_models_take_the_fused_paths_with_the_same_numbers(groups) -> None:
    from skbo.acquisition import LogExpectedImprovement, qLogNoisyExpectedImprovement
    from skbo.models import SingleTaskGP, fit_gp

    g = torch.Generator().manual_seed(1)
    X = torch.rand(20, 4, generator=g, dtype=torch.float64)
    if groups:
        X[:, 2:] = torch.nn.functional.one_hot(torch.arange(20) % 2, 2).double()
    model = SingleTaskGP(
        X, 3.0 * torch.cos(4 * X).sum(-1), outputscale=True, categorical_groups=groups
    )
    fit_gp(model)
    assert float(model.covar_module.outputscale.detach()) != pytest.approx(1.0)
    Xc = torch.rand(6, 1, 4, generator=g, dtype=torch.float64)
    if groups:  # a relaxed categorical column: the prior variance is not 1
        Xc[:, 0, 2] = 0.3
        Xc[:, 0, 3] = 0.6
    # Point path (q = 1) and the generic path (two points jointly) agree.
    point = model.posterior(Xc)
    joint = model.posterior(torch.cat([Xc, Xc.roll(1, 0)], dim=-2))
    torch.testing.assert_close(point.mean[..., 0], joint.mean[..., 0])
    torch.testing.assert_close(point.variance[..., 0], joint.variance[..., 0])
    acqfs = (
        LogExpectedImprovement(model, best_f=model.train_Y.max()),
        qLogNoisyExpectedImprovement(model, X_baseline=X),
    )
    fast = [acqf.value_and_grad(Xc) for acqf in acqfs]
    model.predictor()._point = None  # the cached predictor: generic paths from here
    for acqf, out in zip(acqfs, fast, strict=True):
        assert out is not None
        x = Xc.clone().requires_grad_(True)
        value = acqf(x)
        (grad,) = torch.autograd.grad(value.sum(), x)
        torch.testing.assert_close(out[0], value.detach(), rtol=1e-9, atol=1e-10)
        torch.testing.assert_close(out[1], grad, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("bad", ["yes", 1, None])
def test_outputscale_must_be_a_bool(bad) -> None:
    from skbo.models import SingleTaskGP

    with pytest.raises(TypeError, match="outputscale must be a bool"):
        default_kernel(2, outputscale=bad)
    X = torch.rand(5, 2, dtype=torch.float64)
    with pytest.raises(TypeError, match="outputscale must be a bool"):
        SingleTaskGP(X, X.sum(-1), outputscale=bad)
