"""Tests of skbo.optim.initializers: Sobol pool, restart selection, perturbations."""

from __future__ import annotations

import math

import pytest
import torch
from torch import Tensor

from skbo.optim.initializers import (
    draw_sobol_samples,
    gen_initial_conditions,
    initialize_q_batch,
    sample_around,
)
from skbo.optim.mixed import IntegerColumn, MixedSpec


class BaselineAcq(torch.nn.Module):
    """``-||x - target||^2`` with an ``X_baseline`` attribute; counts its calls."""

    def __init__(self, target: Tensor, X_baseline: Tensor | None = None) -> None:
        super().__init__()
        self.target = target
        self.X_pending: Tensor | None = None
        if X_baseline is not None:
            self.X_baseline = X_baseline
        self.batch_sizes: list[int] = []

    def set_X_pending(self, X_pending: Tensor | None) -> None:
        self.X_pending = X_pending

    def forward(self, X: Tensor) -> Tensor:
        self.batch_sizes.append(X.shape[0])
        return -((X - self.target.to(X)) ** 2).sum(-1).sum(-1)


def box(d: int, dtype: torch.dtype = torch.float64, device: str = "cpu") -> Tensor:
    lo = torch.linspace(-1.0, 0.0, d, dtype=dtype, device=device)
    return torch.stack([lo, lo + 2.0])


def inside(P: Tensor, bounds: Tensor) -> bool:
    return bool(((P - bounds[0]) >= 0).all() and ((bounds[1] - P) >= 0).all())


def test_draw_sobol_samples(dtype: torch.dtype, device: torch.device) -> None:
    bounds = box(3, dtype, str(device))
    X = draw_sobol_samples(bounds, n=64, q=2, seed=0)
    assert X.shape == (64, 2, 3)
    assert X.dtype == dtype
    assert X.device == device
    assert inside(X, bounds)
    assert torch.equal(X, draw_sobol_samples(bounds, n=64, q=2, seed=0))
    assert not torch.equal(X, draw_sobol_samples(bounds, n=64, q=2, seed=1))
    # Low discrepancy: every half of every column holds about half the points.
    U = (X - bounds[0]) / (bounds[1] - bounds[0])
    frac = (U < 0.5).double().mean(0)
    assert bool(((frac - 0.5).abs() < 0.1).all())


def test_draw_sobol_samples_errors() -> None:
    with pytest.raises(ValueError, match=r"shape \(2, d\)"):
        draw_sobol_samples(torch.zeros(3, 2), 4)
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        draw_sobol_samples(box(2), 0)
    with pytest.raises(ValueError, match="q must be an int >= 1"):
        draw_sobol_samples(box(2), 4, q=0)


def test_initialize_q_batch_best_first_then_distinct(global_random_seed: int) -> None:
    X = torch.rand(100, 1, 2, dtype=torch.float64)
    vals = torch.randn(100, dtype=torch.float64)
    X0, v0 = initialize_q_batch(X, vals, 10, n_best=3, seed=global_random_seed)
    assert X0.shape == (10, 1, 2)
    assert torch.equal(v0[:3], torch.sort(vals, descending=True).values[:3])
    assert torch.unique(X0.reshape(10, 2), dim=0).shape[0] == 10
    # Deterministic per seed.
    X1, _ = initialize_q_batch(X, vals, 10, n_best=3, seed=global_random_seed)
    assert torch.equal(X0, X1)


def test_initialize_q_batch_prefers_high_values() -> None:
    vals = torch.cat([torch.zeros(50), torch.full((950,), -10.0)]).double()
    X = torch.arange(1000.0).unsqueeze(-1)
    _, v0 = initialize_q_batch(X, vals, 20, eta=2.0, seed=0)
    assert bool((v0 == 0).float().mean() > 0.9)


