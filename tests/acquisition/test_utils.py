"""Tests of skbo.acquisition.utils: log-space numerics, against mpmath."""

from __future__ import annotations

import math

import mpmath
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from skbo.acquisition.utils import (
    fatmax,
    fatplus,
    log_fatplus,
    log_h,
    log_softplus,
    logmeanexp,
    normal_cdf,
    normal_pdf,
    smooth_amax,
)

mpmath.mp.dps = 60

# Across the three branches of log_h (-1 and -T are the switch points).
Z_VALUES = [
    8.0,
    1.0,
    0.0,
    -0.5,
    -1.0,
    -1.5,
    -3.0,
    -10.0,
    -12.0,
    -13.0,
    -25.0,
    -40.0,
    -92.0,
    -93.0,
    -200.0,
    -1e4,
    -1e7,
]


def _ref_log_h_and_grad(z: float) -> tuple[float, float]:
    zm = mpmath.mpf(z)
    h = mpmath.npdf(zm) + zm * mpmath.ncdf(zm)
    return float(mpmath.log(h)), float(mpmath.ncdf(zm) / h)


@pytest.mark.parametrize("z", Z_VALUES)
def test_log_h_matches_mpmath(z, dtype):
    zt = torch.tensor(z, dtype=dtype, requires_grad=True)
    value = log_h(zt)
    value.backward()
    ref, ref_grad = _ref_log_h_and_grad(float(zt.detach()))
    # float32: the middle branch loses ~eps z^2 to cancellation (z^2 <= 154).
    rtol = 1e-12 if dtype == torch.float64 else 2e-6
    grad_rtol = 1e-11 if dtype == torch.float64 else 5e-5
    assert math.isclose(value.item(), ref, rel_tol=rtol, abs_tol=rtol)
    assert math.isclose(zt.grad.item(), ref_grad, rel_tol=grad_rtol)


def test_log_h_equals_log_of_h_where_representable():
    z = torch.linspace(-30, 10, 2001, dtype=torch.float64)
    h = torch.exp(-0.5 * z**2) / math.sqrt(2 * math.pi) + z * torch.special.ndtr(z)
    ok = h > 1e-300
    # The naive formula itself cancels for z << 0; compare where it is accurate.
    accurate = ok & (z > -3)
    torch.testing.assert_close(
        log_h(z)[accurate], h[accurate].log(), rtol=1e-10, atol=0
    )
    assert bool(torch.isfinite(log_h(z)).all())


@pytest.mark.parametrize("boundary", [-1.0, "T"])
def test_log_h_is_continuous_across_branches(boundary, dtype):
    eps = torch.finfo(dtype).eps
    b = -((10395.0 / eps) ** 0.1) if boundary == "T" else -1.0
    z = torch.tensor([b * (1 + 4 * eps), b, b * (1 - 4 * eps)], dtype=dtype)
    values = log_h(z)
    tol = 1e-12 if dtype == torch.float64 else 1e-4
    assert float((values[0] - values[2]).abs()) <= tol * max(1.0, abs(float(values[1])))


def test_log_h_gradcheck():
    z = torch.tensor(
        [2.0, -0.3, -1.7, -20.0, -150.0], dtype=torch.float64, requires_grad=True
    )
    assert torch.autograd.gradcheck(log_h, (z,))


def test_log_h_extreme_inputs_are_finite_with_finite_gradients(dtype):
    z = torch.tensor([-1e15, -1e5, -40.0, 1e5], dtype=dtype, requires_grad=True)
    value = log_h(z)
    value.sum().backward()
    assert bool(torch.isfinite(value).all())
    assert bool(torch.isfinite(z.grad).all())
    assert bool((z.grad > 0).all())


def test_logmeanexp(dtype):
    x = torch.tensor([[-1000.0, -1001.0], [1.0, 2.0]], dtype=dtype)
    out = logmeanexp(x, dim=-1)
    expected = torch.tensor(
        [-1000 + math.log((1 + math.exp(-1)) / 2), 1 + math.log((1 + math.e) / 2)],
        dtype=dtype,
    )
    torch.testing.assert_close(out, expected)
    assert logmeanexp(x, dim=0, keepdim=True).shape == (1, 2)


def test_log_softplus(dtype):
    x = torch.tensor(
        [-1e4, -50.0, -39.0, 0.0, 3.0, 50.0], dtype=dtype, requires_grad=True
    )
    tau = 0.5
    out = log_softplus(x, tau=tau)
    naive = torch.log(tau * torch.nn.functional.softplus(x.detach().double() / tau))
    finite = torch.isfinite(naive)
    torch.testing.assert_close(
        out.detach().double()[finite], naive[finite], rtol=1e-6, atol=1e-6
    )
    torch.testing.assert_close(
        out[0].detach().double(),
        torch.tensor(-2e4 + math.log(tau), dtype=torch.float64),
    )
    out.sum().backward()
    assert bool(torch.isfinite(x.grad).all()) and bool((x.grad > 0).all())


def test_fatplus_bounds_and_monotonicity(dtype):
    x = torch.linspace(-5, 5, 1001, dtype=dtype)
    tau = 0.3
    y = fatplus(x, tau=tau)
    relu = x.clamp_min(0)
    assert bool((y > relu).all())
    assert bool((y - relu <= tau * (math.log(2) + 0.1) + 1e-6).all())
    assert bool((y.diff() > 0).all())


