r"""Numerically safe log-space primitives for (log) expected improvement.

Notation
--------
``phi``, ``Phi``: standard normal density and CDF; ``z = (mu - f*) / sigma``:
standardized improvement; ``h(z) = phi(z) + z Phi(z)``, so that analytic
``EI = sigma h(z)``; ``tau``: smoothing temperature (same unit as its input);
``alpha``: tail-heaviness parameter of the "fat" smoothings.

Expected improvement underflows to exactly 0 (with a 0 gradient) a few
standard deviations into the tail, which stalls gradient-based acquisition
optimization. Ament et al. 2023 ("Unexpected Improvements to Expected
Improvement for Bayesian Optimization", arXiv 2310.20708) work in log space
instead and replace the non-smooth ``max(0, .)`` and ``max`` of the Monte-Carlo
estimators by smooth approximations whose tails decay polynomially ("fat"),
so that their logarithms and gradients never vanish. This module holds those
primitives; every function is elementwise or reduces one dimension, and is
differentiable by autograd.
"""

from __future__ import annotations

import math
from typing import Any, cast

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

__all__ = [
    "fatmax",
    "fatplus",
    "log_fatplus",
    "log_fatplus_and_slope",
    "log_h",
    "log_softplus",
    "logmeanexp",
    "normal_cdf",
    "normal_pdf",
    "plausible_maxima",
    "smooth_amax",
]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT_HALF_PI = math.sqrt(0.5 * math.pi)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
# Below this, log(softplus(y)) == y to within float64 rounding (exp(-40) ~ 4e-18)
# and exp(y) is still far from underflow in float32 (which happens near -87).
_LOG_SOFTPLUS_LINEAR = -40.0
_FATPLUS_ALPHA = 0.1
# Beyond -_FATPLUS_TAIL (in units of tau) log_fatplus continues its tail in log
# space; below it, y^2 stays finite in float32 (1e30 < 3.4e38).
_FATPLUS_TAIL = 1e15


def plausible_maxima(mean: Tensor, std: Tensor, z: float = 3.0) -> Tensor:
    """Mask of the points whose upper bound reaches the best lower bound.

    ``mean + z std >= max(mean - z std)``: a point outside it is below the
    point with the best lower bound with probability at least ``Phi(z)``
    (99.87 % for ``z = 3``) whatever their correlation, so it is (almost) never
    the maximum of a joint posterior draw. NaN means count as ``-inf``.

    Parameters
    ----------
    mean, std : Tensor of shape (n,)
        Marginal posterior means and standard deviations (or upper bounds of
        them).
    z : float, default=3.0
        Width of the bounds in standard deviations.

    Returns
    -------
    Tensor of shape (n,), dtype bool

    Examples
    --------
    >>> import torch
    >>> mean = torch.tensor([0.0, 1.0, 0.9])
    >>> plausible_maxima(mean, torch.full((3,), 0.05))
    tensor([False,  True,  True])
    """
    if mean.shape != std.shape or mean.dim() != 1 or mean.numel() == 0:
        raise ValueError(
            "mean and std must be non-empty 1-D tensors of the same shape, got "
            f"{tuple(mean.shape)} and {tuple(std.shape)}."
        )
    if not (math.isfinite(z) and z >= 0):
        raise ValueError(f"z must be a finite number >= 0, got {z!r}.")
    upper = torch.nan_to_num(mean + z * std, nan=-math.inf)
    lower = torch.nan_to_num(mean - z * std, nan=-math.inf)
    return upper >= lower.max()


def normal_pdf(z: Tensor) -> Tensor:
    """Standard normal density ``phi(z)``.

    Parameters
    ----------
    z : Tensor
        Any shape.

    Returns
    -------
    pdf : Tensor
        Same shape as ``z``.

    Examples
    --------
    >>> import torch
    >>> normal_pdf(torch.tensor([0.0]))
    tensor([0.3989])
    """
    return torch.exp(_log_normal_pdf(z))


def _log_normal_pdf(z: Tensor) -> Tensor:
    """``log(phi(z))``."""
    return -0.5 * z * z - _LOG_SQRT_2PI