def test_initialize_q_batch_nonfinite_and_small_pools() -> None:
    X = torch.arange(6.0).unsqueeze(-1)
    vals = torch.tensor([math.nan, 1.0, -math.inf, math.inf, 0.5, math.nan])
    X0, v0 = initialize_q_batch(X, vals, 6, seed=0)
    assert X0.shape == (6, 1)
    # Finite values first, in the order best / drawn; all rows used once.
    assert sorted(X0.flatten().tolist()) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert set(v0[:2].tolist()) == {1.0, 0.5}
    # n larger than the pool, and an all-NaN pool.
    assert initialize_q_batch(X, vals, 50, seed=0)[0].shape == (6, 1)
    allnan = torch.full((6,), math.nan)
    assert initialize_q_batch(X, allnan, 3, seed=0)[0].shape == (3, 1)
    # Equal values (zero spread) are drawn uniformly.
    assert initialize_q_batch(X, torch.zeros(6), 4, seed=0)[0].shape == (4, 1)
    # Values far below the best underflow to weight 0 and are filled by rank.
    far = torch.tensor([0.0, 1.0, -1e6, -2e6, -3e6, -4e6]).double()
    _, vf = initialize_q_batch(X, far, 4, n_best=1, eta=50.0, seed=0)
    assert vf.tolist()[:2] == [1.0, 0.0] and sorted(vf.tolist()[2:]) == [-2e6, -1e6]


def test_initialize_q_batch_errors() -> None:
    X = torch.zeros(5, 2)
    with pytest.raises(ValueError, match=r"acq_vals must have shape \(5,\)"):
        initialize_q_batch(X, torch.zeros(4), 2)
    with pytest.raises(ValueError, match="eta must be a finite float > 0"):
        initialize_q_batch(X, torch.zeros(5), 2, eta=0.0)
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        initialize_q_batch(X, torch.zeros(5), 0)
    with pytest.raises(TypeError, match="n_best must be an int"):
        initialize_q_batch(X, torch.zeros(5), 2, n_best=1.5)  # type: ignore[arg-type]


def test_sample_around(dtype: torch.dtype, device: torch.device) -> None:
    bounds = box(2, dtype, str(device))
    centers = torch.tensor([[-0.9, 1.0], [0.5, 1.5]], dtype=dtype, device=device)
    P = sample_around(centers, 40, bounds, std=0.01, seed=0)
    assert P.shape == (40, 2)
    assert P.dtype == dtype
    assert P.device == device
    assert inside(P, bounds)
    assert bool(((P[0::2] - centers[0]).abs() < 0.1).all())
    assert bool(((P[1::2] - centers[1]).abs() < 0.1).all())
    assert torch.equal(P, sample_around(centers, 40, bounds, std=0.01, seed=0))
    with pytest.raises(ValueError, match=r"shape \(m, d\), m >= 1"):
        sample_around(centers[:0], 3, bounds)


def test_gen_initial_conditions_uses_baseline(dtype: torch.dtype) -> None:
    d = 3
    bounds = box(d, dtype)
    target = torch.tensor([0.7, 0.2, 1.1], dtype=dtype)
    baseline = torch.rand(40, d, dtype=dtype) * 2 - 1
    baseline[-1] = target + 0.01  # the best observed point is the last row
    acqf = BaselineAcq(target, baseline)
    ic = gen_initial_conditions(acqf, bounds, 10, 64, seed=0)
    assert acqf.batch_sizes == [64 + 32]  # one batched call: Sobol + baseline rows
    assert ic.X0.shape == (10, d)
    assert ic.pool_X.shape == (96, d)
    assert ic.pool_values.shape == (96,)
    assert ic.X0.dtype == dtype
    # The best pool point (the baseline row) starts a restart, and some starts
    # are perturbations close to it.
    assert bool(torch.eq(ic.X0, baseline[-1]).all(-1).any())
    near = ((ic.X0 - baseline[-1]).abs() < 0.5).all(-1).sum()
    assert int(near) >= 3
    # Only the most recent max(R, N // 2) baseline rows are used.
    big = BaselineAcq(target, torch.rand(1000, d, dtype=dtype))
    gen_initial_conditions(big, bounds, 10, 64, seed=0)
    assert big.batch_sizes == [64 + 32]


