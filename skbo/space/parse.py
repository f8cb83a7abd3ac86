"""Parse user input: dimension specs (objects or shorthands), spaces, points.

The rules are explicit and never guess: a tuple of two or three items is a
numeric range, a list is a list of choices, a frozen ``scipy.stats``
distribution is converted only when it is exactly a dimension, and anything
else is refused with a message that says what is allowed.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from skbo.space.base import PRIORS, Dimension, _check_name
from skbo.space.categorical import Categorical
from skbo.space.dimensions import Integer, Real

__all__ = ["check_dimension"]

_ALLOWED = (
    "a dimension (Real, Integer, Categorical), a (low, high) or "
    "(low, high, prior) tuple of numbers, a list of choices, or a frozen "
    "scipy.stats loguniform, reciprocal, uniform or randint distribution"
)
_SCIPY_SUPPORTED = (
    "loguniform(a, b), reciprocal(a, b), uniform(loc, scale), randint(low, high)"
)


def check_dimension(spec: Any, name: str | None = None) -> Dimension:
    """Build a dimension from a spec.

    Parameters
    ----------
    spec : Dimension, tuple, list, ndarray or frozen scipy.stats distribution
        One of:

        * a :class:`Dimension`, returned as is (renamed to ``name`` if it has
          no name);
        * ``(low, high)`` or ``(low, high, prior)`` with ``prior`` in
          ``{"uniform", "log-uniform"}``: an :class:`Integer` if both bounds
          are ints (NumPy ints included), a :class:`Real` if either is a
          float; bools are refused;
        * a list (or 1-D array) of choices: a :class:`Categorical`, whatever
          the choices are;
        * ``scipy.stats.loguniform(a, b)`` (or ``reciprocal``):
          ``Real(a, b, "log-uniform")``; ``uniform(loc, scale)``:
          ``Real(loc, loc + scale)``; ``randint(low, high)``:
          ``Integer(low, high - 1)`` (SciPy excludes ``high``). ``loc`` and
          ``scale`` are taken into account.
    name : str or None, default=None
        Name of the dimension.

    Returns
    -------
    dimension : Dimension

    Raises
    ------
    TypeError
        If ``spec`` is none of the above (for instance a string, a set, a
        ``range`` or a tuple mixing numbers and other objects).
    ValueError
        If the spec is of the right kind but invalid (bounds, prior, an
        unsupported scipy distribution, a name conflict).

    Examples
    --------
    >>> check_dimension((1e-3, 1e3, "log-uniform"), name="C")
    Real(low=0.001, high=1000.0, prior='log-uniform', name='C')
    >>> check_dimension((1, 10))
    Integer(low=1, high=10, prior='uniform')
    >>> check_dimension(["l1", "l2"])
    Categorical(categories=['l1', 'l2'])
    >>> from scipy.stats import randint
    >>> check_dimension(randint(1, 10))
    Integer(low=1, high=9, prior='uniform')
    """
    name = _check_name(name)
    prefix = "" if name is None else f"dimension {name!r}: "
    if isinstance(spec, Dimension):
        if name is None or spec.name == name:
            return spec
        if spec.name is None:
            return spec.with_name(name)
        raise ValueError(
            f"{prefix}the dimension given is already named {spec.name!r}; "
            "use the same name or leave it unnamed."
        )
    if isinstance(spec, tuple):
        return _from_tuple(spec, name, prefix)
    if isinstance(spec, list):
        return Categorical(spec, name=name)
    if isinstance(spec, np.ndarray) and spec.ndim == 1:
        return Categorical(spec, name=name)
    if type(spec).__module__.split(".")[0] == "scipy":
        return _from_scipy(spec, name, prefix)
    if isinstance(spec, str):
        hint = f"; for a single fixed value use [{spec!r}]"
    elif isinstance(spec, range):
        hint = (
            f"; use Integer({spec.start}, {spec.stop - 1}) for a range or "
            "list(range(...)) for a list of choices"
        )
    elif isinstance(spec, (set, frozenset)):
        hint = "; a set has no order, give a list of choices"
    else:
        hint = ""
    raise TypeError(
        f"{prefix}cannot make a dimension from {type(spec).__name__} {spec!r}; "
        f"expected {_ALLOWED}{hint}."
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _from_tuple(spec: tuple[Any, ...], name: str | None, prefix: str) -> Dimension:
    if len(spec) not in (2, 3) or not all(_is_number(v) for v in spec[:2]):
        raise TypeError(
            f"{prefix}a tuple must be a numeric range (low, high) or "
            f"(low, high, prior), got {spec!r}; give the choices of a "
            f"categorical dimension as a list, e.g. {list(spec)!r}."
        )
    prior = "uniform"
    if len(spec) == 3:
        prior = spec[2]
        if not isinstance(prior, str):
            raise TypeError(
                f"{prefix}the third item of a (low, high, prior) tuple must be "
                f"one of {PRIORS}, got {prior!r}; give the choices of a "
                f"categorical dimension as a list, e.g. {list(spec)!r}."
            )
    low, high = spec[0], spec[1]
    if isinstance(low, numbers.Integral) and isinstance(high, numbers.Integral):
        return Integer(int(low), int(high), prior=prior, name=name)
    return Real(low, high, prior=prior, name=name)


def _frozen_params(spec: Any, prefix: str) -> dict[str, Any]:
    # NOTE: a frozen scipy distribution keeps the arguments it was frozen with
    # (``args``, ``kwds``); the shape names come from ``dist.shapes`` and are
    # followed by ``loc`` (and ``scale`` for continuous distributions).
    from scipy import stats

    dist = spec.dist
    names = [s.strip() for s in (dist.shapes or "").split(",") if s.strip()]
    names.append("loc")
    if isinstance(dist, stats.rv_continuous):
        names.append("scale")
    args, kwds = tuple(spec.args), dict(spec.kwds)
    unknown = [k for k in kwds if k not in names]
    if len(args) > len(names) or unknown:
        raise ValueError(
            f"{prefix}scipy.stats {dist.name} takes the arguments {names}, got "
            f"args={args!r}, kwds={kwds!r}."
        )
    given = {**dict(zip(names[: len(args)], args, strict=True)), **kwds}
    defaults = {"loc": 0, "scale": 1}
    missing = [n for n in names if n not in given and n not in defaults]
    if missing:
        raise ValueError(f"{prefix}scipy.stats {dist.name} is missing {missing}.")
    params = {n: given.get(n, defaults.get(n)) for n in names}
    for key, value in params.items():
        if not _is_number(value):
            raise TypeError(
                f"{prefix}scipy.stats {dist.name}: {key} must be a real number, "
                f"got {value!r}."
            )
    return params


def _from_scipy(spec: Any, name: str | None, prefix: str) -> Dimension:
    from scipy import stats

    if isinstance(spec, stats.rv_continuous | stats.rv_discrete):
        raise TypeError(
            f"{prefix}got the scipy.stats distribution {spec.name!r} itself; "
            f"freeze it with its arguments, one of {_SCIPY_SUPPORTED}."
        )
    dist = getattr(spec, "dist", None)
    if not isinstance(dist, stats.rv_continuous | stats.rv_discrete):
        raise TypeError(
            f"{prefix}cannot make a dimension from {type(spec).__name__} "
            f"{spec!r}; expected {_ALLOWED}."
        )
    kind = str(dist.name)
    if kind not in ("loguniform", "reciprocal", "uniform", "randint"):
        raise ValueError(
            f"{prefix}the scipy.stats distribution {kind!r} has no exact "
            f"dimension; supported (frozen): {_SCIPY_SUPPORTED}."
        )
    p = _frozen_params(spec, prefix)
    try:
        return _convert(kind, p, name)
    except ValueError as exc:
        args = ", ".join(f"{k}={v!r}" for k, v in p.items())
        raise ValueError(f"{prefix}scipy.stats {kind}({args}): {exc}") from exc


def _convert(kind: str, p: dict[str, Any], name: str | None) -> Dimension:
    if kind == "uniform":
        return Real(p["loc"], p["loc"] + p["scale"], name=name)
    if kind == "randint":
        low, high, loc = p["low"], p["high"], p["loc"]
        if not all(float(v).is_integer() for v in (low, high, loc)):
            raise ValueError("randint needs whole numbers for low, high and loc.")
        return Integer(int(low) + int(loc), int(high) - 1 + int(loc), name=name)
    # loguniform, reciprocal
    if p["loc"] != 0:
        raise ValueError(
            f"{kind} with loc != 0 is not log-uniform on an interval; only "
            "loc=0 converts exactly to a log-uniform Real."
        )
    scale = p["scale"]
    return Real(p["a"] * scale, p["b"] * scale, prior="log-uniform", name=name)


def _parse_dimensions(dimensions: Any) -> tuple[Dimension, ...]:
    """The named dimensions of a space spec (a list or a dict name -> spec).

    Unnamed dimensions of a list are named after their position; names must
    be unique.
    """
    dims: list[Dimension] = []
    if isinstance(dimensions, Mapping):
        for key, spec in dimensions.items():
            if not isinstance(key, str) or not key:
                raise TypeError(
                    "The keys of a dict of dimensions must be non-empty strings "
                    f"(the names), got {key!r}."
                )
            dims.append(check_dimension(spec, name=key))
    elif isinstance(dimensions, (list, tuple)):
        for i, spec in enumerate(dimensions):
            try:
                dim = check_dimension(spec)
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"dimensions[{i}]: {exc}") from exc
            dims.append(dim if dim.name is not None else dim.with_name(f"x{i}"))
    else:
        raise TypeError(
            "dimensions must be a list of dimensions (or shorthands) or a dict "
            f"name -> dimension, got {type(dimensions).__name__}."
        )
    if not dims:
        raise ValueError("A Space needs at least one dimension, got none.")
    names = [str(d.name) for d in dims]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(
            f"Dimension names must be unique, got {duplicates!r} more than once "
            f"in {names!r}."
        )
    return tuple(dims)


def _point_values(
    point: Any, names: tuple[str, ...], index: Mapping[str, int], where: str
) -> list[Any]:
    """The values of one point in dimension order (structure checked only)."""
    if isinstance(point, Mapping):
        missing = [n for n in names if n not in point]
        unknown = [k for k in point if k not in index]
        if missing or unknown:
            raise ValueError(
                f"{where} must have exactly the keys {list(names)!r}; "
                f"missing {missing!r}, unknown {unknown!r}."
            )
        return [point[n] for n in names]
    if isinstance(point, np.ndarray) and point.ndim != 1:
        raise ValueError(f"{where} must be 1-D, got an array of shape {point.shape}.")
    if isinstance(point, (str, bytes)) or not isinstance(point, (Sequence, np.ndarray)):
        raise TypeError(
            f"{where} must be a list or tuple of {len(names)} values in "
            "dimension order, or a dict name -> value, got "
            f"{type(point).__name__} {point!r}."
        )
    if len(point) != len(names):
        raise ValueError(
            f"{where} has {len(point)} values but the space has {len(names)} "
            f"dimensions {list(names)!r}."
        )
    return list(point)


def _point_rows(
    points: Any, names: tuple[str, ...], index: Mapping[str, int]
) -> list[list[Any]]:
    """The values of a list of points, one list per point."""
    if isinstance(points, (Mapping, str, bytes)) or not isinstance(
        points, (Sequence, np.ndarray)
    ):
        raise TypeError(
            "points must be a list of points (each a list in dimension order "
            f"or a dict name -> value), got {type(points).__name__}; wrap a "
            "single point in a list."
        )
    return [_point_values(p, names, index, f"point {i}") for i, p in enumerate(points)]
