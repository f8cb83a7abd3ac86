"""Property-based tests of the search space: random spaces, random valid points."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skbo.space import Categorical, Dimension, Integer, Real, Space

SETTINGS = settings(max_examples=60, deadline=None)
MAX_INT = 2**40


class _Estimator:
    """An object known only by identity, like an estimator instance."""

    def __repr__(self) -> str:
        return f"_Estimator at {id(self):#x}"


@st.composite
def reals(draw: st.DrawFn) -> Real:
    if draw(st.booleans()):
        low = draw(st.floats(1e-8, 1e8))
        high = low * draw(st.floats(1.0001, 1e8))
        return Real(low, high, prior="log-uniform")
    low = draw(st.floats(-1e8, 1e8))
    return Real(low, low + draw(st.floats(1e-3, 1e8)))


@st.composite
def integers(draw: st.DrawFn) -> Integer:
    log = draw(st.booleans())
    low = draw(st.integers(1 if log else -MAX_INT, MAX_INT - 1))
    span = draw(st.one_of(st.integers(1, 50), st.integers(1, MAX_INT)))
    high = min(low + span, MAX_INT)
    return Integer(low, high, prior="log-uniform" if log else "uniform")


_CATEGORY = st.one_of(
    st.text(max_size=4),
    st.integers(-5, 5),
    st.booleans(),
    st.none(),
    st.tuples(st.integers(1, 200), st.integers(1, 200)),
    st.lists(st.integers(0, 3), max_size=2),
    st.builds(_Estimator),
)


def _category_key(value: Any) -> tuple[str, str]:
    # Distinct for categories that same_category tells apart (bools vs ints).
    return type(value).__name__, repr(value)


@st.composite
def categoricals(draw: st.DrawFn) -> Categorical:
    cats = draw(st.lists(_CATEGORY, min_size=1, max_size=6, unique_by=_category_key))
    return Categorical(cats)


DIMENSIONS = st.one_of(reals(), integers(), categoricals())


@st.composite
def spaces(draw: st.DrawFn) -> Space:
    return Space(draw(st.lists(DIMENSIONS, min_size=1, max_size=5)))


def values_of(dim: Dimension) -> st.SearchStrategy[Any]:
    if isinstance(dim, Real):
        return st.floats(dim.low, dim.high)
    if isinstance(dim, Integer):
        return st.integers(dim.low, dim.high)
    assert isinstance(dim, Categorical)
    return st.sampled_from(dim.categories)


@st.composite
def spaces_and_points(draw: st.DrawFn) -> tuple[Space, list[list[Any]]]:
    space = draw(spaces())
    point = st.tuples(*(values_of(d) for d in space.dimensions)).map(list)
    return space, draw(st.lists(point, min_size=1, max_size=4))


def _same_value(dim: Dimension, decoded: Any, value: Any) -> bool:
    if isinstance(dim, Real):
        scale = max(abs(dim.low), abs(dim.high))
        return type(decoded) is float and math.isclose(
            decoded, value, rel_tol=1e-9, abs_tol=1e-12 * scale
        )
    if isinstance(dim, Integer):
        return type(decoded) is int and decoded == value
    return decoded is value


@SETTINGS
@given(spaces_and_points())
def test_round_trip(case: tuple[Space, list[list[Any]]]) -> None:
    space, points = case
    X = space.transform(points)
    assert X.shape == (len(points), space.n_encoded) and X.dtype == np.float64
    assert ((X >= 0) & (X <= 1)).all()
    decoded = space.inverse_transform(X)
    for point, back in zip(points, decoded, strict=True):
        assert back in space
        for dim, b, v in zip(space.dimensions, back, point, strict=True):
            assert _same_value(dim, b, v), (dim, b, v)
    # Encoding the decoded points gives the same codes again.
    np.testing.assert_allclose(space.transform(decoded), X, rtol=0, atol=1e-9)


@SETTINGS
@given(spaces(), st.integers(0, 9), st.integers(0, 2**32 - 1))
def test_samples_are_native_points_of_the_space(
    space: Space, n: int, seed: int
) -> None:
    points = space.sample(n, random_state=seed)
    assert len(points) == n
    for point in points:
        assert point in space
        for dim, value in zip(space.dimensions, point, strict=True):
            if isinstance(dim, Real):
                assert type(value) is float
            elif isinstance(dim, Integer):
                assert type(value) is int
            else:
                assert any(value is c for c in dim.categories)


@SETTINGS
@given(spaces(), st.data())
def test_any_relaxed_row_decodes_to_a_point(space: Space, data: st.DataObject) -> None:
    # The optimizer hands back relaxed rows, possibly slightly outside [0, 1].
    row = st.lists(
        st.floats(-0.5, 1.5), min_size=space.n_encoded, max_size=space.n_encoded
    )
    X = np.asarray(data.draw(st.lists(row, min_size=1, max_size=3)))
    for point in space.inverse_transform(X):
        assert point in space


@SETTINGS
@given(integers(), st.data())
def test_integer_codes_are_bin_centres(dim: Integer, data: st.DataObject) -> None:
    v = data.draw(st.integers(dim.low, dim.high))
    x = float(dim.transform([v])[0, 0])
    assert dim.inverse_transform([x]) == [v]
    # Every code inside the bin decodes to v (the bin is [v - 1/2, v + 1/2]).
    t = (lambda y: math.log(y)) if dim.is_log else (lambda y: y)
    a, b = t(dim.low - 0.5), t(dim.high + 0.5)
    lo, hi = (t(v - 0.5) - a) / (b - a), (t(v + 0.5) - a) / (b - a)
    inside = lo + (hi - lo) * np.array([0.1, 0.5, 0.9])
    assert dim.inverse_transform(inside) == [v, v, v]
