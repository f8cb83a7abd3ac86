"""Tests of skbo.optim.lbfgsb: the joint multi-start L-BFGS-B runs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.optimize import minimize
from torch import Tensor

from skbo.optim.lbfgsb import optimize_restarts, screen_and_refine

C = torch.tensor([0.3, 0.7, 0.55], dtype=torch.float64)


def smooth(X: Tensor) -> Tensor:
    """A smooth non-quadratic surface on the unit cube, maximized; (b, q, d) -> (b,)."""
    c = C.to(X)
    inner = (
        -((X - c) ** 2).sum(-1) + 0.05 * torch.sin(7 * X).sum(-1) - 0.1 * (X**4).sum(-1)
    )
    return inner.sum(-1)


def smooth_np(x: np.ndarray) -> tuple[float, np.ndarray]:
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    v = -smooth(t.view(1, 1, -1)).sum()
    (g,) = torch.autograd.grad(v, t)
    return float(v.detach()), g.numpy()


def unit(d: int, dtype: torch.dtype = torch.float64, device: str = "cpu") -> Tensor:
    return torch.stack(
        [
            torch.zeros(d, dtype=dtype, device=device),
            torch.ones(d, dtype=dtype, device=device),
        ]
    )


def test_matches_scipy_from_the_same_start() -> None:
    x0 = np.array([0.95, 0.05, 0.2])
    options = {"maxiter": 100, "maxfun": 200, "ftol": 1e-12, "gtol": 1e-9}
    ref = minimize(
        smooth_np, x0, jac=True, method="L-BFGS-B", bounds=[(0, 1)] * 3, options=options
    )
    X, v = optimize_restarts(
        smooth,
        torch.tensor(x0).unsqueeze(0),
        unit(3),
        maxiter=100,
        ftol=1e-12,
        gtol=1e-9,
    )
    np.testing.assert_allclose(X[0].numpy(), ref.x, atol=1e-9)
    assert float(v[0]) == pytest.approx(-ref.fun, abs=1e-12)


def test_all_restarts_in_one_call_per_step() -> None:
    # cos(6 x) has its maxima at 0 and pi / 3 on [0, 1.5].
    calls: list[tuple[int, bool]] = []

    def acqf(X: Tensor) -> Tensor:
        calls.append((X.shape[0], X.requires_grad))
        return torch.cos(6 * X).sum(dim=(-2, -1))

    bounds = torch.tensor([[0.0], [1.5]], dtype=torch.float64)
    X0 = torch.tensor([[0.2], [0.9], [1.2]], dtype=torch.float64)
    X, v = optimize_restarts(acqf, X0, bounds)
    dist = torch.minimum(X.abs(), (X - math.pi / 3).abs())
    assert bool((dist < 1e-5).all())
    np.testing.assert_allclose(v.numpy(), [1.0, 1.0, 1.0], atol=1e-9)
    assert all(c == (3, True) for c in calls)


def test_free_columns_and_dtype(dtype: torch.dtype, device: torch.device) -> None:
    X0 = torch.full((2, 3), 0.9, dtype=dtype, device=device)
    X, v = optimize_restarts(smooth, X0, unit(3, dtype, str(device)), free=[0, 2])
    assert X.dtype == dtype
    assert X.device == device
    assert v.shape == (2,)
    assert bool((X[:, 1] == 0.9).all())
    full, _ = optimize_restarts(smooth, X0[:1].double().cpu(), unit(3))
    tol = 1e-5 if dtype == torch.float64 else 1e-3
    # Column 1 is held, so columns 0 and 2 differ from the free optimum only
    # through the separable terms: they agree with it.
    assert torch.allclose(X[0, [0, 2]].double().cpu(), full[0, [0, 2]], atol=tol)
    # Nothing free: the start is returned with its value.
    X2, v2 = optimize_restarts(smooth, X0, unit(3, dtype, str(device)), free=[])
    assert torch.equal(X2, X0)
    assert torch.allclose(v2, smooth(X0.unsqueeze(-2)))


def test_nonfinite_values() -> None:
    def acqf(X: Tensor) -> Tensor:
        x = X[..., 0, 0]
        v = -((x - 0.8) ** 2)
        return torch.where(x > 0.6, torch.full_like(v, math.nan), v)

    X0 = torch.tensor([[0.1], [0.9], [0.5]], dtype=torch.float64)
    X, v = optimize_restarts(acqf, X0, unit(1))
    # The restart that starts at NaN is dropped and keeps its start.
    assert float(X[1]) == 0.9
    assert v[1] == -math.inf
    # The others climb towards 0.8 but never step into the NaN region.
    assert bool((X[[0, 2]] <= 0.6).all())
    assert bool((X[[0, 2]] > 0.55).all())
    assert bool(torch.isfinite(v[[0, 2]]).all())


def test_nonfinite_gradient_is_zeroed() -> None:
    def acqf(X: Tensor) -> Tensor:
        # sqrt has an infinite derivative at 0.
        return -torch.sqrt(X[..., 0, 0]) - (X[..., 0, 1] - 0.5) ** 2

    X, v = optimize_restarts(
        acqf, torch.tensor([[0.0, 0.9]], dtype=torch.float64), unit(2)
    )
    assert bool(torch.isfinite(X).all())
    assert float(v[0]) >= float(acqf(torch.tensor([[[0.0, 0.9]]], dtype=torch.float64)))


def test_x0_shape_error() -> None:
    with pytest.raises(ValueError, match=r"X0 must have shape \(R, 3\)"):
        optimize_restarts(smooth, torch.zeros(2, 2), unit(3))


def test_screen_and_refine() -> None:
    calls: list[int] = []

    def acqf(X: Tensor) -> Tensor:
        calls.append(X.shape[0])
        return smooth(X)

    X0 = torch.rand(
        8, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    X, v = screen_and_refine(acqf, X0, unit(3), screen_iters=3, n_refine=2)
    assert X.shape == (8, 3)
    assert set(calls) == {8, 2}
    assert calls[0] == 8 and calls[-1] == 2
    best, _ = optimize_restarts(smooth, X0[:1], unit(3), maxiter=200, ftol=1e-12)
    assert float(v.max()) == pytest.approx(float(smooth(best.unsqueeze(-2))), abs=1e-8)
    # Never worse than the start.
    assert bool((v >= smooth(X0.unsqueeze(-2)) - 1e-12).all())
    # Few restarts or no screening: one plain run.
    calls.clear()
    screen_and_refine(acqf, X0[:2], unit(3), n_refine=2)
    assert set(calls) == {2}
    calls.clear()
    screen_and_refine(acqf, X0, unit(3), screen_iters=0)
    assert set(calls) == {8}
