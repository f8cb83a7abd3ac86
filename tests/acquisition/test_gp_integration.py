"""Acquisition functions on skbo's GP (skbo.models.SingleTaskGP)."""

from __future__ import annotations

import pytest
import torch

from skbo.acquisition import (
    LogExpectedImprovement,
    get_acquisition_function,
    qLogExpectedImprovement,
    qLogNoisyExpectedImprovement,
    qNoisyExpectedImprovement,
)
from skbo.models.base import Model
from skbo.sampling import SobolQMCNormalSampler

gp_module = pytest.importorskip("skbo.models.gp")


class DensePath(Model):
    """Hides the GP's fast joint_posterior: the generic concatenation is used."""

    def __init__(self, gp):
        super().__init__()
        self.gp = gp

    def posterior(self, X, observation_noise=False):
        return self.gp.posterior(X, observation_noise=observation_noise)


@pytest.fixture(scope="module")
def gp():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(15, 2, generator=g, dtype=torch.float64)
    Y = torch.sin(5 * X).sum(-1) + 0.05 * torch.randn(
        15, generator=g, dtype=torch.float64
    )
    return gp_module.SingleTaskGP(X, Y).eval(), X, Y


def test_qlognei_fast_joint_posterior_matches_the_dense_path(gp):
    model, X, _ = gp
    sampler = SobolQMCNormalSampler(128, seed=0)
    fast = qLogNoisyExpectedImprovement(model, X, sampler=sampler)
    dense = qLogNoisyExpectedImprovement(
        DensePath(model), fast.X_baseline, sampler=sampler, prune_baseline=False
    )
    Xc = torch.rand(
        16, 2, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64
    )
    torch.testing.assert_close(fast(Xc), dense(Xc), rtol=1e-6, atol=1e-8)


def test_factory_default_on_the_gp_is_finite_and_differentiable(gp):
    model, X, Y = gp
    acqf = get_acquisition_function(
        "qLogNEI", model, X_baseline=X, best_f=Y.max(), X_pending=X[:1] + 0.01, seed=0
    )
    Xc = torch.rand(10, 1, 2, dtype=torch.float64, requires_grad=True)
    values = acqf(Xc)
    values.sum().backward()
    assert values.shape == (10,) and bool(torch.isfinite(values).all())
    assert bool(torch.isfinite(Xc.grad).all()) and bool((Xc.grad != 0).any())


def test_analytic_and_monte_carlo_logei_agree_on_the_gp(gp):
    model, _, Y = gp
    Xc = torch.rand(
        40, 1, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64
    )
    exact = LogExpectedImprovement(model, Y.max())(Xc)
    mc = qLogExpectedImprovement(
        model, Y.max(), sampler=SobolQMCNormalSampler(4096, seed=0)
    )(Xc)
    keep = exact > exact.max() - 3  # where Monte-Carlo resolves the tail
    assert int(keep.sum()) >= 5
    torch.testing.assert_close(mc[keep], exact[keep], rtol=0, atol=1e-2)


def test_gradcheck_on_the_gp(gp):
    model, X, _ = gp
    acqf = qLogNoisyExpectedImprovement(
        model, X, sampler=SobolQMCNormalSampler(32, seed=0), tau_max=0.1, tau_relu=0.05
    )
    Xc = torch.rand(
        2, 2, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64
    )
    assert torch.autograd.gradcheck(acqf, (Xc.requires_grad_(),))


@pytest.mark.parametrize(
    "cls", [qLogNoisyExpectedImprovement, qNoisyExpectedImprovement]
)
@pytest.mark.parametrize("q", [1, 2])
@pytest.mark.parametrize("pending", [False, True])
def test_blockwise_noisy_path_matches_the_dense_path(cls, q, pending, dtype):
    g = torch.Generator().manual_seed(3)
    X = torch.rand(12, 2, generator=g, dtype=torch.float64).to(dtype)
    model = gp_module.SingleTaskGP(X, torch.cos(4 * X).sum(-1)).eval()
    sampler = SobolQMCNormalSampler(64, seed=1)
    X_pending = X[:2] + 0.05 if pending else None
    fast = cls(model, X, sampler=sampler, X_pending=X_pending)
    dense = cls(
        DensePath(model),
        fast.X_baseline,
        sampler=sampler,
        X_pending=X_pending,
        prune_baseline=False,
    )
    Xc = torch.rand(5, q, 2, generator=g, dtype=torch.float64).to(dtype)
    Xf, Xd = Xc.clone().requires_grad_(True), Xc.clone().requires_grad_(True)
    vf, vd = fast(Xf), dense(Xd)
    (gf,) = torch.autograd.grad(vf.sum(), Xf)
    (gd,) = torch.autograd.grad(vd.sum(), Xd)
    # float32: the two paths round differently, and tau_relu = 1e-6 amplifies it.
    tol = {"rtol": 2e-3, "atol": 1e-4} if dtype == torch.float32 else {}
    torch.testing.assert_close(vf, vd, **tol)
    torch.testing.assert_close(gf, gd, **tol)
    # A second call reuses the cached baseline samples and incumbent.
    torch.testing.assert_close(fast(Xc), vf.detach(), **tol)


def test_coinciding_batch_points_need_jitter_without_a_warning():
    import warnings

    from skbo.acquisition import qLogNoisyExpectedImprovement
    from skbo.exceptions import NumericsWarning
    from skbo.models import fit_gp
    from skbo.posteriors import psd_safe_cholesky

    g = torch.Generator().manual_seed(0)
    X = torch.rand(12, 1, generator=g, dtype=torch.float64)
    model = gp_module.SingleTaskGP(X, torch.sin(6 * X[:, 0]))
    fit_gp(model)
    acqf = qLogNoisyExpectedImprovement(model, X_baseline=X)
    batch = torch.full((1, 2, 1), 0.37, dtype=torch.float64)  # q = 2, one point
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = acqf(batch)
    assert bool(torch.isfinite(value).all())
    singular = torch.ones(2, 2, dtype=torch.float64)
    with pytest.warns(NumericsWarning, match="added jitter"):
        psd_safe_cholesky(singular)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        psd_safe_cholesky(singular, warn=False)
