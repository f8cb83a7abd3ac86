"""Tests of skbo/space/design.py."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from skbo.space.design import sobol


@pytest.mark.parametrize(("d", "n"), [(1, 8), (3, 5), (7, 1), (2, 0)])
def test_sobol_shape_range_and_determinism(d, n, global_random_seed):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # n not a power of 2 is silent
        U = sobol(d, n, random_state=global_random_seed)
    assert U.shape == (n, d) and U.dtype == np.float64
    assert ((U >= 0) & (U < 1)).all()
    np.testing.assert_array_equal(U, sobol(d, n, random_state=global_random_seed))


def test_sobol_is_balanced_and_scrambled():
    U = sobol(1, 8, random_state=0)[:, 0]
    assert sorted(np.floor(U * 8).astype(int).tolist()) == list(range(8))
    assert not np.array_equal(U, sobol(1, 8, random_state=1)[:, 0])


def test_sobol_draws_its_seed_from_a_random_state():
    rng = np.random.RandomState(0)
    assert not np.array_equal(sobol(2, 4, rng), sobol(2, 4, rng))


def test_sobol_checks_its_arguments():
    with pytest.raises(ValueError, match="d must be at least 1"):
        sobol(0, 4)
    with pytest.raises(ValueError, match="n must be a non-negative int, got -2"):
        sobol(2, -2)
    with pytest.raises(TypeError, match="d must be a non-negative int"):
        sobol(2.0, 4)  # type: ignore[arg-type]