def normal_cdf(z: Tensor) -> Tensor:
    """Standard normal CDF ``Phi(z)``, with full relative accuracy for ``z << 0``.

    Parameters
    ----------
    z : Tensor
        Any shape.

    Returns
    -------
    cdf : Tensor
        Same shape as ``z``.

    Examples
    --------
    >>> import torch
    >>> normal_cdf(torch.tensor([0.0, -10.0], dtype=torch.float64))
    tensor([5.0000e-01, 7.6199e-24], dtype=torch.float64)
    """
    # NOTE: torch.special.ndtr computes 0.5 (1 + erf(z / sqrt 2)) for part of
    # the negative axis and loses all relative accuracy there (torch 2.x:
    # ndtr(-8) is 2% off, ndtr(-10) == 0 instead of 7.6e-24); erfc does not
    # cancel.
    out: Tensor = 0.5 * torch.special.erfc(-_INV_SQRT2 * z)
    return out


def log_h(z: Tensor) -> Tensor:
    """Logarithm of ``h(z) = phi(z) + z Phi(z)``, accurate far into the tail.

    ``log EI = log sigma + log_h((mu - f*) / sigma)``. The result equals
    ``log(h(z))`` wherever ``h(z)`` is representable and stays finite, with an
    accurate, non-zero gradient ``Phi(z) / h(z)``, for every finite ``z``.

    Parameters
    ----------
    z : Tensor
        Standardized improvements, any shape, floating point.

    Returns
    -------
    log_h : Tensor
        Same shape and dtype as ``z``.

    Examples
    --------
    >>> import torch
    >>> z = torch.tensor([0.0, -40.0], dtype=torch.float64)
    >>> log_h(z)
    tensor([  -0.9189, -808.2986], dtype=torch.float64)
    """
    return cast(Tensor, _LogH.apply(z))  # type: ignore[no-untyped-call]


class _LogH(torch.autograd.Function):
    """``log_h`` with its derivative ``Phi(z) / h(z) = exp(log Phi(z) - log h(z))``.

    NOTE: the three-branch forward below records about 35 autograd nodes; a
    single node with this closed-form derivative makes the backward of
    analytic LogEI about 3x cheaper at no loss of accuracy (``log_ndtr`` is
    accurate in the far tail, where both logs are large and the ratio ~ -z).
    """

    @staticmethod
    def forward(ctx: Any, z: Tensor) -> Tensor:
        out = _log_h_value(z)
        ctx.save_for_backward(z, out)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        z, out = ctx.saved_tensors
        return grad * _log_h_derivative(z, out)


def _log_h_derivative(z: Tensor, log_h_z: Tensor) -> Tensor:
    """``d log_h / dz = Phi(z) / h(z)``, given ``log_h(z)``."""
    ratio = torch.exp(torch.special.log_ndtr(z) - log_h_z)
    T = _tail_threshold(z.dtype)
    if z.numel() == 0 or float(z.min()) > -T:
        return ratio  # NOTE: skipping unused branches saves ~10 small ops
    # Below -T the difference of two huge logs loses relative accuracy;
    # there the ratio of the two Mills-ratio series is exact to eps:
    # Phi / h = -z (1 - w + 3w^2 - 15w^3 + 105w^4) / (1 - 3w + 15w^2 - ...).
    z3 = z.clamp_max(-T)
    w = z3.reciprocal().square()
    num = 1.0 + w * (-1.0 + w * (3.0 + w * (-15.0 + w * 105.0)))
    den = 1.0 + w * (-3.0 + w * (15.0 + w * (-105.0 + w * 945.0)))
    return torch.where(z > -T, ratio, -z3 * num / den)


def _tail_threshold(dtype: torch.dtype) -> float:
    """``T``: below ``-T`` the 5-term Mills-ratio series is exact to ``eps``."""
    return float((10395.0 / torch.finfo(dtype).eps) ** 0.1)


