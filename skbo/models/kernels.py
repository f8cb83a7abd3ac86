r"""Covariance functions of skbo's GP surrogates, evaluated as dense tensors.

Notation
--------
``x, x'``: points, rows of ``X1 (..., n, d)`` and ``X2 (..., m, d)``;
``l (1, d)``: ARD lengthscales; ``z = (x - c) / l`` with a shift ``c`` (the
kernels below are stationary, so ``c`` cancels out and only improves rounding);
``r^2 = ||z - z'||^2``; ``K (..., n, m)``: the kernel matrix.

* Matern-5/2: ``k(r) = (1 + sqrt(5) r + 5 r^2 / 3) exp(-sqrt(5) r)``.
* RBF: ``k(r) = exp(-r^2 / 2)``.
* Categorical (one-hot groups ``g`` with lengthscales ``l_g``):
  ``k(x, x') = exp(-sum_g (1 - <x_g, x'_g>) / l_g)``. On exact one-hots
  ``<x_g, x'_g>`` is 1 when the categories agree and 0 otherwise, so ``k`` is
  the exponentiated (weighted) Hamming kernel; on relaxed inputs (points of the
  simplex) it is a positive constant times ``exp`` of a linear kernel, which is
  positive semi-definite and smooth in ``x``.

There is no output scale: skbo standardizes the outcomes, so ``k(x, x) = 1``
(Hvarfner et al. 2024, arXiv 2402.02229, and BoTorch's defaults since 0.12).
Default priors and constraints live in :mod:`skbo.models.defaults`.

All kernels here derive from :class:`DenseKernel`, a ``gpytorch`` kernel with an
extra :meth:`DenseKernel.dense` method that returns a plain tensor without
``gpytorch``'s lazy-evaluation machinery. :func:`kernel_matrix` uses it when it
can and falls back to ``kernel(X1, X2).to_dense()`` for any other kernel.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, cast

import torch
from gpytorch.constraints import GreaterThan, Interval
from gpytorch.kernels import Kernel, ProductKernel
from gpytorch.priors import Prior
from linear_operator.operators import LinearOperator
from torch import Tensor

from skbo.exceptions import UnsupportedError
from skbo.models._fused import (
    fused_stationary,
    matern52_profile,
    stationary_matrix,
)

__all__ = [
    "CategoricalKernel",
    "DenseKernel",
    "LevelwiseKernel",
    "Matern52Kernel",
    "MixedKernel",
    "RBFKernel",
    "cross_kernel",
    "kernel_diagonal",
    "kernel_matrix",
]


class DenseKernel(Kernel):  # type: ignore[misc]
    """A ``gpytorch`` kernel that can also be evaluated as a plain dense tensor.

    Subclasses implement ``_dense(x1, x2, symmetric)`` (full matrix) and
    ``_dense_diag(x1, x2)`` on inputs whose active dimensions are already
    selected. :meth:`dense` is the fast path used by skbo's GP; ``forward``
    serves ``gpytorch``'s own machinery with the same numbers.

    Parameters
    ----------
    **kwargs
        Passed to :class:`gpytorch.kernels.Kernel` (``ard_num_dims``,
        ``active_dims``, ``lengthscale_prior``, ``lengthscale_constraint``, ...).

    Examples
    --------
    >>> import torch
    >>> k = Matern52Kernel(2)
    >>> X = torch.rand(4, 2, dtype=torch.float64)
    >>> k.double()
    Matern52Kernel(...)
    >>> bool(torch.allclose(k.dense(X, X), k(X, X).to_dense()))
    True
    """

    def dense(self, x1: Tensor, x2: Tensor) -> Tensor:
        """Kernel matrix as a tensor.

        Parameters
        ----------
        x1 : Tensor of shape (..., n, d)
        x2 : Tensor of shape (..., m, d)
            Batch dimensions broadcast.

        Returns
        -------
        K : Tensor of shape (..., n, m)
        """
        symmetric = x1 is x2
        if self.active_dims is not None:
            x1 = x1.index_select(-1, self.active_dims)
            x2 = x1 if symmetric else x2.index_select(-1, self.active_dims)
        return self._dense(x1, x2, symmetric)

    def forward(
        self,
        x1: Tensor,
        x2: Tensor,
        diag: bool = False,
        last_dim_is_batch: bool = False,
        **params: Any,
    ) -> Tensor:
        """Kernel matrix (or its diagonal) for ``gpytorch``'s ``__call__``."""
        if last_dim_is_batch:
            raise UnsupportedError(
                f"{type(self).__name__} does not support last_dim_is_batch."
            )
        if diag:
            return self._dense_diag(x1, x2)
        return self._dense(x1, x2, x1 is x2)

    @abstractmethod
    def _dense(self, x1: Tensor, x2: Tensor, symmetric: bool) -> Tensor:
        """Full kernel matrix on active-dimension inputs."""

    @abstractmethod
    def _dense_diag(self, x1: Tensor, x2: Tensor) -> Tensor:
        """``k(x1_i, x2_i)`` for matching rows."""


