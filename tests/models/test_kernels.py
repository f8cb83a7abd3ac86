"""Tests of skbo.models.kernels."""

from __future__ import annotations

import math

import gpytorch
import numpy as np
import pytest
import torch
from gpytorch.constraints import GreaterThan
from scipy.spatial.distance import cdist

from skbo.exceptions import UnsupportedError
from skbo.models._fused import _StationaryMatrix
from skbo.models.kernels import (
    CategoricalKernel,
    LevelwiseKernel,
    Matern52Kernel,
    MixedKernel,
    RBFKernel,
    cross_kernel,
    kernel_diagonal,
    kernel_matrix,
)


def _np_matern52(X1, X2, ls):
    r = cdist(X1 / ls, X2 / ls)
    return (1 + math.sqrt(5) * r + 5 / 3 * r**2) * np.exp(-math.sqrt(5) * r)


def _np_rbf(X1, X2, ls):
    return np.exp(-0.5 * cdist(X1 / ls, X2 / ls) ** 2)


@pytest.mark.parametrize(
    ("cls", "ref"), [(Matern52Kernel, _np_matern52), (RBFKernel, _np_rbf)]
)
def test_stationary_kernels_match_closed_form(
    cls, ref, dtype, device, global_random_seed
):
    rng = np.random.RandomState(global_random_seed)
    X1, X2 = rng.rand(7, 3), rng.rand(5, 3)
    ls = np.array([0.3, 0.7, 1.5])
    k = cls(3).to(device=device, dtype=dtype)
    k.lengthscale = torch.tensor(ls, dtype=dtype)
    t = {"dtype": dtype, "device": device}
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    K = k.dense(torch.tensor(X1, **t), torch.tensor(X2, **t))
    np.testing.assert_allclose(K.detach().cpu().numpy(), ref(X1, X2, ls), atol=tol)
    X1t = torch.tensor(X1, **t)
    Ks = k.dense(X1t, X1t)
    np.testing.assert_allclose(Ks.detach().cpu().numpy(), ref(X1, X1, ls), atol=tol)
    assert torch.equal(Ks.detach().diagonal(), torch.ones(7, **t))
    # gpytorch's own call path (full and diagonal) gives the same numbers
    np.testing.assert_allclose(
        k(X1t, X1t).to_dense().detach().cpu().numpy(), ref(X1, X1, ls), atol=tol
    )
    diag = k(X1t, X1t, diag=True).detach()
    assert torch.allclose(diag, torch.ones(7, **t))


@pytest.mark.parametrize(("ours", "nu"), [(Matern52Kernel, 2.5), (RBFKernel, None)])
def test_matches_gpytorch_kernels(ours, nu):
    X = torch.rand(6, 2, dtype=torch.float64)
    k = ours(2).double()
    ref = (
        gpytorch.kernels.MaternKernel(nu=nu, ard_num_dims=2)
        if nu
        else gpytorch.kernels.RBFKernel(ard_num_dims=2)
    ).double()
    k.lengthscale = ref.lengthscale = torch.tensor([[0.2, 0.9]], dtype=torch.float64)
    assert torch.allclose(k.dense(X, X[:3]), ref(X, X[:3]).to_dense(), atol=1e-12)


@pytest.mark.parametrize("matern", [True, False])
def test_fused_kernel_gradients(matern):
    g = torch.Generator().manual_seed(0)
    z1 = torch.randn(4, 3, dtype=torch.float64, generator=g, requires_grad=True)
    z2 = torch.randn(5, 3, dtype=torch.float64, generator=g, requires_grad=True)
    zb = torch.randn(2, 3, 3, dtype=torch.float64, generator=g, requires_grad=True)
    f = _StationaryMatrix.apply
    assert torch.autograd.gradcheck(lambda a, b: f(a, b, matern, False), (z1, z2))
    assert torch.autograd.gradcheck(lambda a: f(a, a, matern, True), (z1,))
    assert torch.autograd.gradcheck(lambda a, b: f(a, b, matern, False), (zb, z2))
    assert torch.autograd.gradcheck(lambda a: f(a, a, matern, True), (zb,))


def test_gradient_finite_at_coincident_points(dtype):
    k = Matern52Kernel(2).to(dtype)
    X = torch.rand(5, 2, dtype=dtype)
    x = X[:2].clone().requires_grad_(True)
    k.dense(x, X).sum().backward()
    assert torch.isfinite(x.grad).all()
    xd = X[:2].clone().requires_grad_(True)
    k(xd, X[:2].clone(), diag=True).sum().backward()
    assert torch.isfinite(xd.grad).all()