def _log_h_value(z: Tensor) -> Tensor:
    # NOTE: three branches, after Ament et al. 2023 (arXiv 2310.20708, LogEI):
    # (1) z > -1: log(h) directly (h >= h(-1) ~ 0.083, no cancellation).
    # (2) with Phi(z) = erfcx(-z / sqrt 2) phi(z) sqrt(pi / 2),
    #     h(z) = phi(z) (1 + z sqrt(pi / 2) erfcx(-z / sqrt 2)); the log1p term
    #     loses ~eps z^2 relative accuracy to cancellation as z -> -inf.
    # (3) z <= -T: the asymptotic (Mills ratio) series
    #     h(z) = phi(z) / z^2 (1 - 3/z^2 + 15/z^4 - 105/z^6 + 945/z^8 - ...),
    #     truncation error < 10395 / z^10, which is below eps for z <= -T.
    #     This refines the paper's leading-order branch (used below -1/sqrt(eps)):
    #     against mpmath, float64 values are within 1e-15 and gradients 1e-12
    #     (relative), float32 values 2e-7 and gradients 2e-5, for any z.
    # Each branch is evaluated on inputs clamped to its own domain so that the
    # unselected branches of torch.where never produce inf/NaN gradients.
    # NOTE: branches that no element needs are skipped (the acquisition
    # optimizer calls this on ~10 values per step, where each small op counts).
    T = _tail_threshold(z.dtype)  # 92.7 in float64, 12.4 in float32
    z_min = float(z.min()) if z.numel() else 0.0
    z1 = z.clamp_min(-1.0)
    h1 = normal_pdf(z1) + z1 * normal_cdf(z1)
    b1 = torch.log(h1)
    if z_min > -1.0:
        return b1
    z2 = z.clamp(-T, -1.0)
    b2 = _log_normal_pdf(z2) + torch.log1p(
        z2 * _SQRT_HALF_PI * torch.special.erfcx(-_INV_SQRT2 * z2)
    )
    if z_min > -T:
        return torch.where(z > -1.0, b1, b2)
    z3 = z.clamp_max(-T)
    w = z3.reciprocal().square()
    series = w * (-3.0 + w * (15.0 + w * (-105.0 + w * 945.0)))
    b3 = _log_normal_pdf(z3) - 2.0 * torch.log(-z3) + torch.log1p(series)
    return torch.where(z > -1.0, b1, torch.where(z > -T, b2, b3))


def logmeanexp(x: Tensor, dim: int, keepdim: bool = False) -> Tensor:
    """``log(mean(exp(x)))`` along ``dim``, without overflow or underflow.

    Parameters
    ----------
    x : Tensor
        Log-values.
    dim : int
        Dimension to reduce.
    keepdim : bool, default=False
        Keep the reduced dimension (with size 1).

    Returns
    -------
    out : Tensor
        ``logsumexp(x, dim) - log(x.shape[dim])``.

    Examples
    --------
    >>> import torch
    >>> logmeanexp(torch.tensor([-1000.0, -1000.0]), dim=0)
    tensor(-1000.)
    """
    return torch.logsumexp(x, dim=dim, keepdim=keepdim) - math.log(x.shape[dim])


def log_softplus(x: Tensor, tau: float = 1.0) -> Tensor:
    """``log(tau * softplus(x / tau))``, a smooth ``log(max(x, 0))``.

    Accurate also where ``softplus`` underflows (there it equals
    ``x / tau + log tau``).

    Parameters
    ----------
    x : Tensor
        Inputs.
    tau : float, default=1.0
        Temperature; ``tau -> 0`` recovers ``log(max(x, 0))``.

    Returns
    -------
    out : Tensor
        Same shape as ``x``.

    Examples
    --------
    >>> import torch
    >>> log_softplus(torch.tensor([-1000.0, 0.0], dtype=torch.float64))
    tensor([-1.0000e+03, -3.6651e-01], dtype=torch.float64)
    """
    return _log_softplus_unit(x / tau) + math.log(tau)


def _log_softplus_unit(y: Tensor) -> Tensor:
    """``log(softplus(y))``, equal to ``y`` where ``softplus`` would underflow."""
    y_safe = y.clamp_min(_LOG_SOFTPLUS_LINEAR)
    log_sp = torch.log(torch.nn.functional.softplus(y_safe))
    return torch.where(y > _LOG_SOFTPLUS_LINEAR, log_sp, y)


