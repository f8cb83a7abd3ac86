"""Tests of skbo/space/space.py."""

from __future__ import annotations

import copy
import math
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn.linear_model import LogisticRegression

from skbo.space import Categorical, Integer, Real, Space


@pytest.fixture
def space():
    return Space(
        {
            "C": Real(1e-3, 1e3, prior="log-uniform"),
            "degree": (1, 5),
            "kernel": ["linear", "rbf", None],
            "gamma": (0.0, 1.0),
            "n": Integer(1, 100, prior="log-uniform"),
        }
    )


# -- construction -------------------------------------------------------------


def test_list_dimensions_are_named_after_their_position():
    space = Space([(0.0, 1.0), Integer(1, 3, name="k"), ["a", "b"]])
    assert space.dimension_names == ["x0", "k", "x2"]
    assert space.dimensions == (
        Real(0, 1, name="x0"),
        Integer(1, 3, name="k"),
        Categorical(["a", "b"], name="x2"),
    )


def test_dict_keys_become_names_in_insertion_order():
    space = Space({"b": (0, 3), "a": stats.loguniform(1e-2, 1), "c": ["x"]})
    assert space.dimension_names == ["b", "a", "c"]
    assert space["a"] == Real(1e-2, 1, "log-uniform", name="a")
    assert Space(space) == space
    assert Space(tuple(space.dimensions)) == space


def test_duplicate_names_are_refused():
    with pytest.raises(ValueError, match=r"names must be unique, got \['x1'\]"):
        Space([(0, 1), (0, 1), Real(0, 1, name="x1")])
    with pytest.raises(ValueError, match=r"names must be unique, got \['a'\]"):
        Space([Real(0, 1, name="a"), Integer(0, 2, name="a")])


def test_dict_names_must_agree_with_dimension_names():
    with pytest.raises(ValueError, match="dimension 'C': the dimension given is"):
        Space({"C": Real(0, 1, name="alpha")})
    assert Space({"C": Real(0, 1, name="C")})["C"].name == "C"
    with pytest.raises(TypeError, match="keys of a dict of dimensions must be"):
        Space({1: (0, 1)})
    with pytest.raises(TypeError, match="keys of a dict of dimensions must be"):
        Space({"": (0, 1)})


@pytest.mark.parametrize("empty", [[], {}, ()])
def test_empty_spaces_are_refused(empty):
    with pytest.raises(ValueError, match="A Space needs at least one dimension"):
        Space(empty)


@pytest.mark.parametrize("bad", ["abc", 3, None, {(0, 1)}])
def test_spaces_need_a_list_or_dict(bad):
    with pytest.raises(TypeError, match="dimensions must be a list of dimensions"):
        Space(bad)


def test_entry_errors_name_the_entry():
    with pytest.raises(TypeError, match=r"dimensions\[1\]: cannot make a dimension"):
        Space([(0, 1), "rbf"])
    with pytest.raises(ValueError, match=r"dimensions\[0\]: .*low must be smaller"):
        Space([(1, 0)])
    with pytest.raises(TypeError, match="dimension 'k': a tuple must be"):
        Space({"k": ("a", "b")})


# -- description of the encoded columns ---------------------------------------


def test_encoded_columns(space):
    assert space.n_dims == len(space) == 5
    assert space.n_encoded == 7
    assert space.continuous_columns == [0, 5]
    assert space.integer_columns == [(1, 1, 5, False), (6, 1, 100, True)]
    assert space.categorical_groups == [[2, 3, 4]]
    bounds = space.bounds
    assert bounds.shape == (2, 7) and bounds.dtype == np.float64
    np.testing.assert_array_equal(bounds, [[0] * 7, [1] * 7])
    assert all(type(c) is int for c, *_ in space.integer_columns)


def test_description_is_not_shared_state(space):
    space.continuous_columns.append(9)
    space.categorical_groups[0].append(9)
    space.dimension_names.append("z")
    space.bounds[0, 0] = 5
    assert space.continuous_columns == [0, 5]
    assert space.categorical_groups == [[2, 3, 4]]
    assert space.dimension_names == ["C", "degree", "kernel", "gamma", "n"]
    assert space.bounds[0, 0] == 0


def test_container_protocol(space):
    assert list(space) == list(space.dimensions)
    assert space[0] is space["C"] and space[-1].name == "n"
    with pytest.raises(KeyError, match=r"No dimension 'x'; the names are \['C'"):
        space["x"]


# -- transform / inverse_transform --------------------------------------------


def test_transform_lists_and_dicts(space):
    as_list = [1.0, 3, "rbf", 0.25, 10]
    as_dict = {"n": 10, "kernel": "rbf", "gamma": 0.25, "degree": 3, "C": 1.0}
    X = space.transform([as_list, as_dict, tuple(as_list)])
    assert X.dtype == np.float64 and X.shape == (3, 7)
    np.testing.assert_allclose(X[0], X[1])
    np.testing.assert_allclose(X[0], X[2])
    np.testing.assert_allclose(X[0, :6], [0.5, 0.5, 0, 1, 0, 0.25])
    assert ((X >= 0) & (X <= 1)).all()


