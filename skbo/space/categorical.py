"""The :class:`Categorical` dimension: a finite list of arbitrary choices.

Categories may be any objects: strings, numbers, ``None``, tuples, even
unhashable objects such as estimators (to swap a pipeline step). They are
never hashed for their meaning: a value matches a category when it *is* that
object, else when it compares equal to it (see :func:`same_category`).

Notation
--------
``k``: the number of categories; ``v``: a category; ``x``: its code, the
one-hot row of length ``k`` with a 1 at the category's position (decoding takes
the argmax, the first one on ties); ``u``: a uniform number in ``[0, 1)``,
which draws the category ``floor(u k)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Set
from typing import Any

import numpy as np
import numpy.typing as npt

from skbo.space.base import (
    Dimension,
    FloatArray,
    _as_code_matrix,
    _check_name,
    _is_bool,
)

__all__ = ["Categorical", "same_category"]

_NAN_BUCKET = object()


def _is_nan(value: Any) -> bool:
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def same_category(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` stand for the same category.

    True when ``a is b``; otherwise when both are NaN floats, or when
    ``a == b`` gives a plain boolean true (arrays are compared with
    :func:`numpy.array_equal`). Bools never match numbers (``True`` is not
    ``1`` here), and a comparison that raises counts as different.

    Parameters
    ----------
    a, b : object
        The objects to compare.

    Returns
    -------
    same : bool

    Examples
    --------
    >>> same_category((50,), (50,)), same_category(True, 1)
    (True, False)
    >>> same_category(float("nan"), float("nan"))
    True
    """
    if a is b:
        return True
    if _is_bool(a) != _is_bool(b):
        return False
    if _is_nan(a) and _is_nan(b):
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        try:
            return bool(np.array_equal(a, b))
        except Exception:
            return False
    try:
        equal = a == b
    except Exception:
        return False
    if isinstance(equal, (bool, np.bool_)):
        return bool(equal)
    return False


def _bucket(value: Any) -> Any:
    """A hashable key that equal categories share, or ``None`` if unhashable."""
    if _is_nan(value):
        return _NAN_BUCKET
    try:
        return hash(value)
    except Exception:
        return None


