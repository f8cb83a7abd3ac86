"""Quasi-random designs in the unit cube: the initial points of a search.

SciPy's ``qmc`` module is imported only when a design is drawn, so that
``import skbo.space`` stays cheap.
"""

from __future__ import annotations

import warnings

import numpy as np

from skbo.space.base import FloatArray, _check_count
from skbo.utils.random import RandomStateLike, check_random_state, draw_seed

__all__ = ["sobol"]


def sobol(d: int, n: int, random_state: RandomStateLike = None) -> FloatArray:
    """Draw ``n`` scrambled Sobol points in ``[0, 1)^d``.

    The scrambling seed is drawn from ``random_state`` with
    :func:`skbo.utils.random.draw_seed`, so the same ``random_state`` gives the
    same points. Any ``n`` is accepted; a power of 2 balances the design best.

    Parameters
    ----------
    d : int
        Dimension of the cube (at least 1).
    n : int
        Number of points (at least 0).
    random_state : int, RandomState or None, default=None
        Source of the scrambling seed.

    Returns
    -------
    U : ndarray of shape (n, d)
        float64 points in ``[0, 1)``.

    Examples
    --------
    >>> U = sobol(2, 3, random_state=0)
    >>> U.shape, bool(((0 <= U) & (U < 1)).all())
    ((3, 2), True)
    """
    d = _check_count(d, "d")
    n = _check_count(n, "n")
    if d == 0:
        raise ValueError("d must be at least 1, got 0.")
    seed = draw_seed(check_random_state(random_state))
    from scipy.stats import qmc

    try:
        engine = qmc.Sobol(d, scramble=True, rng=seed)
    except TypeError:  # SciPy < 1.15 names the seed ``seed``.
        engine = qmc.Sobol(d, scramble=True, seed=seed)
    with warnings.catch_warnings():
        # NOTE: SciPy warns when n is not a power of 2 (the design is then less
        # balanced); an initial design of any size is still fine.
        warnings.filterwarnings(
            "ignore", message="The balance properties of Sobol", category=UserWarning
        )
        return np.asarray(engine.random(n), dtype=np.float64)
