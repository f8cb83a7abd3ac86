r"""Analytic LogEI on skbo's exact GP as one autograd node.

Notation
--------
``X (b, d)``: candidates; ``m, v``: standardized posterior mean and variance
(:func:`skbo.models._fused._moments_forward`); ``mu = (m + c) s + y0`` and
``sigma^2 = max(v, v_min) s^2`` in the units of ``y`` (``c``: prior mean,
``s, y0``: outcome standardization); ``z = (mu - f*) / sigma``;
``LogEI = log_h(z) + log sigma``.

Backward: ``dLogEI/dmu = r / sigma`` and ``dLogEI/dsigma = (1 - z r) / sigma``
with ``r = Phi(z) / h(z)``, then the posterior's own hand-written backward.

NOTE: this is what every L-BFGS-B step of the acquisition optimizer evaluates
in the default ``Optimizer``; as one node it replays in a fraction of the time
of the ~15 autograd nodes of the composed version (posterior object,
untransform, clamps, ``log_h``), with the same numbers (tested against it).
"""

from __future__ import annotations

from typing import Any, cast

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from skbo.acquisition.utils import _log_h_derivative, _log_h_value
from skbo.models._fused import _moments_backward, _moments_forward

__all__ = ["fused_log_ei", "fused_log_ei_value_and_grad"]


def _log_ei_forward(
    X: Tensor, pred: Any, best_f: Tensor, floor: float
) -> tuple[Tensor, tuple[Any, ...]]:
    """LogEI ``(b,)`` at ``X (b, d)`` and what :func:`_log_ei_backward` needs."""
    path = pred._point
    z, c = path.inputs(X)
    m, v, saved = _moments_forward(
        z, path.zt, c, path.ct, path.w, path.total, pred.L, pred.alpha, path.matern
    )
    s = pred.y_std
    mean = (m + path.constant) * s + pred.y_mean
    var = v.clamp_min(pred.min_variance) * s.square()
    sigma = var.clamp_min(floor).sqrt()
    zz = (mean - best_f) / sigma
    log_h = _log_h_value(zz)
    out: Tensor = log_h + sigma.log()
    return out, (pred, floor, X.shape, saved, v, var, zz, log_h, sigma)


def _log_ei_backward(ctx: tuple[Any, ...], grad: Tensor) -> Tensor:
    """Gradient with respect to ``X (b, d)`` given ``dL/dLogEI`` ``(b,)``."""
    pred, floor, shape, saved, v, var, zz, log_h, sigma = ctx
    path = pred._point
    r = _log_h_derivative(zz, log_h)
    d_mean = grad * r / sigma
    d_sigma = grad * (1.0 - zz * r) / sigma
    d_var = torch.where(var > floor, d_sigma / (2.0 * sigma), 0.0)
    s = pred.y_std
    g_v = torch.where(v > pred.min_variance, d_var * s.square(), 0.0)
    g_z, g_c = _moments_backward(saved, d_mean * s, g_v)
    g_X = grad.new_zeros(shape)
    if g_z is not None:
        g_z = g_z * path.inv
        if path.cont_cols is None:
            g_X += g_z
        else:
            g_X.index_add_(-1, path.cont_cols, g_z)
    if g_c is not None:
        g_X.index_add_(-1, path.cat_cols, g_c)
    return g_X


class _PointLogEI(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, X: Tensor, pred: Any, best_f: Tensor, floor: float) -> Tensor:
        out, ctx.saved = _log_ei_forward(X, pred, best_f, floor)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None, None]:
        return _log_ei_backward(ctx.saved, grad), None, None, None


def _point_predictor(model: Any, X: Tensor, best_f: Tensor) -> Any | None:
    """The predictor with a fused single-point path, or None when not applicable."""
    from skbo.models.gp import SingleTaskGP

    if type(model) is not SingleTaskGP or X.dim() != 3 or X.shape[-2] != 1:
        return None
    pred = model.predictor()
    if pred._point is None or best_f.dim() > 1:
        return None
    return pred


def _floor(X: Tensor) -> float:
    return 1e-12 if X.dtype == torch.float64 else 1e-10


def fused_log_ei_value_and_grad(
    model: Any, X: Tensor, best_f: Tensor
) -> tuple[Tensor, Tensor] | None:
    """LogEI ``(b,)`` at ``X (b, 1, d)`` and its gradient, without autograd.

    The same numbers as :func:`fused_log_ei` and its backward (tested), for
    the acquisition optimizer, which needs nothing else: no graph is recorded
    and the autograd engine is not entered.

    Parameters
    ----------
    model : Model
        The surrogate.
    X : Tensor of shape (b, 1, d)
        Candidates.
    best_f : Tensor
        Incumbent, shape ``()`` or ``(b,)``.

    Returns
    -------
    (values, grad) : Tensors of shapes (b,) and (b, 1, d), or None
        None where :func:`fused_log_ei` does not apply either.
    """
    pred = _point_predictor(model, X, best_f)
    if pred is None:
        return None
    with torch.no_grad():
        flat = X.detach().squeeze(-2)
        out, ctx = _log_ei_forward(flat, pred, best_f.to(flat), _floor(X))
        grad = _log_ei_backward(ctx, torch.ones_like(out))
    return out, grad.unsqueeze(-2)


def fused_log_ei(model: Any, X: Tensor, best_f: Tensor) -> Tensor | None:
    """LogEI ``(b,)`` at ``X (b, 1, d)`` as one node, or None when not applicable.

    Applies to a :class:`~skbo.models.SingleTaskGP` whose predictor has the
    fused single-point path (stationary and/or categorical kernels, constant
    mean) and a scalar or per-t-batch ``best_f``.

    Parameters
    ----------
    model : Model
        The surrogate.
    X : Tensor of shape (b, 1, d)
        Candidates.
    best_f : Tensor
        Incumbent, shape ``()`` or ``(b,)``.

    Returns
    -------
    Tensor of shape (b,) or None
    """
    pred = _point_predictor(model, X, best_f)
    if pred is None:
        return None
    flat = X.squeeze(-2)
    out = _PointLogEI.apply(flat, pred, best_f.to(flat), _floor(X))  # type: ignore[no-untyped-call]
    return cast(Tensor, out)
