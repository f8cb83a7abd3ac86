"""Search spaces: dimensions, shorthand parsing and the :class:`Space`.

A :class:`Space` maps points (lists or dicts of native Python values) to rows
of the unit cube and back, for the numeric core. It imports neither torch nor
``scipy.stats`` (SciPy is loaded only to sample or to read a scipy spec).

Examples
--------
>>> from skbo.space import Categorical, Integer, Real, Space
>>> space = Space({"C": Real(1e-3, 1e3, prior="log-uniform"),
...                "degree": Integer(1, 5),
...                "kernel": Categorical(["linear", "rbf"])})
>>> X = space.transform([{"C": 1.0, "degree": 3, "kernel": "rbf"}])
>>> X
array([[0.5, 0.5, 0. , 1. ]])
>>> space.inverse_transform(X)
[[1.0, 3, 'rbf']]
"""

from __future__ import annotations

from skbo.space.base import Dimension
from skbo.space.categorical import Categorical
from skbo.space.dimensions import Integer, Real
from skbo.space.parse import check_dimension
from skbo.space.space import Space

__all__ = ["Categorical", "Dimension", "Integer", "Real", "Space", "check_dimension"]
