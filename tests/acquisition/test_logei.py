"""Tests of skbo.acquisition.logei: qLogEI and qLogNEI."""

from __future__ import annotations

import math

import pytest
import torch
from scipy.stats import norm

from skbo.acquisition.analytic import LogExpectedImprovement
from skbo.acquisition.logei import qLogExpectedImprovement, qLogNoisyExpectedImprovement
from skbo.acquisition.monte_carlo import qExpectedImprovement, qNoisyExpectedImprovement
from skbo.sampling import SobolQMCNormalSampler
from skbo.utils.testing import MockModel, MockPosterior, ToyGPModel

LOG_CLASSES = [qLogExpectedImprovement, qLogNoisyExpectedImprovement]

CPU = torch.device("cpu")


def _sobol(S=512, seed=0):
    return SobolQMCNormalSampler(S, seed=seed)


def _toy_gp(device=CPU, dtype=torch.float64, n=8, d=2, seed=0, noise=1e-3):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, d, generator=g, dtype=torch.float64)
    Y = torch.sin(3 * X).sum(-1)
    return ToyGPModel(X.to(device, dtype), Y.to(device, dtype), noise=noise), X.to(
        device, dtype
    )


def _candidates(b, q, seed=1, dtype=torch.float64):
    return torch.rand(
        b, q, 2, generator=torch.Generator().manual_seed(seed), dtype=dtype
    )


@pytest.mark.parametrize("q", [1, 3])
@pytest.mark.parametrize("fat", [True, False])
def test_qlogei_is_log_qei_for_small_temperatures(q, fat):
    model, _ = _toy_gp()
    X = _candidates(20, q)
    qei = qExpectedImprovement(model, 1.0, sampler=_sobol())(X)
    log_qei = qLogExpectedImprovement(
        model, 1.0, sampler=_sobol(), fat=fat, tau_max=1e-4, tau_relu=1e-8
    )(X)
    keep = qei > 1e-6
    assert int(keep.sum()) >= 10
    torch.testing.assert_close(log_qei[keep], qei[keep].log(), rtol=0, atol=1e-3)


def test_qlogei_default_temperatures_stay_close_to_log_qei():
    model, _ = _toy_gp()
    X = _candidates(20, 3)
    qei = qExpectedImprovement(model, 1.0, sampler=_sobol())(X)
    log_qei = qLogExpectedImprovement(model, 1.0, sampler=_sobol())(X)
    keep = qei > 1e-4
    # tau_max = 1e-2 overestimates the q-max by at most tau_max * log(q).
    diff = log_qei[keep] - qei[keep].log()
    assert bool((diff > -1e-3).all()) and bool((diff < 1e-2 * math.log(3) + 1e-3).all())


def test_qlogei_q1_matches_analytic_logei():
    model, _ = _toy_gp()
    X = _candidates(30, 1)
    exact = LogExpectedImprovement(model, 1.0)(X)
    mc = qLogExpectedImprovement(model, 1.0, sampler=_sobol(4096))(X)
    keep = exact > exact.max() - 5
    torch.testing.assert_close(mc[keep], exact[keep], rtol=0, atol=1e-2)


def test_qlogei_in_the_far_tail_is_finite_with_useful_gradient():
    # 40 standard deviations below the incumbent: qEI is exactly 0 there.
    mean = torch.tensor([[-40.0, -45.0]], dtype=torch.float64, requires_grad=True)
    model = MockModel(
        MockPosterior(mean, variance=torch.ones(1, 2, dtype=torch.float64))
    )
    X = torch.zeros(1, 2, 2, dtype=torch.float64)
    qei = qExpectedImprovement(model, 0.0, sampler=_sobol(256))(X)
    assert qei.item() == 0.0
    value = qLogExpectedImprovement(model, 0.0, sampler=_sobol(256))(X)
    value.backward()
    assert math.isfinite(value.item())
    assert bool(torch.isfinite(mean.grad).all())
    # Raising either mean raises the value; the closer one matters more.
    assert mean.grad[0, 0] > mean.grad[0, 1] > 0


