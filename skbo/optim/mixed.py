r"""Integer and categorical columns of the encoded unit cube.

The acquisition optimizer works on the continuous relaxation of a mixed space,
then projects its results onto valid points and polishes them by a local
search over discrete neighbours (as Optuna's ``_gp/optim_mixed.py`` does).

Notation
--------
``d``: encoded columns; ``x``: one point ``(d,)``; ``X``: points ``(..., d)``.

* Integer column ``j`` with values ``low..high`` (optionally on a log scale):
  every integer ``v`` owns a bin of the code interval ``[0, 1]`` and its code
  ``c(v)`` is the bin centre (:func:`skbo._encoding.encode_integer`). The
  projection is ``x_j -> c(decode_integer(x_j))``.
* Categorical group ``G = (j_1, ..., j_m)``: one-hot columns; the projection
  is the exact one-hot vector of ``argmax_k x_{j_k}`` (first on ties).
* Neighbours of a valid ``x``: each integer column moved to the adjacent
  integer below and above (within ``low..high``; on the log scale too, one
  integer, not one code step), optionally also to the integers at code
  distances ``s`` (the local search uses ``s = 1/2, 1/4, ..., 1/64``), and
  each group switched to each other category.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from skbo._encoding import decode_integer, encode_integer
from skbo.exceptions import SpaceExhaustedError

__all__ = ["IntegerColumn", "MixedSpec", "SpaceExhaustedError", "local_search"]


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


@dataclass(frozen=True)
class IntegerColumn:
    """One encoded integer column.

    Parameters
    ----------
    index : int
        Column of the encoded matrix (>= 0).
    low, high : int
        Smallest and largest integer (``low <= high``).
    log : bool, default=False
        Whether the bins are laid out on a log scale (needs ``low >= 1``).

    Examples
    --------
    >>> IntegerColumn(0, 1, 3).codes()
    array([0.16666667, 0.5       , 0.83333333])
    """

    index: int
    low: int
    high: int
    log: bool = False

    def __post_init__(self) -> None:
        for name in ("index", "low", "high"):
            if not _is_int(getattr(self, name)):
                raise TypeError(
                    f"IntegerColumn.{name} must be an int, "
                    f"got {type(getattr(self, name)).__name__}."
                )
        if self.index < 0:
            raise ValueError(f"IntegerColumn.index must be >= 0, got {self.index}.")
        if self.low > self.high:
            raise ValueError(
                "IntegerColumn needs low <= high, "
                f"got low={self.low}, high={self.high}."
            )
        if not isinstance(self.log, (bool, np.bool_)):
            raise TypeError(f"IntegerColumn.log must be a bool, got {self.log!r}.")
        if self.log and self.low < 1:
            raise ValueError(
                f"IntegerColumn with log=True needs low >= 1, got {self.low}."
            )

    @property
    def n_values(self) -> int:
        """Number of integers ``high - low + 1``."""
        return self.high - self.low + 1

    def decode(self, x: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Integers whose bins hold the codes ``x`` (see ``decode_integer``)."""
        return decode_integer(x, self.low, self.high, self.log)

    def encode(self, v: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Bin-centre codes of the integers ``v`` (see ``encode_integer``)."""
        return encode_integer(v, self.low, self.high, self.log)

    def codes(self) -> npt.NDArray[np.float64]:
        """Codes of all integers ``low..high``, ascending."""
        return self.encode(np.arange(self.low, self.high + 1))


@dataclass(frozen=True)
class MixedSpec:
    """Which encoded columns are integer codes and which are one-hot groups.

    Parameters
    ----------
    integers : tuple of IntegerColumn, default=()
        Integer columns (tuples ``(index, low, high, log)`` are converted).
    categorical_groups : tuple of tuple of int, default=()
        One tuple of one-hot columns per categorical dimension.

    Examples
    --------
    >>> import torch
    >>> spec = MixedSpec((IntegerColumn(0, 0, 3),), ((1, 2, 3),))
    >>> spec.project(torch.tensor([0.3, 0.2, 0.7, 0.1], dtype=torch.float64))
    tensor([0.3750, 0.0000, 1.0000, 0.0000], dtype=torch.float64)
    >>> spec.n_configurations
    12
    """

    integers: tuple[IntegerColumn, ...] = ()
    categorical_groups: tuple[tuple[int, ...], ...] = ()
    _columns: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ints = tuple(
            _as_integer_column(c) for c in _as_tuple(self.integers, "integers")
        )
        groups = tuple(
            tuple(_as_tuple(g, "categorical_groups[i]"))
            for g in _as_tuple(self.categorical_groups, "categorical_groups")
        )
        seen: set[int] = set()
        for c in ints:
            if c.index in seen:
                raise ValueError(f"MixedSpec: column {c.index} is listed twice.")
            seen.add(c.index)
        for g in groups:
            if len(g) == 0:
                raise ValueError("MixedSpec: a categorical group needs >= 1 column.")
            for j in g:
                if not isinstance(j, numbers.Integral) or isinstance(j, bool) or j < 0:
                    raise ValueError(
                        f"MixedSpec: categorical columns must be ints >= 0, got {j!r}."
                    )
                if j in seen:
                    raise ValueError(f"MixedSpec: column {j} is listed twice.")
                seen.add(int(j))
        object.__setattr__(self, "integers", ints)
        object.__setattr__(self, "categorical_groups", groups)
        object.__setattr__(self, "_columns", tuple(sorted(seen)))

    @classmethod
    def from_lists(
        cls,
        integer_columns: Iterable[tuple[int, int, int, bool]] = (),
        categorical_groups: Iterable[Iterable[int]] = (),
    ) -> MixedSpec:
        """Build from ``Space.integer_columns`` and ``Space.categorical_groups``.

        Parameters
        ----------
        integer_columns : iterable of (column, low, high, log)
            Integer columns.
        categorical_groups : iterable of iterables of int
            One-hot groups.

        Returns
        -------
        MixedSpec

        Examples
        --------
        >>> MixedSpec.from_lists([(0, 1, 10, True)], [[1, 2]]).columns
        (0, 1, 2)
        """
        return cls(
            tuple(IntegerColumn(*c) for c in integer_columns),
            tuple(tuple(g) for g in categorical_groups),
        )

    @property
    def columns(self) -> tuple[int, ...]:
        """All discrete columns, ascending."""
        return self._columns

    @property
    def n_configurations(self) -> int:
        """Number of distinct settings of the discrete columns."""
        return math.prod([c.n_values for c in self.integers]) * math.prod(
            [len(g) for g in self.categorical_groups]
        )

    def check_dim(self, d: int) -> None:
        """Raise ``ValueError`` if a column does not exist in a ``d``-column space.

        Parameters
        ----------
        d : int
            Number of encoded columns.

        Examples
        --------
        >>> MixedSpec((IntegerColumn(2, 0, 1),)).check_dim(3)
        """
        if self._columns and self._columns[-1] >= d:
            raise ValueError(
                f"discrete: column {self._columns[-1]} is out of range for a space "
                f"with {d} columns (allowed: 0..{d - 1})."
            )

    def project(self, X: Tensor) -> Tensor:
        """Round integer columns to bin centres and one-hot groups to one-hots.

        Parameters
        ----------
        X : Tensor of shape (..., d)
            Points (finite in the discrete columns).

        Returns
        -------
        Tensor of shape (..., d)
            A new, detached tensor; other columns are unchanged.

        Examples
        --------
        >>> import torch
        >>> spec = MixedSpec(categorical_groups=((0, 1),))
        >>> spec.project(torch.tensor([[0.4, 0.4], [0.1, 0.9]]))
        tensor([[1., 0.],
                [0., 1.]])
        """
        Y = X.detach().clone()
        if not self._columns:
            return Y
        cols = list(self._columns)
        if not bool(torch.isfinite(X[..., cols]).all()):
            raise ValueError("MixedSpec.project: X has non-finite discrete columns.")
        if self.integers:
            idx = [c.index for c in self.integers]
            vals = X[..., idx].detach().to("cpu", torch.float64).numpy()
            out = np.stack(
                [c.encode(c.decode(vals[..., k])) for k, c in enumerate(self.integers)],
                axis=-1,
            )
            Y[..., idx] = torch.as_tensor(out).to(dtype=X.dtype, device=X.device)
        for g in self.categorical_groups:
            gi = list(g)
            hot = torch.nn.functional.one_hot(X[..., gi].argmax(-1), len(g))
            Y[..., gi] = hot.to(X.dtype)
        return Y

    def is_valid(self, X: Tensor) -> Tensor:
        """Whether each point has exact integer codes and exact one-hots.

        Parameters
        ----------
        X : Tensor of shape (..., d)
            Points.

        Returns
        -------
        Tensor of shape (...), bool
            True where ``project(X) == X`` exactly (non-finite rows are invalid).

        Examples
        --------
        >>> import torch
        >>> spec = MixedSpec(categorical_groups=((0, 1),))
        >>> spec.is_valid(torch.tensor([[1.0, 0.0], [0.6, 0.4]]))
        tensor([ True, False])
        """
        finite = torch.isfinite(X).all(-1)
        safe = torch.where(torch.isfinite(X), X, torch.zeros_like(X))
        return finite & (self.project(safe) == safe).all(-1)

    def neighbors(self, x: Tensor, code_steps: Sequence[float] = ()) -> Tensor:
        """Valid points a few discrete steps away from ``x``.

        Parameters
        ----------
        x : Tensor of shape (d,)
            A point (projected first).
        code_steps : sequence of float, default=()
            Longer moves, in code units (in ``(0, 1]``): besides the adjacent
            integers, each integer column is moved to the integers whose bins
            hold ``code - s`` and ``code + s`` (clipped to ``[0, 1]``) for
            every ``s``; on a log scale these are multiplicative moves. Moves
            that stay on the same integer or repeat an earlier one are left
            out.

        Returns
        -------
        Tensor of shape (k, d)
            Per integer column: one integer down, one up, then ``-s`` and
            ``+s`` for each of ``code_steps`` in order; then one row per other
            category of each group.

        Examples
        --------
        >>> import torch
        >>> spec = MixedSpec((IntegerColumn(0, 0, 3),), ((1, 2),))
        >>> spec.neighbors(torch.tensor([0.125, 1.0, 0.0], dtype=torch.float64))
        tensor([[0.3750, 1.0000, 0.0000],
                [0.1250, 0.0000, 1.0000]], dtype=torch.float64)
        """
        if x.ndim != 1:
            raise ValueError(f"neighbors expects one point (d,), got {tuple(x.shape)}.")
        N, _ = self.neighbors_of_rows(x.unsqueeze(0), code_steps)
        return N

    def neighbors_of_rows(
        self, X: Tensor, code_steps: Sequence[float] = ()
    ) -> tuple[Tensor, list[int]]:
        """:meth:`neighbors` of every row of ``X``, stacked row by row.

        Parameters
        ----------
        X : Tensor of shape (P, d)
            Points (projected first).
        code_steps : sequence of float, default=()
            Longer integer moves, as in :meth:`neighbors`.

        Returns
        -------
        neighbors : Tensor of shape (sum(counts), d)
            The neighbours of row 0, then those of row 1, and so on, each in
            the order of :meth:`neighbors`.
        counts : list of int
            Number of neighbours of each row.

        Examples
        --------
        >>> import torch
        >>> spec = MixedSpec((IntegerColumn(0, 0, 3),))
        >>> N, counts = spec.neighbors_of_rows(
        ...     torch.tensor([[0.125], [0.625]], dtype=torch.float64), code_steps=[0.5]
        ... )
        >>> counts, N.flatten().tolist()
        ([2, 3], [0.375, 0.625, 0.375, 0.875, 0.125])
        """
        if X.ndim != 2:
            raise ValueError(
                f"neighbors_of_rows expects points (P, d), got {tuple(X.shape)}."
            )
        deltas = np.asarray(list(code_steps), dtype=np.float64).reshape(-1)
        if not bool(np.all((deltas > 0) & (deltas <= 1))):
            raise ValueError(
                f"code_steps must be numbers in (0, 1], got {list(code_steps)!r}."
            )
        X = self.project(X)
        P = X.shape[0]
        owners: list[npt.NDArray[np.int64]] = []
        blocks: list[Tensor] = []
        offsets = np.stack([-deltas, deltas], axis=-1).reshape(-1)
        for c in self.integers:
            code = X[:, c.index].to("cpu", torch.float64).numpy()
            v = c.decode(code)
            far = c.decode(np.clip(code[:, None] + offsets, 0.0, 1.0))
            W = np.concatenate([v[:, None] - 1, v[:, None] + 1, far], axis=-1)
            # (P, moves), row-major: per point, moves in the documented order
            repeat = np.tril(W[:, :, None] == W[:, None, :], -1).any(-1)
            inside = (W - c.low >= 0) & (c.high - W >= 0)
            ok = inside & np.not_equal(W, v[:, None]) & ~repeat
            pi, ki = np.nonzero(ok)
            block = X[torch.as_tensor(pi, device=X.device)]
            block[:, c.index] = torch.as_tensor(c.encode(W[pi, ki])).to(X)
            owners.append(pi)
            blocks.append(block)
        for g in self.categorical_groups:
            gi = list(g)
            current = X[:, gi].argmax(-1).cpu().numpy()
            pi, ki = np.nonzero(current[:, None] != np.arange(len(g)))
            block = X[torch.as_tensor(pi, device=X.device)]
            hot = torch.eye(len(g), dtype=X.dtype, device=X.device)
            block[:, gi] = hot[torch.as_tensor(ki, device=X.device)]
            owners.append(pi)
            blocks.append(block)
        if not blocks:
            return X[:0], [0] * P
        owner = np.concatenate(owners)
        order = torch.as_tensor(np.argsort(owner, kind="stable"), device=X.device)
        counts = np.bincount(owner, minlength=P).tolist()
        return torch.cat(blocks)[order], counts

    def configurations(self, template: Tensor) -> Tensor:
        """All settings of the discrete columns, other columns from ``template``.

        Parameters
        ----------
        template : Tensor of shape (d,)
            Values of the non-discrete columns.

        Returns
        -------
        Tensor of shape (n_configurations, d)

        Examples
        --------
        >>> import torch
        >>> spec = MixedSpec((IntegerColumn(0, 0, 1),), ((1, 2),))
        >>> spec.configurations(torch.zeros(3, dtype=torch.float64))
        tensor([[0.2500, 1.0000, 0.0000],
                [0.2500, 0.0000, 1.0000],
                [0.7500, 1.0000, 0.0000],
                [0.7500, 0.0000, 1.0000]], dtype=torch.float64)
        """
        n = self.n_configurations
        X = template.expand(n, -1).clone()
        sizes = [c.n_values for c in self.integers] + [
            len(g) for g in self.categorical_groups
        ]
        # Mixed-radix digits of 0..n-1: one digit per factor, the last fastest.
        digits = np.unravel_index(np.arange(n), sizes) if sizes else ()
        for c, dig in zip(self.integers, digits, strict=False):
            X[:, c.index] = torch.as_tensor(c.codes()[dig]).to(template)
        for g, dig in zip(
            self.categorical_groups, digits[len(self.integers) :], strict=True
        ):
            X[:, list(g)] = torch.as_tensor(np.eye(len(g))[dig]).to(template)
        return X


def _as_integer_column(c: object) -> IntegerColumn:
    if isinstance(c, IntegerColumn):
        return c
    if isinstance(c, tuple) and len(c) in (3, 4):
        return IntegerColumn(*c)
    raise TypeError(
        "MixedSpec.integers must hold IntegerColumn objects or tuples "
        f"(index, low, high, log), got {c!r}."
    )


def _as_tuple(value: object, name: str) -> tuple[object, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(
            f"MixedSpec.{name} must be a tuple, got {type(value).__name__}."
        )
    return tuple(value)


def local_search(
    evaluate: Callable[[Tensor], Tensor],
    X: Tensor,
    values: Tensor,
    spec: MixedSpec,
    max_iter: int = 20,
    code_steps: Sequence[float] = (1 / 2, 1 / 4, 1 / 8, 1 / 16, 1 / 32, 1 / 64),
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Greedy hill climbing over discrete neighbours, all points at once.

    Each iteration evaluates the neighbours of every still-improving point in
    *one* call of ``evaluate`` and moves each point to its best neighbour if
    that is strictly better.

    Parameters
    ----------
    evaluate : callable
        Maps points ``(N, d)`` to values ``(N,)`` (to be maximized).
    X : Tensor of shape (P, d)
        Valid starting points.
    values : Tensor of shape (P,)
        Their values.
    spec : MixedSpec
        The discrete columns.
    max_iter : int, default=20
        Largest number of moves per point.
    code_steps : sequence of float, default=(1/2, 1/4, ..., 1/64)
        Longer integer moves besides the adjacent integers (code units, see
        :meth:`MixedSpec.neighbors`). They cost little per iteration (the
        neighbours of all points are one batched call) and cross a wide
        integer range in a few iterations instead of one integer at a time.

    Returns
    -------
    X : Tensor of shape (P, d)
        Final points.
    values : Tensor of shape (P,)
        Their values.
    visited : Tensor of shape (M, d)
        Every neighbour evaluated on the way.
    visited_values : Tensor of shape (M,)
        Their values.

    Examples
    --------
    >>> import torch
    >>> spec = MixedSpec((IntegerColumn(0, 0, 9),))
    >>> f = lambda X: -(X[:, 0] - 0.75).abs()
    >>> x0 = spec.project(torch.zeros(1, 1, dtype=torch.float64))
    >>> best, val, _, _ = local_search(f, x0, f(x0), spec)
    >>> best
    tensor([[0.7500]], dtype=torch.float64)
    """
    X, values = X.clone(), values.clone()
    seen_X, seen_v = [X.new_empty(0, X.shape[-1])], [values.new_empty(0)]
    active = list(range(X.shape[0]))
    for _ in range(max_iter):
        if not active:
            break
        allN, counts = spec.neighbors_of_rows(X[active], code_steps)
        if sum(counts) == 0:
            break
        allv = evaluate(allN)
        seen_X.append(allN)
        seen_v.append(allv)
        still: list[int] = []
        for i, part_v, part_N in zip(
            active, torch.split(allv, counts), torch.split(allN, counts), strict=True
        ):
            if part_v.numel() == 0:
                continue
            finite = torch.where(torch.isnan(part_v), -math.inf, part_v)
            best = int(finite.argmax())
            if bool(finite[best] > values[i]) or (
                bool(torch.isnan(values[i])) and bool(torch.isfinite(finite[best]))
            ):
                X[i], values[i] = part_N[best], part_v[best]
                still.append(i)
        active = still
    return X, values, torch.cat(seen_X), torch.cat(seen_v)
