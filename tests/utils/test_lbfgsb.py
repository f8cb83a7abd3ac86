"""The direct L-BFGS-B loop matches ``scipy.optimize.minimize`` exactly."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from skbo.utils import lbfgsb
from skbo.utils.lbfgsb import LbfgsbResult, run_lbfgsb

needs_kernel = pytest.mark.skipif(
    lbfgsb._setulb() is None, reason="SciPy's L-BFGS-B kernel of the known signature"
)


def _problem(seed: int, n: int) -> tuple[object, list[npt.NDArray[np.float64]]]:
    """A bumpy quadratic recording every point it is evaluated at."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, n))
    Q = A @ A.T / n + 0.1 * np.eye(n)
    c = rng.uniform(-2.0, 2.0, n)
    seen: list[npt.NDArray[np.float64]] = []

    def fun(x: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.float64]]:
        seen.append(x.copy())
        r = x - c
        return float(r @ Q @ r + np.sin(7 * x).sum()), 2 * Q @ r + 7 * np.cos(7 * x)

    return fun, seen


_BOUNDS = {
    "box": (np.zeros(9), np.ones(9)),
    "mixed": (
        np.array([-np.inf, 0, -1, -np.inf, -2, 0, -np.inf, 1, -5.0]),
        np.array([np.inf, np.inf, 1, 2, np.inf, 3, 0.5, 4, 5.0]),
    ),
    "none": (np.full(9, -np.inf), np.full(9, np.inf)),
}


@needs_kernel
@pytest.mark.parametrize("kind", sorted(_BOUNDS))
@pytest.mark.parametrize(("maxiter", "maxfun"), [(200, None), (3, None), (50, 4)])
@pytest.mark.parametrize("seed", [0, 1])
def test_direct_loop_matches_minimize(
    kind: str, maxiter: int, maxfun: int | None, seed: int
) -> None:
    lb, ub = _BOUNDS[kind]
    results: list[LbfgsbResult] = []
    points: list[list[npt.NDArray[np.float64]]] = []
    for direct in (True, False):
        fun, seen = _problem(seed, 9)
        results.append(
            run_lbfgsb(
                fun,  # type: ignore[arg-type]
                np.full(9, 0.5),
                lb,
                ub,
                maxiter=maxiter,
                maxfun=maxfun,
                ftol=1e-10,
                gtol=1e-8,
                direct=direct,
            )
        )
        points.append(seen)
    fast, reference = results
    assert len(points[0]) == len(points[1]) == fast.nfev == reference.nfev
    for a, b in zip(*points, strict=True):
        np.testing.assert_array_equal(a, b)  # the very same iterates
    np.testing.assert_array_equal(fast.x, reference.x)
    assert fast.fun == reference.fun
    assert (fast.nit, fast.success) == (reference.nit, reference.success)
    assert fast.success == fast.message.startswith("CONVERGENCE")


def _in_unit_box(fun: object, x0: float, n: int, **options: object) -> LbfgsbResult:
    kwargs: dict[str, object] = {"maxiter": 100, "ftol": 1e-10, "gtol": 1e-8}
    kwargs.update(options)
    return run_lbfgsb(fun, np.full(n, x0), np.zeros(n), np.ones(n), **kwargs)  # type: ignore[arg-type]


def test_without_the_kernel_minimize_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lbfgsb, "_setulb", lambda: None)
    fun, _ = _problem(0, 9)
    res = _in_unit_box(fun, 0.5, 9)
    assert res.success and res.nfev > 1
    assert np.all((res.x >= 0) & (res.x <= 1))
    with pytest.raises(RuntimeError, match="direct=True needs SciPy"):
        _in_unit_box(fun, 0.5, 9, maxiter=5, direct=True)


def test_start_outside_the_box_is_clipped() -> None:
    fun, seen = _problem(0, 3)
    _in_unit_box(fun, 5.0, 3, maxiter=10)
    np.testing.assert_array_equal(seen[0], np.ones(3))


def test_an_exception_in_fun_propagates() -> None:
    def fun(x: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.float64]]:
        raise ArithmeticError("boom")

    with pytest.raises(ArithmeticError, match="boom"):
        run_lbfgsb(
            fun, np.zeros(2), np.zeros(2), np.ones(2), maxiter=5, ftol=1e-9, gtol=1e-6
        )
