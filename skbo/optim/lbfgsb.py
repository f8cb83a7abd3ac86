r"""Joint multi-start L-BFGS-B: all restarts in one stacked vector.

Notation
--------
``d``: columns; ``bounds``: ``(2, d)``; ``R``: restarts; ``k``: free
(optimized) columns; ``alpha(x)``: acquisition value of one point ``x`` (d,).

SciPy's L-BFGS-B minimizes ``L(x_1, ..., x_R) = -sum_r alpha(x_r)`` over one
vector of ``R k`` variables. The gradient of the sum separates by restart, so
one batched acquisition call with one autograd pass gives every restart its
gradient (BoTorch's ``gen_candidates_scipy`` does the same). The best point
*seen* by each restart is kept, so a restart never ends worse than it started,
and no extra evaluation is needed at the end.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from skbo.optim.utils import (
    AcquisitionLike,
    check_bounds,
    from_numpy,
    to_numpy,
)
from skbo.utils.lbfgsb import run_lbfgsb

__all__ = ["optimize_restarts", "screen_and_refine"]

# Added to the loss per restart whose value turned non-finite during the run:
# the line search then backs off from such points.
_PENALTY = 1e10


class _Objective:
    """``x (R k,) -> (-sum_r alpha(x_r), gradient)`` for SciPy, tracking the best.

    NOTE: the per-call bookkeeping (masks, best point seen, loss) runs in
    NumPy on the ``(R,)`` values and ``(R, k)`` gradients, which SciPy needs
    as NumPy arrays anyway (one device-to-host copy of each per call; the
    rest are NumPy operations on ``R k`` numbers).
    """

    def __init__(self, acq_function: AcquisitionLike, X0: Tensor, free: Tensor | None):
        self.acq_function = acq_function
        self.template = X0.detach().clone()
        self.free = free
        R = X0.shape[0]
        self.k = X0.shape[1] if free is None else free.numel()
        start = self.template if free is None else self.template[:, free]
        self._best_x = to_numpy(start).reshape(R, self.k)
        self._best_values = np.full(R, -math.inf)
        self.dead: npt.NDArray[np.bool_] | None = None
        self._all_alive = True

    @property
    def best_X(self) -> Tensor:
        """Best point seen by each restart, ``(R, d)``."""
        best = from_numpy(self._best_x, self.template)
        if self.free is None:
            return best
        return self.template.index_copy(1, self.free, best)

    @property
    def best_values(self) -> Tensor:
        """Their values ``(R,)`` (``-inf`` where no finite value was seen)."""
        return from_numpy(self._best_values, self.template)

    def __call__(
        self, x: npt.NDArray[np.float64]
    ) -> tuple[float, npt.NDArray[np.float64]]:
        R = self.template.shape[0]
        xt = from_numpy(x, self.template).view(R, self.k)
        X = xt if self.free is None else self.template.index_copy(1, self.free, xt)
        fast = self._value_and_grad(X)
        if fast is None:
            xt.requires_grad_(True)
            with torch.enable_grad():
                Xg = (
                    xt
                    if self.free is None
                    else self.template.index_copy(1, self.free, xt)
                )
                values_t = self.acq_function(Xg.unsqueeze(-2)).reshape(R)
                # non-finite values must not leak NaN into the gradient
                finite_t = torch.isfinite(values_t).detach()
                total = torch.where(finite_t, values_t, 0.0).sum()
                if total.requires_grad:
                    (grad_t,) = torch.autograd.grad(total, xt)
                else:
                    grad_t = torch.zeros_like(xt)
        else:
            values_t, grad_X = fast
            grad_t = grad_X if self.free is None else grad_X.index_select(1, self.free)
        values = to_numpy(values_t).reshape(R)
        grad = to_numpy(grad_t).reshape(R, self.k)
        if self.dead is None:
            # NOTE: restarts that start at a non-finite value are dropped
            # from the loss for the whole run, so that the loss stays one
            # function of x (a constant penalty would swamp ftol).
            self.dead = ~np.isfinite(values)
            self._all_alive = not bool(self.dead.any())
        value_sum = float(values.sum())
        if self._all_alive and math.isfinite(value_sum) and math.isfinite(grad.sum()):
            # the usual case: every value and gradient finite (sums of
            # finite log-values do not overflow), nothing to mask
            better = values > self._best_values
            if better.any():
                self._best_values = np.where(better, values, self._best_values)
                self._best_x = np.where(
                    better[:, None], x.reshape(R, self.k), self._best_x
                )
            return -value_sum, -grad.reshape(-1)
        finite = np.isfinite(values)
        use = finite & ~self.dead
        n_bad = int((~finite & ~self.dead).sum())
        grad = np.where(use[:, None], -np.nan_to_num(grad, posinf=0.0, neginf=0.0), 0.0)
        better = use & (values > self._best_values)
        self._best_values = np.where(better, values, self._best_values)
        self._best_x = np.where(better[:, None], x.reshape(R, self.k), self._best_x)
        loss = -float(values[use].sum()) + _PENALTY * n_bad
        return loss, grad.reshape(-1)

    def _value_and_grad(self, X: Tensor) -> tuple[Tensor, Tensor] | None:
        """Values ``(R,)`` and gradients ``(R, d)`` without autograd, if offered.

        NOTE: an acquisition function may offer ``value_and_grad(X)`` returning
        values ``(b,)`` and gradients ``(b, 1, d)`` (or None); skbo's analytic
        LogEI does on its fused GP path. Skipping the autograd engine saves
        about a quarter of each L-BFGS-B step at small n.
        """
        method = getattr(self.acq_function, "value_and_grad", None)
        if method is None:
            return None
        out = method(X.unsqueeze(-2))
        if out is None:
            return None
        values, grad = out
        return values.reshape(X.shape[0]), grad.reshape(X.shape)


def optimize_restarts(
    acq_function: AcquisitionLike,
    X0: Tensor,
    bounds: Tensor,
    *,
    free: Sequence[int] | None = None,
    maxiter: int = 100,
    maxfun: int | None = None,
    ftol: float = 1e-9,
    gtol: float = 1e-6,
) -> tuple[Tensor, Tensor]:
    """Run L-BFGS-B from every row of ``X0`` at once (one stacked vector).

    Parameters
    ----------
    acq_function : callable
        Maps ``(b, 1, d)`` to ``(b,)``, differentiable; maximized.
    X0 : Tensor of shape (R, d)
        Starting points; columns not in ``free`` keep these values.
    bounds : Tensor of shape (2, d)
        Box for the free columns.
    free : sequence of int or None, default=None
        Columns to optimize; ``None`` means all.
    maxiter : int, default=100
        L-BFGS-B iterations.
    maxfun : int or None, default=None
        Function evaluations; ``None`` gives ``2 * maxiter``.
    ftol, gtol : float
        L-BFGS-B relative-reduction and projected-gradient tolerances.

    Returns
    -------
    X : Tensor of shape (R, d)
        Best point seen by each restart.
    values : Tensor of shape (R,)
        Their values (``-inf`` for a restart with no finite value).

    Examples
    --------
    >>> import torch
    >>> acqf = lambda X: -((X - 0.25) ** 2).sum(dim=(-2, -1))
    >>> bounds = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    >>> X0 = torch.full((3, 2), 0.9, dtype=torch.float64)
    >>> X, v = optimize_restarts(acqf, X0, bounds)
    >>> torch.allclose(X, torch.full((3, 2), 0.25, dtype=torch.float64), atol=1e-6)
    True
    """
    bounds = check_bounds(bounds)
    d = bounds.shape[1]
    if X0.ndim != 2 or X0.shape[1] != d:
        raise ValueError(f"X0 must have shape (R, {d}), got {tuple(X0.shape)}.")
    X0 = torch.minimum(torch.maximum(X0.detach().to(bounds), bounds[0]), bounds[1])
    cols = list(range(d)) if free is None else sorted({int(j) for j in free})
    free_t = (
        None
        if len(cols) == d
        else torch.tensor(cols, dtype=torch.long, device=X0.device)
    )
    objective = _Objective(acq_function, X0, free_t)
    if not cols:
        objective(np.zeros(0))
        return objective.best_X, objective.best_values
    R = X0.shape[0]
    lb = np.tile(to_numpy(bounds[0, cols]), R)
    ub = np.tile(to_numpy(bounds[1, cols]), R)
    run_lbfgsb(
        objective,
        np.clip(to_numpy(X0[:, cols]).reshape(-1), lb, ub),
        lb,
        ub,
        maxiter=maxiter,
        maxfun=2 * maxiter if maxfun is None else maxfun,
        ftol=ftol,
        gtol=gtol,
    )
    return objective.best_X, objective.best_values


def screen_and_refine(
    acq_function: AcquisitionLike,
    X0: Tensor,
    bounds: Tensor,
    *,
    free: Sequence[int] | None = None,
    screen_iters: int = 10,
    n_refine: int = 2,
    maxiter: int = 50,
    maxfun: int | None = None,
    ftol: float = 1e-7,
    gtol: float = 1e-6,
) -> tuple[Tensor, Tensor]:
    """Short joint L-BFGS-B run of all restarts, then a full run of the best few.

    NOTE: in one stacked L-BFGS-B run the restarts share the line search, the
    curvature memory and the stopping test, so the run lasts as long as its
    slowest restart (measured on qLogNEI surfaces, d = 6..20, n = 50..1000:
    ~70 acquisition calls on average for 10 restarts, versus ~20-40 for one
    restart alone). Screening all restarts for ``screen_iters`` iterations and
    refining only the ``n_refine`` best distinct ones reached the same best
    value (to 1e-4) in every case measured, with half the calls (~35).

    Parameters
    ----------
    acq_function : callable
        Maps ``(b, 1, d)`` to ``(b,)``, differentiable; maximized.
    X0 : Tensor of shape (R, d)
        Starting points.
    bounds : Tensor of shape (2, d)
        Box.
    free : sequence of int or None, default=None
        Columns to optimize; ``None`` means all.
    screen_iters : int, default=10
        Iterations of the joint screening run (0 skips screening).
    n_refine : int, default=2
        Restarts refined after screening.
    maxiter, maxfun, ftol, gtol
        Settings of the refinement run (see :func:`optimize_restarts`).

    Returns
    -------
    X : Tensor of shape (R, d)
        Best point seen by each restart (refined rows replaced).
    values : Tensor of shape (R,)
        Their values.

    Examples
    --------
    >>> import torch
    >>> acqf = lambda X: torch.cos(6 * X).sum(dim=(-2, -1))
    >>> bounds = torch.tensor([[0.0], [2.0]], dtype=torch.float64)
    >>> X0 = torch.tensor([[0.2], [0.9], [1.5]], dtype=torch.float64)
    >>> X, v = screen_and_refine(acqf, X0, bounds, n_refine=1)
    >>> round(float(v.max()), 6)
    1.0
    """
    if screen_iters == 0 or X0.shape[0] <= n_refine:
        return optimize_restarts(
            acq_function,
            X0,
            bounds,
            free=free,
            maxiter=maxiter,
            maxfun=maxfun,
            ftol=ftol,
            gtol=gtol,
        )
    X, v = optimize_restarts(
        acq_function, X0, bounds, free=free, maxiter=screen_iters, ftol=ftol, gtol=gtol
    )
    key = torch.where(torch.isnan(v), torch.full_like(v, -math.inf), v)
    order = torch.sort(key, descending=True, stable=True).indices
    # Best restarts that are pairwise more than 1e-4 (relative) apart.
    scale = (bounds[1] - bounds[0]).clamp_min(1e-12)
    top: list[int] = []
    for i in order.tolist():
        if all(bool(((X[i] - X[j]).abs() / scale).amax() > 1e-4) for j in top):
            top.append(i)
        if len(top) == n_refine:
            break
    idx = torch.tensor(top, device=X.device)
    Xr, vr = optimize_restarts(
        acq_function,
        X[idx],
        bounds,
        free=free,
        maxiter=maxiter,
        maxfun=maxfun,
        ftol=ftol,
        gtol=gtol,
    )
    X, v = X.clone(), v.clone()
    X[idx], v[idx] = Xr, vr
    return X, v