def test_transform_accepts_numpy_values():
    space = Space([(0, 10), (0.0, 1.0)])
    X = space.transform(np.array([[3, 0.5]], dtype=object))
    np.testing.assert_allclose(X, space.transform([[3, 0.5]]))
    np.testing.assert_allclose(
        space.transform([[np.int64(3), np.float32(0.5)]]), space.transform([[3, 0.5]])
    )
    assert space.transform([]).shape == (0, 2)


def test_transform_errors_name_the_point_and_dimension(space):
    good = [1.0, 3, "rbf", 0.25, 10]
    with pytest.raises(
        ValueError, match=r"point 1: Real dimension 'C': 10000.0 is outside \[0.001,"
    ):
        space.transform([good, [1e4, 3, "rbf", 0.25, 10]])
    with pytest.raises(ValueError, match=r"point 0: Categorical dimension 'kernel'"):
        space.transform([[1.0, 3, "poly", 0.25, 10]])
    with pytest.raises(ValueError, match="point 1 has 4 values but the space has 5"):
        space.transform([good, good[:4]])
    with pytest.raises(ValueError, match=r"missing \['n'\], unknown \['m'\]"):
        space.transform([{"C": 1.0, "degree": 3, "kernel": None, "gamma": 0, "m": 1}])
    with pytest.raises(TypeError, match="wrap a single point in a list"):
        space.transform({"C": 1.0})
    with pytest.raises(TypeError, match="wrap a single point in a list"):
        space.transform("abc")
    with pytest.raises(TypeError, match="point 0 must be a list or tuple of 5 values"):
        space.transform(good)
    with pytest.raises(ValueError, match="point 0 must be 1-D"):
        space.transform(np.zeros((1, 1, 5)))


@pytest.mark.parametrize("np_dtype", [np.float64, np.float32])
def test_inverse_transform_gives_native_values(space, np_dtype):
    points = [[1.0, 3, "rbf", 0.25, 10], [1e-3, 5, None, 1.0, 100]]
    X = space.transform(points).astype(np_dtype)
    decoded = space.inverse_transform(X)
    assert [p[1:3] + p[4:] for p in decoded] == [[3, "rbf", 10], [5, None, 100]]
    for p in decoded:
        assert type(p[0]) is float and type(p[3]) is float
        assert type(p[1]) is int and type(p[4]) is int
        assert p in space


def test_inverse_transform_of_relaxed_rows():
    space = Space([(0, 3), ["a", "b", "c"], (0.0, 1.0)])
    X = [[0.3, 0.2, 0.7, 0.1, 1.4], [-1.0, 0.5, 0.5, 0.5, -0.2]]
    assert space.inverse_transform(X) == [[1, "b", 1.0], [0, "a", 0.0]]


def test_inverse_transform_keeps_category_identity():
    est = LogisticRegression()
    space = Space({"clf": [est, None], "C": (0.1, 1.0)})
    (point,) = space.inverse_transform(space.transform([[est, 0.5]]))
    assert point[0] is est


def test_inverse_transform_checks_its_input(space):
    with pytest.raises(
        ValueError, match=r"codes must have shape \(n, 7\), got shape \(7,\)"
    ):
        space.inverse_transform(np.zeros(7))
    with pytest.raises(ValueError, match=r"got shape \(2, 6\)"):
        space.inverse_transform(np.zeros((2, 6)))
    with pytest.raises(ValueError, match="codes must be finite"):
        space.inverse_transform(np.full((1, 7), math.nan))
    assert space.inverse_transform(np.zeros((0, 7))) == []


# -- points as dicts, validation ----------------------------------------------


def test_to_dict_and_from_dict(space):
    point = [1.0, 3, "rbf", 0.25, 10]
    params = space.to_dict(point)
    assert list(params) == space.dimension_names
    assert space.from_dict(params) == point
    assert space.to_dict(dict(reversed(list(params.items())))) == params
    with pytest.raises(TypeError, match="params must be a dict"):
        space.from_dict(point)  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match=r"params must have exactly the keys .* missing"
    ):
        space.from_dict({"C": 1.0})
    with pytest.raises(ValueError, match="point has 2 values but the space has 5"):
        space.to_dict([1, 2])


