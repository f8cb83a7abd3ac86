"""Tests of skbo/space/dimensions.py and of the Dimension base (skbo/space/base.py)."""

from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest

from skbo.space import Dimension, Integer, Real

NP_FLOATS = [np.float64, np.float32]


# -- construction and validation ----------------------------------------------


def test_real_stores_floats_and_describes_itself():
    dim = Real(np.int64(1), 10, prior="log-uniform", name="C")
    assert isinstance(dim, Dimension)
    assert (dim.low, dim.high) == (1.0, 10.0)
    assert type(dim.low) is float and type(dim.high) is float
    assert dim.bounds == (1.0, 10.0)
    assert dim.prior == "log-uniform" and dim.is_log
    assert dim.name == "C" and dim.n_encoded == 1
    assert repr(dim) == "Real(low=1.0, high=10.0, prior='log-uniform', name='C')"
    assert repr(Real(0, 1)) == "Real(low=0.0, high=1.0, prior='uniform')"


def test_integer_stores_ints_and_describes_itself():
    dim = Integer(np.int32(2), 1e3, name="n")
    assert (dim.low, dim.high) == (2, 1000)
    assert type(dim.low) is int and type(dim.high) is int
    assert dim.prior == "uniform" and not dim.is_log
    assert repr(dim) == "Integer(low=2, high=1000, prior='uniform', name='n')"


@pytest.mark.parametrize("cls", [Real, Integer])
@pytest.mark.parametrize(("low", "high"), [(1, 1), (2, 1)])
def test_low_must_be_below_high(cls, low, high):
    with pytest.raises(ValueError, match="low must be smaller than high"):
        cls(low, high, name="a")


@pytest.mark.parametrize("cls", [Real, Integer])
@pytest.mark.parametrize("low", [0, -1])
def test_log_prior_needs_positive_low(cls, low):
    with pytest.raises(ValueError, match=r"'log-uniform' prior needs low > 0"):
        cls(low, 10, prior="log-uniform")


@pytest.mark.parametrize("cls", [Real, Integer])
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_bounds_must_be_finite(cls, bad):
    with pytest.raises(ValueError, match="finite"):
        cls(0, bad)
    with pytest.raises(ValueError, match="finite"):
        cls(bad, 0)


def test_huge_python_ints_are_refused_cleanly():
    with pytest.raises(ValueError, match="high must be finite"):
        Real(0, 10**400)
    with pytest.raises(ValueError, match=r"high must lie in \[-2\*\*40, 2\*\*40\]"):
        Integer(0, 10**400)


@pytest.mark.parametrize("cls", [Real, Integer])
@pytest.mark.parametrize("bad", ["0", None, True, np.bool_(False), [1], 1j])
def test_bounds_must_be_numbers(cls, bad):
    with pytest.raises(TypeError, match=r"Real|Integer dimension 'p': low must be"):
        cls(bad, 10, name="p")


def test_real_span_must_be_finite():
    with pytest.raises(ValueError, match="high - low must be a finite float"):
        Real(-1e308, 1e308)


def test_integer_bounds_must_be_whole_and_not_huge():
    with pytest.raises(ValueError, match="high must be a finite whole number"):
        Integer(0, 2.5)
    with pytest.raises(ValueError, match=r"must lie in \[-2\*\*40, 2\*\*40\]"):
        Integer(0, 2**40 + 1)
    assert Integer(-(2**40), 2**40).high == 2**40


@pytest.mark.parametrize("cls", [Real, Integer])
def test_prior_is_checked(cls):
    with pytest.raises(
        ValueError,
        match=r"prior must be one of \('uniform', 'log-uniform'\), got 'log'",
    ):
        cls(1, 2, prior="log")
    with pytest.raises(TypeError, match="prior must be one of"):
        cls(1, 2, prior=None)


@pytest.mark.parametrize("cls", [Real, Integer])
def test_name_is_checked(cls):
    with pytest.raises(TypeError, match="name must be a string or None, got 3"):
        cls(1, 2, name=3)
    with pytest.raises(ValueError, match="non-empty string"):
        cls(1, 2, name="")


# -- immutability, equality, pickling -----------------------------------------


@pytest.mark.parametrize("dim", [Real(0, 1, name="a"), Integer(1, 5, "log-uniform")])
def test_dimensions_are_immutable(dim):
    with pytest.raises(AttributeError, match="immutable"):
        dim.low = 3  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        dim.anything = 3  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match="immutable"):
        del dim.name  # type: ignore[misc]


