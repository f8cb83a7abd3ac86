"""Tests of skbo.utils.testing: the mock posterior/model and the toy GP."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel

from skbo.models.base import Model
from skbo.posteriors import Posterior
from skbo.utils.testing import MockModel, MockPosterior, ToyGPModel


def test_mock_posterior_independent_samples(device, dtype):
    mean = torch.tensor([[1.0, 2.0]], device=device, dtype=dtype)
    var = torch.tensor([[4.0, 9.0]], device=device, dtype=dtype)
    post = MockPosterior(mean, variance=var)
    assert isinstance(post, Posterior)
    z = torch.tensor([[1.0, -1.0], [0.0, 2.0]], device=device, dtype=dtype)
    samples = post.rsample_from_base_samples(z)
    expected = torch.tensor([[[3.0, -1.0]], [[1.0, 8.0]]], device=device, dtype=dtype)
    torch.testing.assert_close(samples, expected)
    assert post.variance is var
    assert post.q == 2 and post.dtype == dtype


def test_mock_posterior_covariance_samples():
    mean = torch.zeros(2, dtype=torch.float64)
    cov = torch.tensor([[1.0, 0.5], [0.5, 1.0]], dtype=torch.float64)
    post = MockPosterior(mean, covariance=cov)
    torch.testing.assert_close(post.variance, torch.ones(2, dtype=torch.float64))
    z = torch.randn(
        20000, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64
    )
    samples = post.rsample_from_base_samples(z)
    assert samples.shape == (20000, 2)
    torch.testing.assert_close(torch.cov(samples.T), cov, atol=0.03, rtol=0)


def test_mock_posterior_given_samples_and_deterministic():
    mean = torch.zeros(3, 2)
    fixed = torch.rand(5, 3, 2)
    post = MockPosterior(mean, samples=fixed)
    assert post.rsample_from_base_samples(torch.zeros(5, 2)) is fixed
    with pytest.raises(ValueError, match="holds 5 samples but 4"):
        post.rsample_from_base_samples(torch.zeros(4, 2))
    per_point = torch.rand(3, 2)
    repeated = MockPosterior(mean, samples=per_point).rsample_from_base_samples(
        torch.zeros(4, 2)
    )
    assert repeated.shape == (4, 3, 2)
    assert torch.equal(repeated[2], per_point)
    det = MockPosterior(torch.ones(3, 2))
    assert torch.equal(det.variance, torch.zeros(3, 2))
    assert torch.equal(
        det.rsample_from_base_samples(torch.randn(4, 2)), torch.ones(4, 3, 2)
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"variance": torch.ones(3)}, "variance must have shape"),
        ({"covariance": torch.ones(2, 2)}, "covariance must have shape"),
        ({"samples": torch.ones(4, 3)}, "samples must have shape"),
    ],
)
def test_mock_posterior_shape_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MockPosterior(torch.zeros(1, 2), **kwargs)


def test_mock_posterior_base_samples_mismatch():
    with pytest.raises(ValueError, match=r"shape \(S, 2\)"):
        MockPosterior(torch.zeros(1, 2)).rsample_from_base_samples(torch.zeros(3, 1))
    with pytest.raises(ValueError, match="0-dim"):
        MockPosterior(torch.tensor(1.0))


def test_mock_model_records_input_and_joint_posterior():
    post = MockPosterior(torch.zeros(2, 3))
    model = MockModel(post)
    assert isinstance(model, Model)
    X = torch.rand(2, 1, 4)
    assert model.posterior(X) is post
    assert model.last_X is X
    assert model.joint_posterior(torch.rand(2, 4), X) is post
    assert model.last_X.shape == (2, 3, 4)


def test_toy_gp_matches_sklearn(dtype):
    rng = np.random.RandomState(0)
    X = rng.rand(12, 2)
    y = np.sin(5 * X).sum(1)
    Xq = rng.rand(6, 2)
    gp = GaussianProcessRegressor(
        ConstantKernel(1.5, "fixed") * RBF(0.4, "fixed"), alpha=1e-3, optimizer=None
    ).fit(X, y)
    mean_ref, cov_ref = gp.predict(Xq, return_cov=True)
    model = ToyGPModel(
        torch.tensor(X, dtype=dtype),
        torch.tensor(y, dtype=dtype),
        lengthscale=0.4,
        outputscale=1.5,
        noise=1e-3,
        jitter=0.0,
    )
    post = model.posterior(torch.tensor(Xq, dtype=dtype))
    tol = (
        {"rtol": 1e-8, "atol": 1e-8}
        if dtype == torch.float64
        else {"rtol": 0, "atol": 2e-3}
    )
    np.testing.assert_allclose(post.mean.detach().numpy(), mean_ref, **tol)
    np.testing.assert_allclose(post.covariance.detach().numpy(), cov_ref, **tol)
    noisy = model.posterior(torch.tensor(Xq, dtype=dtype), observation_noise=True)
    np.testing.assert_allclose(
        (noisy.variance - post.variance).detach().numpy(), 1e-3, rtol=1e-4
    )


def test_toy_gp_batches_devices_and_gradients(device):
    g = torch.Generator().manual_seed(0)
    X = torch.rand(8, 3, generator=g, dtype=torch.float64).to(device)
    model = ToyGPModel(X, X.sum(-1))
    Xq = (
        torch.rand(4, 2, 3, generator=g, dtype=torch.float64)
        .to(device)
        .requires_grad_()
    )
    post = model.posterior(Xq)
    assert post.mean.shape == (4, 2)
    assert post.covariance.shape == (4, 2, 2)
    assert post.mean.device.type == device.type
    post.mean.sum().backward()
    assert Xq.grad is not None and bool((Xq.grad != 0).any())


def test_toy_gp_input_validation():
    with pytest.raises(ValueError, match=r"train_X must have shape \(n, d\)"):
        ToyGPModel(torch.rand(5), torch.rand(5))
