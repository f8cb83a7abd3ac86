"""Tests of skbo.test_functions: known optima, input kinds, noise, unit cube."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from skbo.test_functions import (
    Ackley,
    Branin,
    Hartmann,
    Levy,
    Rosenbrock,
    StyblinskiTang,
    SyntheticTestFunction,
)

# (function, the optimum value quoted in the literature, tolerance)
CASES = [
    (Branin(), 0.397887, 1e-6),
    (Hartmann(dim=3), -3.86278, 1e-5),
    (Hartmann(dim=6), -3.32237, 1e-5),
    (Ackley(dim=2), 0.0, 1e-12),
    (Ackley(dim=5), 0.0, 1e-12),
    (Levy(dim=1), 0.0, 1e-12),
    (Levy(dim=4), 0.0, 1e-12),
    (Rosenbrock(dim=2), 0.0, 0.0),
    (Rosenbrock(dim=5), 0.0, 0.0),
    # Commonly quoted as -39.16599 d; the true minimum is -39.166166 d.
    (StyblinskiTang(dim=1), -39.16599, 2e-4),
    (StyblinskiTang(dim=3), -39.16599 * 3, 6e-4),
]
IDS = [f"{type(f).__name__}{f.dim}" for f, _, _ in CASES]


@pytest.mark.parametrize(("f", "quoted", "tol"), CASES, ids=IDS)
def test_optimum_value_at_optimizers(
    f: SyntheticTestFunction, quoted: float, tol: float
) -> None:
    assert f.optimal_value == pytest.approx(quoted, abs=tol)
    values = f(f.optimizers)
    assert isinstance(values, np.ndarray)
    assert values.shape == (f.optimizers.shape[0],)
    np.testing.assert_allclose(values, f.optimal_value, atol=max(tol, 1e-5))


@pytest.mark.parametrize(("f", "quoted", "tol"), CASES, ids=IDS)
def test_optimum_is_a_lower_bound(
    f: SyntheticTestFunction, quoted: float, tol: float, global_random_seed: int
) -> None:
    rng = np.random.RandomState(global_random_seed)
    X = f.from_unit(rng.rand(2000, f.dim))
    assert f(X).min() >= f.optimal_value - 1e-6


def test_attributes() -> None:
    for f, _, _ in CASES:
        assert isinstance(f.bounds, np.ndarray)
        assert f.bounds.shape == (2, f.dim)
        assert (f.bounds[0] < f.bounds[1]).all()
        assert f.optimizers.shape[1] == f.dim
        assert ((f.optimizers >= f.bounds[0]) & (f.optimizers <= f.bounds[1])).all()
    np.testing.assert_array_equal(Branin().bounds, [[-5.0, 0.0], [10.0, 15.0]])
    np.testing.assert_array_equal(Ackley(3).bounds, [[-32.768] * 3, [32.768] * 3])
    np.testing.assert_array_equal(Levy(2).bounds, [[-10.0] * 2, [10.0] * 2])
    np.testing.assert_array_equal(Rosenbrock(2).bounds, [[-5.0] * 2, [10.0] * 2])
    np.testing.assert_array_equal(StyblinskiTang(2).bounds, [[-5.0] * 2, [5.0] * 2])
    assert Branin().optimizers.shape == (3, 2)
    np.testing.assert_allclose(
        Hartmann(6).optimizers,
        [[0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573]],
    )
    assert "Branin" in repr(Branin())


def test_known_values() -> None:
    # Hand-computed values away from the optimum.
    assert Rosenbrock()([0.0, 0.0]) == 1.0
    assert Rosenbrock()([1.0, 2.0]) == 100.0
    assert StyblinskiTang(1)([1.0]) == pytest.approx(0.5 * (1 - 16 + 5))
    b = 5.1 / (4 * math.pi**2)
    c, t = 5 / math.pi, 1 / (8 * math.pi)
    expected = (15 - b * 25 - 5 * c - 6) ** 2 + 10 * (1 - t) * math.cos(-5) + 10
    assert Branin()([-5.0, 15.0]) == pytest.approx(expected)


@pytest.mark.parametrize(("f", "quoted", "tol"), CASES, ids=IDS)
def test_tensor_input(
    f: SyntheticTestFunction,
    quoted: float,
    tol: float,
    dtype: torch.dtype,
    device: torch.device,
) -> None:
    X = torch.rand(4, 3, f.dim, dtype=dtype, device=device)
    Xd = torch.as_tensor(f.from_unit(X.cpu().double().numpy()), dtype=dtype).to(device)
    out = f(Xd)
    assert isinstance(out, torch.Tensor)
    assert out.shape == (4, 3)
    assert out.dtype == dtype
    assert out.device == device
    expected = f(Xd.cpu().double().numpy())
    rtol = 1e-10 if dtype == torch.float64 else 1e-4
    np.testing.assert_allclose(
        out.cpu().double().numpy(), expected, rtol=rtol, atol=rtol
    )
    opt = torch.as_tensor(f.optimizers, dtype=dtype, device=device)
    atol = max(tol, 1e-5) if dtype == torch.float64 else 1e-3 * max(1.0, abs(quoted))
    assert torch.allclose(
        f.evaluate_true(opt),
        torch.full((opt.shape[0],), f.optimal_value, dtype=dtype, device=device),
        atol=atol,
    )


def test_input_kinds() -> None:
    f = Hartmann(3)
    point = [0.1, 0.2, 0.3]
    v_list = f(point)
    v_tuple = f(tuple(point))
    assert isinstance(v_list, float)
    assert v_list == v_tuple
    v_arr = f(np.array(point))
    assert isinstance(v_arr, np.ndarray)
    assert v_arr.shape == ()
    assert float(v_arr) == v_list
    v_2d = f(np.array([point, point]))
    assert v_2d.shape == (2,)
    v_nested = f([point, point])
    assert isinstance(v_nested, np.ndarray)
    np.testing.assert_array_equal(v_nested, v_2d)
    v_t = f(torch.tensor(point, dtype=torch.float64))
    assert isinstance(v_t, torch.Tensor)
    assert v_t.shape == ()
    assert float(v_t) == v_list
    # Integer inputs are promoted to floating point.
    assert isinstance(Rosenbrock()(torch.tensor([1, 1])), torch.Tensor)
    assert Rosenbrock()(np.array([1, 1])) == 0.0


def test_noise_reproducible_and_separate_from_true() -> None:
    f1 = Branin(noise_std=0.5, random_state=0)
    f2 = Branin(noise_std=0.5, random_state=0)
    X = np.random.RandomState(1).rand(50, 2) * 10
    y1, y2 = f1(X), f2(X)
    np.testing.assert_array_equal(y1, y2)
    true = f1.evaluate_true(X)
    resid = y1 - true
    assert 0.3 < resid.std() < 0.7
    # Fresh draws on the next call.
    assert not np.array_equal(f1(X), y1)
    # Tensors get noise of their own dtype and device.
    yt = f1(torch.tensor(X, dtype=torch.float32))
    assert yt.dtype == torch.float32
    assert Branin(noise_std=0.0)([1.0, 2.0]) == Branin()([1.0, 2.0])


def test_unit_cube_helpers(dtype: torch.dtype, device: torch.device) -> None:
    f = Branin()
    U = torch.rand(6, 2, dtype=dtype, device=device)
    X = f.from_unit(U)
    assert isinstance(X, torch.Tensor)
    assert X.dtype == dtype
    assert X.device == device
    assert torch.allclose(f.to_unit(X), U, atol=1e-6)
    assert torch.allclose(f.evaluate_unit(U), f(X))
    np.testing.assert_allclose(
        f.to_unit(f.optimizers[0].tolist()), [(5 - math.pi) / 15, 12.275 / 15]
    )
    assert f.evaluate_unit(f.to_unit(f.optimizers[1]).tolist()) == pytest.approx(
        0.397887, abs=1e-6
    )
    assert isinstance(f.from_unit((0.5, 0.5)), np.ndarray)


def test_bad_inputs() -> None:
    f = Branin()
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
        f([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="shape"):
        f(torch.tensor(1.0))
    with pytest.raises(TypeError, match=r"torch\.Tensor, a numpy\.ndarray"):
        f("1, 2")  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="dim must be 3 or 6"):
        Hartmann(dim=4)
    with pytest.raises(ValueError, match="dim must be an integer >= 2"):
        Rosenbrock(dim=1)
    with pytest.raises(ValueError, match="dim must be an integer >= 1"):
        Ackley(dim=0)
    with pytest.raises(ValueError, match="dim must be an integer"):
        Levy(dim=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="noise_std"):
        Branin(noise_std=-1.0)
    with pytest.raises(ValueError, match="noise_std"):
        Branin(noise_std=math.nan)
