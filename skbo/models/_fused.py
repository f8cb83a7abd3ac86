r"""Fused dense evaluation of the Matern-5/2 and RBF kernel matrices.

Notation
--------
``z1 (..., n, d)``, ``z2 (..., m, d)``: inputs already centred and divided by the
lengthscales (and by ``1 / sqrt(5)`` for Matern-5/2, ``sqrt(2)`` for RBF);
``s^2 = ||z1_a - z2_b||^2``; ``K (..., n, m)``: kernel matrix; ``G = dL/dK``:
the incoming gradient; ``W = G * dk/d(s^2)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

__all__ = [
    "fused_stationary",
    "matern52_profile",
    "point_moments",
    "stationary_matrix",
]


def _sum_to(t: Tensor, shape: torch.Size) -> Tensor:
    """Sum a broadcast gradient back to ``shape``."""
    while t.dim() > len(shape):
        t = t.sum(0)
    for i, size in enumerate(shape):
        if size == 1 and t.shape[i] != 1:
            t = t.sum(i, keepdim=True)
    return t


class _StationaryMatrix(torch.autograd.Function):
    """``K = k(||z1_a - z2_b||^2)`` for Matern-5/2 or RBF, fused and in place.

    The caller scales the inputs so that ``s^2 = ||z1_a - z2_b||^2`` is
    ``5 r^2`` (Matern-5/2: ``k = (1 + s + s^2 / 3) exp(-s)``) or ``r^2 / 2``
    (RBF: ``k = exp(-s^2)``).

    NOTE: the GP loss at n = 1000 is dominated by memory-bound passes over
    ``(n, n)`` arrays besides the Cholesky; this function computes ``s^2`` with
    one matrix product and a handful of in-place passes and writes its own
    backward (``dL/dz1 = 2 (rowsum(W) z1 - W z2)`` with
    ``W = dL/dK * dk/d(s^2)``), about half the passes of plain autograd.

    Matern-5/2 is differentiated in ``s^2``:
    ``dk / d(s^2) = -(1 + s) exp(-s) / 6``, which is finite at ``s = 0``, where
    autograd through ``sqrt`` gives NaN (Optuna's ``_gp/gp.py`` uses the same
    trick). Inputs are centred by the caller so that the cancellation error of
    ``|z|^2 + |z'|^2 - 2 z z'`` stays small; the diagonal of a symmetric matrix
    is exactly zero.
    """

    @staticmethod
    def forward(
        ctx: Any, z1: Tensor, z2: Tensor, matern: bool, symmetric: bool
    ) -> Tensor:
        sq1 = z1.pow(2).sum(-1, keepdim=True)
        sq2 = sq1 if symmetric else z2.pow(2).sum(-1, keepdim=True)
        if z1.dim() == 2 and z2.dim() == 2:
            s2 = torch.addmm(sq1 + sq2.mT, z1, z2.mT, alpha=-2.0)
        else:
            s2 = (z1 @ z2.mT).mul_(-2.0).add_(sq1).add_(sq2.mT)
        s2.clamp_min_(0.0)
        if symmetric:
            s2.diagonal(dim1=-2, dim2=-1).zero_()
        ctx.matern = matern
        ctx.symmetric = symmetric
        if matern:
            s = s2.sqrt_()
            e = torch.neg(s).exp_()
            k = s + 1.0
            k.addcmul_(s, s, value=1.0 / 3.0).mul_(e)
            ctx.save_for_backward(z1, z2, s, e)
            return k
        k = s2.neg_().exp_()
        ctx.save_for_backward(z1, z2, k)
        return k

    @staticmethod
    @once_differentiable
    def backward(
        ctx: Any, grad: Tensor
    ) -> tuple[Tensor | None, Tensor | None, None, None]:
        # W = grad * dk/d(s^2) / c, with the constant c folded into `factor`.
        if ctx.matern:
            z1, z2, s, e = ctx.saved_tensors
            W = torch.addcmul(e, s, e).mul_(grad)
            factor = -2.0 / 6.0
        else:
            z1, z2, k = ctx.saved_tensors
            W = k * grad
            factor = -2.0
        if ctx.symmetric:
            W = W + W.mT
            g1 = W.sum(-1, keepdim=True) * z1 - W @ z1
            return _sum_to(factor * g1, z1.shape), None, None, None
        g1 = g2 = None
        if ctx.needs_input_grad[0]:
            g1 = _sum_to(factor * (W.sum(-1, keepdim=True) * z1 - W @ z2), z1.shape)
        if ctx.needs_input_grad[1]:
            g2 = W.sum(-2).unsqueeze(-1) * z2 - W.mT @ z1
            g2 = _sum_to(factor * g2, z2.shape)
        return g1, g2, None, None


_SQRT5 = math.sqrt(5.0)
_SQRT_HALF = math.sqrt(0.5)


def fused_stationary(z1: Tensor, z2: Tensor, matern: bool) -> Tensor:
    """Fused kernel matrix of inputs already centred and scaled (not symmetric)."""
    return cast(Tensor, _StationaryMatrix.apply(z1, z2, matern, False))  # type: ignore[no-untyped-call]


def stationary_matrix(
    x1: Tensor, x2: Tensor, lengthscale: Tensor, symmetric: bool, matern: bool
) -> Tensor:
    """Centre, scale by the lengthscales and evaluate the fused kernel matrix."""
    shift = x2.detach().reshape(-1, x2.shape[-1]).mean(0)
    inv = (_SQRT5 if matern else _SQRT_HALF) / lengthscale
    z1 = (x1 - shift) * inv
    z2 = z1 if symmetric else (x2 - shift) * inv
    return cast(Tensor, _StationaryMatrix.apply(z1, z2, matern, symmetric))  # type: ignore[no-untyped-call]


class _Matern52Profile(torch.autograd.Function):
    """Elementwise Matern-5/2 profile of ``r^2`` with the exact derivative."""

    @staticmethod
    def forward(ctx: Any, r2: Tensor) -> Tensor:
        sr = torch.sqrt(5.0 * r2)
        e = torch.exp(-sr)
        ctx.save_for_backward(sr, e)
        return (1.0 + sr + sr * sr / 3.0) * e

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        sr, e = ctx.saved_tensors
        return grad * (-5.0 / 6.0) * (1.0 + sr) * e  # type: ignore[no-any-return]


def matern52_profile(r2: Tensor) -> Tensor:
    """Elementwise Matern-5/2 ``k(r)`` from ``r^2``, with an exact derivative at 0.

    Parameters
    ----------
    r2 : Tensor
        Squared scaled distances.

    Returns
    -------
    Tensor of the same shape
    """
    return cast(Tensor, _Matern52Profile.apply(r2))  # type: ignore[no-untyped-call]


class _PointMoments(torch.autograd.Function):
    """Posterior mean and variance of single points, with a hand-written backward.

    The kernel is a stationary one on scaled continuous columns ``z (b, d)``
    (training rows ``zt (n, d)``, as in :class:`_StationaryMatrix`), times, if
    given, the categorical kernel on one-hot columns ``c (b, m)`` (training
    rows ``ct``): ``k_cat = exp((c * w) ct^T - total)``, times an output
    scale if given. Either kernel part may be absent (``None``). With
    ``k (b, n)`` the product: ``mean = k alpha``,
    ``var = k(x, x) - ||L^{-1} k^T||^2`` (standardized units, no prior mean,
    no floor). Backward: ``dL/dk = g_mean alpha - 2 g_var (K^{-1} k^T)^T``,
    then each kernel factor's derivative; gradients flow to ``z`` and ``c``
    only (the GP's hyperparameters and factorization are constants here).

    NOTE: the q = 1 posterior is what every analytic acquisition function
    evaluates at each L-BFGS-B step; plain autograd records about 40 nodes
    for it and replays them in about 1 ms at small n. This function has one
    node and a backward of one triangular solve and a few matrix products.
    """

    @staticmethod
    def forward(ctx: Any, *inputs: Any) -> tuple[Tensor, Tensor]:
        # inputs: the arguments of _moments_forward, in its order.
        mean, var, saved = _moments_forward(*inputs)
        ctx.save_for_backward(*saved)
        return mean, var

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, g_mean: Tensor, g_var: Tensor) -> tuple[Tensor | None, ...]:
        g_z, g_c = _moments_backward(ctx.saved_tensors, g_mean, g_var)
        return g_z, None, g_c, None, None, None, None, None, None, None


def _moments_forward(
    z: Tensor | None,
    zt: Tensor | None,
    c: Tensor | None,
    ct: Tensor | None,
    w: Tensor | None,
    total: Tensor | None,
    L: Tensor,
    alpha: Tensor,
    matern: bool,
    scale: Tensor | None = None,
) -> tuple[Tensor, Tensor, tuple[Any, ...]]:
    """Mean, variance and what the backward needs (see :class:`_PointMoments`)."""
    k, dk, k_cat = _kernel_rows(z, zt, c, ct, w, total, matern, scale)
    diag = prior_variance(c, w, total, k_cat, scale)
    V = torch.linalg.solve_triangular(L, k.mT, upper=False)  # (n, b)
    mean = k @ alpha
    var = (1.0 if diag is None else diag) - V.square().sum(0)
    return mean, var, (z, zt, c, ct, w, L, alpha, V, k, dk, k_cat, diag)


def prior_variance(
    c: Tensor | None,
    w: Tensor | None,
    total: Tensor | None,
    k_cat: Tensor | None,
    scale: Tensor | None,
) -> Tensor | None:
    """``k(x, x)`` of single points ``(b,)``, or None where it is 1.

    The stationary factor is 1 on the diagonal; relaxed (non one-hot)
    categorical columns make the categorical one ``exp(sum c^2 w - total)``;
    an output scale multiplies both.
    """
    diag = None
    if k_cat is not None:
        assert c is not None and w is not None and total is not None
        diag = ((c * c * w).sum(-1) - total).exp_()
    if scale is not None:
        diag = scale if diag is None else diag * scale
    return diag


def _kernel_rows(
    z: Tensor | None,
    zt: Tensor | None,
    c: Tensor | None,
    ct: Tensor | None,
    w: Tensor | None,
    total: Tensor | None,
    matern: bool,
    scale: Tensor | None = None,
) -> tuple[Tensor, Tensor | None, Tensor | None]:
    """``k (b, n)`` between points and rows, ``dk / d(s^2)`` of its stationary
    factor (or None) and its categorical factor (or None).

    With an output ``scale``, ``k`` and ``dk`` include it (``k_cat`` does
    not), which is all :func:`_kernel_rows_backward` needs to stay exact.
    """
    k_cont = dk = k_cat = None
    if z is not None and zt is not None:
        sq = (z * z).sum(-1, keepdim=True) + (zt * zt).sum(-1)
        s2 = torch.addmm(sq, z, zt.mT, alpha=-2.0).clamp_min_(0.0)
        if matern:
            s = s2.sqrt_()
            e = torch.neg(s).exp_()
            k_cont = (s + 1.0).addcmul_(s, s, value=1.0 / 3.0).mul_(e)
            dk = torch.addcmul(e, s, e).mul_(-1.0 / 6.0)  # dk / d(s^2)
        else:
            k_cont = s2.neg_().exp_()
            dk = -k_cont
    if c is not None and ct is not None and w is not None and total is not None:
        k_cat = torch.addmm(-total, c * w, ct.mT).exp_()
    if k_cont is None:
        assert k_cat is not None
        k = k_cat
    else:
        k = k_cont if k_cat is None else k_cont * k_cat
    if scale is not None:
        k = k * scale
        dk = None if dk is None else dk * scale
    return k, dk, k_cat


def _kernel_rows_backward(
    G: Tensor,
    z: Tensor | None,
    zt: Tensor | None,
    c: Tensor | None,
    ct: Tensor | None,
    w: Tensor | None,
    k: Tensor,
    dk: Tensor | None,
    k_cat: Tensor | None,
) -> tuple[Tensor | None, Tensor | None]:
    """Gradients of ``z`` and ``c`` from ``G = dL/dk (b, n)`` (``_kernel_rows``)."""
    g_z = g_c = None
    if z is not None and zt is not None and dk is not None:
        W = G * dk if k_cat is None else G * dk * k_cat
        g_z = (W.sum(-1, keepdim=True) * z - W @ zt).mul_(2.0)
    if c is not None and ct is not None and w is not None:
        g_c = ((G * k) @ ct).mul_(w)
    return g_z, g_c


def _moments_backward(
    saved: Sequence[Any], g_mean: Tensor, g_var: Tensor
) -> tuple[Tensor | None, Tensor | None]:
    """Gradients of the continuous and categorical inputs (see ``_PointMoments``)."""
    z, zt, c, ct, w, L, alpha, V, k, dk, k_cat, diag = saved
    Kinv_k = torch.linalg.solve_triangular(L.mT, V, upper=True)  # (n, b)
    G = torch.outer(g_mean, alpha).sub_(Kinv_k.mT * (2.0 * g_var).unsqueeze(-1))
    g_z, g_c = _kernel_rows_backward(G, z, zt, c, ct, w, k, dk, k_cat)
    if g_c is not None:
        g_c.add_((2.0 * g_var * diag).unsqueeze(-1) * w * c)
    return g_z, g_c


def point_moments(
    z: Tensor | None,
    zt: Tensor | None,
    L: Tensor,
    alpha: Tensor,
    matern: bool,
    categorical: tuple[Tensor, Tensor, Tensor, Tensor] | None = None,
    scale: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Standardized posterior mean and variance ``(b,)`` of single points.

    Parameters
    ----------
    z : Tensor of shape (b, d) or None
        Continuous columns of the candidates, centred and scaled like ``zt``
        (see :func:`stationary_matrix`); ``None``: no continuous kernel.
    zt : Tensor of shape (n, d) or None
        Scaled continuous columns of the training inputs.
    L : Tensor of shape (n, n)
        Lower Cholesky factor of ``K + noise`` on the training inputs.
    alpha : Tensor of shape (n,)
        ``(K + noise)^{-1} (y - prior mean)``.
    matern : bool
        Matern-5/2 (else RBF) profile.
    categorical : tuple of Tensor, optional
        ``(c (b, m), ct (n, m), w (m,), total ())``: one-hot columns of the
        candidates and training inputs, per-column weights ``1 / l_g`` and
        their per-group sum, for a product with the categorical kernel.
    scale : Tensor of shape () or None, default=None
        Output scale multiplying the kernel (a ``ScaleKernel``).

    Returns
    -------
    mean, var : Tensor of shape (b,)
        Without the prior mean and without a variance floor.
    """
    c, ct, w, total = categorical if categorical is not None else (None,) * 4
    out = _PointMoments.apply(z, zt, c, ct, w, total, L, alpha, matern, scale)  # type: ignore[no-untyped-call]
    return cast(tuple[Tensor, Tensor], out)
