r"""Shape decorators for acquisition functions and unit-cube scaling helpers.

Notation
--------
``b``: t-batch size (independent evaluations, e.g. optimizer restarts);
``q``: points evaluated jointly in one t-batch; ``m``: pending points;
``d``: input dimension.

Acquisition functions take ``X`` of shape ``(b, q, d)`` and return ``(b,)``.
:func:`t_batch_mode_transform` also accepts a single ``(q, d)`` batch (returning
a 0-dim tensor), and :func:`concatenate_pending_points` appends the pending
points ``X_pending`` of shape ``(m, d)`` to every t-batch. Stack them on
``forward`` in this order (outermost first)::

    @concatenate_pending_points
    @t_batch_mode_transform()
    def forward(self, X): ...
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Protocol, TypeVar

import torch
from torch import Tensor

from skbo.exceptions import SkboError

__all__ = [
    "concatenate_pending_points",
    "match_batch_shape",
    "normalize",
    "t_batch_mode_transform",
    "unnormalize",
]


class _HasXPending(Protocol):
    X_pending: Tensor | None


_T = TypeVar("_T")
_P = TypeVar("_P", bound=_HasXPending)
_Method = Callable[[_T, Tensor], Tensor]


def t_batch_mode_transform(
    expected_q: int | None = None, assert_output_shape: bool = True
) -> Callable[[_Method[_T]], _Method[_T]]:
    """Decorate ``forward(self, X)`` to accept ``(q, d)`` or ``(*batch, q, d)``.

    A 2-D input is lifted to ``(1, q, d)`` and the output squeezed back to a
    0-dim tensor. ``X`` must be a floating-point tensor; ``expected_q`` (if
    given) must match its second-to-last dimension.

    Parameters
    ----------
    expected_q : int or None, default=None
        Required number of points per t-batch (``1`` for analytic functions).
    assert_output_shape : bool, default=True
        Check that the output has the t-batch shape ``X.shape[:-2]``.

    Returns
    -------
    decorator : callable
        Turns a method ``(self, X) -> Tensor`` into one with the checks.

    Raises
    ------
    TypeError
        If ``X`` is not a floating-point tensor.
    ValueError
        If ``X`` has fewer than 2 dimensions or the wrong ``q``.

    Examples
    --------
    >>> import torch
    >>> class SumAcq:
    ...     @t_batch_mode_transform(expected_q=1)
    ...     def forward(self, X):
    ...         return X.sum(dim=(-2, -1))
    >>> SumAcq().forward(torch.ones(5, 1, 2)).shape
    torch.Size([5])
    >>> SumAcq().forward(torch.ones(1, 2))
    tensor(2.)
    """

    def decorator(method: _Method[_T]) -> _Method[_T]:
        @functools.wraps(method)
        def decorated(self: _T, X: Tensor) -> Tensor:
            name = type(self).__name__
            if not isinstance(X, Tensor) or not X.is_floating_point():
                raise TypeError(
                    f"{name} expects X to be a floating-point torch.Tensor of shape "
                    f"(b, q, d) or (q, d), got {type(X).__name__}"
                    + (f" of dtype {X.dtype}." if isinstance(X, Tensor) else ".")
                )
            if X.dim() < 2:
                raise ValueError(
                    f"{name} expects X of shape (b, q, d) or (q, d), got shape "
                    f"{tuple(X.shape)}."
                )
            if expected_q is not None and X.shape[-2] != expected_q:
                raise ValueError(
                    f"{name} expects q={expected_q} point(s) per t-batch (X of "
                    f"shape (b, {expected_q}, d)), got X of shape {tuple(X.shape)}"
                    + (
                        "; use its Monte-Carlo q-variant for q > 1."
                        if expected_q == 1
                        else "."
                    )
                )
            squeeze = X.dim() == 2
            out = method(self, X.unsqueeze(0) if squeeze else X)
            batch = (1,) if squeeze else X.shape[:-2]
            if assert_output_shape and out.shape != batch:
                raise SkboError(
                    f"{name}.forward returned shape {tuple(out.shape)}, expected the "
                    f"t-batch shape {tuple(batch)}."
                )
            return out.squeeze(0) if squeeze else out

        return decorated

    return decorator


def concatenate_pending_points(method: _Method[_P]) -> _Method[_P]:
    """Decorate ``forward(self, X)`` to append ``self.X_pending`` to each t-batch.

    ``X`` of shape ``(*batch, q, d)`` becomes ``(*batch, q + m, d)`` when
    ``self.X_pending`` has shape ``(m, d)``; nothing changes when it is None.
    The pending points are cast to ``X``'s device and dtype.

    Parameters
    ----------
    method : callable
        A method ``(self, X) -> Tensor`` of an object with ``X_pending``.

    Returns
    -------
    decorated : callable
        The method, called with the pending points appended.

    Examples
    --------
    >>> import torch
    >>> class CountAcq:
    ...     X_pending = torch.zeros(2, 3)
    ...     @concatenate_pending_points
    ...     def forward(self, X):
    ...         return torch.tensor(X.shape[-2])
    >>> CountAcq().forward(torch.ones(4, 1, 3))
    tensor(3)
    """

    @functools.wraps(method)
    def decorated(self: _P, X: Tensor) -> Tensor:
        X_pending = self.X_pending
        if X_pending is not None and isinstance(X, Tensor) and X.dim() >= 2:
            if X_pending.shape[-1] != X.shape[-1]:
                raise ValueError(
                    f"{type(self).__name__}: X has d={X.shape[-1]} columns but "
                    f"X_pending has shape {tuple(X_pending.shape)}; they must agree."
                )
            X = torch.cat([X, match_batch_shape(X_pending.to(X), X)], dim=-2)
        return method(self, X)

    return decorated


def match_batch_shape(X: Tensor, Y: Tensor) -> Tensor:
    """Expand ``X`` of shape ``(m, d)`` to the batch shape of ``Y``.

    Parameters
    ----------
    X : Tensor of shape (*batch_X, m, d)
        Tensor whose batch dimensions are broadcast.
    Y : Tensor of shape (*batch, q, d)
        Tensor whose batch shape is taken.

    Returns
    -------
    X_expanded : Tensor of shape (*batch, m, d)
        A view of ``X`` (no copy).

    Examples
    --------
    >>> import torch
    >>> match_batch_shape(torch.zeros(2, 3), torch.ones(5, 4, 3)).shape
    torch.Size([5, 2, 3])
    """
    return X.expand(*Y.shape[:-2], *X.shape[-2:])


def _check_bounds(X: Tensor, bounds: Tensor) -> None:
    if bounds.dim() != 2 or bounds.shape[0] != 2 or bounds.shape[1] != X.shape[-1]:
        raise ValueError(
            f"bounds must have shape (2, d) = (2, {X.shape[-1]}) matching X's last "
            f"dimension, got {tuple(bounds.shape)}."
        )
    if bool((bounds[1] <= bounds[0]).any()):
        raise ValueError("bounds must satisfy bounds[0] < bounds[1] in every column.")


def normalize(X: Tensor, bounds: Tensor) -> Tensor:
    """Map ``X`` from the box ``bounds`` to the unit cube.

    Parameters
    ----------
    X : Tensor of shape (*batch, d)
        Points in the box.
    bounds : Tensor of shape (2, d)
        Lower (row 0) and upper (row 1) bounds, ``bounds[0] < bounds[1]``.

    Returns
    -------
    X_unit : Tensor of shape (*batch, d)
        ``(X - bounds[0]) / (bounds[1] - bounds[0])``.

    Examples
    --------
    >>> import torch
    >>> bounds = torch.tensor([[0.0, -1.0], [2.0, 1.0]])
    >>> normalize(torch.tensor([[1.0, 1.0]]), bounds)
    tensor([[0.5000, 1.0000]])
    """
    _check_bounds(X, bounds)
    bounds = bounds.to(X)
    return (X - bounds[0]) / (bounds[1] - bounds[0])


def unnormalize(X: Tensor, bounds: Tensor) -> Tensor:
    """Map ``X`` from the unit cube to the box ``bounds`` (inverse of normalize).

    Parameters
    ----------
    X : Tensor of shape (*batch, d)
        Points in the unit cube.
    bounds : Tensor of shape (2, d)
        Lower (row 0) and upper (row 1) bounds, ``bounds[0] < bounds[1]``.

    Returns
    -------
    X_box : Tensor of shape (*batch, d)
        ``bounds[0] + X * (bounds[1] - bounds[0])``.

    Examples
    --------
    >>> import torch
    >>> bounds = torch.tensor([[0.0, -1.0], [2.0, 1.0]])
    >>> unnormalize(torch.tensor([[0.5, 1.0]]), bounds)
    tensor([[1., 1.]])
    """
    _check_bounds(X, bounds)
    bounds = bounds.to(X)
    return bounds[0] + X * (bounds[1] - bounds[0])