def test_with_name_returns_a_renamed_copy():
    dim = Real(0, 1)
    renamed = dim.with_name("gamma")
    assert renamed.name == "gamma" and dim.name is None
    assert renamed == Real(0, 1, name="gamma")
    assert Integer(1, 3).with_name("k") == Integer(1, 3, name="k")


def test_equality_and_hash():
    assert Real(0, 1) == Real(0.0, 1.0)
    assert hash(Real(0, 1)) == hash(Real(0.0, 1.0))
    assert Real(0, 1) != Real(0, 1, name="a")
    assert Real(0, 1) != Real(0, 2)
    assert Real(1, 2) != Real(1, 2, prior="log-uniform")
    assert Real(1, 2) != Integer(1, 2)
    assert Integer(1, 2) == Integer(1.0, 2)
    assert Real(0, 1) != (0, 1)
    assert len({Real(0, 1), Real(0, 1), Integer(0, 1)}) == 2


@pytest.mark.parametrize("dim", [Real(1e-3, 1e3, "log-uniform", "C"), Integer(1, 9)])
def test_pickle_and_copy_round_trip(dim):
    assert pickle.loads(pickle.dumps(dim)) == dim
    assert copy.copy(dim) == dim
    assert copy.deepcopy(dim) == dim


# -- Real: values and codes ---------------------------------------------------


def test_real_transform_uniform_and_log():
    codes = Real(0, 10).transform([0.0, 2.5, 10])
    np.testing.assert_allclose(codes, [[0.0], [0.25], [1.0]])
    assert codes.dtype == np.float64 and codes.shape == (3, 1)
    codes = Real(1e-2, 1e2, "log-uniform").transform(np.array([1e-2, 1.0, 1e2]))
    np.testing.assert_allclose(codes.ravel(), [0.0, 0.5, 1.0])


def test_real_transform_refuses_values_outside_or_of_wrong_type():
    dim = Real(0, 1, name="a")
    with pytest.raises(
        ValueError, match=r"Real dimension 'a': 1.5 is outside \[0.0, 1.0\]"
    ):
        dim.transform([0.5, 1.5])
    with pytest.raises(
        ValueError, match=r"expected a real number in \[0.0, 1.0\], got '0.5'"
    ):
        dim.transform(["0.5"])
    with pytest.raises(ValueError, match="got True"):
        dim.transform([True])
    with pytest.raises(ValueError, match="nan is outside"):
        dim.transform([math.nan])


def test_transform_needs_a_sequence():
    with pytest.raises(TypeError, match="wrap a single value in a list"):
        Real(0, 1).transform(0.5)
    with pytest.raises(ValueError, match="values must be 1-D"):
        Real(0, 1).transform(np.zeros((2, 1)))
    assert Real(0, 1).transform([]).shape == (0, 1)


@pytest.mark.parametrize("np_dtype", NP_FLOATS)
def test_real_inverse_transform(np_dtype):
    dim = Real(-1, 1)
    codes = np.array([[0.0], [0.75], [1.0], [-3.0], [7.0]], dtype=np_dtype)
    values = dim.inverse_transform(codes)
    assert values == [-1.0, 0.5, 1.0, -1.0, 1.0]
    assert all(type(v) is float for v in values)
    assert dim.inverse_transform(codes.ravel()) == values


def test_real_inverse_transform_checks_codes():
    with pytest.raises(
        ValueError,
        match=r"codes must have shape \(n,\) or \(n, 1\), got shape \(2, 2\)",
    ):
        Real(0, 1).inverse_transform(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="codes must be finite"):
        Real(0, 1).inverse_transform([math.nan])


def test_real_end_points_round_trip_exactly():
    for dim in [Real(0.1, 0.7), Real(1e-7, 3.3, "log-uniform"), Real(-5, 1e9)]:
        assert dim.inverse_transform(dim.transform([dim.low, dim.high])) == [
            dim.low,
            dim.high,
        ]


def test_real_contains():
    dim = Real(0, 1)
    assert 0 in dim and 1.0 in dim and np.float32(0.5) in dim
    assert 1.01 not in dim and "a" not in dim and None not in dim and True not in dim


# -- Integer: values and codes ------------------------------------------------