def test_gen_initial_conditions_explicit_baseline(dtype: torch.dtype) -> None:
    d = 3
    bounds = box(d, dtype)
    target = torch.tensor([0.7, 0.2, 1.1], dtype=dtype)
    observed = torch.rand(6, d, dtype=dtype) * 2 - 1
    observed[2] = target + 0.01
    # An acquisition without an X_baseline attribute (an analytic one) gets
    # the observed rows through the argument.
    acqf = BaselineAcq(target)
    ic = gen_initial_conditions(acqf, bounds, 10, 64, seed=0, X_baseline=observed)
    assert acqf.batch_sizes == [64 + 6]
    assert bool(torch.eq(ic.X0, observed[2]).all(-1).any())
    # The argument takes precedence over the attribute.
    other = BaselineAcq(target, torch.rand(40, d, dtype=dtype))
    gen_initial_conditions(other, bounds, 10, 64, seed=0, X_baseline=observed)
    assert other.batch_sizes == [64 + 6]


def test_gen_initial_conditions_fixed_and_discrete() -> None:
    bounds = torch.stack([torch.zeros(4), torch.ones(4)]).double()
    spec = MixedSpec((IntegerColumn(0, 0, 2),), ((1, 2),))
    acqf = BaselineAcq(torch.tensor([0.5, 1.0, 0.0, 0.3], dtype=torch.float64))
    ic = gen_initial_conditions(
        acqf, bounds, 6, 128, fixed_features={3: 0.75}, discrete=spec, seed=3
    )
    assert bool((ic.X0[:, 3] == 0.75).all())
    assert bool((ic.pool_X[:, 3] == 0.75).all())
    assert bool(spec.is_valid(ic.pool_X).all())
    # Projection collapses the pool onto the 6 discrete settings, without duplicates.
    assert ic.pool_X.shape[0] == 6
    ic2 = gen_initial_conditions(
        acqf, bounds, 6, 128, fixed_features={3: 0.75}, discrete=spec, seed=3
    )
    assert torch.equal(ic.X0, ic2.X0)


def test_gen_initial_conditions_chunks_large_pools() -> None:
    acqf = BaselineAcq(torch.zeros(2, dtype=torch.float64))
    gen_initial_conditions(acqf, box(2), 4, 100, seed=0, batch_limit=32)
    assert acqf.batch_sizes == [32, 32, 32, 4]


def test_gen_initial_conditions_screens_mc_pools_with_fewer_samples() -> None:
    from skbo.acquisition import qLogNoisyExpectedImprovement
    from skbo.models import SingleTaskGP, fit_gp

    g = torch.Generator().manual_seed(0)
    X = torch.rand(30, 3, generator=g, dtype=torch.float64)
    model = SingleTaskGP(X, torch.sin(4 * X).sum(-1))
    fit_gp(model)
    acqf = qLogNoisyExpectedImprovement(model, X_baseline=X)
    bounds = box(3)
    ic = gen_initial_conditions(acqf, bounds, 10, 256, seed=1)
    exact = acqf(ic.pool_X.unsqueeze(-2)).detach()
    with acqf.subsample(64):
        cheap = acqf(ic.pool_X.unsqueeze(-2)).detach()
    # The best max(2 R, 32) pool points carry exact values, the rest the
    # 64-sample estimate; which is which follows the cheap ranking.
    top = torch.topk(cheap, 32).indices
    rest = torch.ones_like(cheap, dtype=torch.bool)
    rest[top] = False
    torch.testing.assert_close(ic.pool_values[top], exact[top])
    torch.testing.assert_close(ic.pool_values[rest], cheap[rest])
    full = gen_initial_conditions(acqf, bounds, 10, 256, seed=1, screen_samples=None)
    torch.testing.assert_close(full.pool_values, exact)
    # The screen changes the estimate, not the pool.
    assert torch.equal(full.pool_X, ic.pool_X)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_gen_initial_conditions_rejects_bad_screen_samples(bad) -> None:
    acqf = BaselineAcq(torch.zeros(2, dtype=torch.float64))
    with pytest.raises((ValueError, TypeError), match="screen_samples"):
        gen_initial_conditions(acqf, box(2), 4, 16, seed=0, screen_samples=bad)
