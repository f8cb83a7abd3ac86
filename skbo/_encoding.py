"""Numeric encodings of search-space dimensions into the unit interval.

Shared by :mod:`skbo.space` (parameter points <-> unit cube) and
:mod:`skbo.optim.mixed` (projection of relaxed optimizer outputs onto valid
points), so that both sides of the pipe agree bit for bit. NumPy only.

Notation
--------
``v``: a value in the dimension's own units; ``x``: its code in ``[0, 1]``.

* Real, uniform: ``x = (v - low) / (high - low)``.
* Real, log-uniform: ``x = (log v - log low) / (log high - log low)``.
* Integer: every integer ``v`` owns the bin ``[v - 1/2, v + 1/2]`` (in log
  space for a log prior), so the end points get full-width bins, unlike a
  straight ``[low, high] -> [0, 1]`` map (NOTE: the padding follows Optuna's
  ``_gp/search_space.py``; scikit-optimize gives the end points half bins).
  ``x`` is the bin centre; decoding rounds to the bin that holds ``x``.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = [
    "decode_integer",
    "decode_real",
    "encode_integer",
    "encode_real",
    "integer_step",
]

FloatArray = npt.NDArray[np.float64]


def _real_span(low: float, high: float, log: bool) -> tuple[float, float]:
    if log:
        return math.log(low), math.log(high)
    return float(low), float(high)


def encode_real(v: npt.ArrayLike, low: float, high: float, log: bool) -> FloatArray:
    """Map values of a real dimension to ``[0, 1]``.

    Examples
    --------
    >>> encode_real([1.0, 10.0, 100.0], 1.0, 100.0, log=True)
    array([0. , 0.5, 1. ])
    """
    a, b = _real_span(low, high, log)
    v = np.asarray(v, dtype=np.float64)
    t = np.log(v) if log else v
    return np.asarray((t - a) / (b - a), dtype=np.float64)


def decode_real(x: npt.ArrayLike, low: float, high: float, log: bool) -> FloatArray:
    """Map codes in ``[0, 1]`` back to values of a real dimension (clipped).

    Examples
    --------
    >>> decode_real([0.0, 0.5, 1.0], 1.0, 100.0, log=True)
    array([  1.,  10., 100.])
    """
    a, b = _real_span(low, high, log)
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    t = a + x * (b - a)
    v = np.exp(t) if log else t
    # Exact end points: exp(log(high)) may differ from high in the last bit.
    v = np.where(x <= 0.0, low, np.where(x >= 1.0, high, v))
    return np.asarray(np.clip(v, low, high), dtype=np.float64)


def _int_span(low: int, high: int, log: bool) -> tuple[float, float]:
    if log:
        return math.log(low - 0.5), math.log(high + 0.5)
    return low - 0.5, high + 0.5


def encode_integer(v: npt.ArrayLike, low: int, high: int, log: bool) -> FloatArray:
    """Map integer values to the centres of their bins in ``[0, 1]``.

    Examples
    --------
    >>> encode_integer([0, 1, 2, 3], 0, 3, log=False)
    array([0.125, 0.375, 0.625, 0.875])
    """
    a, b = _int_span(low, high, log)
    v = np.asarray(v, dtype=np.float64)
    # With a log prior, the centre of the bin [log(v - 1/2), log(v + 1/2)].
    c = 0.5 * (np.log(v - 0.5) + np.log(v + 0.5)) if log else v
    return np.asarray((c - a) / (b - a), dtype=np.float64)


def decode_integer(
    x: npt.ArrayLike, low: int, high: int, log: bool
) -> npt.NDArray[np.int64]:
    """Map codes in ``[0, 1]`` to the integers whose bins hold them.

    Examples
    --------
    >>> decode_integer([0.0, 0.3, 0.999, 1.0], 0, 3, log=False)
    array([0, 1, 3, 3])
    """
    a, b = _int_span(low, high, log)
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    t = a + x * (b - a)
    v = np.exp(t) if log else t
    # Bin of v is [k - 1/2, k + 1/2): floor(v + 1/2).
    k = np.floor(v + 0.5)
    return np.clip(k, low, high).astype(np.int64)


def integer_step(low: int, high: int, log: bool) -> float | None:
    """Width of one integer bin in code units, or ``None`` if bins vary (log).

    Examples
    --------
    >>> integer_step(0, 3, log=False)
    0.25
    >>> integer_step(1, 100, log=True) is None
    True
    """
    if log:
        return None
    return 1.0 / (high - low + 1)