class _StationaryKernel(DenseKernel):
    """ARD stationary kernel ``k(r)``, given by its profile in ``r^2``."""

    _matern: bool

    has_lengthscale = True
    is_stationary = True

    def __init__(
        self,
        ard_num_dims: int,
        *,
        active_dims: Sequence[int] | None = None,
        lengthscale_prior: Prior | None = None,
        lengthscale_constraint: Interval | None = None,
    ) -> None:
        super().__init__(
            ard_num_dims=ard_num_dims,
            active_dims=None if active_dims is None else tuple(active_dims),
            lengthscale_prior=lengthscale_prior,
            lengthscale_constraint=lengthscale_constraint,
        )

    @abstractmethod
    def _profile(self, r2: Tensor) -> Tensor:
        """``k`` as a function of the squared scaled distance ``r^2``."""

    def _dense(self, x1: Tensor, x2: Tensor, symmetric: bool) -> Tensor:
        return stationary_matrix(
            x1, x2, self.lengthscale, symmetric, matern=self._matern
        )

    def _dense_diag(self, x1: Tensor, x2: Tensor) -> Tensor:
        return self._profile(((x1 - x2) / self.lengthscale).pow(2).sum(-1))


class Matern52Kernel(_StationaryKernel):
    """Matern-5/2 kernel with ARD lengthscales and no output scale.

    Parameters
    ----------
    ard_num_dims : int
        Number of input dimensions (after ``active_dims``), one lengthscale each.
    active_dims : sequence of int, optional
        Columns of the input the kernel acts on (all columns if omitted).
    lengthscale_prior : gpytorch.priors.Prior, optional
        Prior on the lengthscales.
    lengthscale_constraint : gpytorch.constraints.Interval, optional
        Constraint on the lengthscales (default: positive).

    Examples
    --------
    >>> import torch
    >>> k = Matern52Kernel(1).double()
    >>> k.lengthscale = 1.0
    >>> x = torch.tensor([[0.0], [1.0]], dtype=torch.float64)
    >>> k.dense(x, x)
    tensor([[1.0000, 0.5240],
            [0.5240, 1.0000]], ...)
    """

    _matern = True

    def _profile(self, r2: Tensor) -> Tensor:
        return matern52_profile(r2)


class RBFKernel(_StationaryKernel):
    """Squared-exponential (RBF) kernel with ARD lengthscales and no output scale.

    Parameters
    ----------
    ard_num_dims : int
        Number of input dimensions (after ``active_dims``), one lengthscale each.
    active_dims : sequence of int, optional
        Columns of the input the kernel acts on (all columns if omitted).
    lengthscale_prior : gpytorch.priors.Prior, optional
        Prior on the lengthscales.
    lengthscale_constraint : gpytorch.constraints.Interval, optional
        Constraint on the lengthscales (default: positive).

    Examples
    --------
    >>> import torch
    >>> k = RBFKernel(1).double()
    >>> k.lengthscale = 1.0
    >>> x = torch.tensor([[0.0], [1.0]], dtype=torch.float64)
    >>> k.dense(x, x)
    tensor([[1.0000, 0.6065],
            [0.6065, 1.0000]], ...)
    """

    _matern = False

    def _profile(self, r2: Tensor) -> Tensor:
        return torch.exp(-0.5 * r2)


