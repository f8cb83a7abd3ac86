"""Tests of skbo.optim.optimize_acqf on continuous problems, q-batches and bad input."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
from torch import Tensor

from skbo.exceptions import OptimizationWarning
from skbo.optim import optimize_acqf
from skbo.test_functions import Branin, Hartmann, Levy

Surface = Callable[[Tensor], Tensor]


class SurfaceAcq(torch.nn.Module):
    """Acquisition ``sum_q g(x_q)`` minus a bump around every pending point.

    Fulfils the protocol of ``optimize_acqf``: ``(b, q, d) -> (b,)``,
    ``X_pending`` and ``set_X_pending``. ``penalty`` > 0 makes it avoid the
    pending points (as a real batch acquisition function does).
    """

    def __init__(self, g: Surface, penalty: float = 0.0, width: float = 0.05) -> None:
        super().__init__()
        self.g = g
        self.penalty = penalty
        self.width = width
        self.X_pending: Tensor | None = None
        self.threads_seen: set[int] = set()
        self.calls: list[tuple[int, bool]] = []

    def set_X_pending(self, X_pending: Tensor | None) -> None:
        self.X_pending = None if X_pending is None else X_pending.detach().clone()

    def forward(self, X: Tensor) -> Tensor:
        self.threads_seen.add(torch.get_num_threads())
        self.calls.append((X.shape[0], X.requires_grad))
        values = self.g(X)  # (b, q)
        if self.penalty and self.X_pending is not None:
            sq = ((X.unsqueeze(-2) - self.X_pending.to(X)) ** 2).sum(-1)  # (b, q, m)
            values = values - self.penalty * torch.exp(-sq / (2 * self.width**2)).sum(
                -1
            )
        return values.sum(-1)


def neg_branin(X: Tensor) -> Tensor:
    f = Branin()
    return -f.evaluate_true(f.from_unit(X))


def neg_levy(X: Tensor) -> Tensor:
    return -Levy(dim=2).evaluate_true(Levy(dim=2).from_unit(X))


def bump(X: Tensor) -> Tensor:
    return torch.exp(-((X - 0.5) ** 2).sum(-1) / 0.5)


def unit(d: int, dtype: torch.dtype = torch.float64, device: object = "cpu") -> Tensor:
    kw = {"dtype": dtype, "device": device}
    return torch.stack([torch.zeros(d, **kw), torch.ones(d, **kw)])  # type: ignore[arg-type]


def grid_max(g: Surface, n: int = 200, dtype: torch.dtype = torch.float64) -> float:
    t = torch.linspace(0, 1, n, dtype=dtype)
    G = torch.cartesian_prod(t, t)
    return float(g(G).max())


# ------------------------------------------------------------------ quality
@pytest.mark.parametrize("g", [neg_branin, neg_levy], ids=["branin", "levy"])
def test_global_max_at_least_as_good_as_dense_grid(
    g: Surface, dtype: torch.dtype, device: torch.device
) -> None:
    acqf = SurfaceAcq(g)
    x, v = optimize_acqf(acqf, unit(2, dtype, device), seed=0)
    assert x.shape == (1, 2)
    assert v.shape == (1,)
    assert x.dtype == v.dtype == dtype
    assert x.device == v.device == device
    tol = 1e-9 if dtype == torch.float64 else 1e-4
    best_grid = grid_max(g)
    assert float(v[0]) >= best_grid - tol
    # The reported value is the value at the returned point.
    assert float(v[0]) == pytest.approx(float(acqf(x.unsqueeze(0))), abs=tol)


def test_branin_finds_a_known_maximizer() -> None:
    f = Branin()
    x, v = optimize_acqf(SurfaceAcq(neg_branin), unit(2), seed=1)
    assert float(v[0]) == pytest.approx(-f.optimal_value, abs=1e-7)
    opt = torch.as_tensor(f.to_unit(f.optimizers))
    assert float((opt - x).abs().amax(-1).min()) < 1e-4


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hartmann6_global_maximum_with_default_settings(seed: int) -> None:
    f = Hartmann(dim=6)
    x, v = optimize_acqf(SurfaceAcq(lambda X: -f.evaluate_true(X)), unit(6), seed=seed)
    assert float(v[0]) == pytest.approx(-f.optimal_value, abs=1e-4)
    assert float((x[0] - torch.as_tensor(f.optimizers[0])).abs().max()) < 1e-3


def test_one_batched_call_per_step_and_for_the_raw_samples() -> None:
    acqf = SurfaceAcq(neg_branin)
    optimize_acqf(acqf, unit(2), num_restarts=10, raw_samples=300, seed=0)
    assert acqf.calls[0] == (300, False)
    grad_sizes = [b for b, grad in acqf.calls if grad]
    # Every L-BFGS-B step evaluates all restarts at once (screening: 10, then
    # the refined 2), never one restart at a time.
    assert set(grad_sizes) <= {10, 2}
    assert grad_sizes[0] == 10


# ------------------------------------------------------------------ q > 1
@pytest.mark.parametrize("pending", [None, [[0.9, 0.1]]])
def test_greedy_q_batch_is_distinct_and_pending_restored(
    pending: list[list[float]] | None,
) -> None:
    acqf = SurfaceAcq(bump, penalty=2.0)
    original = None if pending is None else torch.tensor(pending, dtype=torch.float64)
    acqf.set_X_pending(original)
    before = acqf.X_pending
    x, v = optimize_acqf(acqf, unit(2), q=3, seed=0)
    assert x.shape == (3, 2)
    assert v.shape == (3,)
    # Restored: the same pending points as before the call.
    if original is None:
        assert acqf.X_pending is None
    else:
        assert acqf.X_pending is not None and torch.equal(acqf.X_pending, original)
    dists = torch.cdist(x, x) + torch.eye(3, dtype=x.dtype)
    assert float(dists.min()) > 0.05
    # The first pick is the bump's top; the later ones are pushed away from it.
    if pending is None:
        assert torch.allclose(x[0], torch.full((2,), 0.5, dtype=x.dtype), atol=1e-4)
    # Each value is conditioned on the earlier picks (and the original pending).
    for i in range(3):
        earlier = [x[:i]] if original is None else [original, x[:i]]
        acqf.set_X_pending(torch.cat(earlier) if i or original is not None else None)
        assert float(v[i]) == pytest.approx(
            float(acqf(x[i : i + 1].unsqueeze(0))), abs=1e-9
        )
    acqf.set_X_pending(before)


def test_q_batch_restores_pending_on_error() -> None:
    class Failing(SurfaceAcq):
        def forward(self, X: Tensor) -> Tensor:
            if self.X_pending is not None and self.X_pending.shape[0] >= 1:
                raise RuntimeError("boom")
            return super().forward(X)

    acqf = Failing(bump)
    with pytest.raises(RuntimeError, match="boom"):
        optimize_acqf(acqf, unit(2), q=2, seed=0)
    assert acqf.X_pending is None


def test_q_batch_distinct_without_pending_penalty() -> None:
    # The acquisition ignores pending points: every greedy step has the same
    # argmax, which must not be returned twice.
    x, _ = optimize_acqf(SurfaceAcq(bump), unit(2), q=3, seed=0)
    diff = (x.unsqueeze(0) - x.unsqueeze(1)).abs().amax(-1) + torch.eye(
        3, dtype=x.dtype
    )
    assert float(diff.min()) > 1e-9


# ------------------------------------------------------------------ constraints
def test_fixed_features(dtype: torch.dtype) -> None:
    acqf = SurfaceAcq(neg_branin)
    x, v = optimize_acqf(acqf, unit(2, dtype), fixed_features={0: 0.25}, q=2, seed=0)
    assert bool((x[:, 0] == 0.25).all())
    t = torch.linspace(0, 1, 20001, dtype=torch.float64)
    line = neg_branin(torch.stack([torch.full_like(t, 0.25), t], -1))
    tol = 1e-9 if dtype == torch.float64 else 1e-4
    assert float(v[0]) >= float(line.max()) - tol


def test_avoided_corner_optimum_is_not_returned() -> None:
    # The unconstrained argmax is the corner (1, 1), which is avoided.
    acqf = SurfaceAcq(lambda X: X.sum(-1))
    corner = torch.ones(1, 2, dtype=torch.float64)
    x, v = optimize_acqf(acqf, unit(2), X_avoid=corner, seed=0)
    assert float((x - corner).abs().max()) > 1e-9
    assert float(v[0]) > 2.0 - 0.01
    # The same holds for a pending point, which is left as it was.
    acqf.set_X_pending(corner.clone())
    x, v = optimize_acqf(acqf, unit(2), seed=0)
    assert float((x - corner).abs().max()) > 1e-9
    assert float(v[0]) > 2.0 - 0.01
    assert torch.equal(acqf.X_pending, corner)  # type: ignore[arg-type]


def test_interior_avoided_optimum_is_not_returned() -> None:
    acqf = SurfaceAcq(bump)
    first, _ = optimize_acqf(acqf, unit(2), seed=0)
    x, v = optimize_acqf(acqf, unit(2), X_avoid=first, seed=0)
    assert float((x - first).abs().max()) > 1e-9
    assert float(v[0]) > float(bump(first)) - 1e-3


# ------------------------------------------------------------------ robustness
def test_nonfinite_regions_are_handled() -> None:
    def g(X: Tensor) -> Tensor:
        v = -((X - 0.7) ** 2).sum(-1)
        v = torch.where(X[..., 0] > 0.6, torch.full_like(v, math.nan), v)
        return torch.where(X[..., 1] < 0.1, torch.full_like(v, -math.inf), v)

    x, v = optimize_acqf(SurfaceAcq(g), unit(2), seed=0)
    assert bool(torch.isfinite(v).all())
    assert float(x[0, 0]) <= 0.6
    assert float(x[0, 0]) == pytest.approx(0.6, abs=1e-3)
    # NaN acts as a barrier for the line search: the result is close to the
    # best finite value -0.01 at (0.6, 0.7), if not exactly on it.
    assert float(x[0, 1]) == pytest.approx(0.7, abs=0.05)
    assert float(v[0]) >= -0.01 - 3e-3


def test_all_nan_acquisition_warns_and_returns_a_point() -> None:
    acqf = SurfaceAcq(
        lambda X: torch.full(X.shape[:-1], math.nan, dtype=X.dtype) + 0 * X.sum(-1)
    )
    with pytest.warns(OptimizationWarning, match="no finite value"):
        x, v = optimize_acqf(acqf, unit(3), q=2, seed=0)
    assert x.shape == (2, 3)
    assert bool(((x >= 0) & (x <= 1)).all())
    assert not bool(torch.isfinite(v).any())


def test_deterministic_for_a_seed() -> None:
    acqf = SurfaceAcq(neg_levy, penalty=1.0)
    a = optimize_acqf(acqf, unit(2), q=2, seed=123)
    b = optimize_acqf(acqf, unit(2), q=2, seed=123)
    assert torch.equal(a[0], b[0])
    assert torch.equal(a[1], b[1])


def test_threads_limited_inside_and_restored() -> None:
    before = torch.get_num_threads()
    acqf = SurfaceAcq(bump)
    optimize_acqf(acqf, unit(2), seed=0)
    assert acqf.threads_seen == {1}
    assert torch.get_num_threads() == before
    acqf = SurfaceAcq(bump)
    optimize_acqf(acqf, unit(2), seed=0, options={"n_threads": None})
    assert acqf.threads_seen == {before}


def test_options_are_used() -> None:
    acqf = SurfaceAcq(neg_branin)
    optimize_acqf(
        acqf,
        unit(2),
        num_restarts=4,
        raw_samples=64,
        seed=0,
        options={"maxiter": 3, "screen_iters": 0, "batch_limit": 16},
    )
    sizes = [b for b, _ in acqf.calls]
    assert sizes[:4] == [16, 16, 16, 16]
    assert len([b for b, g in acqf.calls if g]) <= 2 * 3 + 1


@pytest.mark.parametrize("screen_samples", [None, 16])
def test_screen_samples_option_reaches_the_pool(monkeypatch, screen_samples) -> None:
    import skbo.optim.optimize as module

    seen: list[int | None] = []
    original = module.gen_initial_conditions

    def spy(*args, **kwargs):
        seen.append(kwargs["screen_samples"])
        return original(*args, **kwargs)

    monkeypatch.setattr(module, "gen_initial_conditions", spy)
    options = {"screen_samples": screen_samples}
    optimize_acqf(SurfaceAcq(bump), unit(2), raw_samples=32, seed=0, options=options)
    assert seen == [screen_samples]


def test_x_baseline_rows_seed_restarts() -> None:
    acqf = SurfaceAcq(bump)
    acqf.X_baseline = torch.rand(7, 2, dtype=torch.float64)
    optimize_acqf(acqf, unit(2), raw_samples=32, seed=0)
    assert acqf.calls[0] == (32 + 7, False)


def needle(X: Tensor) -> Tensor:
    """A peak of width 1e-3 at (0.3137, 0.7071): flat (zero) everywhere else."""
    c = torch.tensor([0.3137, 0.7071], dtype=X.dtype)
    return torch.exp(-((X - c) ** 2).sum(-1) / (2 * 1e-3**2))


def test_x_baseline_argument_finds_a_narrow_peak_next_to_an_observation() -> None:
    # NOTE: late in a run an analytic acquisition (no X_baseline attribute)
    # peaks in a sliver next to the incumbent that no Sobol point hits.
    observed = torch.tensor(
        [[0.1, 0.1], [0.3137 + 0.002, 0.7071 - 0.001], [0.9, 0.4]],
        dtype=torch.float64,
    )
    _, v_blind = optimize_acqf(SurfaceAcq(needle), unit(2), seed=0)
    assert float(v_blind[0]) < 1e-6
    acqf = SurfaceAcq(needle)
    x, v = optimize_acqf(acqf, unit(2), seed=0, X_baseline=observed)
    assert acqf.calls[0] == (512 + 3, False)
    assert float(v[0]) > 0.999
    assert torch.allclose(
        x[0], torch.tensor([0.3137, 0.7071], dtype=x.dtype), atol=1e-4
    )


# ------------------------------------------------------------------ bad input
def test_bad_input_errors() -> None:
    acqf = SurfaceAcq(bump)
    b = unit(2)
    with pytest.raises(TypeError, match=r"bounds must be a torch\.Tensor"):
        optimize_acqf(acqf, [[0, 0], [1, 1]])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"bounds must have shape \(2, d\)"):
        optimize_acqf(acqf, torch.zeros(3, 2))
    with pytest.raises(ValueError, match=r"bounds must have shape \(2, d\)"):
        optimize_acqf(acqf, torch.zeros(2))
    with pytest.raises(
        ValueError, match=r"bounds must have shape \(2, d\) with d >= 1"
    ):
        optimize_acqf(acqf, torch.zeros(2, 0))
    with pytest.raises(ValueError, match="lower <= upper"):
        optimize_acqf(acqf, b.flip(0))
    with pytest.raises(ValueError, match="finite"):
        optimize_acqf(acqf, torch.tensor([[0.0, 0.0], [1.0, math.inf]]))
    with pytest.raises(TypeError, match="floating-point"):
        optimize_acqf(acqf, torch.tensor([[0, 0], [1, 1]]))
    with pytest.raises(ValueError, match="q must be an int >= 1"):
        optimize_acqf(acqf, b, q=0)
    with pytest.raises(TypeError, match="q must be an int"):
        optimize_acqf(acqf, b, q=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="num_restarts must be an int >= 1"):
        optimize_acqf(acqf, b, num_restarts=0)
    with pytest.raises(ValueError, match="raw_samples must be an int >= 1"):
        optimize_acqf(acqf, b, raw_samples=0)
    with pytest.raises(
        ValueError, match=r"column 2 is out of range \(allowed: 0\.\.1\)"
    ):
        optimize_acqf(acqf, b, fixed_features={2: 0.5})
    with pytest.raises(ValueError, match="column -1 is out of range"):
        optimize_acqf(acqf, b, fixed_features={-1: 0.5})
    with pytest.raises(ValueError, match=r"outside its bounds \[0\.0, 1\.0\]"):
        optimize_acqf(acqf, b, fixed_features={0: 1.5})
    with pytest.raises(TypeError, match="fixed_features must be a dict"):
        optimize_acqf(acqf, b, fixed_features=[(0, 0.5)])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"X_avoid must have shape \(m, 2\)"):
        optimize_acqf(acqf, b, X_avoid=torch.zeros(3))
    with pytest.raises(TypeError, match=r"X_avoid must be a torch\.Tensor"):
        optimize_acqf(acqf, b, X_avoid=[[0.0, 0.0]])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"X_baseline must have shape \(m, 2\)"):
        optimize_acqf(acqf, b, X_baseline=torch.zeros(3, 3))
    with pytest.raises(TypeError, match=r"X_baseline must be a torch\.Tensor"):
        optimize_acqf(acqf, b, X_baseline=[[0.0, 0.0]])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Unknown options \['maxiters'\]"):
        optimize_acqf(acqf, b, options={"maxiters": 10})
    with pytest.raises(ValueError, match=r"options\['maxiter'\] must be an int >= 1"):
        optimize_acqf(acqf, b, options={"maxiter": 0})
    with pytest.raises(
        ValueError, match=r"options\['screen_samples'\] must be an int >= 1"
    ):
        optimize_acqf(acqf, b, options={"screen_samples": 0})
    with pytest.raises(ValueError, match=r"options\['ftol'\] must be a finite float"):
        optimize_acqf(acqf, b, options={"ftol": -1.0})
    with pytest.raises(TypeError, match="options must be a dict"):
        optimize_acqf(acqf, b, options=[("maxiter", 3)])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seed must be an int >= 0"):
        optimize_acqf(acqf, b, seed=-1)
    with pytest.raises(TypeError, match="acq_function must be callable"):
        optimize_acqf(None, b)  # type: ignore[arg-type]
    with pytest.raises(
        TypeError, match="q > 1 needs an acq_function with set_X_pending"
    ):
        optimize_acqf(lambda X: X.sum(dim=(-2, -1)), b, q=2)


def test_lattice_neighbours_of_an_evaluated_peak_are_searched() -> None:
    from skbo.optim.mixed import IntegerColumn, MixedSpec

    spec = MixedSpec((IntegerColumn(0, 0, 19), IntegerColumn(1, 0, 19)))
    # an evaluated lattice point (7, 12): integer k sits at (k + 0.5) / 20
    peak = spec.project(torch.tensor([[7.5 / 20, 12.5 / 20]], dtype=torch.float64))[0]
    broad = torch.tensor([0.8, 0.2], dtype=torch.float64)

    def surface(X: Tensor) -> Tensor:  # (b, 1, 2) -> (b,)
        x = X.squeeze(-2)
        sharp = 5 * torch.exp(-((x - peak) ** 2).sum(-1) / (2 * 0.03**2))
        return sharp + torch.exp(-((x - broad) ** 2).sum(-1) / (2 * 0.3**2))

    for seed in range(5):
        x, v = optimize_acqf(
            surface,
            unit(2),
            num_restarts=4,
            raw_samples=16,
            discrete=spec,
            X_avoid=peak.unsqueeze(0),
            seed=seed,
        )
        # one lattice step from the peak (value ~1.07), not the broad bump (<= 1)
        steps = ((x - peak) * 20).abs().round()
        assert float(steps.sum()) == 1.0, (seed, x)
        assert float(v) > 1.0
