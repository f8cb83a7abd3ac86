"""Tests of skbo/space/categorical.py."""

from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

from skbo.space import Categorical
from skbo.space.categorical import same_category


class _Boom:
    """Compares by raising, like some exotic objects do."""

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no comparison")

    __hash__ = None  # type: ignore[assignment]


class _ArrayEq:
    """Compares like a NumPy array: the result is not a bool."""

    def __eq__(self, other: object) -> np.ndarray:  # type: ignore[override]
        return np.array([True, False])

    __hash__ = None  # type: ignore[assignment]


# -- same_category ------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("a", "a", True),
        ((50,), (50,), True),
        ((50,), [50], False),
        (1, 1.0, True),
        (np.int64(3), 3, True),
        (True, 1, False),
        (False, 0, False),
        (np.True_, True, True),
        (None, None, True),
        (None, 0, False),
        (math.nan, float("nan"), True),
        (np.float32("nan"), math.nan, True),
        (np.array([1, 2]), np.array([1, 2]), True),
        (np.array([1, 2]), np.array([1, 3]), False),
        (np.array([1, 2]), np.array([1, 2, 3]), False),
        (np.array([1, 2]), [1, 2], False),
        ((np.array([1]),), (np.array([1]),), True),
        ((np.array([1, 2]),), (np.array([1, 2]),), False),  # ambiguous truth value
        (_Boom(), _Boom(), False),
        (_ArrayEq(), 1, False),
    ],
)
def test_same_category(a, b, expected):
    assert same_category(a, b) is expected
    assert same_category(a, a) is True


# -- construction -------------------------------------------------------------


def test_categories_keep_the_objects_given():
    est = LogisticRegression()
    sizes = (100, 50)
    dim = Categorical([est, sizes, None, "auto"], name="step")
    assert dim.categories[0] is est and dim.categories[1] is sizes
    assert dim.n_encoded == 4 and dim.prior == "uniform" and dim.name == "step"


@pytest.mark.parametrize(
    "categories",
    [["a", "b"], ("a", "b"), np.array(["a", "b"]), iter(["a", "b"])],
)
def test_ordered_iterables_are_accepted(categories):
    assert Categorical(categories).categories == ("a", "b")


def test_array_categories_become_python_scalars():
    dim = Categorical(np.array([1, 2, 3]))
    assert all(type(c) is int for c in dim.categories)
    with pytest.raises(
        ValueError, match=r"an array of categories must be 1-D, got shape \(2, 2\)"
    ):
        Categorical(np.zeros((2, 2)))


@pytest.mark.parametrize(
    "bad", ["abc", b"ab", {"a": 1}, {"a", "b"}, frozenset([1]), 5, None]
)
def test_unordered_or_non_iterable_categories_are_refused(bad):
    with pytest.raises(
        TypeError, match=r"Categorical dimension 'c': categories must be a list"
    ):
        Categorical(bad, name="c")


def test_categories_must_not_be_empty():
    with pytest.raises(ValueError, match="categories must not be empty"):
        Categorical([])


@pytest.mark.parametrize(
    ("categories", "message"),
    [
        (["a", "b", "a"], r"'a' \(position 2\) equals 'a' \(position 0\)"),
        ([1, 1.0], r"1.0 \(position 1\) equals 1 \(position 0\)"),
        ([[1], [2], [1]], r"\[1\] \(position 2\) equals \[1\] \(position 0\)"),
        ([np.array([1, 2]), np.array([1, 2])], r"array\(\[1, 2\]\) \(position 1\)"),
        ([math.nan, float("nan")], "nan"),
        ([(50,), (50,)], r"\(50,\)"),
    ],
)
def test_duplicate_categories_are_refused(categories, message):
    with pytest.raises(ValueError, match=f"categories must be distinct, but {message}"):
        Categorical(categories)


def test_distinct_but_similar_categories_are_allowed():
    assert Categorical([1, True, 0, False]).n_encoded == 4
    assert Categorical([LogisticRegression(), LogisticRegression()]).n_encoded == 2
    assert Categorical([(50,), [50], "50", 50]).n_encoded == 4
    assert Categorical([_Boom(), _Boom()]).n_encoded == 2


def test_name_is_checked():
    with pytest.raises(TypeError, match="name must be a string or None"):
        Categorical(["a"], name=1)


# -- lookup, codes ------------------------------------------------------------


def test_index_identity_then_equality():
    boom, arr = _Boom(), np.array([1, 2])
    est = SVC()
    dim = Categorical(["a", [1, 2], {"k": 1}, (1, 2), boom, arr, est, None, math.nan])
    assert dim.index("a") == 0
    assert dim.index([1, 2]) == 1
    assert dim.index({"k": 1}) == 2
    assert dim.index((1, 2)) == 3
    assert dim.index(boom) == 4
    assert dim.index(np.array([1, 2])) == 5
    assert dim.index(est) == 6
    assert dim.index(None) == 7
    assert dim.index(float("nan")) == 8
    assert dim.index(np.str_("a")) == 0
    with pytest.raises(ValueError, match=r"SVC\(\) is not one of the categories"):
        dim.index(SVC())  # an equal-looking copy is another object