def fatplus(x: Tensor, tau: float = 1.0, alpha: float = _FATPLUS_ALPHA) -> Tensor:
    """Fat-tailed smooth ReLU: ``tau * (softplus(x/tau) + alpha / (1 + (x/tau)^2))``.

    Strictly positive and increasing (for ``alpha <= 0.25``), above
    ``max(x, 0)`` by at most ``tau * (log 2 + alpha)``, and decaying only
    polynomially as ``x -> -inf``, so its logarithm and gradient never vanish.

    Parameters
    ----------
    x : Tensor
        Inputs.
    tau : float, default=1.0
        Temperature; ``tau -> 0`` recovers ``max(x, 0)``.
    alpha : float, default=0.1
        Weight of the Cauchy-shaped tail.

    Returns
    -------
    out : Tensor
        Same shape as ``x``.

    Examples
    --------
    >>> import torch
    >>> fatplus(torch.tensor([-1.0, 1.0]), tau=1e-3)
    tensor([1.0000e-10, 1.0000e+00])
    """
    y = x / tau
    return tau * (torch.nn.functional.softplus(y) + alpha / (1.0 + y * y))


def log_fatplus(x: Tensor, tau: float = 1.0, alpha: float = _FATPLUS_ALPHA) -> Tensor:
    """``log(fatplus(x, tau, alpha))``, finite for every finite ``x``.

    Parameters
    ----------
    x : Tensor
        Inputs.
    tau : float, default=1.0
        Temperature of :func:`fatplus`.
    alpha : float, default=0.1
        Weight of the tail of :func:`fatplus`.

    Returns
    -------
    out : Tensor
        Same shape as ``x``.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([-1e30, 0.5], dtype=torch.float64)
    >>> log_fatplus(x, tau=1e-6)
    tensor([-181.9042,   -0.6931], dtype=torch.float64)
    """
    fast = _fatplus_inside_tail(x, tau, alpha)
    if fast is not None:
        return fast[2].log_().add_(math.log(tau))
    return _log_fatplus_parts(x, tau, alpha)[0]


def _fatplus_inside_tail(
    x: Tensor, tau: float, alpha: float
) -> tuple[Tensor, Tensor, Tensor] | None:
    """``(y, w, f)`` of :func:`_log_fatplus_parts` in 6 operations, or None.

    Applies on the CPU without a graph when no input lies beyond the tail
    threshold (the rule: 1e15 temperatures below the incumbent), where the
    tail terms are exactly 0 and 1; ``f`` is a fresh tensor (safe to modify).
    Only on the CPU, where the test costs no device synchronization.
    """
    if x.device.type != "cpu" or x.requires_grad:
        return None
    y = x / tau
    if bool((y < -_FATPLUS_TAIL).any()):
        return None
    w = y.square().add_(1.0).reciprocal_()
    f = torch.nn.functional.softplus(y).add_(w, alpha=alpha)
    return y, w, f