def _get_lengthscale(module: _LengthscaleKernel) -> Tensor:
    # NOTE: module-level (not a lambda) so that fitted models pickle.
    return module.lengthscale


def _set_lengthscale(module: _LengthscaleKernel, value: Tensor | float) -> None:
    module._set_lengthscale(value)


class _LengthscaleKernel(DenseKernel):
    """A dense kernel with its own ``raw_lengthscale`` of any shape."""

    def _register_lengthscale(
        self,
        shape: tuple[int, ...],
        prior: Prior | None,
        constraint: Interval | None,
    ) -> None:
        self.register_parameter(
            "raw_lengthscale", torch.nn.Parameter(torch.zeros(*shape))
        )
        self.register_constraint(
            "raw_lengthscale", GreaterThan(0.0) if constraint is None else constraint
        )
        if prior is not None:
            self.register_prior(
                "lengthscale_prior", prior, _get_lengthscale, _set_lengthscale
            )

    @property
    def lengthscale(self) -> Tensor:
        """The lengthscales (shape: see the class)."""
        return cast(
            Tensor, self.raw_lengthscale_constraint.transform(self.raw_lengthscale)
        )

    @lengthscale.setter
    def lengthscale(self, value: Tensor | float) -> None:
        self._set_lengthscale(value)

    def _set_lengthscale(self, value: Tensor | float) -> None:
        value = torch.as_tensor(value).to(self.raw_lengthscale)
        raw = self.raw_lengthscale_constraint.inverse_transform(value)
        self.initialize(raw_lengthscale=raw.expand_as(self.raw_lengthscale))


class CategoricalKernel(_LengthscaleKernel):
    """Exponentiated-overlap kernel on one-hot groups, one lengthscale per group.

    ``k(x, x') = exp(-sum_g (1 - <x_g, x'_g>) / l_g)``: the exponentiated
    Hamming kernel on exact one-hots, positive semi-definite and smooth on
    relaxed (simplex) values, so acquisition functions can be optimized by
    gradients over the relaxation.

    Parameters
    ----------
    groups : sequence of sequence of int
        One list of one-hot column indices per categorical variable.
    lengthscale_prior : gpytorch.priors.Prior, optional
        Prior on the per-group lengthscales.
    lengthscale_constraint : gpytorch.constraints.Interval, optional
        Constraint on the lengthscales (default: positive).

    Examples
    --------
    >>> import torch
    >>> k = CategoricalKernel([[0, 1], [2, 3, 4]]).double()
    >>> k.lengthscale = torch.tensor([[1.0, 2.0]])
    >>> X = torch.tensor([[1.0, 0, 1, 0, 0], [1, 0, 0, 1, 0], [0, 1, 0, 0, 1]])
    >>> K = k.dense(X.double(), X.double())
    >>> bool(torch.isclose(K[0, 2], torch.exp(torch.tensor(-1.5, dtype=K.dtype))))
    True
    """

    is_stationary = False

    def __init__(
        self,
        groups: Sequence[Sequence[int]],
        *,
        lengthscale_prior: Prior | None = None,
        lengthscale_constraint: Interval | None = None,
    ) -> None:
        columns = [int(c) for g in groups for c in g]
        if not groups or any(len(g) == 0 for g in groups):
            raise ValueError(
                "groups must be a non-empty list of non-empty column lists."
            )
        if len(set(columns)) != len(columns) or min(columns) < 0:
            raise ValueError(
                f"groups must hold distinct non-negative column indices, got {groups}."
            )
        # NOTE: no ``ard_num_dims``: gpytorch (in debug mode) checks it against the
        # number of active columns, which here differs from the number of groups.
        super().__init__(active_dims=tuple(columns))
        self.n_groups = len(groups)
        group_of_column = [i for i, g in enumerate(groups) for _ in g]
        self.register_buffer(
            "group_index", torch.tensor(group_of_column, dtype=torch.long)
        )
        self._register_lengthscale(
            (1, self.n_groups), lengthscale_prior, lengthscale_constraint
        )

    def _weights(self) -> tuple[Tensor, Tensor]:
        inv = 1.0 / self.lengthscale.reshape(-1)  # (G,)
        return inv.index_select(0, self.group_index), inv.sum()

    def _dense(self, x1: Tensor, x2: Tensor, symmetric: bool) -> Tensor:
        w, total = self._weights()
        return torch.exp((x1 * w) @ x2.mT - total)

    def _dense_diag(self, x1: Tensor, x2: Tensor) -> Tensor:
        w, total = self._weights()
        return torch.exp((x1 * w * x2).sum(-1) - total)