def test_log_fatplus_is_log_of_fatplus_and_never_infinite(dtype):
    x = torch.tensor([-3.0, -1e-3, 0.0, 2e-3, 1.0], dtype=dtype)
    torch.testing.assert_close(log_fatplus(x, tau=1e-3), fatplus(x, tau=1e-3).log())
    extreme = torch.tensor([-1e30, -1e10, 1e30], dtype=dtype, requires_grad=True)
    out = log_fatplus(extreme, tau=1e-6)
    out.sum().backward()
    assert bool(torch.isfinite(out).all())
    assert bool(torch.isfinite(extreme.grad).all()) and bool((extreme.grad > 0).all())
    # Polynomial tail: log(alpha tau^3 / x^2) for x -> -inf.
    expected = math.log(0.1) + 3 * math.log(1e-6) - 2 * math.log(1e10)
    assert math.isclose(out[1].item(), expected, rel_tol=1e-6)


@pytest.mark.parametrize("reduce", [smooth_amax, fatmax])
def test_smooth_maxima_bounds(reduce, dtype):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(7, 5, generator=g, dtype=torch.float64).to(dtype)
    tau = 0.1
    out = reduce(x, dim=-1, tau=tau)
    M = x.amax(-1)
    assert out.shape == (7,)
    assert bool((out >= M - 1e-6).all())
    assert bool((out <= M + tau * math.log(5) + 1e-6).all())
    torch.testing.assert_close(reduce(x, dim=0, tau=1e-6), x.amax(0), atol=1e-5, rtol=0)
    assert reduce(x, dim=1, tau=tau, keepdim=True).shape == (7, 1)


def test_fatmax_has_polynomial_weights_far_from_the_max():
    x = torch.tensor([0.0, -1.0], dtype=torch.float64, requires_grad=True)
    fatmax(x, tau=1e-2).backward()
    # logsumexp would give exp(-100) ~ 4e-44 here.
    assert x.grad[1] > 1e-6
    x.grad = None
    smooth_amax(x, tau=1e-2).backward()
    assert x.grad[1] < 1e-40


def test_fatmax_gradient_is_continuous_at_ties():
    def grad_at(a):
        x = torch.tensor([a, 0.0], dtype=torch.float64, requires_grad=True)
        fatmax(x, tau=0.1).backward()
        return x.grad

    torch.testing.assert_close(grad_at(1e-9), grad_at(-1e-9), atol=1e-6, rtol=0)
    torch.testing.assert_close(
        grad_at(0.0), torch.tensor([0.5, 0.5], dtype=torch.float64)
    )


def test_fatmax_handles_infinities():
    x = torch.tensor([[-math.inf, 1.0], [-math.inf, -math.inf], [math.inf, 0.0]])
    out = fatmax(x, tau=0.1)
    assert out[0] == pytest.approx(1.0)
    assert out[1] == -math.inf
    assert out[2] == math.inf


def test_fatmax_and_log_fatplus_gradcheck():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(3, 4, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: fatmax(t, dim=-1, tau=0.3), (x,))
    assert torch.autograd.gradcheck(lambda t: log_fatplus(t, tau=0.3), (x,))
    assert torch.autograd.gradcheck(lambda t: log_softplus(t, tau=0.3), (x,))


@pytest.mark.parametrize("z", [0.0, -3.0, -8.0, -10.0, -20.0, -37.0, 5.0])
def test_normal_cdf_keeps_relative_accuracy_in_the_tail(z):
    value = normal_cdf(torch.tensor(z, dtype=torch.float64)).item()
    assert math.isclose(value, float(mpmath.ncdf(z)), rel_tol=1e-13)
    pdf = normal_pdf(torch.tensor(z, dtype=torch.float64)).item()
    assert math.isclose(pdf, float(mpmath.npdf(z)), rel_tol=1e-13)


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=-1e6, max_value=30.0, allow_nan=False))
def test_log_h_property_matches_mpmath(z):
    value = log_h(torch.tensor(z, dtype=torch.float64)).item()
    ref, _ = _ref_log_h_and_grad(z)
    assert math.isclose(value, ref, rel_tol=1e-11, abs_tol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=8),
    st.floats(1e-4, 10.0),
)
def test_fatmax_property_bounds(values, tau):
    x = torch.tensor(values, dtype=torch.float64)
    out = fatmax(x, tau=tau).item()
    M = max(values)
    assert (
        M - 1e-9 * max(1.0, abs(M))
        <= out
        <= M + tau * math.log(len(values)) + 1e-9 * max(1.0, abs(M))
    )


def test_plausible_maxima_rejects_bad_input():
    from skbo.acquisition.utils import plausible_maxima

    mean = torch.tensor([0.0, 1.0])
    with pytest.raises(ValueError, match="same shape"):
        plausible_maxima(mean, torch.ones(3))
    with pytest.raises(ValueError, match="non-empty 1-D"):
        plausible_maxima(torch.zeros(2, 2), torch.ones(2, 2))
    with pytest.raises(ValueError, match="z must be a finite number >= 0"):
        plausible_maxima(mean, torch.ones(2), z=-1.0)
    # NaN means never win; equal bounds keep both.
    out = plausible_maxima(torch.tensor([float("nan"), 1.0, 1.0]), torch.zeros(3))
    assert out.tolist() == [False, True, True]