def _log_fatplus_parts(
    x: Tensor, tau: float, alpha: float
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """``log_fatplus`` and the intermediates of its derivative.

    Returns ``(log_f, y, y_c, w, f)``: ``y = x / tau``, ``y_c = max(y, -T)``,
    ``w = 1 / (1 + y_c^2)`` and ``f = softplus(y_c) + alpha w``.
    """
    # NOTE: log(softplus(y) + alpha / (1 + y^2)) directly: both terms are
    # positive, and the Cauchy term cannot underflow or overflow for |y| <= T
    # (in float32 too). Below -T, where softplus is 0, the tail alpha / y^2
    # continues in log space: - 2 log(-y / T). Three transcendental operations
    # instead of eight in the log-space formula (logaddexp of the two terms'
    # logs), the bulk of qLogNEI's elementwise cost.
    y = x / tau
    y_c = y.clamp_min(-_FATPLUS_TAIL)
    w = 1.0 / (1.0 + y_c * y_c)
    f = torch.nn.functional.softplus(y_c) + alpha * w
    tail = torch.log((y * (-1.0 / _FATPLUS_TAIL)).clamp_min(1.0))
    return torch.log(f) - 2.0 * tail + math.log(tau), y, y_c, w, f


def log_fatplus_and_slope(
    x: Tensor, tau: float = 1.0, alpha: float = _FATPLUS_ALPHA
) -> tuple[Tensor, Tensor]:
    """:func:`log_fatplus` and its derivative in ``x``, without autograd.

    ``fatplus'(y) = sigmoid(y) - 2 alpha y / (1 + y^2)^2`` is positive for
    ``alpha <= 0.25``; the derivative is the same as autograd's through
    :func:`log_fatplus` (to rounding), including beyond the tail threshold.

    Parameters
    ----------
    x : Tensor
        Inputs.
    tau : float, default=1.0
        Temperature of :func:`fatplus`.
    alpha : float, default=0.1
        Weight of the tail of :func:`fatplus`.

    Returns
    -------
    (log_f, slope) : Tensors shaped like ``x``

    Examples
    --------
    >>> import torch
    >>> u, g = log_fatplus_and_slope(torch.tensor([0.0, 50.0], dtype=torch.float64))
    >>> [round(v, 4) for v in g.tolist()]
    [0.6304, 0.02]
    """
    fast = _fatplus_inside_tail(x, tau, alpha)
    if fast is not None:
        # NOTE: the same numbers from 11 operations instead of 27 (103 -> 51
        # us on 256 x 10 samples).
        y, w, f = fast
        cauchy = y.mul(w).mul_(w).mul_(2.0 * alpha)
        slope = torch.sigmoid(y).sub_(cauchy).div_(f).div_(tau)
        return f.log_().add_(math.log(tau)), slope
    log_f, y, y_c, w, f = _log_fatplus_parts(x, tau, alpha)
    beyond = y < -_FATPLUS_TAIL
    cauchy = torch.where(beyond, 0.0, (2.0 * alpha) * y_c * w * w)
    slope = (torch.sigmoid(y_c) - cauchy) / f
    slope = torch.where(beyond, -2.0 / y, slope)
    return log_f, slope / tau


def smooth_amax(
    x: Tensor, dim: int = -1, tau: float = 1.0, keepdim: bool = False
) -> Tensor:
    """Smooth maximum ``tau * logsumexp(x / tau)`` along ``dim``.

    Lies in ``[max(x), max(x) + tau * log(n)]``.

    Parameters
    ----------
    x : Tensor
        Inputs.
    dim : int, default=-1
        Dimension to reduce.
    tau : float, default=1.0
        Temperature; ``tau -> 0`` recovers the maximum.
    keepdim : bool, default=False
        Keep the reduced dimension.

    Returns
    -------
    out : Tensor
        The smooth maximum.

    Examples
    --------
    >>> import torch
    >>> smooth_amax(torch.tensor([0.0, 1.0]), tau=1e-3)
    tensor(1.)
    """
    return tau * torch.logsumexp(x / tau, dim=dim, keepdim=keepdim)


def fatmax(
    x: Tensor,
    dim: int = -1,
    tau: float = 1.0,
    alpha: float = 2.0,
    keepdim: bool = False,
) -> Tensor:
    """Fat-tailed smooth maximum along ``dim``.

    ``M + tau * log(sum_i (1 + (M - x_i) / (alpha tau))^(-alpha))`` with
    ``M = max(x)``: a logsumexp whose kernel ``exp(-y)`` is replaced by the
    Pareto-shaped ``(1 + y / alpha)^(-alpha)``, so that elements far below the
    maximum keep a polynomially (not exponentially) small weight and gradient.

    Parameters
    ----------
    x : Tensor
        Inputs (may contain ``-inf``; no NaN).
    dim : int, default=-1
        Dimension to reduce.
    tau : float, default=1.0
        Temperature; the result lies in ``[max(x), max(x) + tau * log(n)]``.
    alpha : float, default=2.0
        Tail exponent; ``alpha -> inf`` recovers :func:`smooth_amax`.
    keepdim : bool, default=False
        Keep the reduced dimension.

    Returns
    -------
    out : Tensor
        The smooth maximum.

    Examples
    --------
    >>> import torch
    >>> fatmax(torch.tensor([0.0, 1.0]), tau=1e-3)
    tensor(1.)
    >>> fatmax(torch.tensor([[3.0]]), dim=-1)
    tensor([3.])
    """
    # NOTE: the kernel k(y) = (1 + y/alpha)^(-alpha) has k(0) = 1 and k'(0) = -1,
    # the same as exp(-y) at 0. That makes the result continuously
    # differentiable (C^2, in fact) where the argmax switches between elements,
    # although M = max(x) itself is not (cf. Ament et al. 2023, sec. 4.2).
    M = x.amax(dim=dim, keepdim=True)
    M_safe = torch.where(torch.isfinite(M), M, torch.zeros_like(M))
    y = (M_safe - x) / (alpha * tau)
    out = M_safe + tau * torch.log((1.0 + y).pow(-alpha).sum(dim=dim, keepdim=True))
    out = torch.where(torch.isfinite(M), out, M)
    return out if keepdim else out.squeeze(dim)