def _select(kernel: DenseKernel, x: Tensor) -> Tensor:
    return x if kernel.active_dims is None else x.index_select(-1, kernel.active_dims)


class LevelwiseKernel(_LengthscaleKernel):
    """One stationary kernel per categorical level, active where both points share it.

    ``k(x, x') = (1 / G) sum_g sum_{c in g} x_c x'_c k_c(u, u')``, where ``u``
    are the continuous columns, ``x_c`` the one-hot column of level ``c`` and
    ``k_c`` a Matern-5/2 (or RBF) kernel with its own ARD lengthscales. On
    exact one-hots it is ``(1 / G)`` times the sum, over the groups in which
    the two points agree, of that level's own continuous kernel; on relaxed
    one-hots it stays positive semi-definite and smooth (a sum of products of
    linear and stationary kernels).

    Its purpose is conditional structure: when a categorical picks a model
    whose hyperparameters matter only for that model, a continuous kernel
    shared by all levels learns from the other levels that those columns are
    irrelevant (long lengthscales) and predicts a rarely sampled level as flat
    and certain; a level's own lengthscales are fitted from that level's
    points only and stay near the prior while it has few.

    Parameters
    ----------
    continuous : sequence of int
        Continuous input columns.
    groups : sequence of sequence of int
        One-hot column groups, one per categorical variable.
    matern : bool, default=True
        Matern-5/2 (``True``) or RBF (``False``) level kernels.
    lengthscale_prior : gpytorch.priors.Prior, optional
        Prior on every level's lengthscales.
    lengthscale_constraint : gpytorch.constraints.Interval, optional
        Constraint on the lengthscales (default: positive).

    Attributes
    ----------
    lengthscale : Tensor of shape (n_levels, 1, n_continuous)

    Examples
    --------
    >>> import torch
    >>> k = LevelwiseKernel([0], [[1, 2]]).double()
    >>> X = torch.tensor([[0.1, 1, 0], [0.2, 1, 0], [0.1, 0, 1]], dtype=torch.float64)
    >>> K = k.dense(X, X)
    >>> float(K[0, 2]), bool(K[0, 1] > 0.9)
    (0.0, True)
    """

    is_stationary = False

    def __init__(
        self,
        continuous: Sequence[int],
        groups: Sequence[Sequence[int]],
        *,
        matern: bool = True,
        lengthscale_prior: Prior | None = None,
        lengthscale_constraint: Interval | None = None,
    ) -> None:
        levels = [int(c) for g in groups for c in g]
        cont = [int(c) for c in continuous]
        if not cont or not levels:
            raise ValueError(
                "LevelwiseKernel needs at least one continuous column and one "
                f"categorical group, got continuous={cont}, groups={groups}."
            )
        super().__init__()
        self.n_groups = len(groups)
        self.matern = matern
        self.register_buffer("continuous_index", torch.tensor(cont, dtype=torch.long))
        self.register_buffer("level_index", torch.tensor(levels, dtype=torch.long))
        self._register_lengthscale(
            (len(levels), 1, len(cont)), lengthscale_prior, lengthscale_constraint
        )

    def _split(self, x: Tensor) -> tuple[Tensor, Tensor]:
        u = x.index_select(-1, self.continuous_index).unsqueeze(-3)  # (..., 1, n, dc)
        o = x.index_select(-1, self.level_index).mT.unsqueeze(-1)  # (..., L, n, 1)
        return u, o

    def _dense(self, x1: Tensor, x2: Tensor, symmetric: bool) -> Tensor:
        u1, o1 = self._split(x1)
        u2, o2 = (u1, o1) if symmetric else self._split(x2)
        K = stationary_matrix(u1, u2, self.lengthscale, symmetric, matern=self.matern)
        return (K * (o1 * o2.mT)).sum(-3) / self.n_groups

    def _dense_diag(self, x1: Tensor, x2: Tensor) -> Tensor:
        u1, o1 = self._split(x1)
        u2, o2 = self._split(x2)
        r2 = ((u1 - u2) / self.lengthscale).pow(2).sum(-1)  # (..., L, n)
        k = matern52_profile(r2) if self.matern else torch.exp(-0.5 * r2)
        return (k * (o1 * o2).squeeze(-1)).sum(-2) / self.n_groups


