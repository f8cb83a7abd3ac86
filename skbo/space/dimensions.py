"""The numeric dimensions :class:`Real` and :class:`Integer`.

Their codes come from :mod:`skbo._encoding`, shared with the optimizer, so that
both sides of the pipe agree bit for bit.

Notation
--------
``v``: a value in the dimension's own units (``float``, ``int`` or a category);
``x``: its code, a row of ``n_encoded`` numbers in ``[0, 1]``; ``u``: a uniform
number in ``[0, 1)`` from which a random value is drawn.

* Real: ``x`` is ``v`` mapped linearly (log-uniform prior: ``log v`` mapped
  linearly) onto ``[0, 1]``; a random value takes ``x = u``, so a log-uniform
  dimension is sampled uniformly in log space.
* Integer: every integer owns a bin of ``[0, 1]`` (bins of equal width in log
  space for a log-uniform prior); ``x`` is the bin centre and ``u`` falls into
  the bin of the value it draws.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import numpy.typing as npt

from skbo._encoding import decode_integer, decode_real, encode_integer, encode_real
from skbo.space.base import (
    FloatArray,
    _as_code_matrix,
    _is_bool,
    _Range,
)

__all__ = ["Integer", "Real"]

# NOTE: integer codes round-trip exactly only while float64 resolves the bins;
# measured with skbo._encoding, log-uniform integers first fail near 2**48 and
# uniform ones near 2**54, so bounds are capped at 2**40 to keep a safe margin.
MAX_INTEGER = 2**40


class Real(_Range):
    """A real-valued dimension on ``[low, high]``.

    Parameters
    ----------
    low, high : float
        Finite bounds, both included, ``low < high``.
    prior : {"uniform", "log-uniform"}, default="uniform"
        ``"log-uniform"`` (needs ``low > 0``) samples and encodes in log space,
        for scale parameters such as a regularization strength.
    name : str or None, default=None
        Name of the dimension (a hyperparameter name in a search).

    Attributes
    ----------
    low, high : float
        The bounds; ``bounds`` is the pair ``(low, high)``.
    prior : str
        The prior; ``is_log`` tells whether it is log-uniform.
    n_encoded : int
        Always 1 (one code column).

    Examples
    --------
    >>> C = Real(1e-3, 1e3, prior="log-uniform", name="C")
    >>> C
    Real(low=0.001, high=1000.0, prior='log-uniform', name='C')
    >>> C.transform([1e-3, 1.0, 1e3]).ravel()
    array([0. , 0.5, 1. ])
    >>> C.inverse_transform([0.0, 1.0])
    [0.001, 1000.0]
    >>> 5.0 in C, 1e4 in C
    (True, False)
    """

    __slots__ = ()
    _low: float
    _high: float

    def __init__(
        self,
        low: float,
        high: float,
        prior: str = "uniform",
        name: str | None = None,
    ) -> None:
        where = self._set_range("Real", low, high, prior, name, _real_bound)
        if not math.isfinite(self._high - self._low):
            raise ValueError(
                f"{where}: high - low must be a finite float, got "
                f"low={self._low!r}, high={self._high!r}."
            )

    def with_name(self, name: str | None) -> Real:
        """Return a copy named ``name``.

        Parameters
        ----------
        name : str or None
            The new name.

        Returns
        -------
        dimension : Real

        Examples
        --------
        >>> Real(0.0, 1.0).with_name("gamma")
        Real(low=0.0, high=1.0, prior='uniform', name='gamma')
        """
        return Real(self._low, self._high, self._prior, name)

    def validate(self, value: Any) -> None:
        """Raise :class:`ValueError` unless ``value`` is a real in ``[low, high]``.

        Parameters
        ----------
        value : object
            The value to check (ints and NumPy numbers are accepted, bools not).

        Examples
        --------
        >>> Real(0.0, 1.0, name="a").validate(2.0)
        Traceback (most recent call last):
        ...
        ValueError: Real dimension 'a': 2.0 is outside [0.0, 1.0].
        """
        if not isinstance(value, numbers.Real) or _is_bool(value):
            raise ValueError(
                f"{self._where()}: expected a real number in [{self._low!r}, "
                f"{self._high!r}], got {value!r} ({type(value).__name__})."
            )
        v: Any = value
        if not self._low <= v <= self._high:
            raise ValueError(
                f"{self._where()}: {value!r} is outside [{self._low!r}, "
                f"{self._high!r}]."
            )

    def _plainly_valid(self, values: list[Any]) -> bool:
        # Python floats and ints (not bools, whose type is bool) within bounds;
        # NaN fails the comparison and takes the per-value path.
        if not all(type(v) is float or type(v) is int for v in values):
            return False
        a = np.asarray(values, dtype=np.float64)
        return bool(((a >= self._low) & (a <= self._high)).all())

    def inverse_transform(self, codes: npt.ArrayLike) -> list[float]:
        """Decode codes to Python floats (codes outside ``[0, 1]`` are clipped).

        Parameters
        ----------
        codes : array-like of shape (n,) or (n, 1)
            Finite codes.

        Returns
        -------
        values : list of float

        Examples
        --------
        >>> Real(0.0, 10.0).inverse_transform([[0.25], [1.5]])
        [2.5, 10.0]
        """
        x = _as_code_matrix(codes, 1, self._where())[:, 0]
        decoded = decode_real(x, self._low, self._high, self.is_log)
        return [float(v) for v in decoded]

    def _encode(self, values: list[Any]) -> FloatArray:
        v = np.asarray(values, dtype=np.float64)
        return encode_real(v, self._low, self._high, self.is_log).reshape(-1, 1)

    def _from_uniform(self, u: FloatArray) -> list[Any]:
        decoded = decode_real(u, self._low, self._high, self.is_log)
        return [float(v) for v in decoded]


class Integer(_Range):
    """An integer-valued dimension on ``[low, high]``.

    Each integer owns a bin of equal width in the code interval (in log space
    for a log-uniform prior), so the end points are as likely as the others.

    Parameters
    ----------
    low, high : int
        Bounds, both included, ``low < high`` and ``|low|, |high| <= 2**40``.
        Integral floats such as ``1e3`` are accepted; bools are not.
    prior : {"uniform", "log-uniform"}, default="uniform"
        ``"log-uniform"`` (needs ``low >= 1``) samples and encodes in log space.
    name : str or None, default=None
        Name of the dimension.

    Attributes
    ----------
    low, high : int
        The bounds; ``bounds`` is the pair ``(low, high)``.
    prior : str
        The prior; ``is_log`` tells whether it is log-uniform.
    n_encoded : int
        Always 1 (one code column).

    Examples
    --------
    >>> k = Integer(1, 4, name="k")
    >>> k
    Integer(low=1, high=4, prior='uniform', name='k')
    >>> k.transform([1, 4]).ravel()
    array([0.125, 0.875])
    >>> k.inverse_transform([0.0, 0.3, 1.0])
    [1, 2, 4]
    """

    __slots__ = ()
    _low: int
    _high: int

    def __init__(
        self,
        low: int,
        high: int,
        prior: str = "uniform",
        name: str | None = None,
    ) -> None:
        self._set_range("Integer", low, high, prior, name, _integer_bound)

    def with_name(self, name: str | None) -> Integer:
        """Return a copy named ``name``.

        Parameters
        ----------
        name : str or None
            The new name.

        Returns
        -------
        dimension : Integer

        Examples
        --------
        >>> Integer(1, 9).with_name("depth").name
        'depth'
        """
        return Integer(self._low, self._high, self._prior, name)

    def validate(self, value: Any) -> None:
        """Raise :class:`ValueError` unless ``value`` is an integer in ``[low, high]``.

        Parameters
        ----------
        value : object
            The value to check (NumPy ints and integral floats are accepted,
            bools are not).

        Examples
        --------
        >>> Integer(1, 3, name="k").validate(2.5)
        Traceback (most recent call last):
        ...
        ValueError: Integer dimension 'k': expected an integer in [1, 3], got 2.5 ...
        """
        if not _is_integral(value):
            raise ValueError(
                f"{self._where()}: expected an integer in [{self._low}, "
                f"{self._high}], got {value!r} ({type(value).__name__})."
            )
        if not self._low <= value <= self._high:
            raise ValueError(
                f"{self._where()}: {value!r} is outside [{self._low}, {self._high}]."
            )

    def _plainly_valid(self, values: list[Any]) -> bool:
        if not all(type(v) is int for v in values):
            return False
        return all(self._low <= v <= self._high for v in values)

    def inverse_transform(self, codes: npt.ArrayLike) -> list[int]:
        """Decode codes to Python ints (the integer whose bin holds each code).

        Parameters
        ----------
        codes : array-like of shape (n,) or (n, 1)
            Finite codes; codes outside ``[0, 1]`` are clipped.

        Returns
        -------
        values : list of int

        Examples
        --------
        >>> Integer(0, 3).inverse_transform([0.125, 0.6])
        [0, 2]
        """
        x = _as_code_matrix(codes, 1, self._where())[:, 0]
        return [int(v) for v in decode_integer(x, self._low, self._high, self.is_log)]

    def _encode(self, values: list[Any]) -> FloatArray:
        v = np.asarray([int(x) for x in values], dtype=np.float64)
        return encode_integer(v, self._low, self._high, self.is_log).reshape(-1, 1)

    def _from_uniform(self, u: FloatArray) -> list[Any]:
        decoded = decode_integer(u, self._low, self._high, self.is_log)
        return [int(v) for v in decoded]


def _is_integral(value: Any) -> bool:
    if _is_bool(value) or not isinstance(value, numbers.Real):
        return False
    if isinstance(value, numbers.Integral):
        return True
    try:
        as_float = float(value)
    except (OverflowError, ValueError):
        return False
    return math.isfinite(as_float) and as_float.is_integer()


def _real_bound(value: Any, param: str, where: str) -> float:
    if not isinstance(value, numbers.Real) or _is_bool(value):
        raise TypeError(
            f"{where}: {param} must be a real number, got {value!r} "
            f"({type(value).__name__})."
        )
    try:
        bound = float(value)
    except OverflowError:
        bound = math.inf
    if not math.isfinite(bound):
        raise ValueError(f"{where}: {param} must be finite, got {value!r}.")
    return bound


def _integer_bound(value: Any, param: str, where: str) -> int:
    if not isinstance(value, numbers.Real) or _is_bool(value):
        raise TypeError(
            f"{where}: {param} must be an int, got {value!r} ({type(value).__name__})."
        )
    if not _is_integral(value):
        raise ValueError(
            f"{where}: {param} must be a finite whole number, got {value!r}."
        )
    raw: Any = value  # numbers.Real has no __int__ in the stubs
    bound = int(raw)
    if abs(bound) > MAX_INTEGER:
        raise ValueError(
            f"{where}: {param} must lie in [-2**40, 2**40] so that every integer "
            f"keeps its own code, got {bound}."
        )
    return bound
