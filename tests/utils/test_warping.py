"""Tests of the outcome power warps (skbo.utils.warping)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.preprocessing import PowerTransformer

from skbo.utils.warping import POWER_WARPS, fit_power_warp, power_warp


def _heavy_tailed(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.lognormal(0.0, 2.0, 30), -rng.random(5)])


# NOTE: seed 3's maximum-likelihood lambda (-7.9) lies below skbo's grid [-6, 1].
@pytest.mark.parametrize("seed", [0, 1, 2, 4, 5])
def test_matches_scikit_learn_power_transformer(seed: int) -> None:
    y = _heavy_tailed(seed)
    z = ((y - y.mean()) / y.std()).reshape(-1, 1)  # Yeo-Johnson warps z-scores
    reference = PowerTransformer(method="yeo-johnson").fit(z)
    lam = float(reference.lambdas_[0])
    assert lam < 1.0
    assert fit_power_warp(z.ravel()) == pytest.approx(lam, abs=0.026)
    expected = reference.transform(z).ravel()
    np.testing.assert_allclose(power_warp(y), expected, atol=0.05)


@pytest.mark.parametrize("method", POWER_WARPS)
def test_invariant_to_units_and_offset(method: str) -> None:
    y = _heavy_tailed(1)
    if method == "box-cox":
        y = y - y.min() + 0.5  # positive: the values are warped themselves
        np.testing.assert_allclose(power_warp(250.0 * y, method), power_warp(y, method))
    else:
        np.testing.assert_allclose(
            power_warp(250.0 * y - 7.0, method), power_warp(y, method), atol=1e-9
        )


@pytest.mark.parametrize("method", POWER_WARPS)
def test_rank_preserving_and_standardized(method: str) -> None:
    y = _heavy_tailed(0)
    z = power_warp(y, method)
    np.testing.assert_array_equal(np.argsort(z), np.argsort(y))
    assert z.mean() == pytest.approx(0.0, abs=1e-12)
    assert z.std() == pytest.approx(1.0)
    # The bad (large) tail is compressed relative to the good one.
    assert np.ptp(z[y > np.median(y)]) < np.ptp(z[y <= np.median(y)]) * 10


def test_lambda_is_capped_at_one() -> None:
    y = -np.exp(np.linspace(0.0, 3.0, 20))  # heavy *good* tail: lambda > 1 unwarped
    assert PowerTransformer().fit(y.reshape(-1, 1)).lambdas_[0] > 1.0
    assert fit_power_warp(y) == 1.0
    assert power_warp(y) is y


@pytest.mark.parametrize(
    "y",
    [np.array([1.0, 2.0]), np.ones(5), np.array([0.0, 0.0, 1.0, 1e308, -1e308])],
    ids=["too-few", "constant", "overflow"],
)
def test_degenerate_inputs_are_left_alone(y: np.ndarray) -> None:
    z = power_warp(y)
    assert np.all(np.isfinite(z)) or z is y
    assert power_warp(y, None) is y


def test_box_cox_shifts_non_positive_values() -> None:
    y = np.array([-3.0, 0.0, 1.0, 2.0, 50.0, 400.0])
    z = power_warp(y, "box-cox")
    assert np.all(np.isfinite(z))
    np.testing.assert_array_equal(np.argsort(z), np.argsort(y))


def test_bad_method() -> None:
    with pytest.raises(ValueError, match="method must be one of"):
        power_warp(np.arange(5.0), "log")
    with pytest.raises(ValueError, match="method must be one of"):
        fit_power_warp(np.arange(5.0), "log")