class MixedKernel(DenseKernel):
    """``(1 - w) k_cont k_cat + w k_level``: shared and per-level structure.

    The first term is the usual product of a continuous kernel and a
    :class:`CategoricalKernel` (levels share the continuous structure, scaled
    by how similar the categories are); the second a :class:`LevelwiseKernel`
    (each level has its own continuous structure). With a fixed weight ``w``
    and no output scale, ``k(x, x) = 1`` on exact one-hots.

    Parameters
    ----------
    continuous : DenseKernel
        Kernel on the continuous columns (with its ``active_dims``).
    categorical : CategoricalKernel
    levelwise : LevelwiseKernel
    weight : float, default=0.5
        ``w`` in ``[0, 1]``.

    Examples
    --------
    >>> import torch
    >>> cont = Matern52Kernel(1, active_dims=[0])
    >>> k = MixedKernel(
    ...     cont, CategoricalKernel([[1, 2]]), LevelwiseKernel([0], [[1, 2]])
    ... ).double()
    >>> X = torch.tensor([[0.1, 1, 0], [0.7, 0, 1]], dtype=torch.float64)
    >>> [round(float(v), 6) for v in k.dense(X, X).diagonal()]
    [1.0, 1.0]
    """

    is_stationary = False

    def __init__(
        self,
        continuous: DenseKernel,
        categorical: CategoricalKernel,
        levelwise: LevelwiseKernel,
        *,
        weight: float = 0.5,
    ) -> None:
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"weight must be in [0, 1], got {weight!r}.")
        super().__init__()
        self.continuous = continuous
        self.categorical = categorical
        self.levelwise = levelwise
        self.weight = float(weight)

    def _dense(self, x1: Tensor, x2: Tensor, symmetric: bool) -> Tensor:
        x2 = x1 if symmetric else x2
        shared = self.continuous.dense(x1, x2) * self.categorical.dense(x1, x2)
        own = self.levelwise.dense(x1, x2)
        return torch.lerp(shared, own, self.weight)

    def _dense_diag(self, x1: Tensor, x2: Tensor) -> Tensor:
        parts = [
            k._dense_diag(_select(k, x1), _select(k, x2))
            for k in (self.continuous, self.categorical, self.levelwise)
        ]
        return torch.lerp(parts[0] * parts[1], parts[2], self.weight)


