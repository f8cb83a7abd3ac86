r"""Synthetic test functions with known global minima, for tests, docs and benchmarks.

Notation
--------
``x``: a point of shape ``(d,)`` in the function's own box ``[lb, ub]``;
``X``: points of shape ``(..., d)``; ``u``: a point of the unit cube,
``x = lb + u (ub - lb)``. Every function is *minimized*: ``optimal_value`` is
the global minimum ``f(x*)`` and ``optimizers`` lists known minimizers ``x*``.

* Branin (d = 2): ``a (x2 - b x1^2 + c x1 - r)^2 + s (1 - t) cos(x1) + s``.
* Hartmann (d = 3 or 6): ``-sum_i alpha_i exp(-sum_j A_ij (x_j - P_ij)^2)``.
* Ackley: ``-a exp(-b sqrt(mean x^2)) - exp(mean cos(c x)) + a + e``.
* Levy: with ``w = 1 + (x - 1) / 4``, ``sin^2(pi w_1)
  + sum_{i<d} (w_i - 1)^2 (1 + 10 sin^2(pi w_i + 1))
  + (w_d - 1)^2 (1 + sin^2(2 pi w_d))``.
* Rosenbrock: ``sum_{i<d} 100 (x_{i+1} - x_i^2)^2 + (x_i - 1)^2``.
* Styblinski-Tang: ``sum_i (x_i^4 - 16 x_i^2 + 5 x_i) / 2``.

Formulas and optima follow the Virtual Library of Simulation Experiments
(Surjanovic & Bingham, https://www.sfu.ca/~ssurjano/).

Inputs may be a torch tensor ``(..., d)`` (the result is a tensor ``(...)``
on the same device and dtype), a NumPy array ``(..., d)`` (an array ``(...)``)
or one point as a list or tuple (a Python float).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, overload

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from skbo.utils.random import RandomStateLike, check_random_state

__all__ = [
    "Ackley",
    "Branin",
    "Hartmann",
    "Levy",
    "Rosenbrock",
    "StyblinskiTang",
    "SyntheticTestFunction",
]

FloatArray = npt.NDArray[np.float64]
PointLike = Tensor | FloatArray | Sequence[float]


class SyntheticTestFunction(ABC):
    """Base class of the synthetic test functions (minimization problems).

    Subclasses set ``dim``, ``bounds``, ``optimal_value`` and ``optimizers``
    and implement :meth:`_evaluate` on a float tensor ``(..., dim)``.

    Parameters
    ----------
    noise_std : float or None, default=None
        Standard deviation of the Gaussian noise added by :meth:`__call__`;
        ``None`` or ``0`` gives noise-free values.
    random_state : int, numpy.random.RandomState or None, default=None
        Source of the noise.

    Attributes
    ----------
    dim : int
        Input dimension.
    bounds : ndarray of shape (2, dim)
        Lower and upper bounds of the domain.
    optimal_value : float
        The known global minimum.
    optimizers : ndarray of shape (k, dim)
        Known global minimizers.

    Examples
    --------
    >>> f = Rosenbrock(dim=3)
    >>> f([1.0, 1.0, 1.0])
    0.0
    >>> f.evaluate_unit([0.4, 0.4, 0.4])
    0.0
    """

    dim: int
    bounds: FloatArray
    optimal_value: float
    optimizers: FloatArray

    def __init__(
        self, *, noise_std: float | None = None, random_state: RandomStateLike = None
    ) -> None:
        if noise_std is not None and not (
            isinstance(noise_std, (int, float))
            and math.isfinite(noise_std)
            and noise_std >= 0
        ):
            raise ValueError(
                f"noise_std must be None or a finite float >= 0, got {noise_std!r}."
            )
        self.noise_std = noise_std
        self._rng = check_random_state(random_state)

    @abstractmethod
    def _evaluate(self, X: Tensor) -> Tensor:
        """Noise-free values at ``X`` of shape ``(..., dim)``; returns ``(...)``."""

    @overload
    def __call__(self, X: Tensor) -> Tensor: ...
    @overload
    def __call__(self, X: np.ndarray[Any, Any]) -> FloatArray: ...
    @overload
    def __call__(self, X: Sequence[float]) -> float: ...

    def __call__(self, X: PointLike) -> Tensor | FloatArray | float:
        """Evaluate the function, with noise if ``noise_std`` is set.

        Parameters
        ----------
        X : Tensor or ndarray of shape (..., dim), or a list/tuple of dim floats
            Points in the function's domain.

        Returns
        -------
        Tensor or ndarray of shape (...), or float
            Values, of the same kind as ``X``.

        Examples
        --------
        >>> import torch
        >>> Branin()(torch.tensor([[9.42478, 2.475]], dtype=torch.float64))
        tensor([0.3979], dtype=torch.float64)
        """
        return self._dispatch(X, self._noisy)

    @overload
    def evaluate_true(self, X: Tensor) -> Tensor: ...
    @overload
    def evaluate_true(self, X: np.ndarray[Any, Any]) -> FloatArray: ...
    @overload
    def evaluate_true(self, X: Sequence[float]) -> float: ...

    def evaluate_true(self, X: PointLike) -> Tensor | FloatArray | float:
        """Evaluate the function without noise.

        Parameters
        ----------
        X : Tensor or ndarray of shape (..., dim), or a list/tuple of dim floats
            Points in the function's domain.

        Returns
        -------
        Tensor or ndarray of shape (...), or float
            Noise-free values, of the same kind as ``X``.

        Examples
        --------
        >>> f = Branin(noise_std=1.0, random_state=0)
        >>> round(f.evaluate_true((-math.pi, 12.275)), 6)
        0.397887
        """
        return self._dispatch(X, self._evaluate)

    @overload
    def evaluate_unit(self, U: Tensor) -> Tensor: ...
    @overload
    def evaluate_unit(self, U: np.ndarray[Any, Any]) -> FloatArray: ...
    @overload
    def evaluate_unit(self, U: Sequence[float]) -> float: ...

    def evaluate_unit(self, U: PointLike) -> Tensor | FloatArray | float:
        """Evaluate (with noise, if set) at points given in the unit cube.

        Parameters
        ----------
        U : Tensor or ndarray of shape (..., dim), or a list/tuple of dim floats
            Points in ``[0, 1]^dim``, mapped to the domain by :meth:`from_unit`.

        Returns
        -------
        Tensor or ndarray of shape (...), or float
            Values, of the same kind as ``U``.

        Examples
        --------
        >>> round(StyblinskiTang(dim=1).evaluate_unit([0.5]), 6)
        0.0
        """
        return self._dispatch(U, lambda T: self._noisy(self._scale(T, to_unit=False)))

    def to_unit(self, X: PointLike) -> Tensor | FloatArray:
        """Map points of the domain to the unit cube.

        Parameters
        ----------
        X : Tensor or ndarray of shape (..., dim), or a list/tuple of dim floats
            Points in the domain.

        Returns
        -------
        Tensor or ndarray of shape (..., dim)
            ``(X - lb) / (ub - lb)``; lists and tuples give an ndarray.

        Examples
        --------
        >>> Branin().to_unit([-5.0, 15.0])
        array([0., 1.])
        """
        return self._map(X, to_unit=True)

    def from_unit(self, U: PointLike) -> Tensor | FloatArray:
        """Map points of the unit cube to the domain.

        Parameters
        ----------
        U : Tensor or ndarray of shape (..., dim), or a list/tuple of dim floats
            Points in ``[0, 1]^dim``.

        Returns
        -------
        Tensor or ndarray of shape (..., dim)
            ``lb + U (ub - lb)``; lists and tuples give an ndarray.

        Examples
        --------
        >>> Branin().from_unit([0.0, 1.0])
        array([-5., 15.])
        """
        return self._map(U, to_unit=False)

    # ------------------------------------------------------------------ helpers
    def _noisy(self, X: Tensor) -> Tensor:
        f = self._evaluate(X)
        if self.noise_std:
            noise = self._rng.standard_normal(size=tuple(f.shape))
            f = f + self.noise_std * torch.as_tensor(noise, dtype=f.dtype).to(f.device)
        return f

    def _scale(self, T: Tensor, *, to_unit: bool) -> Tensor:
        B = torch.as_tensor(self.bounds, dtype=T.dtype).to(T.device)
        lb, ub = B[0], B[1]
        return (T - lb) / (ub - lb) if to_unit else lb + T * (ub - lb)

    def _as_tensor(self, X: PointLike) -> tuple[Tensor, str]:
        if isinstance(X, Tensor):
            T, kind = X, "tensor"
            if not T.is_floating_point():
                T = T.to(torch.float64)
        elif isinstance(X, np.ndarray):
            T, kind = torch.from_numpy(np.asarray(X, dtype=np.float64)), "array"
        elif isinstance(X, (list, tuple)):
            arr = np.asarray(X, dtype=np.float64)
            kind = "float" if arr.ndim == 1 else "array"
            T = torch.from_numpy(arr)
        else:
            raise TypeError(
                "X must be a torch.Tensor, a numpy.ndarray or a list/tuple of "
                f"floats, got {type(X).__name__}."
            )
        if T.ndim == 0 or T.shape[-1] != self.dim:
            raise ValueError(
                f"X must have shape (..., {self.dim}) for {type(self).__name__} "
                f"with dim={self.dim}, got shape {tuple(T.shape)}."
            )
        return T, kind

    def _dispatch(
        self, X: PointLike, fn: Callable[[Tensor], Tensor]
    ) -> Tensor | FloatArray | float:
        T, kind = self._as_tensor(X)
        out = fn(T)
        if kind == "tensor":
            return out
        if kind == "float":
            return float(out)
        return np.asarray(out.numpy(), dtype=np.float64)

    def _map(self, X: PointLike, *, to_unit: bool) -> Tensor | FloatArray:
        T, kind = self._as_tensor(X)
        out = self._scale(T, to_unit=to_unit)
        return out if kind == "tensor" else np.asarray(out.numpy(), dtype=np.float64)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim}, noise_std={self.noise_std})"


def _check_dim(dim: int, minimum: int, name: str) -> int:
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < minimum:
        raise ValueError(f"{name}: dim must be an integer >= {minimum}, got {dim!r}.")
    return int(dim)


def _box(low: float, high: float, dim: int) -> FloatArray:
    return np.array([[low] * dim, [high] * dim], dtype=np.float64)


class Branin(SyntheticTestFunction):
    """Branin-Hoo function on ``[-5, 10] x [0, 15]``, three global minima.

    Parameters
    ----------
    noise_std : float or None, default=None
        Standard deviation of the additive Gaussian noise.
    random_state : int, numpy.random.RandomState or None, default=None
        Source of the noise.

    Examples
    --------
    >>> f = Branin()
    >>> [round(f(x), 6) for x in f.optimizers.tolist()]
    [0.397887, 0.397887, 0.397887]
    """

    dim = 2
    bounds = np.array([[-5.0, 0.0], [10.0, 15.0]])
    optimal_value = 5.0 / (4.0 * math.pi)  # 0.397887...
    optimizers = np.array([[-math.pi, 12.275], [math.pi, 2.275], [9.42478, 2.475]])

    def _evaluate(self, X: Tensor) -> Tensor:
        x1, x2 = X[..., 0], X[..., 1]
        b = 5.1 / (4.0 * math.pi**2)
        c = 5.0 / math.pi
        t = 1.0 / (8.0 * math.pi)
        return (
            (x2 - b * x1**2 + c * x1 - 6.0) ** 2
            + 10.0 * (1.0 - t) * torch.cos(x1)
            + 10.0
        )


_HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2]
_HARTMANN = {
    3: (
        [[3.0, 10.0, 30.0], [0.1, 10.0, 35.0], [3.0, 10.0, 30.0], [0.1, 10.0, 35.0]],
        [
            [3689, 1170, 2673],
            [4699, 4387, 7470],
            [1091, 8732, 5547],
            [381, 5743, 8828],
        ],
        -3.86278,
        [[0.114614, 0.555649, 0.852547]],
    ),
    6: (
        [
            [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
            [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
            [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
            [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
        ],
        [
            [1312, 1696, 5569, 124, 8283, 5886],
            [2329, 4135, 8307, 3736, 1004, 9991],
            [2348, 1451, 3522, 2883, 3047, 6650],
            [4047, 8828, 8732, 5743, 1091, 381],
        ],
        -3.32237,
        [[0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573]],
    ),
}


class Hartmann(SyntheticTestFunction):
    """Hartmann function on ``[0, 1]^dim`` for ``dim`` 3 or 6.

    Parameters
    ----------
    dim : {3, 6}, default=6
        Input dimension.
    noise_std : float or None, default=None
        Standard deviation of the additive Gaussian noise.
    random_state : int, numpy.random.RandomState or None, default=None
        Source of the noise.

    Examples
    --------
    >>> f = Hartmann(dim=6)
    >>> round(f(f.optimizers[0].tolist()), 5)
    -3.32237
    """

    def __init__(
        self,
        dim: int = 6,
        *,
        noise_std: float | None = None,
        random_state: RandomStateLike = None,
    ) -> None:
        super().__init__(noise_std=noise_std, random_state=random_state)
        if dim not in _HARTMANN or isinstance(dim, bool):
            raise ValueError(f"Hartmann: dim must be 3 or 6, got {dim!r}.")
        A, P, opt, xopt = _HARTMANN[dim]
        self.dim = int(dim)
        self.bounds = _box(0.0, 1.0, self.dim)
        self.optimal_value = opt
        self.optimizers = np.array(xopt, dtype=np.float64)
        self._A = np.array(A, dtype=np.float64)
        self._P = 1e-4 * np.array(P, dtype=np.float64)

    def _evaluate(self, X: Tensor) -> Tensor:
        kw: dict[str, Any] = {"dtype": X.dtype, "device": X.device}
        A = torch.as_tensor(self._A, **kw)
        P = torch.as_tensor(self._P, **kw)
        alpha = torch.as_tensor(_HARTMANN_ALPHA, **kw)
        inner = (A * (X.unsqueeze(-2) - P) ** 2).sum(-1)  # (..., 4)
        return -(alpha * torch.exp(-inner)).sum(-1)


class _ScalableFunction(SyntheticTestFunction):
    """A function on the box ``[_low, _high]^dim`` for any ``dim >= _min_dim``.

    Its global minimum ``_min_per_dim * dim`` is at ``(_argmin, ..., _argmin)``.
    """

    _low: float
    _high: float
    _argmin: float
    _min_dim = 1
    _min_per_dim = 0.0

    def __init__(
        self,
        dim: int = 2,
        *,
        noise_std: float | None = None,
        random_state: RandomStateLike = None,
    ) -> None:
        super().__init__(noise_std=noise_std, random_state=random_state)
        self.dim = _check_dim(dim, self._min_dim, type(self).__name__)
        self.bounds = _box(self._low, self._high, self.dim)
        self.optimal_value = self._min_per_dim * self.dim
        self.optimizers = np.full((1, self.dim), self._argmin)


class Ackley(_ScalableFunction):
    """Ackley function on ``[-32.768, 32.768]^dim``, minimum 0 at the origin.

    Parameters
    ----------
    dim : int, default=2
        Input dimension (>= 1).
    noise_std : float or None, default=None
        Standard deviation of the additive Gaussian noise.
    random_state : int, numpy.random.RandomState or None, default=None
        Source of the noise.

    Examples
    --------
    >>> abs(Ackley(dim=4)([0.0] * 4)) < 1e-12
    True
    """

    _low, _high, _argmin = -32.768, 32.768, 0.0

    def _evaluate(self, X: Tensor) -> Tensor:
        a, b, c = 20.0, 0.2, 2.0 * math.pi
        r = torch.sqrt((X**2).mean(-1))
        return (
            -a * torch.exp(-b * r) - torch.exp(torch.cos(c * X).mean(-1)) + a + math.e
        )


class Levy(_ScalableFunction):
    """Levy function on ``[-10, 10]^dim``, minimum 0 at ``(1, ..., 1)``.

    Parameters
    ----------
    dim : int, default=2
        Input dimension (>= 1).
    noise_std : float or None, default=None
        Standard deviation of the additive Gaussian noise.
    random_state : int, numpy.random.RandomState or None, default=None
        Source of the noise.

    Examples
    --------
    >>> abs(Levy(dim=3)([1.0, 1.0, 1.0])) < 1e-12
    True
    """

    _low, _high, _argmin = -10.0, 10.0, 1.0

    def _evaluate(self, X: Tensor) -> Tensor:
        w = 1.0 + (X - 1.0) / 4.0
        first = torch.sin(math.pi * w[..., 0]) ** 2
        wi = w[..., :-1]
        middle = (
            (wi - 1.0) ** 2 * (1.0 + 10.0 * torch.sin(math.pi * wi + 1.0) ** 2)
        ).sum(-1)
        wd = w[..., -1]
        last = (wd - 1.0) ** 2 * (1.0 + torch.sin(2.0 * math.pi * wd) ** 2)
        return first + middle + last


class Rosenbrock(_ScalableFunction):
    """Rosenbrock function on ``[-5, 10]^dim``, minimum 0 at ``(1, ..., 1)``.

    Parameters
    ----------
    dim : int, default=2
        Input dimension (>= 2).
    noise_std : float or None, default=None
        Standard deviation of the additive Gaussian noise.
    random_state : int, numpy.random.RandomState or None, default=None
        Source of the noise.

    Examples
    --------
    >>> Rosenbrock()([0.0, 0.0])
    1.0
    """

    _low, _high, _argmin = -5.0, 10.0, 1.0
    _min_dim = 2

    def _evaluate(self, X: Tensor) -> Tensor:
        x, y = X[..., :-1], X[..., 1:]
        return (100.0 * (y - x**2) ** 2 + (x - 1.0) ** 2).sum(-1)


_ST_ARGMIN = -2.903534
# NOTE: the minimum per dimension is 0.5 (t^4 - 16 t^2 + 5 t) at t = -2.903534,
# -39.16616570...; the often-quoted -39.16599 is a rounded lower value.
_ST_MIN = 0.5 * (_ST_ARGMIN**4 - 16.0 * _ST_ARGMIN**2 + 5.0 * _ST_ARGMIN)


class StyblinskiTang(_ScalableFunction):
    """Styblinski-Tang function on ``[-5, 5]^dim``, minimum ``-39.166 dim``.

    Parameters
    ----------
    dim : int, default=2
        Input dimension (>= 1).
    noise_std : float or None, default=None
        Standard deviation of the additive Gaussian noise.
    random_state : int, numpy.random.RandomState or None, default=None
        Source of the noise.

    Examples
    --------
    >>> f = StyblinskiTang(dim=2)
    >>> round(f.optimal_value, 4), round(f([-2.903534, -2.903534]), 4)
    (-78.3323, -78.3323)
    """

    _low, _high, _argmin = -5.0, 5.0, _ST_ARGMIN
    _min_per_dim = _ST_MIN

    def _evaluate(self, X: Tensor) -> Tensor:
        return 0.5 * (X**4 - 16.0 * X**2 + 5.0 * X).sum(-1)