class Categorical(Dimension):
    """A dimension whose values are a finite list of choices, one-hot encoded.

    Parameters
    ----------
    categories : sequence
        The choices, in order: a list, tuple, 1-D array or other ordered
        iterable of any objects; not empty, no two equal (see
        :func:`same_category`). Strings, sets and dicts are refused because
        they do not give an ordered list of choices.
    name : str or None, default=None
        Name of the dimension.

    Attributes
    ----------
    categories : tuple
        The categories themselves (the very objects given).
    n_encoded : int
        The number of categories (one one-hot column each).

    Examples
    --------
    >>> kernel = Categorical(["linear", "rbf", None], name="kernel")
    >>> kernel
    Categorical(categories=['linear', 'rbf', None], name='kernel')
    >>> kernel.transform(["rbf", None])
    array([[0., 1., 0.],
           [0., 0., 1.]])
    >>> kernel.inverse_transform([[0.2, 0.7, 0.1]])
    ['rbf']
    >>> sizes = Categorical([(50,), (100, 50)])
    >>> (100, 50) in sizes
    True
    """

    __slots__ = ("_buckets", "_categories", "_ids", "_unhashable")
    _categories: tuple[Any, ...]
    _ids: dict[int, int]
    _buckets: dict[Any, list[int]]
    _unhashable: list[int]

    def __init__(self, categories: Iterable[Any], name: str | None = None) -> None:
        name = _check_name(name)
        object.__setattr__(self, "_name", name)
        cats = self._as_tuple(categories)
        ids: dict[int, int] = {}
        buckets: dict[Any, list[int]] = {}
        unhashable: list[int] = []
        for i, cat in enumerate(cats):
            j = self._lookup(cat, cats, i, ids, buckets, unhashable)
            if j is not None:
                raise ValueError(
                    f"{self._where()}: categories must be distinct, but {cat!r} "
                    f"(position {i}) equals {cats[j]!r} (position {j})."
                )
            ids.setdefault(id(cat), i)
            key = _bucket(cat)
            if key is None:
                unhashable.append(i)
            else:
                buckets.setdefault(key, []).append(i)
        object.__setattr__(self, "_categories", cats)
        object.__setattr__(self, "_ids", ids)
        object.__setattr__(self, "_buckets", buckets)
        object.__setattr__(self, "_unhashable", unhashable)

    def _as_tuple(self, categories: Any) -> tuple[Any, ...]:
        where = self._where()
        if isinstance(categories, np.ndarray):
            if categories.ndim != 1:
                raise ValueError(
                    f"{where}: an array of categories must be 1-D, got shape "
                    f"{categories.shape}."
                )
            cats = tuple(categories.tolist())
        elif isinstance(categories, (str, bytes, Mapping, Set)) or not isinstance(
            categories, Iterable
        ):
            raise TypeError(
                f"{where}: categories must be a list (or tuple) of choices, got "
                f"{type(categories).__name__} {categories!r}."
            )
        else:
            cats = tuple(categories)
        if not cats:
            raise ValueError(f"{where}: categories must not be empty.")
        return cats

    @staticmethod
    def _lookup(
        value: Any,
        cats: tuple[Any, ...],
        n: int,
        ids: dict[int, int],
        buckets: dict[Any, list[int]],
        unhashable: list[int],
    ) -> int | None:
        # Position of ``value`` among the first ``n`` categories, or None.
        # Identity first, then equality with the categories that may be equal:
        # those in the value's hash bucket and those without a hash (NOTE: equal
        # objects have equal hashes by Python's data model).
        i = ids.get(id(value))
        if i is not None and cats[i] is value:
            return i
        key = _bucket(value)
        if key is None:
            candidates: Iterable[int] = range(n)
        else:
            candidates = sorted(buckets.get(key, []) + unhashable)
        for j in candidates:
            if same_category(value, cats[j]):
                return j
        return None

    @property
    def categories(self) -> tuple[Any, ...]:
        """The categories, in order (a tuple of the objects given)."""
        return self._categories

    @property
    def prior(self) -> str:
        """Always ``'uniform'``: every category is equally likely."""
        return "uniform"

    @property
    def n_encoded(self) -> int:
        """The number of categories (one-hot width)."""
        return len(self._categories)

    def index(self, value: Any) -> int:
        """Position of the category ``value``.

        Parameters
        ----------
        value : object
            A category (matched by identity, then equality).

        Returns
        -------
        position : int

        Raises
        ------
        ValueError
            If ``value`` is not a category.

        Examples
        --------
        >>> Categorical(["a", "b", None]).index(None)
        2
        """
        cats = self._categories
        i = self._lookup(
            value, cats, len(cats), self._ids, self._buckets, self._unhashable
        )
        if i is None:
            raise ValueError(
                f"{self._where()}: {value!r} is not one of the categories "
                f"{list(self._categories)!r}."
            )
        return i

    def validate(self, value: Any) -> None:
        """Raise :class:`ValueError` unless ``value`` is one of the categories.

        Parameters
        ----------
        value : object
            The value to check.

        Examples
        --------
        >>> Categorical(["a", "b"], name="c").validate("z")
        Traceback (most recent call last):
        ...
        ValueError: Categorical dimension 'c': 'z' is not one of the categories ...
        """
        self.index(value)

    def with_name(self, name: str | None) -> Categorical:
        """Return a copy named ``name`` (holding the same category objects).

        Parameters
        ----------
        name : str or None
            The new name.

        Returns
        -------
        dimension : Categorical

        Examples
        --------
        >>> Categorical([1, 2]).with_name("n").name
        'n'
        """
        return Categorical(self._categories, name)

    def transform(self, values: Any) -> FloatArray:
        """One-hot encode categories.

        Parameters
        ----------
        values : sequence
            Categories (a list, tuple or 1-D array).

        Returns
        -------
        codes : ndarray of shape (n, n_categories)

        Raises
        ------
        ValueError
            If a value is not a category.

        Examples
        --------
        >>> Categorical(["a", "b"]).transform(["b"])
        array([[0., 1.]])
        """
        return self._one_hot([self.index(v) for v in self._value_list(values)])

    def inverse_transform(self, codes: npt.ArrayLike) -> list[Any]:
        """Decode rows of codes to categories by argmax (first on ties).

        Relaxed, non one-hot rows (from a continuous optimizer) are accepted.

        Parameters
        ----------
        codes : array-like of shape (n, n_categories)
            Finite codes.

        Returns
        -------
        values : list
            The category objects themselves.

        Examples
        --------
        >>> Categorical(["a", "b", "c"]).inverse_transform([[0.1, 0.5, 0.5]])
        ['b']
        """
        x = _as_code_matrix(codes, len(self._categories), self._where())
        return [self._categories[i] for i in np.argmax(x, axis=1).tolist()]

    def _encode(self, values: list[Any]) -> FloatArray:
        return self._one_hot([self.index(v) for v in values])

    def _one_hot(self, indices: list[int]) -> FloatArray:
        codes = np.zeros((len(indices), len(self._categories)), dtype=np.float64)
        codes[np.arange(len(indices)), indices] = 1.0
        return codes

    def _from_uniform(self, u: FloatArray) -> list[Any]:
        k = len(self._categories)
        idx = np.minimum(np.floor(np.asarray(u) * k), k - 1).astype(np.int64)
        return [self._categories[i] for i in idx.tolist()]

    def _key(self) -> tuple[Any, ...]:
        return self._categories, self._name

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Categorical):
            return NotImplemented
        return (
            self._name == other._name
            and len(self._categories) == len(other._categories)
            and all(
                same_category(a, b)
                for a, b in zip(self._categories, other._categories, strict=True)
            )
        )

    def __hash__(self) -> int:
        # Categories may be unhashable: hash what equality surely shares.
        return hash(("Categorical", self._name, len(self._categories)))

    def __repr__(self) -> str:
        name = "" if self._name is None else f", name={self._name!r}"
        return f"Categorical(categories={list(self._categories)!r}{name})"
