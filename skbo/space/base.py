"""The :class:`Dimension` base class and the helpers the dimensions share.

A dimension is an immutable description of one hyperparameter: it validates
values, draws random values and maps values to codes in the unit interval and
back. The concrete dimensions live in :mod:`skbo.space.dimensions` and
:mod:`skbo.space.categorical`.
"""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from skbo.utils.random import RandomStateLike, check_random_state

__all__ = ["Dimension"]

FloatArray = npt.NDArray[np.float64]

PRIORS = ("uniform", "log-uniform")


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


def _check_name(name: Any) -> str | None:
    """Return ``name`` if it is ``None`` or a non-empty string, raise otherwise."""
    if name is None:
        return None
    if not isinstance(name, str):
        raise TypeError(
            f"A dimension name must be a string or None, got {name!r} "
            f"({type(name).__name__})."
        )
    if not name:
        raise ValueError("A dimension name must be a non-empty string, got ''.")
    return name


def _describe(kind: str, name: str | None) -> str:
    return f"{kind} dimension {name!r}" if name is not None else f"{kind} dimension"


def _as_code_matrix(codes: npt.ArrayLike, width: int, where: str) -> FloatArray:
    """Return ``codes`` as a finite float64 array of shape ``(n, width)``.

    A 1-D array is accepted as a column when ``width`` is 1.
    """
    arr = np.asarray(codes, dtype=np.float64)
    if arr.ndim == 1 and width == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] != width:
        expected = "(n,) or (n, 1)" if width == 1 else f"(n, {width})"
        raise ValueError(
            f"{where}: codes must have shape {expected}, got shape {arr.shape}."
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{where}: codes must be finite, got NaN or infinity.")
    return arr


class Dimension(ABC):
    """Base class of the search-space dimensions (immutable).

    Subclasses describe the values (:meth:`validate`), their encoding
    (:meth:`transform`, :meth:`inverse_transform`, :attr:`n_encoded`) and how a
    uniform number maps to a random value (used by :meth:`rvs` and by
    :meth:`skbo.space.Space.sample`).

    Examples
    --------
    >>> from skbo.space import Dimension, Real
    >>> isinstance(Real(0.0, 1.0), Dimension)
    True
    """

    __slots__ = ("_name",)
    _name: str | None

    @property
    def name(self) -> str | None:
        """The dimension's name, or ``None`` if it has none.

        Examples
        --------
        >>> from skbo.space import Real
        >>> Real(0.0, 1.0, name="alpha").name
        'alpha'
        """
        return self._name

    @property
    @abstractmethod
    def prior(self) -> str:
        """How random values are drawn: ``'uniform'`` or ``'log-uniform'``."""

    @property
    @abstractmethod
    def n_encoded(self) -> int:
        """Number of columns of the encoding (1, or the number of categories)."""

    @abstractmethod
    def with_name(self, name: str | None) -> Dimension:
        """Return a copy of the dimension under another name."""

    @abstractmethod
    def validate(self, value: Any) -> None:
        """Raise :class:`ValueError` if ``value`` is not a value of the dimension."""

    @abstractmethod
    def inverse_transform(self, codes: npt.ArrayLike) -> list[Any]:
        """Decode rows of codes to values."""

    @abstractmethod
    def _encode(self, values: list[Any]) -> FloatArray:
        """Encode values checked by :meth:`validate`, shape ``(n, n_encoded)``."""

    @abstractmethod
    def _from_uniform(self, u: FloatArray) -> list[Any]:
        """Map uniform numbers in ``[0, 1)`` of shape ``(n,)`` to ``n`` values."""

    @abstractmethod
    def _key(self) -> tuple[Any, ...]:
        """The constructor arguments, for equality, hashing and pickling."""

    def _where(self) -> str:
        return _describe(type(self).__name__, self._name)

    def transform(self, values: Any) -> FloatArray:
        """Encode values into rows of codes in ``[0, 1]``.

        Parameters
        ----------
        values : sequence
            Values of the dimension (a list, tuple or 1-D array).

        Returns
        -------
        codes : ndarray of shape (n, n_encoded)
            float64 codes in ``[0, 1]``.

        Raises
        ------
        ValueError
            If a value is not in the dimension.

        Examples
        --------
        >>> from skbo.space import Real
        >>> Real(0.0, 10.0).transform([0.0, 2.5])
        array([[0.  ],
               [0.25]])
        """
        vals = self._value_list(values)
        if not self._plainly_valid(vals):
            for v in vals:
                self.validate(v)  # raises with the offending value
        return self._encode(vals)

    def _plainly_valid(self, values: list[Any]) -> bool:
        """A bulk check that may accept ``values`` without :meth:`validate`.

        ``False`` means "check one by one", not "invalid". NOTE: an
        ``Optimizer`` encodes its whole history at every ``ask``; per-value
        checks (abstract-base-class ``isinstance``) were ~1.5 ms of a 25 ms
        suggestion at 50 points in 6-D.
        """
        return False

    def _value_list(self, values: Any) -> list[Any]:
        if isinstance(values, np.ndarray):
            if values.ndim != 1:
                raise ValueError(
                    f"{self._where()}: values must be 1-D, got shape {values.shape}."
                )
            return list(values)
        if isinstance(values, (list, tuple)):
            return list(values)
        raise TypeError(
            f"{self._where()}: values must be a list, tuple or 1-D array of "
            f"values, got {type(values).__name__}; wrap a single value in a list."
        )

    def rvs(self, n: int = 1, random_state: RandomStateLike = None) -> list[Any]:
        """Draw ``n`` random values from the dimension's prior.

        Parameters
        ----------
        n : int, default=1
            Number of values.
        random_state : int, RandomState or None, default=None
            Source of randomness (see :func:`skbo.utils.random.check_random_state`).

        Returns
        -------
        values : list
            ``n`` values of native Python types.

        Examples
        --------
        >>> from skbo.space import Integer
        >>> values = Integer(1, 5).rvs(3, random_state=0)
        >>> len(values), all(v in Integer(1, 5) for v in values)
        (3, True)
        """
        n = _check_count(n, "n")
        rng = check_random_state(random_state)
        return self._from_uniform(rng.uniform(size=n))

    def __contains__(self, value: Any) -> bool:
        try:
            self.validate(value)
        except (TypeError, ValueError):
            return False
        return True

    def __setattr__(self, attr: str, value: Any) -> None:
        raise AttributeError(
            f"{type(self).__name__} is immutable; build a new dimension instead "
            "(with_name() gives a renamed copy)."
        )

    def __delattr__(self, attr: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable.")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dimension) or type(other) is not type(self):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash((type(self).__name__, *self._key()))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return type(self), self._key()


def _check_count(n: Any, param: str) -> int:
    """Return ``n`` as a Python int if it is a non-negative integer."""
    if not isinstance(n, numbers.Integral) or _is_bool(n):
        raise TypeError(f"{param} must be a non-negative int, got {n!r}.")
    if n < 0:
        raise ValueError(f"{param} must be a non-negative int, got {n}.")
    return int(n)


def _check_prior(prior: Any, where: str) -> str:
    if not isinstance(prior, str):
        raise TypeError(
            f"{where}: prior must be one of {PRIORS}, got {prior!r} "
            f"({type(prior).__name__})."
        )
    if prior not in PRIORS:
        raise ValueError(f"{where}: prior must be one of {PRIORS}, got {prior!r}.")
    return prior


class _Range(Dimension):
    """A dimension given by ``low``, ``high`` and a prior (Real, Integer)."""

    __slots__ = ("_high", "_low", "_prior")
    _low: Any
    _high: Any
    _prior: str

    @property
    def low(self) -> Any:
        """Lower bound (included)."""
        return self._low

    @property
    def high(self) -> Any:
        """Upper bound (included)."""
        return self._high

    @property
    def bounds(self) -> tuple[Any, Any]:
        """The pair ``(low, high)``, both included."""
        return self._low, self._high

    @property
    def prior(self) -> str:
        """``'uniform'`` or ``'log-uniform'``."""
        return self._prior

    @property
    def is_log(self) -> bool:
        """Whether the prior is log-uniform (codes are in log space)."""
        return self._prior == "log-uniform"

    @property
    def n_encoded(self) -> int:
        """Always 1: one code column."""
        return 1

    def _key(self) -> tuple[Any, ...]:
        return self._low, self._high, self._prior, self._name

    def __repr__(self) -> str:
        name = "" if self._name is None else f", name={self._name!r}"
        return (
            f"{type(self).__name__}(low={self._low!r}, high={self._high!r}, "
            f"prior={self._prior!r}{name})"
        )

    def _set_range(
        self,
        kind: str,
        low: Any,
        high: Any,
        prior: Any,
        name: Any,
        check_bound: Callable[[Any, str, str], Any],
    ) -> str:
        """Validate and set the name, prior and bounds; return the message prefix.

        ``check_bound(value, param, where)`` validates and converts one bound.
        """
        name = _check_name(name)
        where = _describe(kind, name)
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_prior", _check_prior(prior, where))
        object.__setattr__(self, "_low", check_bound(low, "low", where))
        object.__setattr__(self, "_high", check_bound(high, "high", where))
        self._check_order(where)
        return where

    def _check_order(self, where: str) -> None:
        if not self._low < self._high:
            raise ValueError(
                f"{where}: low must be smaller than high, got low={self._low!r}, "
                f"high={self._high!r}."
            )
        if self.is_log and self._low <= 0:
            raise ValueError(
                f"{where}: a 'log-uniform' prior needs low > 0, got low={self._low!r}."
            )
