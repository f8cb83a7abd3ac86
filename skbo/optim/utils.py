"""Helpers of the acquisition optimizer: input checks, NumPy <-> torch, batching.

Notation
--------
``d``: columns of the (encoded) search space; ``bounds``: ``(2, d)`` tensor of
lower and upper bounds; ``X``: points ``(N, d)``; an acquisition function maps
``(b, q, d)`` to ``(b,)``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

if TYPE_CHECKING:
    from skbo.optim.mixed import MixedSpec

__all__ = [
    "check_X_avoid",
    "check_bounds",
    "check_fixed_features",
    "check_int",
    "evaluate_batched",
    "fix_features",
    "from_numpy",
    "match_rows",
    "to_numpy",
    "unique_rows",
]

AcquisitionLike = Callable[[Tensor], Tensor]


def check_bounds(bounds: Tensor) -> Tensor:
    """Validate a ``(2, d)`` bounds tensor.

    Parameters
    ----------
    bounds : Tensor of shape (2, d)
        Lower bounds in row 0, upper bounds in row 1; floating point, finite,
        with ``lower <= upper``.

    Returns
    -------
    Tensor of shape (2, d)
        ``bounds``, detached.

    Examples
    --------
    >>> import torch
    >>> check_bounds(torch.tensor([[0.0, 0.0], [1.0, 2.0]])).shape
    torch.Size([2, 2])
    """
    if not isinstance(bounds, Tensor):
        raise TypeError(f"bounds must be a torch.Tensor, got {type(bounds).__name__}.")
    if bounds.ndim != 2 or bounds.shape[0] != 2 or bounds.shape[1] < 1:
        raise ValueError(
            f"bounds must have shape (2, d) with d >= 1, got {tuple(bounds.shape)}."
        )
    if not bounds.is_floating_point():
        raise TypeError(f"bounds must be a floating-point tensor, got {bounds.dtype}.")
    if not bool(torch.isfinite(bounds).all()):
        raise ValueError("bounds must be finite.")
    if bool((bounds[0] > bounds[1]).any()):
        raise ValueError("bounds must satisfy lower <= upper in every column.")
    return bounds.detach()


def to_numpy(X: Tensor) -> npt.NDArray[np.float64]:
    """Copy a tensor to a contiguous float64 NumPy array (on the CPU).

    Parameters
    ----------
    X : Tensor
        Any tensor, on any device.

    Returns
    -------
    ndarray
        float64 copy with the same shape.

    Examples
    --------
    >>> import torch
    >>> to_numpy(torch.tensor([1.5], dtype=torch.float32))
    array([1.5])
    """
    if X.dtype == torch.float64 and X.device.type == "cpu":
        out: npt.NDArray[np.float64] = X.detach().numpy().copy()
        return out  # the common case, 3 us sooner
    return np.array(X.detach().to("cpu", torch.float64).numpy(), dtype=np.float64)


def from_numpy(a: npt.ArrayLike, like: Tensor) -> Tensor:
    """Make a tensor from NumPy data with the dtype and device of ``like``.

    Parameters
    ----------
    a : array-like
        Data.
    like : Tensor
        Tensor whose dtype and device the result takes.

    Returns
    -------
    Tensor
        Same shape as ``a``.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from_numpy(np.ones(2), torch.zeros(1, dtype=torch.float32)).dtype
    torch.float32
    """
    t = torch.from_numpy(np.asarray(a, dtype=np.float64))
    if like.dtype == torch.float64 and like.device.type == "cpu":
        return t  # the common case, 3 us sooner
    return t.to(device=like.device, dtype=like.dtype)


def evaluate_batched(
    acq_function: AcquisitionLike, X: Tensor, batch_limit: int = 1024
) -> Tensor:
    """Acquisition values of single points, in chunks of ``batch_limit``.

    Parameters
    ----------
    acq_function : callable
        Maps ``(b, 1, d)`` to ``(b,)``.
    X : Tensor of shape (N, d)
        Points.
    batch_limit : int, default=1024
        Largest t-batch passed in one call.

    Returns
    -------
    Tensor of shape (N,)
        Values, computed without gradients.

    Examples
    --------
    >>> import torch
    >>> acqf = lambda X: -(X**2).sum(dim=(-2, -1))
    >>> evaluate_batched(acqf, torch.ones(5, 2), batch_limit=2)
    tensor([-2., -2., -2., -2., -2.])
    """
    if X.shape[0] == 0:
        return X.new_empty(0)
    with torch.no_grad():
        parts = [
            acq_function(chunk.unsqueeze(-2)) for chunk in torch.split(X, batch_limit)
        ]
    return torch.cat([p.reshape(-1) for p in parts]).detach()


def fix_features(X: Tensor, fixed_features: Mapping[int, float] | None) -> Tensor:
    """Return a copy of ``X`` whose fixed columns hold their fixed values.

    Parameters
    ----------
    X : Tensor of shape (..., d)
        Points.
    fixed_features : dict of int to float or None
        Column index -> value.

    Returns
    -------
    Tensor of shape (..., d)
        ``X`` itself when there is nothing to fix, otherwise a modified copy.

    Examples
    --------
    >>> import torch
    >>> fix_features(torch.zeros(1, 3), {1: 0.5})
    tensor([[0.0000, 0.5000, 0.0000]])
    """
    if not fixed_features:
        return X
    X = X.clone()
    for j, v in fixed_features.items():
        X[..., j] = v
    return X


def match_rows(X: Tensor, Y: Tensor | None, tol: float = 1e-9) -> Tensor:
    """Which rows of ``X`` equal (to ``tol`` in every column) some row of ``Y``.

    Parameters
    ----------
    X : Tensor of shape (N, d)
        Candidate points.
    Y : Tensor of shape (M, d) or None
        Points to compare against.
    tol : float, default=1e-9
        Largest absolute difference per column that still counts as equal.

    Returns
    -------
    Tensor of shape (N,), bool
        True where the row of ``X`` matches a row of ``Y``.

    Examples
    --------
    >>> import torch
    >>> match_rows(torch.tensor([[0.0, 1.0], [0.5, 0.5]]), torch.tensor([[0.0, 1.0]]))
    tensor([ True, False])
    """
    out = torch.zeros(X.shape[0], dtype=torch.bool, device=X.device)
    if Y is None or Y.shape[0] == 0 or X.shape[0] == 0:
        return out
    Y = Y.to(X)
    # Chunk over X so that the (chunk, M, d) difference stays small.
    step = max(1, 2**22 // max(1, Y.shape[0] * X.shape[1]))
    for start in range(0, X.shape[0], step):
        diff = (X[start : start + step, None, :] - Y[None, :, :]).abs()
        out[start : start + step] = (diff <= tol).all(-1).any(-1)
    return out


def unique_rows(X: Tensor) -> Tensor:
    """Indices of the first occurrence of every distinct row, in order.

    Parameters
    ----------
    X : Tensor of shape (N, d)
        Points.

    Returns
    -------
    Tensor of shape (K,), int64
        Ascending indices ``i`` such that ``X[i]`` differs from every earlier row.

    Examples
    --------
    >>> import torch
    >>> unique_rows(torch.tensor([[1.0], [0.0], [1.0], [2.0]]))
    tensor([0, 1, 3])
    """
    if X.shape[0] == 0:
        return torch.zeros(0, dtype=torch.long, device=X.device)
    _, inverse = torch.unique(X, dim=0, return_inverse=True)
    n_unique = int(inverse.max()) + 1
    positions = torch.arange(X.shape[0], device=X.device)
    first = torch.full((n_unique,), X.shape[0], dtype=torch.long, device=X.device)
    first = first.scatter_reduce(0, inverse, positions, reduce="amin")
    return torch.sort(first).values


def check_int(value: object, name: str, minimum: int) -> int:
    """Validate an integer argument (bools are rejected).

    Parameters
    ----------
    value : object
        The argument.
    name : str
        Its name, for the error message.
    minimum : int
        Smallest allowed value.

    Returns
    -------
    int
        ``value`` as a Python int.

    Examples
    --------
    >>> check_int(3, "q", 1)
    3
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}.")
    if int(value) < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value}.")
    return int(value)


