"""Tests of benchmarks/space.py: sampling laws, encodings and tool translations."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `benchmarks` lives at the repository root
    sys.path.insert(0, str(ROOT))

from benchmarks.mixed_problem import DIMS  # noqa: E402
from benchmarks.space import (  # noqa: E402
    Dim,
    as_list,
    as_point,
    categorical,
    decode,
    discrete_values,
    encode,
    from_unit,
    integer,
    real,
    sample,
    sobol,
    to_optuna,
    to_scipy,
    to_skopt,
)


def test_dim_validation_names_the_dimension() -> None:
    with pytest.raises(ValueError, match=r"'a'.*kind"):
        Dim("a", "float")
    with pytest.raises(ValueError, match=r"'b'.*low < high"):
        real("b", 1.0, 1.0)
    with pytest.raises(ValueError, match=r"'c'.*log"):
        integer("c", 0, 5, log=True)
    with pytest.raises(ValueError, match=r"'d'.*2 choices"):
        categorical("d", ["x"])


def test_from_unit_integer_bins_are_equal_width() -> None:
    dim = integer("k", 1, 4)
    u = (np.arange(4000) + 0.5) / 4000
    values = [p["k"] for p in from_unit([dim], u[:, None])]
    assert np.bincount(values, minlength=5)[1:].tolist() == [1000] * 4


def test_from_unit_log_integer_and_log_real_stay_in_bounds() -> None:
    dims = (integer("b", 4, 512, log=True), real("lr", 1e-5, 1e-1, log=True))
    points = sample(dims, 2000, np.random.RandomState(0))
    b = np.array([p["b"] for p in points])
    lr = np.array([p["lr"] for p in points])
    assert (
        b.min() >= 4 and b.max() <= 512 and all(isinstance(p["b"], int) for p in points)
    )
    assert lr.min() >= 1e-5 and lr.max() <= 1e-1
    # log-uniform: about half of the mass below the geometric mean
    assert 0.45 < np.mean(lr < 1e-3) < 0.55
    assert 0.4 < np.mean(b < np.sqrt(4 * 512)) < 0.6


def test_categorical_sampling_covers_every_choice() -> None:
    points = sobol(DIMS, 64, seed=0)
    assert {p["kind"] for p in points} == {"linear", "rbf", "poly"}
    assert all(isinstance(p["kind"], str) for p in points)


def test_encode_decode_roundtrip_on_mixed_space() -> None:
    points = sample(DIMS, 50, np.random.RandomState(1))
    Z = encode(DIMS, points)
    assert Z.shape == (50, len(DIMS))
    assert Z.min() >= 0.0 and Z.max() <= 1.0
    back = decode(DIMS, Z)
    for p, q in zip(points, back, strict=True):
        for d in DIMS:
            if d.kind == "real":
                assert q[d.name] == pytest.approx(p[d.name], rel=1e-9)
            else:
                assert q[d.name] == p[d.name]


def test_discrete_values_are_the_encodings_of_allowed_values() -> None:
    ints, cats = discrete_values(DIMS)
    assert sorted(ints) == [2, 4] and sorted(cats) == [5]
    assert len(ints[2]) == 32 and ints[2][0] == 0.0 and ints[2][-1] == 1.0
    assert cats[5] == [0.0, 0.5, 1.0]
    n_units = [
        p["n_units"] for p in decode(DIMS, np.tile(np.array(ints[2])[:, None], 6))
    ]
    assert n_units == list(range(1, 33))


def test_as_point_and_as_list_are_inverse() -> None:
    point = {"x1": 0.1, "x2": 0.0, "n_units": 3, "lr": 1e-3, "batch": 8, "kind": "rbf"}
    assert as_point(DIMS, as_list(DIMS, point)) == point


def test_to_skopt_matches_the_space() -> None:
    pytest.importorskip("skopt", reason="scikit-optimize is not installed")
    space = to_skopt(DIMS)
    assert [d.name for d in space] == [d.name for d in DIMS]
    assert space[3].prior == "log-uniform" and space[4].prior == "log-uniform"
    assert list(space[5].categories) == ["linear", "rbf", "poly"]


def test_to_optuna_matches_the_space() -> None:
    pytest.importorskip("optuna", reason="optuna is not installed")
    dists = to_optuna(DIMS)
    assert dists["lr"].log and dists["batch"].log and not dists["x1"].log
    assert (dists["batch"].low, dists["batch"].high) == (4, 512)


def test_to_scipy_samples_in_bounds() -> None:
    dists = to_scipy(DIMS)
    rng = np.random.RandomState(0)
    for d in DIMS:
        dist = dists[d.name]
        if d.kind == "categorical":
            assert list(dist) == list(d.choices)
            continue
        values = np.asarray(dist.rvs(size=200, random_state=rng))
        assert values.min() >= d.low and values.max() <= d.high
        if d.kind == "int":
            assert np.all(values == np.round(values))