def test_lengthscale_gradient_matches_autograd_reference():
    X = torch.rand(8, 3, dtype=torch.float64)
    k = Matern52Kernel(3).double()
    ref = gpytorch.kernels.MaternKernel(nu=2.5, ard_num_dims=3).double()
    k.lengthscale = ref.lengthscale = torch.tensor(
        [[0.3, 0.5, 0.8]], dtype=torch.float64
    )
    G = torch.rand(8, 8, dtype=torch.float64)
    (k.dense(X, X) * G).sum().backward()
    (ref(X, X).to_dense() * G).sum().backward()
    # both use gpytorch's default (softplus) constraint: same raw parametrization
    assert torch.allclose(k.raw_lengthscale.grad, ref.raw_lengthscale.grad, rtol=1e-8)


def test_categorical_kernel_is_exponentiated_hamming_on_one_hots(dtype):
    k = CategoricalKernel([[0, 1, 2], [3, 4]]).to(dtype)
    ls = torch.tensor([[0.5, 2.0]], dtype=dtype)
    k.lengthscale = ls
    cats = torch.tensor([[0, 0], [1, 0], [2, 1], [0, 1]])
    X = torch.cat(
        [
            torch.nn.functional.one_hot(cats[:, 0], 3),
            torch.nn.functional.one_hot(cats[:, 1], 2),
        ],
        -1,
    ).to(dtype)
    K = k.dense(X, X)
    ham = (cats.unsqueeze(1) != cats.unsqueeze(0)).to(dtype)
    expected = torch.exp(-(ham / ls.reshape(1, 1, 2)).sum(-1))
    assert torch.allclose(K, expected, atol=1e-6)
    assert torch.allclose(k(X, X).to_dense(), expected, atol=1e-6)
    assert torch.allclose(k(X, X, diag=True), torch.ones(4, dtype=dtype))


def test_categorical_kernel_psd_and_smooth_on_relaxed_inputs(global_random_seed):
    g = torch.Generator().manual_seed(global_random_seed)
    k = CategoricalKernel([[1, 2, 3], [4, 5]]).double()
    k.lengthscale = torch.tensor([[0.1, 0.7]], dtype=torch.float64)
    X = torch.rand(40, 6, dtype=torch.float64, generator=g)
    X[:, 1:4] /= X[:, 1:4].sum(-1, keepdim=True)
    X[:, 4:6] /= X[:, 4:6].sum(-1, keepdim=True)
    K = k.dense(X, X)
    assert torch.allclose(K, K.mT)
    assert torch.linalg.eigvalsh(K).min() > -1e-10
    x = X[:3].clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a: k.dense(a, X[3:9]), (x,))


def test_categorical_kernel_validation():
    with pytest.raises(ValueError, match="non-empty"):
        CategoricalKernel([])
    with pytest.raises(ValueError, match="non-empty"):
        CategoricalKernel([[0, 1], []])
    with pytest.raises(ValueError, match="distinct"):
        CategoricalKernel([[0, 1], [1, 2]])


def test_kernel_matrix_generic_kernel_and_batches(dtype):
    k = gpytorch.kernels.ScaleKernel(gpytorch.kernels.MaternKernel(nu=2.5)).to(dtype)
    Xtr = torch.rand(7, 2, dtype=dtype)
    Xb = torch.rand(4, 3, 2, dtype=dtype)
    K = kernel_matrix(k, Xb, Xtr)
    assert K.shape == (4, 3, 7)
    assert torch.allclose(K[1], k(Xb[1], Xtr).to_dense(), atol=1e-6)
    ours = Matern52Kernel(2).to(dtype)
    assert kernel_matrix(ours, Xb, Xtr).shape == (4, 3, 7)
    assert kernel_matrix(ours, Xb, Xb).shape == (4, 3, 3)


def test_last_dim_is_batch_unsupported():
    k = RBFKernel(2)
    with pytest.raises(UnsupportedError, match="last_dim_is_batch"):
        k.forward(torch.rand(3, 2), torch.rand(3, 2), last_dim_is_batch=True)


def test_untransformed_constraint_allowed():
    k = Matern52Kernel(2, lengthscale_constraint=GreaterThan(0.1, transform=None))
    k.lengthscale = 0.5
    assert torch.allclose(k.lengthscale, torch.full((1, 2), 0.5))


def _kernels(dtype):
    matern = Matern52Kernel(3).to(dtype)
    matern.lengthscale = torch.tensor([[0.3, 0.7, 1.1]])
    rbf = RBFKernel(3).to(dtype)
    rbf.lengthscale = torch.tensor([[0.5, 0.2, 0.9]])
    cat = CategoricalKernel([[1, 2]]).to(dtype)
    cat.lengthscale = torch.tensor([[0.8]])
    cont = Matern52Kernel(1, active_dims=[0]).to(dtype)
    scaled = gpytorch.kernels.ScaleKernel(gpytorch.kernels.RBFKernel()).to(dtype)
    scaled.outputscale = 2.5
    level = LevelwiseKernel([0], [[1, 2]]).to(dtype)
    level.lengthscale = torch.tensor([[[0.4]], [[1.3]]])
    mixed = MixedKernel(Matern52Kernel(1, active_dims=[0]), cat, level).to(dtype)
    return [matern, rbf, cat, cont * cat, scaled, level, mixed]