def kernel_matrix(kernel: Kernel, x1: Tensor, x2: Tensor) -> Tensor:
    """Dense kernel matrix ``k(x1, x2)`` of any ``gpytorch`` kernel.

    :class:`DenseKernel` instances (and products of them) take the fast path;
    any other kernel is called the ``gpytorch`` way and densified.

    Parameters
    ----------
    kernel : gpytorch.kernels.Kernel
    x1 : Tensor of shape (..., n, d)
    x2 : Tensor of shape (..., m, d) or (m, d)
        A 2-D ``x2`` is shared by every batch of ``x1``.

    Returns
    -------
    K : Tensor of shape (..., n, m)

    Examples
    --------
    >>> import torch, gpytorch
    >>> X = torch.rand(5, 2, dtype=torch.float64)
    >>> k = gpytorch.kernels.MaternKernel(nu=2.5).double()
    >>> kernel_matrix(k, X, X).shape
    torch.Size([5, 5])
    """
    if isinstance(kernel, DenseKernel):
        return kernel.dense(x1, x2)
    if type(kernel) is ProductKernel and kernel.active_dims is None:
        parts = [kernel_matrix(k, x1, x2) for k in kernel.kernels]
        out = parts[0]
        for part in parts[1:]:
            out = out * part
        return out
    if x1 is x2:
        res = kernel(x1, x1)
    else:
        if x2.dim() < x1.dim():
            x2 = x2.expand(*x1.shape[:-2], *x2.shape[-2:])
        res = kernel(x1, x2)
    return res.to_dense() if isinstance(res, LinearOperator) else cast(Tensor, res)


def kernel_diagonal(kernel: Kernel, x: Tensor) -> Tensor:
    """Prior variances ``k(x_i, x_i)`` of any ``gpytorch`` kernel.

    Matern-5/2 and RBF kernels (no output scale) give ones without touching
    ``x``, :class:`CategoricalKernel` its own diagonal, products multiply their
    parts; any other kernel is called with ``diag=True``.

    Parameters
    ----------
    kernel : gpytorch.kernels.Kernel
    x : Tensor of shape (..., n, d)

    Returns
    -------
    diag : Tensor of shape (..., n)

    Examples
    --------
    >>> import torch
    >>> X = torch.rand(2, 3, 4, dtype=torch.float64)
    >>> kernel_diagonal(Matern52Kernel(4).double(), X).shape
    torch.Size([2, 3])
    """
    if isinstance(kernel, (Matern52Kernel, RBFKernel)):
        # Stationary, no output scale: k(x, x) = 1, with a zero derivative.
        return x.new_ones(x.shape[:-1])
    if isinstance(kernel, DenseKernel):
        if kernel.active_dims is not None:
            x = x.index_select(-1, kernel.active_dims)
        return kernel._dense_diag(x, x)
    if type(kernel) is ProductKernel and kernel.active_dims is None:
        out = kernel_diagonal(kernel.kernels[0], x)
        for part in kernel.kernels[1:]:
            out = out * kernel_diagonal(part, x)
        return out
    res = kernel(x, x, diag=True)
    return res.to_dense() if isinstance(res, LinearOperator) else cast(Tensor, res)


def cross_kernel(kernel: Kernel, x2: Tensor) -> Callable[[Tensor], Tensor]:
    """``x1 -> k(x1, x2)`` for a fixed ``x2`` and fixed hyperparameters.

    For Matern-5/2 and RBF kernels on all columns, the centred and scaled
    ``x2`` and the inverse lengthscales are computed once (the caller must not
    change the kernel's parameters afterwards, e.g. a frozen copy); any other
    kernel falls back to :func:`kernel_matrix`.

    Parameters
    ----------
    kernel : gpytorch.kernels.Kernel
    x2 : Tensor of shape (m, d)

    Returns
    -------
    callable
        Maps ``x1 (..., n, d)`` to ``K (..., n, m)``, differentiable in ``x1``.

    Examples
    --------
    >>> import torch
    >>> k = Matern52Kernel(2).double()
    >>> X = torch.rand(5, 2, dtype=torch.float64)
    >>> bool(torch.allclose(cross_kernel(k, X)(X[:2]), kernel_matrix(k, X[:2], X)))
    True
    """
    if isinstance(kernel, (Matern52Kernel, RBFKernel)) and kernel.active_dims is None:
        matern = isinstance(kernel, Matern52Kernel)
        with torch.no_grad():
            shift = x2.reshape(-1, x2.shape[-1]).mean(0)
            inv = (math.sqrt(5.0) if matern else math.sqrt(0.5)) / kernel.lengthscale
            z2 = (x2 - shift) * inv

        def evaluate(x1: Tensor) -> Tensor:
            return fused_stationary((x1 - shift) * inv, z2, matern)

        return evaluate
    return lambda x1: kernel_matrix(kernel, x1, x2)
