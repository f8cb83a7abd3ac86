"""Errors and warnings raised by skbo.

Every warning skbo emits is a subclass of :class:`SkboWarning`, so users can
filter them as one family (``warnings.simplefilter("ignore", SkboWarning)``).

Examples
--------
>>> import warnings
>>> from skbo.exceptions import NumericsWarning, SkboWarning
>>> issubclass(NumericsWarning, SkboWarning)
True
"""

from __future__ import annotations

__all__ = [
    "InputDataError",
    "NumericsWarning",
    "OptimizationWarning",
    "SkboError",
    "SkboWarning",
    "SpaceExhaustedError",
    "UnsupportedError",
]


class SkboError(Exception):
    """Base class of the errors skbo raises itself.

    Examples
    --------
    >>> issubclass(InputDataError, SkboError)
    True
    """


class InputDataError(SkboError, ValueError):
    """Training data or inputs of the wrong shape, type or value.

    Examples
    --------
    >>> isinstance(InputDataError("bad"), ValueError)
    True
    """


class UnsupportedError(SkboError, NotImplementedError):
    """A combination of options that skbo does not support.

    Examples
    --------
    >>> isinstance(UnsupportedError("no"), NotImplementedError)
    True
    """


class SpaceExhaustedError(SkboError):
    """Every valid point of a finite search space was evaluated or is pending.

    Examples
    --------
    >>> issubclass(SpaceExhaustedError, SkboError)
    True
    """


class SkboWarning(UserWarning):
    """Base class of the warnings skbo emits.

    Examples
    --------
    >>> issubclass(OptimizationWarning, SkboWarning)
    True
    """


class OptimizationWarning(SkboWarning):
    """An inner optimization (hyperparameters, acquisition) did not converge.

    Examples
    --------
    >>> issubclass(OptimizationWarning, UserWarning)
    True
    """


class NumericsWarning(SkboWarning):
    """A numerical problem was detected and worked around (jitter, fallback).

    Examples
    --------
    >>> issubclass(NumericsWarning, UserWarning)
    True
    """
