"""One search-space description shared by every tool, and its translations.

A space is a tuple of :class:`Dim`. A point is a ``dict`` name -> native
Python value (``float``, ``int`` or the category itself).

Two maps to the unit cube are used, both one column per dimension:

* ``from_unit`` (sampling): ``u`` uniform in [0, 1) gives a uniform real
  (log-uniform if ``log``), an integer whose bin of width ``1/(high-low+1)``
  holds ``u`` (bins in log space for ``log`` integers) and the category with
  index ``floor(u * k)``. Random search and the Sobol initial designs use it.
* ``encode`` / ``decode`` (modelling, BoTorch reference): reals and integers
  map linearly (in log space for ``log``) so that ``low -> 0`` and
  ``high -> 1``; a categorical becomes its index divided by ``k - 1``.
  ``discrete_values`` lists the allowed encoded values of the integer and
  categorical columns.

The ``to_*`` functions build each tool's own space objects; they import the
tool lazily so that a missing tool only fails its own adapter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Point = dict[str, Any]


@dataclass(frozen=True)
class Dim:
    """One dimension: ``kind`` is ``"real"``, ``"int"`` or ``"categorical"``.

    Examples
    --------
    >>> Dim("lr", "real", 1e-4, 1e-1, log=True).describe()
    'lr: real [0.0001, 0.1] log'
    """

    name: str
    kind: str
    low: float = 0.0
    high: float = 1.0
    log: bool = False
    choices: tuple[Any, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.kind not in ("real", "int", "categorical"):
            raise ValueError(
                f"Dim {self.name!r}: kind must be 'real', 'int' or 'categorical', "
                f"got {self.kind!r}."
            )
        if self.kind == "categorical":
            if len(self.choices) < 2:
                raise ValueError(f"Dim {self.name!r}: needs at least 2 choices.")
            return
        if not self.low < self.high:
            raise ValueError(f"Dim {self.name!r}: needs low < high.")
        if self.kind == "int" and (
            self.low != int(self.low) or self.high != int(self.high)
        ):
            raise ValueError(f"Dim {self.name!r}: integer bounds must be integers.")
        if self.log and self.low <= (0.5 if self.kind == "int" else 0.0):
            raise ValueError(
                f"Dim {self.name!r}: a log dimension needs low >= 1 (int) or > 0."
            )

    @property
    def n_levels(self) -> int:
        """Number of values of a discrete dimension (0 for reals)."""
        if self.kind == "categorical":
            return len(self.choices)
        if self.kind == "int":
            return int(self.high - self.low) + 1
        return 0

    def describe(self) -> str:
        """Short human-readable description (used in settings and docs)."""
        if self.kind == "categorical":
            return f"{self.name}: categorical {list(self.choices)}"
        lo, hi = (
            (int(self.low), int(self.high))
            if self.kind == "int"
            else (self.low, self.high)
        )
        return f"{self.name}: {self.kind} [{lo}, {hi}]" + (" log" if self.log else "")


def real(name: str, low: float, high: float, log: bool = False) -> Dim:
    """A real dimension (log-scaled if ``log``)."""
    return Dim(name, "real", float(low), float(high), log)


def integer(name: str, low: int, high: int, log: bool = False) -> Dim:
    """An integer dimension with both bounds included."""
    return Dim(name, "int", float(low), float(high), log)


def categorical(name: str, choices: Sequence[Any]) -> Dim:
    """A categorical dimension (unordered choices)."""
    return Dim(name, "categorical", choices=tuple(choices))


def native(value: Any) -> Any:
    """Turn NumPy scalars into plain Python ones (JSON, sklearn ``set_params``)."""
    return value.item() if isinstance(value, np.generic) else value


def clip_to(dim: Dim, value: Any) -> Any:
    """Clip/round ``value`` to the nearest allowed value of ``dim``."""
    if dim.kind == "categorical":
        return native(value)
    v = min(max(float(value), dim.low), dim.high)
    return round(v) if dim.kind == "int" else v


# --------------------------------------------------------------------------- sampling
def from_unit(dims: Sequence[Dim], U: np.ndarray) -> list[Point]:
    """Map rows of ``U`` (n, d), uniform in [0, 1), to points (see module doc)."""
    U = np.clip(np.atleast_2d(np.asarray(U, dtype=float)), 0.0, 1.0 - 1e-12)
    points: list[Point] = [{} for _ in range(U.shape[0])]
    for j, dim in enumerate(dims):
        u = U[:, j]
        if dim.kind == "categorical":
            vals: list[Any] = [dim.choices[int(k)] for k in np.floor(u * dim.n_levels)]
        elif dim.kind == "int" and dim.log:
            lo, hi = math.log(dim.low - 0.5), math.log(dim.high + 0.5)
            vals = [clip_to(dim, math.exp(lo + x * (hi - lo))) for x in u]
        elif dim.kind == "int":
            vals = [int(dim.low + k) for k in np.floor(u * dim.n_levels)]
        elif dim.log:
            lo, hi = math.log(dim.low), math.log(dim.high)
            vals = [clip_to(dim, math.exp(lo + x * (hi - lo))) for x in u]
        else:
            vals = [clip_to(dim, dim.low + x * (dim.high - dim.low)) for x in u]
        for point, value in zip(points, vals, strict=True):
            point[dim.name] = native(value)
    return points


def sample(dims: Sequence[Dim], n: int, rng: np.random.RandomState) -> list[Point]:
    """``n`` independent random points (the random-search distribution)."""
    return from_unit(dims, rng.random_sample((n, len(dims))))


def sobol(dims: Sequence[Dim], n: int, seed: int) -> list[Point]:
    """``n`` scrambled Sobol points (SciPy's generator, seeded)."""
    from scipy.stats import qmc

    U = qmc.Sobol(len(dims), scramble=True, seed=seed).random(n)
    return from_unit(dims, U)


# ------------------------------------------------------------------- model encoding
def _scale(dim: Dim, value: float) -> float:
    if dim.log:
        return (math.log(value) - math.log(dim.low)) / (
            math.log(dim.high) - math.log(dim.low)
        )
    return (value - dim.low) / (dim.high - dim.low)


def _unscale(dim: Dim, z: float) -> float:
    z = min(max(z, 0.0), 1.0)
    if dim.log:
        return math.exp(
            math.log(dim.low) + z * (math.log(dim.high) - math.log(dim.low))
        )
    return dim.low + z * (dim.high - dim.low)


def encode(dims: Sequence[Dim], points: Sequence[Point]) -> np.ndarray:
    """Encode points as an (n, d) array in [0, 1] (see module doc).

    Examples
    --------
    >>> dims = (integer("n", 1, 3), categorical("c", "abc"))
    >>> encode(dims, [{"n": 2, "c": "c"}]).tolist()
    [[0.5, 1.0]]
    """
    Z = np.empty((len(points), len(dims)))
    for j, dim in enumerate(dims):
        for i, point in enumerate(points):
            if dim.kind == "categorical":
                Z[i, j] = dim.choices.index(point[dim.name]) / (dim.n_levels - 1)
            else:
                Z[i, j] = _scale(dim, float(point[dim.name]))
    return Z


def decode(dims: Sequence[Dim], Z: np.ndarray) -> list[Point]:
    """Inverse of :func:`encode`; rounds discrete columns to the nearest value."""
    Z = np.atleast_2d(np.asarray(Z, dtype=float))
    points: list[Point] = []
    for row in Z:
        point: Point = {}
        for dim, z in zip(dims, row, strict=True):
            if dim.kind == "categorical":
                k = round(min(max(float(z), 0.0), 1.0) * (dim.n_levels - 1))
                point[dim.name] = native(dim.choices[k])
            else:
                point[dim.name] = clip_to(dim, _unscale(dim, float(z)))
        points.append(point)
    return points


def discrete_values(
    dims: Sequence[Dim],
) -> tuple[dict[int, list[float]], dict[int, list[float]]]:
    """Allowed encoded values of integer columns and of categorical columns."""
    ints: dict[int, list[float]] = {}
    cats: dict[int, list[float]] = {}
    for j, dim in enumerate(dims):
        if dim.kind == "int":
            ints[j] = [
                _scale(dim, float(k)) for k in range(int(dim.low), int(dim.high) + 1)
            ]
        elif dim.kind == "categorical":
            cats[j] = [k / (dim.n_levels - 1) for k in range(dim.n_levels)]
    return ints, cats


# ------------------------------------------------------------------ tool translations
def to_skopt(dims: Sequence[Dim]) -> list[Any]:
    """scikit-optimize ``Real`` / ``Integer`` / ``Categorical`` objects."""
    from skopt.space import Categorical, Integer, Real

    out: list[Any] = []
    for d in dims:
        prior = "log-uniform" if d.log else "uniform"
        if d.kind == "categorical":
            out.append(Categorical(list(d.choices), name=d.name))
        elif d.kind == "int":
            out.append(Integer(int(d.low), int(d.high), prior=prior, name=d.name))
        else:
            out.append(Real(d.low, d.high, prior=prior, name=d.name))
    return out


def to_optuna(dims: Sequence[Dim]) -> dict[str, Any]:
    """Optuna distributions keyed by name."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    out: dict[str, Any] = {}
    for d in dims:
        if d.kind == "categorical":
            out[d.name] = CategoricalDistribution(list(d.choices))
        elif d.kind == "int":
            out[d.name] = IntDistribution(int(d.low), int(d.high), log=d.log)
        else:
            out[d.name] = FloatDistribution(d.low, d.high, log=d.log)
    return out


def to_skbo(dims: Sequence[Dim]) -> list[Any]:
    """skbo ``Real`` / ``Integer`` / ``Categorical`` objects."""
    from skbo import Categorical, Integer, Real  # type: ignore[attr-defined]

    out: list[Any] = []
    for d in dims:
        prior = "log-uniform" if d.log else "uniform"
        if d.kind == "categorical":
            out.append(Categorical(list(d.choices), name=d.name))
        elif d.kind == "int":
            out.append(Integer(int(d.low), int(d.high), prior=prior, name=d.name))
        else:
            out.append(Real(d.low, d.high, prior=prior, name=d.name))
    return out


class _LogUniformInt:
    """``rvs`` for a log-scaled integer, same law as :func:`from_unit`."""

    def __init__(self, dim: Dim) -> None:
        self.dim = dim

    def rvs(self, size: int | None = None, random_state: Any = None) -> Any:
        from sklearn.utils import check_random_state

        rng = check_random_state(random_state)
        n = 1 if size is None else int(np.prod(size))
        vals = [
            p[self.dim.name] for p in from_unit([self.dim], rng.random_sample((n, 1)))
        ]
        return vals[0] if size is None else np.asarray(vals).reshape(size)


def to_scipy(dims: Sequence[Dim]) -> dict[str, Any]:
    """``param_distributions`` for scikit-learn's ``RandomizedSearchCV``."""
    from scipy.stats import loguniform, randint, uniform

    out: dict[str, Any] = {}
    for d in dims:
        if d.kind == "categorical":
            out[d.name] = list(d.choices)
        elif d.kind == "int":
            out[d.name] = (
                _LogUniformInt(d) if d.log else randint(int(d.low), int(d.high) + 1)
            )
        else:
            out[d.name] = (
                loguniform(d.low, d.high) if d.log else uniform(d.low, d.high - d.low)
            )
    return out


def as_point(dims: Sequence[Dim], values: Sequence[Any]) -> Point:
    """A list in ``dims`` order (skopt / skbo style) as a point dict."""
    return {d.name: native(v) for d, v in zip(dims, values, strict=True)}


def as_list(dims: Sequence[Dim], point: Point) -> list[Any]:
    """A point dict as a list in ``dims`` order."""
    return [point[d.name] for d in dims]