def test_integer_codes_are_padded_bin_centres():
    np.testing.assert_allclose(
        Integer(0, 3).transform([0, 1, 2, 3]).ravel(), [0.125, 0.375, 0.625, 0.875]
    )
    assert Integer(0, 3).inverse_transform([0.0, 0.249, 0.25, 0.999, 1.0]) == [
        0,
        0,
        1,
        3,
        3,
    ]


def test_integer_accepts_numpy_and_integral_floats():
    dim = Integer(1, 10)
    expected = dim.transform([3])
    np.testing.assert_array_equal(dim.transform([np.int64(3)]), expected)
    np.testing.assert_array_equal(dim.transform([3.0]), expected)
    np.testing.assert_array_equal(dim.transform(np.array([3])), expected)


def test_integer_refuses_fractions_bools_and_outside():
    dim = Integer(1, 10, name="k")
    with pytest.raises(
        ValueError,
        match=r"Integer dimension 'k': expected an integer in \[1, 10\], got 2.5",
    ):
        dim.transform([2.5])
    with pytest.raises(ValueError, match="got True"):
        dim.transform([True])
    with pytest.raises(ValueError, match=r"11 is outside \[1, 10\]"):
        dim.transform([11])
    assert 2.5 not in dim and True not in dim and "3" not in dim and 3 in dim


@pytest.mark.parametrize("np_dtype", NP_FLOATS)
def test_integer_inverse_transform_gives_python_ints(np_dtype):
    dim = Integer(1, 1000, "log-uniform")
    values = list(range(1, 1001))
    codes = dim.transform(values).astype(np_dtype)
    decoded = dim.inverse_transform(codes)
    if np_dtype is np.float64:
        assert decoded == values
    assert all(type(v) is int and 1 <= v <= 1000 for v in decoded)


# -- random values ------------------------------------------------------------


@pytest.mark.parametrize("dim", [Real(-2, 3), Real(1, 1e4, "log-uniform")])
def test_real_rvs(dim, global_random_seed):
    values = dim.rvs(500, random_state=global_random_seed)
    assert len(values) == 500 and all(type(v) is float and v in dim for v in values)
    assert values == dim.rvs(500, random_state=global_random_seed)
    if dim.is_log:
        # Uniform in log space: half of the values lie below the geometric middle.
        assert 0.4 < np.mean(np.asarray(values) < 100.0) < 0.6


def test_integer_rvs_covers_the_end_points(global_random_seed):
    values = Integer(1, 4).rvs(400, random_state=global_random_seed)
    assert all(type(v) is int for v in values)
    counts = np.bincount(values, minlength=5)[1:]
    assert counts.min() > 60  # about 100 each: end points get full bins


def test_rvs_checks_n():
    assert Real(0, 1).rvs(0) == []
    with pytest.raises(ValueError, match="n must be a non-negative int, got -1"):
        Real(0, 1).rvs(-1)
    with pytest.raises(TypeError, match="n must be a non-negative int"):
        Real(0, 1).rvs(2.0)  # type: ignore[arg-type]


def test_rvs_consumes_a_random_state():
    rng = np.random.RandomState(0)
    assert Real(0, 1).rvs(3, random_state=rng) != Real(0, 1).rvs(3, random_state=rng)


@pytest.mark.parametrize(
    ("dim", "good", "bad", "match"),
    [
        (Real(0.0, 1.0, name="a"), [0.0, 1, 0.5], [0.5, 1.5], "1.5 is outside"),
        (Real(0.0, 1.0, name="a"), [0.5], [0.5, True], "expected a real"),
        (Real(0.0, 1.0, name="a"), [0.5], [math.nan], "nan is outside"),
        (Integer(1, 5, name="k"), [1, 5, 3], [1, 6], "6 is outside"),
        (Integer(1, 5, name="k"), [1], [2, 2.5], "expected an integer"),
        (Integer(1, 5, name="k"), [1], [False], "expected an integer"),
    ],
)
def test_bulk_transform_checks_like_per_value_validation(dim, good, bad, match):
    # plain Python numbers take a bulk check; anything else the per-value one
    mixed = [np.float64(v) if isinstance(dim, Real) else np.int64(v) for v in good]
    np.testing.assert_array_equal(dim.transform(good), dim.transform(mixed))
    with pytest.raises(ValueError, match=match):
        dim.transform(bad)