def test_qlognei_equals_qlogei_when_the_incumbent_is_known(device, dtype):
    # Baseline samples are deterministic (zero variance): max(Y_b) = 1.5.
    mean = torch.tensor([[1.0, 1.5, 0.2, 1.3]], device=device, dtype=dtype)
    var = torch.tensor([[0.0, 0.0, 0.0, 0.6]], device=device, dtype=dtype)
    model = MockModel(MockPosterior(mean, variance=var))
    X_baseline = torch.rand(3, 2, device=device, dtype=dtype)
    nei = qLogNoisyExpectedImprovement(
        model, X_baseline, sampler=_sobol(4096), prune_baseline=False
    )
    X = torch.rand(1, 1, 2, device=device, dtype=dtype)
    z = (1.3 - 1.5) / math.sqrt(0.6)
    exact = math.log(math.sqrt(0.6) * (norm.pdf(z) + z * norm.cdf(z)))
    # The smoothed incumbent overestimates 1.5 by at most tau_max * log(3).
    assert nei(X).item() == pytest.approx(exact, abs=2e-2)
    ei_model = MockModel(MockPosterior(mean[:, 3:], variance=var[:, 3:]))
    logei = qLogExpectedImprovement(ei_model, 1.5, sampler=_sobol(4096))(X)
    assert nei(X).item() == pytest.approx(logei.item(), abs=2e-2)
    assert nei(X).item() <= logei.item() + 1e-4


def test_qlognei_is_log_qnei_for_small_temperatures():
    model, X_train = _toy_gp()
    X = _candidates(20, 2)
    qnei = qNoisyExpectedImprovement(model, X_train, sampler=_sobol())(X)
    log_qnei = qLogNoisyExpectedImprovement(
        model, X_train, sampler=_sobol(), tau_max=1e-5, tau_relu=1e-9
    )(X)
    keep = qnei > 1e-5
    assert int(keep.sum()) >= 5
    torch.testing.assert_close(log_qnei[keep], qnei[keep].log(), rtol=0, atol=1e-2)


def test_qlognei_prefers_unexplored_promising_points():
    model, X_train = _toy_gp()
    acqf = qLogNoisyExpectedImprovement(model, X_train, sampler=_sobol(256))
    at_incumbent = acqf(acqf.X_baseline[:1])
    values = acqf(_candidates(200, 1))
    assert values.max() > at_incumbent
    assert bool(torch.isfinite(values).all())


def test_qlognei_pending_points_lower_the_value():
    model, X_train = _toy_gp()
    x = torch.tensor([[0.95, 0.9]], dtype=torch.float64)
    # the same Monte-Carlo estimator with and without the pending point
    plain = qLogNoisyExpectedImprovement(
        model, X_train, sampler=_sobol(256), closed_form=False
    )
    pending = qLogNoisyExpectedImprovement(
        model, X_train, sampler=_sobol(256), X_pending=x
    )
    assert pending(x) < plain(x) - 3.0  # far less than e^-3 of the improvement left
    far = torch.tensor([[0.05, 0.95]], dtype=torch.float64)
    torch.testing.assert_close(pending(far), plain(far), rtol=0, atol=0.05)


@pytest.mark.parametrize("cls", LOG_CLASSES)
@pytest.mark.parametrize("fat", [True, False])
def test_gradcheck(cls, fat):
    model, X_train = _toy_gp()
    first = 1.1 if cls is qLogExpectedImprovement else X_train
    acqf = cls(model, first, sampler=_sobol(64), fat=fat, tau_max=0.1, tau_relu=0.05)
    acqf.set_X_pending(torch.tensor([[0.5, 0.5]], dtype=torch.float64))
    X = _candidates(2, 2, seed=4).requires_grad_()
    assert torch.autograd.gradcheck(acqf, (X,))


@pytest.mark.parametrize("cls", LOG_CLASSES)
def test_shapes_dtypes_devices(cls, device, dtype):
    model, X_train = _toy_gp(device, dtype)
    first = 1.0 if cls is qLogExpectedImprovement else X_train
    acqf = cls(model, first, sampler=_sobol(32))
    X = torch.rand(4, 3, 2, device=device, dtype=dtype)
    out = acqf(X)
    assert out.shape == (4,) and out.dtype == dtype and out.device.type == device.type
    assert bool(torch.isfinite(out).all())
    single = acqf(X[1])
    assert single.shape == ()
    torch.testing.assert_close(single, out[1])


@pytest.mark.parametrize("cls", LOG_CLASSES)
@pytest.mark.parametrize("name", ["tau_max", "tau_relu"])
def test_bad_temperatures(cls, name):
    model, X_train = _toy_gp()
    first = 1.0 if cls is qLogExpectedImprovement else X_train
    with pytest.raises(ValueError, match=f"{name} must be a positive float"):
        cls(model, first, **{name: 0.0})
