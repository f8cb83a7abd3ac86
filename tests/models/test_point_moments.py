"""The fused single-point posterior path agrees with the general one."""

from __future__ import annotations

import pytest
import torch
from gpytorch.kernels import MaternKernel, ScaleKernel

from skbo.models import SingleTaskGP, fit_gp


def _data(
    dtype: torch.dtype, n: int = 30
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    X = torch.rand(n, 3, generator=g, dtype=dtype)
    a = torch.nn.functional.one_hot(torch.randint(3, (n,), generator=g), 3).to(dtype)
    b = torch.nn.functional.one_hot(torch.randint(2, (n,), generator=g), 2).to(dtype)
    Xm = torch.cat([X, a, b], -1)
    Y = torch.sin(3 * X.sum(-1)) + a[:, 0] - b[:, 1]
    # Candidates: continuous columns and *relaxed* one-hot columns.
    Xb = torch.rand(7, 1, 8, generator=g, dtype=dtype)
    return Xm, Y, Xb


CASES = {
    "matern": ({}, slice(0, 3)),
    "rbf": ({"kernel": "rbf"}, slice(0, 3)),
    "matern-x-categorical": ({"categorical_groups": [[3, 4, 5], [6, 7]]}, slice(0, 8)),
    "rbf-x-categorical": (
        {"categorical_groups": [[3, 4, 5], [6, 7]], "kernel": "rbf"},
        slice(0, 8),
    ),
    "categorical-only": ({"categorical_groups": [[0, 1, 2], [3, 4]]}, slice(3, 8)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_fused_q1_moments_and_gradients_match(case: str, dtype: torch.dtype) -> None:
    kwargs, cols = CASES[case]
    Xm, Y, Xb = _data(dtype)
    model = SingleTaskGP(Xm[:, cols], Y, **kwargs)
    fit_gp(model)
    pred = model.predictor()
    assert pred._point is not None
    X = Xb[..., cols].clone().requires_grad_(True)
    weights = torch.linspace(0.5, 2.0, 7, dtype=dtype)
    f64 = dtype == torch.float64
    tol = {"rtol": 1e-9, "atol": 1e-10} if f64 else {"rtol": 1e-3, "atol": 1e-4}
    results = []
    for fused in (True, False):
        path = pred._point
        if not fused:
            pred._point = None
        try:
            mean, cov = pred.moments(X)
        finally:
            pred._point = path
        loss = (mean.squeeze(-1) * weights).sum() + (cov.reshape(-1) / weights).sum()
        results.append((mean, cov, torch.autograd.grad(loss, X)[0]))
    for fused, plain in zip(*results, strict=True):
        torch.testing.assert_close(fused, plain, **tol)


def test_fused_path_gradcheck() -> None:
    Xm, Y, Xb = _data(torch.float64)
    model = SingleTaskGP(Xm, Y, categorical_groups=[[3, 4, 5], [6, 7]])
    fit_gp(model)
    pred = model.predictor()

    def moments(X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return pred.moments(X)

    X = Xb[:3].clone().requires_grad_(True)
    assert torch.autograd.gradcheck(moments, (X,))


def test_other_kernels_take_the_general_path() -> None:
    Xm, Y, _ = _data(torch.float64)
    kernel = ScaleKernel(MaternKernel(nu=2.5, ard_num_dims=3))
    model = SingleTaskGP(Xm[:, :3], Y, covar_module=kernel)
    fit_gp(model)
    assert model.predictor()._point is None
    post = model.posterior(torch.rand(4, 1, 3, dtype=torch.float64))
    assert post.mean.shape == (4, 1)