def test_validate_point(space):
    space.validate_point([1.0, 3, "rbf", 0.25, 10])
    space.validate_point({"C": 1.0, "degree": 3, "kernel": None, "gamma": 0, "n": 1})
    with pytest.raises(
        ValueError, match=r"Integer dimension 'degree': 7 is outside \[1, 5\]"
    ):
        space.validate_point([1.0, 7, "rbf", 0.25, 10])
    with pytest.raises(
        ValueError,
        match=r"'sigmoid' is not one of the categories \['linear', 'rbf', None\]",
    ):
        space.validate_point([1.0, 3, "sigmoid", 0.25, 10])
    with pytest.raises(ValueError, match="point has 6 values but the space has 5"):
        space.validate_point([1.0, 3, "rbf", 0.25, 10, 0])
    with pytest.raises(TypeError, match="point must be a list or tuple"):
        space.validate_point(3)


def test_contains(space):
    assert [1.0, 3, "rbf", 0.25, 10] in space
    assert [1.0, 3, "rbf", 0.25, 10.5] not in space
    assert [1.0, 3, "rbf"] not in space
    assert "abc" not in space


# -- sampling -----------------------------------------------------------------


def test_sample_is_deterministic_and_valid(space, global_random_seed):
    points = space.sample(16, random_state=global_random_seed)
    assert len(points) == 16 and all(p in space for p in points)
    assert points == space.sample(16, random_state=global_random_seed)
    assert points == space.rvs(16, random_state=global_random_seed)
    assert points != space.sample(16, random_state=global_random_seed + 1)
    for p in points:
        assert type(p[0]) is float and type(p[1]) is int and type(p[4]) is int


def test_sample_consumes_a_random_state(space):
    rng = np.random.RandomState(0)
    assert space.sample(4, random_state=rng) != space.sample(4, random_state=rng)


def test_sample_any_n_without_warnings(space):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(space.sample(5, random_state=0)) == 5
        assert space.sample(0, random_state=0) == []
    with pytest.raises(ValueError, match="n must be a non-negative int"):
        space.sample(-1)


def test_sample_uses_one_sobol_coordinate_per_dimension():
    # Scrambled Sobol points are balanced: with 64 points every dyadic interval
    # of each coordinate holds its exact share, hence these exact counts.
    space = Space(
        {"cat": ["a", "b", "c", "d"], "k": (1, 4), "lr": (1e-4, 1.0, "log-uniform")}
    )
    points = space.sample(64, random_state=3)
    for j in range(2):
        _, counts = np.unique(np.asarray([p[j] for p in points]), return_counts=True)
        assert counts.tolist() == [16, 16, 16, 16]
    assert sum(p[2] < 1e-2 for p in points) == 32  # uniform in log space


def test_sample_encoded(space):
    X = space.sample_encoded(8, random_state=0)
    assert X.shape == (8, 7)
    np.testing.assert_array_equal(X, space.transform(space.sample(8, random_state=0)))
    np.testing.assert_array_equal(X[:, 2:5].sum(axis=1), np.ones(8))


def test_sample_from_unit():
    space = Space({"a": (0.0, 10.0), "k": (1, 4), "b": ["x", "y"]})
    U = [[0.0, 0.0, 0.0], [0.5, 0.3, 0.49], [1.0, 1.0, 1.0], [2.0, -1.0, 0.5]]
    assert space.sample_from_unit(U) == [
        [0.0, 1, "x"],
        [5.0, 2, "x"],
        [10.0, 4, "y"],
        [10.0, 1, "y"],
    ]
    with pytest.raises(ValueError, match=r"shape \(n, 3\), got shape \(3,\)"):
        space.sample_from_unit([0.1, 0.2, 0.3])


# -- value semantics ----------------------------------------------------------


def test_equality_hash_pickle_and_repr(space):
    same = Space(
        [
            Real(1e-3, 1e3, "log-uniform", name="C"),
            Integer(1, 5, name="degree"),
            Categorical(["linear", "rbf", None], name="kernel"),
            Real(0, 1, name="gamma"),
            Integer(1, 100, "log-uniform", name="n"),
        ]
    )
    assert same == space and hash(same) == hash(space)
    assert space != Space({"C": (0.0, 1.0)})
    assert space != space.dimensions
    assert pickle.loads(pickle.dumps(space)) == space
    assert copy.deepcopy(space) == space
    assert repr(Space({"a": (0, 1), "b": ["x"]})) == (
        "Space([Integer(low=0, high=1, prior='uniform', name='a'),\n"
        "       Categorical(categories=['x'], name='b')])"
    )


def test_space_is_immutable(space):
    with pytest.raises(AttributeError, match="Space is immutable"):
        space.n_dims = 3  # type: ignore[misc]
    with pytest.raises(AttributeError, match="Space is immutable"):
        del space._dims  # type: ignore[attr-defined]


def test_importing_the_space_is_cheap():
    code = (
        "import sys, skbo\n"
        "before = set(sys.modules)\n"
        "import skbo.space\n"
        "new = set(sys.modules) - before\n"
        "assert not any(m.split('.')[0] == 'torch' for m in new), sorted(new)\n"
        "assert 'scipy.stats' not in new, sorted(new)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
