"""Tests of skbo.acquisition.analytic: closed-form EI, LogEI, PI, LogPI, UCB."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import torch
from scipy.stats import norm

from skbo.acquisition.analytic import (
    AnalyticAcquisitionFunction,
    ExpectedImprovement,
    LogExpectedImprovement,
    LogProbabilityOfImprovement,
    ProbabilityOfImprovement,
    UpperConfidenceBound,
)
from skbo.exceptions import UnsupportedError
from skbo.utils.testing import MockModel, MockPosterior, ToyGPModel

mpmath.mp.dps = 50
IMPROVEMENT_CLASSES = [
    ExpectedImprovement,
    LogExpectedImprovement,
    ProbabilityOfImprovement,
    LogProbabilityOfImprovement,
]


def _random_mock(b, device, dtype, seed):
    g = torch.Generator().manual_seed(seed)
    mean = torch.randn(b, 1, generator=g, dtype=torch.float64)
    var = 0.1 + torch.rand(b, 1, generator=g, dtype=torch.float64) * 2
    post = MockPosterior(mean.to(device, dtype), variance=var.to(device, dtype))
    return MockModel(post), mean.squeeze(-1).numpy(), var.sqrt().squeeze(-1).numpy()


def _toy_gp(device, dtype=torch.float64, n=8, d=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, d, generator=g, dtype=torch.float64)
    Y = torch.sin(3 * X).sum(-1)
    return ToyGPModel(X.to(device, dtype), Y.to(device, dtype), noise=1e-3)


def test_values_match_scipy(device, dtype, global_random_seed):
    b = 20
    model, mu, sigma = _random_mock(b, device, dtype, global_random_seed)
    best_f = 0.3
    z = (mu - best_f) / sigma
    expected = {
        ExpectedImprovement: sigma * (norm.pdf(z) + z * norm.cdf(z)),
        LogExpectedImprovement: np.log(sigma * (norm.pdf(z) + z * norm.cdf(z))),
        ProbabilityOfImprovement: norm.cdf(z),
        LogProbabilityOfImprovement: norm.logcdf(z),
    }
    X = torch.rand(b, 1, 3, device=device, dtype=dtype)
    rtol = 1e-10 if dtype == torch.float64 else 2e-5
    for cls, ref in expected.items():
        out = cls(model, best_f=best_f)(X)
        assert out.shape == (b,) and out.dtype == dtype
        np.testing.assert_allclose(out.cpu().numpy(), ref, rtol=rtol, atol=rtol)
    ucb = UpperConfidenceBound(model, beta=2.0)(X)
    np.testing.assert_allclose(
        ucb.cpu().numpy(), mu + math.sqrt(2) * sigma, rtol=rtol, atol=rtol
    )


def test_log_ei_equals_log_ei_where_representable():
    mean = torch.linspace(-30, 3, 331, dtype=torch.float64).unsqueeze(-1)
    var = torch.full_like(mean, 0.49)
    model = MockModel(MockPosterior(mean, variance=var))
    X = torch.zeros(331, 1, 1, dtype=torch.float64)
    ei = ExpectedImprovement(model, best_f=1.0)(X)
    log_ei = LogExpectedImprovement(model, best_f=1.0)(X)
    # Where the naive EI is accurate (little cancellation: z > -3) they agree to
    # rounding; further out EI is still positive, and log EI stays close to it.
    z = (mean.squeeze(-1) - 1.0) / 0.7
    torch.testing.assert_close(log_ei[z > -3], ei[z > -3].log(), rtol=1e-10, atol=1e-12)
    representable = ei > 1e-300
    torch.testing.assert_close(
        log_ei[representable], ei[representable].log(), rtol=1e-6, atol=0
    )
    assert bool((ei[z < -40] == 0).all())
    assert bool(torch.isfinite(log_ei).all())


@pytest.mark.parametrize("z", [-5.0, -40.0, -100.0])
def test_log_ei_40_sigmas_into_the_tail_has_correct_gradient(z):
    sigma = 0.5
    mean = torch.tensor([[z * sigma]], dtype=torch.float64, requires_grad=True)
    var = torch.tensor([[sigma**2]], dtype=torch.float64, requires_grad=True)
    model = MockModel(MockPosterior(mean, variance=var))
    value = LogExpectedImprovement(model, best_f=0.0)(
        torch.zeros(1, 1, 1, dtype=torch.float64)
    )
    value.sum().backward()
    zm = mpmath.mpf(z)
    h = mpmath.npdf(zm) + zm * mpmath.ncdf(zm)
    ref = float(mpmath.log(sigma * h))
    # d log EI / d mu = Phi(z) / (sigma h(z)); d log EI / d var = phi(z) / (2 var h(z))
    ref_dmu = float(mpmath.ncdf(zm) / (sigma * h))
    ref_dvar = float(mpmath.npdf(zm) / (2 * sigma**2 * h))
    assert math.isclose(value.item(), ref, rel_tol=1e-12)
    assert math.isclose(mean.grad.item(), ref_dmu, rel_tol=1e-9)
    assert math.isclose(var.grad.item(), ref_dvar, rel_tol=1e-9)
    # Plain EI has underflowed there, with a useless zero gradient.
    if z <= -40:
        mean.grad = None
        ei = ExpectedImprovement(model, best_f=0.0)(
            torch.zeros(1, 1, dtype=torch.float64)
        )
        ei.backward()
        assert ei.item() == 0.0 and mean.grad.item() == 0.0


def test_log_ei_tail_float32(device):
    mean = torch.tensor([[-40.0], [-400.0]], device=device, requires_grad=True)
    model = MockModel(MockPosterior(mean, variance=torch.ones(2, 1, device=device)))
    value = LogExpectedImprovement(model, best_f=0.0)(
        torch.zeros(2, 1, 1, device=device)
    )
    value.sum().backward()
    assert bool(torch.isfinite(value).all())
    assert value[0].item() == pytest.approx(-808.29857, rel=1e-6)
    assert bool((mean.grad > 0).all()) and bool(torch.isfinite(mean.grad).all())


def test_log_pi_is_finite_in_the_tail():
    mean = torch.tensor([[-60.0]], dtype=torch.float64, requires_grad=True)
    model = MockModel(
        MockPosterior(mean, variance=torch.ones(1, 1, dtype=torch.float64))
    )
    value = LogProbabilityOfImprovement(model, best_f=0.0)(
        torch.zeros(1, 1, dtype=torch.float64)
    )
    value.backward()
    assert value.item() == pytest.approx(float(mpmath.log(mpmath.ncdf(-60))), rel=1e-12)
    assert mean.grad.item() == pytest.approx(60.0, rel=1e-3)


def test_zero_variance_is_floored():
    model = MockModel(MockPosterior(torch.zeros(2, 1, dtype=torch.float64)))
    X = torch.zeros(2, 1, 1, dtype=torch.float64)
    assert bool(torch.isfinite(LogExpectedImprovement(model, best_f=1.0)(X)).all())
    torch.testing.assert_close(
        ExpectedImprovement(model, best_f=-1.0)(X), torch.ones(2, dtype=torch.float64)
    )


@pytest.mark.parametrize("cls", [*IMPROVEMENT_CLASSES, UpperConfidenceBound])
def test_gradcheck_on_a_smooth_model(cls):
    model = _toy_gp(torch.device("cpu"))
    acqf = cls(model, 1.5) if cls is UpperConfidenceBound else cls(model, best_f=1.2)
    X = torch.rand(
        3, 1, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64
    )
    assert torch.autograd.gradcheck(acqf, (X.requires_grad_(),))


@pytest.mark.parametrize("cls", [*IMPROVEMENT_CLASSES, UpperConfidenceBound])
def test_shapes_dtypes_devices(cls, device, dtype):
    model = _toy_gp(device, dtype)
    acqf = cls(model, 2.0) if cls is UpperConfidenceBound else cls(model, best_f=0.5)
    assert isinstance(acqf, AnalyticAcquisitionFunction)
    X = torch.rand(4, 1, 2, device=device, dtype=dtype)
    out = acqf(X)
    assert out.shape == (4,) and out.dtype == dtype and out.device.type == device.type
    single = acqf(X[0])
    assert single.shape == ()
    torch.testing.assert_close(single, out[0])
    with pytest.raises(ValueError, match="q=1"):
        acqf(torch.rand(4, 2, 2, device=device, dtype=dtype))


def test_best_f_buffer_moves_with_the_module():
    model = MockModel(MockPosterior(torch.zeros(1, 1), variance=torch.ones(1, 1)))
    acqf = ExpectedImprovement(model, best_f=0.1)
    assert "best_f" in dict(acqf.named_buffers())
    assert acqf.best_f.dtype == torch.float64  # Python floats are kept exact
    acqf.to(torch.float32)
    assert acqf.best_f.dtype == torch.float32
    per_batch = ExpectedImprovement(
        MockModel(MockPosterior(torch.zeros(2, 1), variance=torch.ones(2, 1))),
        best_f=torch.tensor([0.0, 10.0]),
    )(torch.zeros(2, 1, 1))
    assert per_batch[0] > 0.3 and per_batch[1] < 1e-10


@pytest.mark.parametrize(
    ("best_f", "error", "match"),
    [
        (float("nan"), ValueError, "best_f must be finite"),
        ("0.5", TypeError, "best_f must be a float or a tensor"),
        (torch.tensor([1.0, float("inf")]), ValueError, "best_f must be finite"),
    ],
)
@pytest.mark.parametrize("cls", IMPROVEMENT_CLASSES)
def test_bad_best_f(cls, best_f, error, match):
    model = MockModel(MockPosterior(torch.zeros(1, 1)))
    with pytest.raises(error, match=match):
        cls(model, best_f=best_f)


def test_bad_beta_and_model():
    model = MockModel(MockPosterior(torch.zeros(1, 1)))
    with pytest.raises(ValueError, match="beta must be non-negative"):
        UpperConfidenceBound(model, beta=-1.0)
    with pytest.raises(TypeError, match="posterior"):
        UpperConfidenceBound(object(), beta=1.0)


def test_pending_points_are_refused():
    acqf = LogExpectedImprovement(
        MockModel(MockPosterior(torch.zeros(1, 1))), best_f=0.0
    )
    acqf.set_X_pending(None)
    assert acqf.X_pending is None
    with pytest.raises(UnsupportedError, match="q-variant"):
        acqf.set_X_pending(torch.zeros(1, 2))
