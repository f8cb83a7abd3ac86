"""Tests of skbo/space/parse.py: shorthands, scipy.stats distributions, errors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.stats import qmc

from skbo.space import Categorical, Integer, Real, check_dimension

# -- tuples -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ((1, 10), Integer(1, 10)),
        ((np.int64(1), np.int32(10)), Integer(1, 10)),
        ((1.0, 10), Real(1, 10)),
        ((1, 10.0), Real(1, 10)),
        ((np.float32(0.5), 1), Real(0.5, 1)),
        ((1, 10, "log-uniform"), Integer(1, 10, "log-uniform")),
        ((1e-3, 1e3, "log-uniform"), Real(1e-3, 1e3, "log-uniform")),
        ((0.0, 1.0, "uniform"), Real(0, 1)),
    ],
)
def test_numeric_tuples_are_ranges(spec, expected):
    dim = check_dimension(spec)
    assert dim == expected
    assert type(dim) is type(expected)


@pytest.mark.parametrize("spec", [(True, 5), (0, False), (np.bool_(True), 2)])
def test_bools_are_not_bounds(spec):
    with pytest.raises(TypeError, match="a tuple must be a numeric range"):
        check_dimension(spec)


@pytest.mark.parametrize(
    "spec", [("a", "b"), (1, "a"), (None, 1), (1,), (1, 2, 3, 4), ()]
)
def test_other_tuples_are_refused_with_a_hint(spec):
    with pytest.raises(
        TypeError,
        match=r"dimension 'p': a tuple must be a numeric range \(low, high\) or "
        r"\(low, high, prior\).*give the choices of a categorical dimension as a list",
    ):
        check_dimension(spec, name="p")


def test_third_item_must_be_a_prior():
    with pytest.raises(TypeError, match=r"third item .* got 3; give the choices"):
        check_dimension((1, 2, 3))
    with pytest.raises(ValueError, match="prior must be one of"):
        check_dimension((0.1, 1.0, "log"))


def test_invalid_ranges_are_refused():
    with pytest.raises(ValueError, match="low must be smaller than high"):
        check_dimension((5, 1))
    with pytest.raises(ValueError, match="needs low > 0"):
        check_dimension((0.0, 1.0, "log-uniform"))


# -- lists and arrays ---------------------------------------------------------


@pytest.mark.parametrize(
    "spec", [[1, 10], [0.1, 0.5], ["a"], [(50,), (100, 50)], [None, True], np.arange(3)]
)
def test_lists_and_arrays_are_categorical(spec):
    dim = check_dimension(spec, name="c")
    assert isinstance(dim, Categorical) and dim.name == "c"
    assert list(dim.categories) == list(spec)


def test_empty_list_is_refused():
    with pytest.raises(ValueError, match="categories must not be empty"):
        check_dimension([])


# -- dimension objects --------------------------------------------------------


def test_dimensions_pass_through_and_are_named_if_unnamed():
    dim = Real(0, 1)
    assert check_dimension(dim) is dim
    named = check_dimension(dim, name="a")
    assert named == Real(0, 1, name="a") and dim.name is None
    already = Integer(1, 3, name="k")
    assert check_dimension(already, name="k") is already
    with pytest.raises(ValueError, match="already named 'k'; use the same name"):
        check_dimension(already, name="other")


# -- scipy.stats --------------------------------------------------------------


@pytest.mark.parametrize(
    ("dist", "expected"),
    [
        (stats.loguniform(1e-3, 1e3), Real(1e-3, 1e3, "log-uniform")),
        (stats.loguniform(a=1e-2, b=1.0), Real(1e-2, 1.0, "log-uniform")),
        (stats.reciprocal(1, 100), Real(1, 100, "log-uniform")),
        (stats.loguniform(1, 10, scale=10), Real(10, 100, "log-uniform")),
        (stats.uniform(), Real(0, 1)),
        (stats.uniform(0.5, 2), Real(0.5, 2.5)),
        (stats.uniform(loc=-1, scale=3), Real(-1, 2)),
        (stats.randint(1, 10), Integer(1, 9)),
        (stats.randint(low=0, high=5, loc=10), Integer(10, 14)),
        (stats.randint(2, 4, 1), Integer(3, 4)),
    ],
)
def test_frozen_scipy_distributions_convert_exactly(dist, expected):
    dim = check_dimension(dist, name="p")
    assert dim == expected.with_name("p")
    low, high = dist.support()
    assert (dim.low, dim.high) == pytest.approx((low, high), rel=1e-15)


@pytest.mark.parametrize("dist", [stats.norm(0, 1), stats.expon(), stats.poisson(3)])
def test_other_distributions_are_refused(dist):
    with pytest.raises(
        ValueError,
        match=r"has no exact dimension; supported \(frozen\): loguniform\(a, b\), "
        r"reciprocal\(a, b\), uniform\(loc, scale\), randint\(low, high\)",
    ):
        check_dimension(dist)


def test_log_uniform_with_a_shift_is_refused():
    with pytest.raises(
        ValueError, match=r"loguniform with loc != 0 is not log-uniform"
    ):
        check_dimension(stats.loguniform(1, 10, loc=1))


def test_degenerate_scipy_distributions_are_refused():
    with pytest.raises(
        ValueError, match=r"scipy.stats randint\(low=1, high=2, loc=0\)"
    ):
        check_dimension(stats.randint(1, 2))
    with pytest.raises(
        ValueError, match=r"scipy.stats uniform\(loc=1, scale=-1\): Real dimension"
    ):
        check_dimension(stats.uniform(1, -1))
    with pytest.raises(ValueError, match="randint needs whole numbers"):
        check_dimension(stats.randint(1.5, 4))


def _tampered(args, kwds):
    # Recent SciPy checks the arguments when freezing; older ones do not.
    dist = stats.loguniform(1, 10)
    dist.args, dist.kwds = args, kwds
    return dist


def test_scipy_arguments_are_checked():
    with pytest.raises(
        ValueError, match=r"takes the arguments \['a', 'b', 'loc', 'scale'\]"
    ):
        check_dimension(_tampered((1, 10), {"sclae": 2}))
    with pytest.raises(ValueError, match=r"is missing \['b'\]"):
        check_dimension(_tampered((1,), {}))
    with pytest.raises(ValueError, match="takes the arguments"):
        check_dimension(_tampered((1, 10, 0, 1, 5), {}))
    with pytest.raises(TypeError, match="a must be a real number"):
        check_dimension(stats.loguniform("1", 10))


def test_unfrozen_distributions_and_other_scipy_objects_are_refused():
    with pytest.raises(
        TypeError, match=r"scipy.stats distribution 'uniform' itself; freeze"
    ):
        check_dimension(stats.uniform)
    with pytest.raises(TypeError, match="cannot make a dimension from Sobol"):
        check_dimension(qmc.Sobol(2))


# -- everything else ----------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "hint"),
    [
        ("rbf", r"for a single fixed value use \['rbf'\]"),
        (range(1, 5), r"use Integer\(1, 4\) for a range or list\(range\(...\)\)"),
        ({1, 2}, "a set has no order"),
        ({"a": 1}, "expected a dimension"),
        (None, "expected a dimension"),
        (3, "expected a dimension"),
        (np.float64(3.0), "expected a dimension"),
        (np.zeros((2, 2)), "expected a dimension"),
    ],
)
def test_unknown_specs_are_refused_with_a_hint(spec, hint):
    with pytest.raises(TypeError, match=f"(?s)cannot make a dimension from .*{hint}"):
        check_dimension(spec)


def test_name_is_checked():
    with pytest.raises(TypeError, match="name must be a string or None"):
        check_dimension((0, 1), name=1)