def test_bools_and_numbers_are_told_apart():
    dim = Categorical([1, True, 0, False])
    assert [dim.index(v) for v in (1, True, 0, False, np.True_, 1.0)] == [
        0,
        1,
        2,
        3,
        1,
        0,
    ]


def test_transform_is_one_hot():
    dim = Categorical(["a", "b", "c"])
    codes = dim.transform(["c", "a", "c"])
    np.testing.assert_array_equal(codes, [[0, 0, 1], [1, 0, 0], [0, 0, 1]])
    assert codes.dtype == np.float64
    assert dim.transform([]).shape == (0, 3)


def test_transform_refuses_unknown_values():
    dim = Categorical(["linear", "rbf"], name="kernel")
    with pytest.raises(
        ValueError,
        match=(
            r"Categorical dimension 'kernel': 'poly' is not one of the "
            r"categories \['linear', 'rbf'\]"
        ),
    ):
        dim.transform(["rbf", "poly"])
    assert "poly" not in dim and "rbf" in dim and ["rbf"] not in dim


@pytest.mark.parametrize("np_dtype", [np.float64, np.float32])
def test_inverse_transform_takes_the_argmax(np_dtype):
    est = LogisticRegression()
    dim = Categorical([est, "b", None])
    codes = np.array(
        [[1, 0, 0], [0.2, 0.7, 0.1], [0.4, 0.4, 0.2], [0, 0.5, 0.5], [-1, -2, 3]],
        dtype=np_dtype,
    )
    decoded = dim.inverse_transform(codes)
    assert decoded[0] is est and decoded[2] is est  # first on ties
    assert decoded[1] == "b" and decoded[3] == "b" and decoded[4] is None


def test_inverse_transform_checks_codes():
    dim = Categorical(["a", "b"])
    with pytest.raises(
        ValueError, match=r"codes must have shape \(n, 2\), got shape \(2,\)"
    ):
        dim.inverse_transform([0.0, 1.0])
    with pytest.raises(ValueError, match="codes must be finite"):
        dim.inverse_transform([[math.nan, 0.0]])


def test_round_trip_returns_the_same_objects():
    cats = [LogisticRegression(), (50,), (100, 50), None, "x", [1]]
    dim = Categorical(cats)
    decoded = dim.inverse_transform(dim.transform(cats))
    assert all(d is c for d, c in zip(decoded, cats, strict=True))


def test_many_categories():
    dim = Categorical(list(range(3000)) + [[i] for i in range(20)])
    values = [*range(0, 3000, 7), [3], [19]]
    assert dim.inverse_transform(dim.transform(values)) == values


def test_rvs(global_random_seed):
    cats = ["a", None, (1,)]
    dim = Categorical(cats)
    values = dim.rvs(300, random_state=global_random_seed)
    assert all(any(v is c for c in cats) for v in values)
    counts = [sum(v is c for v in values) for c in cats]
    assert min(counts) > 60
    assert values == dim.rvs(300, random_state=global_random_seed)


# -- value semantics ----------------------------------------------------------


def test_equality_hash_and_repr():
    assert Categorical(["a", (1,)]) == Categorical(("a", (1,)))
    assert hash(Categorical(["a", (1,)])) == hash(Categorical(("a", (1,))))
    assert Categorical(["a", "b"]) != Categorical(["b", "a"])
    assert Categorical(["a"]) != Categorical(["a"], name="x")
    assert Categorical(["a"]) != Categorical(["a", "b"])
    assert Categorical([[1]]) == Categorical([[1]])
    assert isinstance(hash(Categorical([[1], {"a": 2}])), int)
    assert repr(Categorical(["a", None], name="c")) == (
        "Categorical(categories=['a', None], name='c')"
    )


def test_immutable_and_with_name():
    est = SVC()
    dim = Categorical([est, "x"])
    with pytest.raises(AttributeError, match="immutable"):
        dim.categories = ()  # type: ignore[misc]
    renamed = dim.with_name("clf")
    assert renamed.name == "clf" and dim.name is None
    assert renamed.categories[0] is est


def test_pickle_and_copy():
    dim = Categorical(["a", (50,), None, [1, 2]], name="c")
    assert pickle.loads(pickle.dumps(dim)) == dim
    assert copy.deepcopy(dim) == dim
    clone = pickle.loads(pickle.dumps(dim))
    assert clone.index([1, 2]) == 3