def check_fixed_features(
    fixed_features: Mapping[int, float] | None,
    bounds: Tensor,
    spec: MixedSpec | None = None,
) -> dict[int, float]:
    """Validate ``fixed_features`` against ``bounds`` and the discrete columns.

    Parameters
    ----------
    fixed_features : dict of int to float or None
        Column -> value; columns in ``0..d-1``, values inside their bounds.
    bounds : Tensor of shape (2, d)
        Box.
    spec : MixedSpec or None, default=None
        Discrete columns, which may not be fixed.

    Returns
    -------
    dict of int to float
        The fixed features with Python ints and floats (empty for ``None``).

    Examples
    --------
    >>> import torch
    >>> check_fixed_features({1: 0.5}, torch.tensor([[0.0, 0.0], [1.0, 1.0]]))
    {1: 0.5}
    """
    if fixed_features is None:
        return {}
    if not isinstance(fixed_features, Mapping):
        raise TypeError(
            "fixed_features must be a dict {column: value} or None, "
            f"got {type(fixed_features).__name__}."
        )
    d = bounds.shape[1]
    disc = set(spec.columns) if spec is not None else set()
    out: dict[int, float] = {}
    for j, value in fixed_features.items():
        if isinstance(j, bool) or not isinstance(j, numbers.Integral) or not 0 <= j < d:
            raise ValueError(
                f"fixed_features: column {j!r} is out of range (allowed: 0..{d - 1})."
            )
        if int(j) in disc:
            raise ValueError(
                f"fixed_features: column {j} is a discrete column; fix discrete "
                "columns by leaving them out of the MixedSpec instead."
            )
        v = float(value)
        lo, hi = float(bounds[0, j]), float(bounds[1, j])
        if not (math.isfinite(v) and lo <= v <= hi):
            raise ValueError(
                f"fixed_features: value {value!r} of column {j} is outside its "
                f"bounds [{lo}, {hi}]."
            )
        out[int(j)] = v
    return out


def check_X_avoid(
    X_avoid: Tensor | None, bounds: Tensor, name: str = "X_avoid"
) -> Tensor | None:
    """Validate a set of points and give them the dtype and device of ``bounds``.

    Parameters
    ----------
    X_avoid : Tensor of shape (m, d) or None
        Points (to avoid, or observed).
    bounds : Tensor of shape (2, d)
        Box.
    name : str, default="X_avoid"
        The argument's name in error messages.

    Returns
    -------
    Tensor of shape (m, d) or None

    Examples
    --------
    >>> import torch
    >>> check_X_avoid(torch.zeros(3, 2), torch.ones(2, 2)).shape
    torch.Size([3, 2])
    """
    if X_avoid is None:
        return None
    d = bounds.shape[1]
    if not isinstance(X_avoid, Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor or None, got {type(X_avoid).__name__}."
        )
    if X_avoid.ndim != 2 or X_avoid.shape[1] != d:
        raise ValueError(
            f"{name} must have shape (m, {d}), got {tuple(X_avoid.shape)}."
        )
    return X_avoid.detach().to(bounds)
