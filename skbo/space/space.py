"""The :class:`Space`: an ordered, named list of dimensions and its unit-cube encoding.

Notation
--------
``d``: the number of dimensions (``n_dims``); ``d'``: the number of encoded
columns (``n_encoded``, one per Real or Integer, one per category of a
Categorical); a point is a list of ``d`` values in dimension order (or a dict
name -> value); ``X``: the encoded points, a float64 array ``(n, d')`` in
``[0, 1]``. Random points come from a scrambled Sobol sequence in ``[0, 1)^d``
(one coordinate per dimension, not per encoded column).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from skbo.space.base import Dimension, FloatArray, _as_code_matrix
from skbo.space.categorical import Categorical
from skbo.space.design import sobol
from skbo.space.dimensions import Integer, Real
from skbo.space.parse import _parse_dimensions, _point_rows, _point_values
from skbo.utils.random import RandomStateLike

__all__ = ["Space"]

_D = TypeVar("_D", bound=Dimension)
_Points = list[list[Any]]


class Space:
    """A search space: named dimensions in a fixed order (immutable).

    Parameters
    ----------
    dimensions : list, tuple, dict or Space
        A list of dimensions or shorthands (see
        :func:`~skbo.space.check_dimension`), or a dict name -> dimension or
        shorthand (keys become names, in insertion order). Unnamed dimensions
        of a list are named ``"x0"``, ``"x1"``, ... after their position.

    Notes
    -----
    ``n_encoded``, ``bounds``, ``continuous_columns``, ``integer_columns`` and
    ``categorical_groups`` describe the encoded columns to the numeric core
    (``doc/architecture.md``). ``rvs`` is an alias of :meth:`sample`.

    Examples
    --------
    >>> space = Space([(0.0, 1.0), (1, 3), ["a", "b"]])
    >>> space.dimension_names, space.n_dims, space.n_encoded
    (['x0', 'x1', 'x2'], 3, 4)
    >>> space.continuous_columns, space.integer_columns, space.categorical_groups
    ([0], [(1, 1, 3, False)], [[2, 3]])
    >>> X = space.transform([[0.25, 3, "a"]])
    >>> X
    array([[0.25 , 0.833..., 1. , 0. ]])
    >>> space.inverse_transform(X)
    [[0.25, 3, 'a']]
    >>> [0.5, 2, "b"] in space, [0.5, 2, "c"] in space
    (True, False)
    """

    __slots__ = ("_dims", "_index", "_names", "_slices")
    _dims: tuple[Dimension, ...]
    _names: tuple[str, ...]
    _index: dict[str, int]
    _slices: tuple[slice, ...]

    def __init__(self, dimensions: Any) -> None:
        if isinstance(dimensions, Space):
            dims = dimensions.dimensions
        else:
            dims = _parse_dimensions(dimensions)
        names = tuple(str(d.name) for d in dims)
        stops = list(itertools.accumulate(d.n_encoded for d in dims))
        slices = [slice(b - d.n_encoded, b) for d, b in zip(dims, stops, strict=True)]
        object.__setattr__(self, "_dims", dims)
        object.__setattr__(self, "_names", names)
        object.__setattr__(self, "_index", {n: i for i, n in enumerate(names)})
        object.__setattr__(self, "_slices", tuple(slices))

    @property
    def dimensions(self) -> tuple[Dimension, ...]:
        """The named dimensions, in order."""
        return self._dims

    @property
    def dimension_names(self) -> list[str]:
        """The dimension names, in order."""
        return list(self._names)

    @property
    def n_dims(self) -> int:
        """Number of dimensions."""
        return len(self._dims)

    @property
    def n_encoded(self) -> int:
        """Number of columns of the encoded matrix."""
        return int(self._slices[-1].stop)

    @property
    def bounds(self) -> FloatArray:
        """The encoded box: zeros and ones of shape ``(2, n_encoded)``."""
        return np.vstack([np.zeros(self.n_encoded), np.ones(self.n_encoded)])

    def _of_type(self, kind: type[_D]) -> list[tuple[_D, slice]]:
        pairs = zip(self._dims, self._slices, strict=True)
        return [(d, s) for d, s in pairs if isinstance(d, kind)]

    @property
    def continuous_columns(self) -> list[int]:
        """Encoded columns of the Real dimensions."""
        return [s.start for _, s in self._of_type(Real)]

    @property
    def integer_columns(self) -> list[tuple[int, int, int, bool]]:
        """``(column, low, high, log)`` of each Integer dimension."""
        return [(s.start, d.low, d.high, d.is_log) for d, s in self._of_type(Integer)]

    @property
    def categorical_groups(self) -> list[list[int]]:
        """The one-hot columns of each Categorical dimension."""
        return [list(range(s.start, s.stop)) for _, s in self._of_type(Categorical)]

    def _point(self, point: Any, where: str = "point") -> list[Any]:
        return _point_values(point, self._names, self._index, where)

    def transform(self, points: Any) -> FloatArray:
        """Encode points into rows of the unit cube.

        Parameters
        ----------
        points : list of (list or dict)
            Points, each a list/tuple of values in dimension order or a dict
            name -> value.

        Returns
        -------
        X : ndarray of shape (n_points, n_encoded)
            float64 codes in ``[0, 1]``.

        Raises
        ------
        ValueError
            If a point has the wrong length or keys, or a value outside its
            dimension (the message names the point, dimension and value).

        Examples
        --------
        >>> space = Space({"lr": Real(1e-4, 1e-1, prior="log-uniform"),
        ...                "layers": Categorical([(50,), (100, 50)])})
        >>> space.transform([{"lr": 1e-4, "layers": (100, 50)}, [1e-1, (50,)]])
        array([[0., 0., 1.],
               [1., 1., 0.]])
        """
        rows = _point_rows(points, self._names, self._index)
        X = np.empty((len(rows), self.n_encoded), dtype=np.float64)
        for j, (dim, cols) in enumerate(zip(self._dims, self._slices, strict=True)):
            column = [row[j] for row in rows]
            try:
                X[:, cols] = dim.transform(column)
            except ValueError:
                for i, value in enumerate(column):
                    try:
                        dim.validate(value)
                    except ValueError as exc:
                        raise ValueError(f"point {i}: {exc}") from None
                raise
        return X

    def inverse_transform(self, X: npt.ArrayLike) -> _Points:
        """Decode rows of the unit cube into points of native Python values.

        Reals come back as ``float``, integers as ``int``, categories as the
        very category objects. Codes are clipped to ``[0, 1]`` and one-hot
        groups decoded by argmax, so relaxed optimizer outputs are accepted.

        Parameters
        ----------
        X : array-like of shape (n_points, n_encoded)
            Finite codes.

        Returns
        -------
        points : list of list
            One list of values per row, in dimension order.

        Examples
        --------
        >>> space = Space([Integer(1, 10, name="k"), Categorical([True, False])])
        >>> space.inverse_transform([[0.0, 0.3, 0.6], [1.0, 0.9, 0.1]])
        [[1, False], [10, True]]
        """
        arr = _as_code_matrix(X, self.n_encoded, "Space.inverse_transform")
        columns = [
            dim.inverse_transform(arr[:, cols])
            for dim, cols in zip(self._dims, self._slices, strict=True)
        ]
        return [list(row) for row in zip(*columns, strict=True)]

    def validate_point(self, point: Any) -> None:
        """Raise :class:`ValueError` unless ``point`` is a point of the space.

        Parameters
        ----------
        point : list, tuple or dict
            Values in dimension order, or a dict name -> value.

        Raises
        ------
        ValueError
            If the point has the wrong length or keys, or a value outside its
            dimension; the message names the dimension, the value and what is
            allowed.
        TypeError
            If ``point`` is neither a sequence nor a dict.

        Examples
        --------
        >>> Space({"n": (1, 5)}).validate_point([7])
        Traceback (most recent call last):
        ...
        ValueError: Integer dimension 'n': 7 is outside [1, 5].
        """
        values = self._point(point)
        for dim, value in zip(self._dims, values, strict=True):
            dim.validate(value)

    def to_dict(self, point: Any) -> dict[str, Any]:
        """Name the values of a point (structure checked, values not).

        Parameters
        ----------
        point : list, tuple or dict
            Values in dimension order (a dict is reordered).

        Returns
        -------
        params : dict
            Name -> value, in dimension order.

        Examples
        --------
        >>> Space({"a": (0.0, 1.0), "b": ["x", "y"]}).to_dict([0.5, "y"])
        {'a': 0.5, 'b': 'y'}
        """
        return dict(zip(self._names, self._point(point), strict=True))

    def from_dict(self, params: Mapping[str, Any]) -> list[Any]:
        """The values of a dict point, in dimension order (values not checked).

        Parameters
        ----------
        params : dict
            Name -> value, with exactly the dimension names as keys.

        Returns
        -------
        point : list
            The values in dimension order.

        Examples
        --------
        >>> Space({"a": (0.0, 1.0), "b": ["x", "y"]}).from_dict({"b": "x", "a": 0.1})
        [0.1, 'x']
        """
        if not isinstance(params, Mapping):
            raise TypeError(
                f"params must be a dict name -> value, got {type(params).__name__}."
            )
        return self._point(params, "params")

    def sample(self, n: int = 1, random_state: RandomStateLike = None) -> _Points:
        """Draw ``n`` quasi-random points (scrambled Sobol).

        Each dimension maps its Sobol coordinate ``u`` to a value: linearly
        (in log space if log-uniform), to the integer whose bin holds ``u``, or
        to category ``floor(u k)``.

        Parameters
        ----------
        n : int, default=1
            Number of points (a power of 2 balances the Sobol design best).
        random_state : int, RandomState or None, default=None
            Source of the scrambling seed (the same one gives the same points).

        Returns
        -------
        points : list of list
            ``n`` points of native Python values.

        Examples
        --------
        >>> space = Space({"C": (1e-3, 1e3, "log-uniform"), "k": (1, 5)})
        >>> points = space.sample(4, random_state=0)
        >>> len(points), all(p in space for p in points)
        (4, True)
        >>> points == space.sample(4, random_state=0)
        True
        """
        return self.sample_from_unit(sobol(self.n_dims, n, random_state))

    def sample_from_unit(self, U: npt.ArrayLike) -> _Points:
        """Map points of ``[0, 1]^n_dims`` to points, as :meth:`sample` does.

        Any design in the unit cube of the *dimension count* (random, Latin
        hypercube, ...) thus gives points that follow the dimensions' priors.

        Parameters
        ----------
        U : array-like of shape (n, n_dims)
            One coordinate in ``[0, 1]`` per dimension (clipped).

        Returns
        -------
        points : list of list
            ``n`` points of native Python values.

        Examples
        --------
        >>> space = Space({"a": (0.0, 10.0), "b": ["x", "y"]})
        >>> space.sample_from_unit([[0.5, 0.75], [1.0, 0.0]])
        [[5.0, 'y'], [10.0, 'x']]
        """
        u = np.clip(_as_code_matrix(U, self.n_dims, "Space.sample_from_unit"), 0, 1)
        columns = [dim._from_uniform(u[:, j]) for j, dim in enumerate(self._dims)]
        return [list(row) for row in zip(*columns, strict=True)]

    def sample_encoded(
        self, n: int = 1, random_state: RandomStateLike = None
    ) -> FloatArray:
        """Draw ``n`` points as :meth:`sample` does, encoded.

        Parameters
        ----------
        n, random_state
            As in :meth:`sample`.

        Returns
        -------
        X : ndarray of shape (n, n_encoded)
            ``transform(sample(n, random_state))``: valid codes (integer bin
            centres, exact one-hot rows).

        Examples
        --------
        >>> Space([(0.0, 1.0), ["a", "b"]]).sample_encoded(8, random_state=0).shape
        (8, 3)
        """
        return self.transform(self.sample(n, random_state))

    rvs = sample

    def __contains__(self, point: Any) -> bool:
        try:
            self.validate_point(point)
        except (TypeError, ValueError):
            return False
        return True

    def __len__(self) -> int:
        return len(self._dims)

    def __iter__(self) -> Iterator[Dimension]:
        return iter(self._dims)

    def __getitem__(self, key: int | str) -> Dimension:
        if isinstance(key, str) and key not in self._index:
            raise KeyError(
                f"No dimension {key!r}; the names are {list(self._names)!r}."
            )
        return self._dims[self._index[key] if isinstance(key, str) else key]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Space):
            return NotImplemented
        return self._dims == other._dims

    def __hash__(self) -> int:
        return hash(self._dims)

    def __repr__(self) -> str:
        inner = (",\n" + " " * 7).join(repr(d) for d in self._dims)
        return f"Space([{inner}])"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return type(self), (list(self._dims),)

    def __setattr__(self, attr: str, value: Any) -> None:
        raise AttributeError("Space is immutable; build a new Space instead.")

    def __delattr__(self, attr: str) -> None:
        raise AttributeError("Space is immutable.")
