"""Tests of skbo.models.wrappers (plug-in adapter for gpytorch models)."""

from __future__ import annotations

import gpytorch
import pytest
import torch

from skbo.exceptions import InputDataError, UnsupportedError
from skbo.models import GPyTorchModel, Model, SingleTaskGP
from skbo.models.transforms import Standardize


class _ExactModel(gpytorch.models.ExactGP):
    def __init__(self, X, y, likelihood=None):
        super().__init__(X, y, likelihood or gpytorch.likelihoods.GaussianLikelihood())
        self.mean_module = gpytorch.means.ConstantMean()
        self.covar_module = gpytorch.kernels.ScaleKernel(gpytorch.kernels.RBFKernel())

    def forward(self, x):
        return gpytorch.distributions.MultivariateNormal(
            self.mean_module(x), self.covar_module(x)
        )


class _VariationalModel(gpytorch.models.ApproximateGP):
    def __init__(self, inducing):
        dist = gpytorch.variational.CholeskyVariationalDistribution(inducing.shape[0])
        strategy = gpytorch.variational.VariationalStrategy(self, inducing, dist)
        super().__init__(strategy)
        self.mean_module = gpytorch.means.ZeroMean()
        self.covar_module = gpytorch.kernels.RBFKernel()

    def forward(self, x):
        return gpytorch.distributions.MultivariateNormal(
            self.mean_module(x), self.covar_module(x)
        )


class _TwoOutputs(gpytorch.models.ExactGP):
    def __init__(self, X, y):
        lik = gpytorch.likelihoods.MultitaskGaussianLikelihood(num_tasks=2)
        super().__init__(X, y, lik)
        self.mean_module = gpytorch.means.MultitaskMean(
            gpytorch.means.ConstantMean(), num_tasks=2
        )
        self.covar_module = gpytorch.kernels.MultitaskKernel(
            gpytorch.kernels.RBFKernel(), num_tasks=2
        )

    def forward(self, x):
        return gpytorch.distributions.MultitaskMultivariateNormal(
            self.mean_module(x), self.covar_module(x)
        )


def _data(n=10, d=2, dtype=torch.float64):
    g = torch.Generator().manual_seed(0)
    X = torch.rand(n, d, dtype=dtype, generator=g)
    return X, torch.sin(3 * X).sum(-1)


def test_wrapping_skbo_gp_matches_its_posterior():
    X, Y = _data()
    gp = SingleTaskGP(X, Y)
    wrapped = GPyTorchModel(gp, outcome_transform=gp.outcome_transform)
    assert isinstance(wrapped, Model)
    Xq = torch.rand(5, 3, 2, dtype=torch.float64)
    a, b = wrapped.posterior(Xq), gp.posterior(Xq)
    assert torch.allclose(a.mean, b.mean, atol=1e-8)
    assert torch.allclose(a.covariance, b.covariance, atol=1e-8)
    an, bn = (
        wrapped.posterior(Xq, observation_noise=True),
        gp.posterior(Xq, observation_noise=True),
    )
    assert torch.allclose(an.variance, bn.variance, atol=1e-8)


def test_exact_gp_posterior_shapes_and_gradients(dtype):
    X, Y = _data(dtype=dtype)
    model = _ExactModel(X, Y).to(dtype)
    wrapped = GPyTorchModel(model)
    Xq = torch.rand(4, 2, 2, dtype=dtype, requires_grad=True)
    post = wrapped.posterior(Xq)
    assert post.mean.shape == (4, 2) and post.covariance.shape == (4, 2, 2)
    (post.mean + post.variance).sum().backward()
    assert Xq.grad is not None and torch.isfinite(Xq.grad).all()
    model.eval()
    with torch.no_grad():
        ref = model(Xq[1].detach())
    assert torch.allclose(post.mean[1], ref.mean, atol=1e-5)
    assert torch.allclose(wrapped(Xq).detach(), post.mean.detach())
    joint = wrapped.joint_posterior(X[:3], Xq.detach())
    assert joint.mean.shape == (4, 5)


def test_fast_pred_var_is_close():
    X, Y = _data(n=30)
    model = _ExactModel(X, Y).double()
    Xq = torch.rand(6, 1, 2, dtype=torch.float64)
    exact = GPyTorchModel(model).posterior(Xq)
    fast = GPyTorchModel(model, fast_pred_var=True).posterior(Xq)
    assert torch.allclose(exact.mean, fast.mean, atol=1e-6)
    assert torch.allclose(exact.variance, fast.variance, rtol=0.05, atol=1e-4)


def test_approximate_gp():
    X, _ = _data()
    model = _VariationalModel(X[:5].clone()).double()
    wrapped = GPyTorchModel(model, gpytorch.likelihoods.GaussianLikelihood().double())
    Xq = torch.rand(3, 2, 2, dtype=torch.float64, requires_grad=True)
    post = wrapped.posterior(Xq, observation_noise=True)
    assert post.mean.shape == (3, 2)
    post.variance.sum().backward()
    assert torch.isfinite(Xq.grad).all()


def test_fixed_noise_likelihood_and_outcome_transform():
    X, Y = _data()
    lik = gpytorch.likelihoods.FixedNoiseGaussianLikelihood(
        torch.full((10,), 0.05, dtype=torch.float64)
    )
    model = _ExactModel(X, Y, lik).double()
    tf = Standardize(torch.tensor([0.0, 2.0, 4.0], dtype=torch.float64))
    wrapped = GPyTorchModel(model, outcome_transform=tf)
    Xq = torch.rand(4, 1, 2, dtype=torch.float64)
    gap = (
        wrapped.posterior(Xq, observation_noise=True).variance
        - wrapped.posterior(Xq).variance
    )
    assert torch.allclose(gap, torch.full_like(gap, 0.05 * 4.0), rtol=1e-6)


def test_validation():
    X, Y = _data()
    with pytest.raises(TypeError, match=r"gpytorch\.models\.GP"):
        GPyTorchModel(torch.nn.Linear(2, 1))
    with pytest.raises(TypeError, match="likelihood"):
        GPyTorchModel(_ExactModel(X, Y), likelihood=torch.nn.Linear(2, 1))
    with pytest.raises(TypeError, match="outcome_transform"):
        GPyTorchModel(_ExactModel(X, Y), outcome_transform=object())
    wrapped = GPyTorchModel(_ExactModel(X, Y).double())
    with pytest.raises(InputDataError, match=r"\(\*batch, q, d\)"):
        wrapped.posterior(torch.rand(2, dtype=torch.float64))
    bare = GPyTorchModel(_VariationalModel(X[:4].clone()).double())
    with pytest.raises(ValueError, match="needs a likelihood"):
        bare.posterior(X[:2], observation_noise=True)
    multi = GPyTorchModel(_TwoOutputs(X, torch.stack([Y, Y], -1)).double())
    with pytest.raises(UnsupportedError, match="single-output"):
        multi.posterior(X[:2])