@pytest.mark.parametrize("which", range(7))
def test_kernel_diagonal_matches_the_matrix_diagonal(which, dtype):
    kernel = _kernels(dtype)[which]
    X = torch.rand(2, 4, 3, generator=torch.Generator().manual_seed(0)).to(dtype)
    expected = kernel_matrix(kernel, X, X).diagonal(dim1=-2, dim2=-1)
    torch.testing.assert_close(kernel_diagonal(kernel, X), expected)


@pytest.mark.parametrize("which", range(7))
def test_cross_kernel_matches_kernel_matrix_with_gradient(which, dtype):
    kernel = _kernels(dtype)[which]
    g = torch.Generator().manual_seed(1)
    X2 = torch.rand(6, 3, generator=g).to(dtype)
    X1 = torch.rand(2, 4, 3, generator=g).to(dtype)
    A, B = X1.clone().requires_grad_(True), X1.clone().requires_grad_(True)
    K = cross_kernel(kernel, X2)(A)
    K_ref = kernel_matrix(kernel, B, X2)
    tol = {"rtol": 1e-4, "atol": 1e-5} if dtype == torch.float32 else {}
    torch.testing.assert_close(K, K_ref, **tol)
    W = torch.rand(K.shape, generator=g).to(dtype)
    (gA,) = torch.autograd.grad((K * W).sum(), A)
    (gB,) = torch.autograd.grad((K_ref * W).sum(), B)
    torch.testing.assert_close(gA, gB, **tol)


@pytest.mark.parametrize("matern", [True, False])
def test_levelwise_kernel_matches_brute_force(matern, dtype):
    g = torch.Generator().manual_seed(3)
    cont = torch.rand(7, 2, generator=g).to(dtype)
    a = torch.randint(3, (7,), generator=g)
    b = torch.randint(2, (7,), generator=g)
    X = torch.cat(
        [
            cont[:, :1],
            torch.nn.functional.one_hot(a, 3).to(dtype),
            cont[:, 1:],
            torch.nn.functional.one_hot(b, 2).to(dtype),
        ],
        -1,
    )
    k = LevelwiseKernel([0, 4], [[1, 2, 3], [5, 6]], matern=matern).to(dtype)
    ls = torch.rand(5, 1, 2, generator=g).to(dtype) + 0.2
    k.lengthscale = ls
    K = k.dense(X, X).detach()
    profile = _np_matern52 if matern else _np_rbf
    c = cont.double().numpy()
    expected = np.zeros((7, 7))
    for i in range(7):
        for j in range(7):
            for level, (col, same) in enumerate(
                [(0, a), (1, a), (2, a), (0, b), (1, b)]
            ):
                if int(same[i]) == col and int(same[j]) == col:
                    ell = ls[level, 0].double().numpy()
                    expected[i, j] += profile(c[i : i + 1], c[j : j + 1], ell)[0, 0]
    expected /= 2
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    np.testing.assert_allclose(K.double().numpy(), expected, atol=tol)
    assert torch.linalg.eigvalsh(K.double()).min() > -1e-10


def test_mixed_kernel_psd_unit_diagonal_and_relaxed_inputs(global_random_seed):
    g = torch.Generator().manual_seed(global_random_seed)
    cat = CategoricalKernel([[2, 3, 4]])
    level = LevelwiseKernel([0, 1], [[2, 3, 4]])
    k = MixedKernel(Matern52Kernel(2, active_dims=[0, 1]), cat, level).double()
    hot = torch.nn.functional.one_hot(torch.randint(3, (9,), generator=g), 3)
    X = torch.cat([torch.rand(9, 2, generator=g), hot], -1).double()
    K = k.dense(X, X)
    torch.testing.assert_close(K.diagonal(), torch.ones(9, dtype=torch.float64))
    assert torch.linalg.eigvalsh(K).min() > -1e-10
    relaxed = torch.cat(
        [torch.rand(6, 2, generator=g), torch.rand(6, 3, generator=g).softmax(-1)], -1
    ).double()
    assert torch.linalg.eigvalsh(k.dense(relaxed, relaxed)).min() > -1e-10
    with pytest.raises(ValueError, match="weight"):
        MixedKernel(Matern52Kernel(2), cat, level, weight=1.5)
    with pytest.raises(ValueError, match="continuous column"):
        LevelwiseKernel([], [[0, 1]])
