"""Tests of the ask/tell Optimizer."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import torch

from skbo import Categorical, Integer, Optimizer, Real
from skbo.optimizer import OptimizeResult

FAST = {"num_restarts": 2, "raw_samples": 32}


def quadratic(x: list[float]) -> float:
    return float(sum((xi - 0.3) ** 2 for xi in x))


def run(opt: Optimizer, func, n: int) -> None:
    for _ in range(n):
        x = opt.ask()
        opt.tell(x, func(x))


def make(dims=None, **kw) -> Optimizer:
    kw.setdefault("acq_optimizer_kwargs", FAST)
    kw.setdefault("random_state", 0)
    return Optimizer(dims or [(0.0, 1.0), (0.0, 1.0)], **kw)


def test_initial_design_then_model() -> None:
    opt = make(n_initial_points=3)
    run(opt, quadratic, 6)
    assert len(opt.Xi) == 6 and len(opt.yi) == 6
    assert opt.models, "a model is fitted after the initial design"
    res = opt.get_result()
    assert isinstance(res, OptimizeResult)
    assert res.fun == min(res.func_vals)
    assert res.x == opt.Xi[int(np.argmin(opt.yi))]
    assert res.x_best_predicted in opt.Xi


def test_finds_minimum_of_smooth_function() -> None:
    opt = make(n_initial_points=4)
    run(opt, quadratic, 15)
    assert opt.get_result().fun < 0.01


def test_ask_many_points_distinct_and_pending() -> None:
    opt = make(n_initial_points=2)
    run(opt, quadratic, 3)
    batch = opt.ask(n_points=4)
    assert len(batch) == 4
    assert len({tuple(p) for p in batch}) == 4
    assert len(opt.pending) == 4
    # A second ask accounts for the pending ones: no duplicate.
    more = opt.ask(n_points=2)
    assert not {tuple(p) for p in more} & {tuple(p) for p in batch}
    opt.tell(batch, [quadratic(p) for p in batch])
    assert len(opt.pending) == 2


def test_ask_during_initial_design_mixes_design_and_model() -> None:
    opt = make(n_initial_points=3)
    run(opt, quadratic, 2)
    batch = opt.ask(3)  # one design point, two from the model
    assert len({tuple(p) for p in batch}) == 3


def test_failures_recorded_and_avoided() -> None:
    opt = make(n_initial_points=4)

    def func(x: list[float]) -> float | None:
        return None if x[0] > 0.6 else quadratic(x)

    for _ in range(10):
        x = opt.ask()
        opt.tell(x, func(x))
    res = opt.get_result()
    assert res.failed.sum() >= 1
    assert np.isnan(res.func_vals[res.failed]).all()
    assert math.isfinite(res.fun)
    X = [tuple(p) for p in opt.Xi]
    assert len(set(X)) == len(X), "a failed point is never proposed again"


def test_all_failures_do_not_crash() -> None:
    opt = make(n_initial_points=2)
    for _ in range(4):
        x = opt.ask()
        opt.tell(x, float("nan"))
    res = opt.get_result()
    assert res.x is None and math.isnan(res.fun)


@pytest.mark.parametrize("bad", [[1.0, 2.0], "a", np.ones(2)])
def test_tell_rejects_non_scalar(bad) -> None:
    opt = make()
    with pytest.raises(TypeError, match="real scalar"):
        opt.tell([[0.5, 0.5]], [bad])
    with pytest.raises(TypeError, match="real scalar"):
        opt.tell([0.5, 0.5], "a")
    assert opt.Xi == []


def test_tell_rejects_point_outside_space() -> None:
    opt = make()
    with pytest.raises(ValueError):
        opt.tell([2.0, 0.5], 1.0)
    with pytest.raises(ValueError):
        opt.tell([0.5], 1.0)


def test_tell_rejects_a_list_with_one_bad_point_and_records_nothing() -> None:
    opt = make()
    opt.tell([0.1, 0.2], 1.0)
    with pytest.raises(ValueError, match=r"point 1: .*outside"):
        opt.tell([[0.5, 0.5], [0.5, 3.0], [0.2, 0.2]], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"point 0: .*expected a real"):
        opt.tell([[True, 0.5]], [1.0])
    with pytest.raises(ValueError, match=r"point 0: .*nan"):
        opt.tell([[math.nan, 0.5]], [1.0])
    assert opt.Xi == [[0.1, 0.2]] and opt.yi == [1.0]
    opt.tell([[0.5, 0.5], [np.float64(0.25), 1]], [2.0, 3.0])  # numpy / int values
    assert len(opt.Xi) == 3


def test_tell_lists_length_mismatch() -> None:
    opt = make()
    with pytest.raises(ValueError, match="as many"):
        opt.tell([[0.5, 0.5]], [1.0, 2.0])


def test_determinism() -> None:
    def trace(seed: int) -> list[list[float]]:
        opt = make(n_initial_points=3, random_state=seed)
        run(opt, quadratic, 6)
        return opt.Xi

    assert trace(1) == trace(1)
    assert trace(1) != trace(2)


def test_mixed_space_valid_points() -> None:
    dims = {
        "lr": Real(1e-4, 1e-1, prior="log-uniform"),
        "depth": Integer(1, 8),
        "kind": Categorical(["a", "b", (1, 2)]),
    }
    opt = make(dims, n_initial_points=3)

    def func(x: list) -> float:
        return abs(math.log10(x[0]) + 2) + abs(x[1] - 3) + (0.0 if x[2] == "b" else 1.0)

    run(opt, func, 8)
    for lr, depth, kind in opt.Xi:
        assert 1e-4 <= lr <= 1e-1
        assert isinstance(depth, int) and 1 <= depth <= 8
        assert kind in ("a", "b", (1, 2))


def test_pickle_and_copy_continue_identically() -> None:
    opt = make(n_initial_points=2)
    run(opt, quadratic, 4)
    clone = pickle.loads(pickle.dumps(opt))
    copied = opt.copy()
    a, b, c = opt.ask(), clone.ask(), copied.ask()
    assert a == b == c


def test_custom_acquisition_callable() -> None:
    from skbo.acquisition import qUpperConfidenceBound

    calls = []

    def factory(model, X_pending=None):
        calls.append(X_pending)
        return qUpperConfidenceBound(model, beta=2.0, X_pending=X_pending)

    opt = make(n_initial_points=2, acquisition=factory)
    run(opt, quadratic, 4)
    assert len(calls) == 2


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_initial_points": 0}, ValueError, "n_initial_points"),
        ({"n_initial_points": 1.5}, TypeError, "n_initial_points"),
        ({"initial_point_generator": "grid"}, ValueError, "initial_point_generator"),
        ({"acquisition": "nope"}, ValueError, "Unknown acquisition"),
        ({"acquisition": 3}, TypeError, "acquisition"),
        ({"dtype": torch.int64}, ValueError, "dtype"),
        ({"explore_every": 0}, ValueError, "explore_every"),
        ({"explore_every": 2.5}, ValueError, "explore_every"),
        ({"explore_every": True}, ValueError, "explore_every"),
    ],
)
def test_bad_arguments(kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        Optimizer([(0.0, 1.0)], **kwargs)


def test_empty_space_rejected() -> None:
    with pytest.raises(ValueError):
        Optimizer([])


def test_ask_rejects_bad_n_points() -> None:
    with pytest.raises(ValueError, match="n_points"):
        make().ask(0)


def test_random_initial_generator() -> None:
    opt = make(n_initial_points=3, initial_point_generator="random")
    run(opt, quadratic, 4)
    assert len(opt.Xi) == 4


def test_float32(dtype: torch.dtype) -> None:
    opt = make(n_initial_points=3, dtype=dtype)
    run(opt, quadratic, 5)
    assert opt.models[-1].train_inputs[0].dtype == dtype


@pytest.mark.cuda
def test_cuda_device() -> None:
    opt = make(n_initial_points=3, device="cuda")
    run(opt, quadratic, 5)
    assert opt.models[-1].train_inputs[0].is_cuda


def test_told_points_count_toward_initial_design() -> None:
    opt = make(n_initial_points=3)
    pts = [[0.1, 0.2], [0.5, 0.5], [0.9, 0.1], [0.3, 0.7]]
    opt.tell(pts, [quadratic(p) for p in pts])
    x = opt.ask()
    assert opt.models, "with enough told points the model is used at once"
    assert x not in pts


def test_exhausted_discrete_space_warns_and_continues() -> None:
    from skbo.exceptions import OptimizationWarning

    opt = make([Integer(0, 2)], n_initial_points=2)
    with pytest.warns(OptimizationWarning, match="Every point"):
        for _ in range(5):
            x = opt.ask()
            opt.tell(x, float(x[0]))
    assert len(opt.Xi) == 5
    assert {p[0] for p in opt.Xi} == {0, 1, 2}


def test_output_transform_is_rank_preserving() -> None:
    from skbo.utils.warping import power_warp as _warp_outcomes

    y = np.array([0.4, 0.5, 3.0, 80.0, 300.0, 1.2])
    z = _warp_outcomes(y, "yeo-johnson")
    assert np.array_equal(np.argsort(z), np.argsort(y))
    assert abs(z.mean()) < 1e-8
    assert _warp_outcomes(y[:2], "yeo-johnson") is not None
    np.testing.assert_array_equal(_warp_outcomes(y, None), y)
    np.testing.assert_array_equal(_warp_outcomes(np.ones(4), "yeo-johnson"), np.ones(4))


def test_output_transform_none_and_bad_value() -> None:
    opt = make(n_initial_points=3, output_transform=None)
    run(opt, quadratic, 5)
    assert len(opt.Xi) == 5
    with pytest.raises(ValueError, match="output_transform"):
        Optimizer([(0.0, 1.0)], output_transform="log")


def test_output_transform_never_squeezes_the_good_tail() -> None:
    from skbo.utils.warping import power_warp as _warp_outcomes

    # Left-skewed losses (a long tail of *good* values): left as they are.
    y = -np.array([0.0, 0.01, 0.02, 0.05, 0.1, 3.0, 3.3])
    np.testing.assert_array_equal(_warp_outcomes(y, "yeo-johnson"), y)


def test_explore_every_uses_thompson_steps(monkeypatch) -> None:
    import skbo.optim.thompson as thompson

    calls: list[int] = []
    original = thompson.thompson_candidate

    def spy(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(thompson, "thompson_candidate", spy)
    dims = [(0.0, 1.0), (1, 20), ["a", "b", "c"]]
    opt = make(dims, n_initial_points=4, explore_every=2)
    run(opt, lambda x: (x[0] - 0.3) ** 2 + (x[2] != "b"), 10)
    # Model-based points 1..6: the 2nd, 4th and 6th are Thompson samples.
    assert len(calls) == 3
    batch = opt.ask(n_points=3)  # model-based points 7..9: one exploration slot
    assert len(calls) == 4
    assert len({opt._key(p) for p in [*opt.Xi, *batch]}) == len(opt.Xi) + 3
    for p in batch:
        opt.space.validate_point(p)


def test_explore_every_deterministic_and_picklable() -> None:
    def trace() -> list[list[object]]:
        opt = make([(0.0, 1.0), ["x", "y"]], n_initial_points=3, explore_every=2)
        run(opt, lambda x: x[0] + (x[1] == "x"), 7)
        clone = pickle.loads(pickle.dumps(opt))
        assert clone.ask() == opt.ask()
        return opt.Xi

    assert trace() == trace()


def test_explore_every_none_never_samples(monkeypatch) -> None:
    import skbo.optim.thompson as thompson

    def fail(*args, **kwargs):
        raise AssertionError("no Thompson step expected")

    monkeypatch.setattr(thompson, "thompson_candidate", fail)
    run(make(n_initial_points=3), quadratic, 6)


def test_model_kwargs_reach_the_gp_outputscale() -> None:
    opt = Optimizer(
        [(0.0, 1.0), (0.0, 1.0)],
        n_initial_points=4,
        random_state=0,
        model_kwargs={"outputscale": True},
    )
    for _ in range(7):
        x = opt.ask()
        opt.tell(x, (x[0] - 0.3) ** 2 + (x[1] - 0.6) ** 2)
    kernel = opt.models[-1].covar_module
    assert type(kernel).__name__ == "ScaleKernel"
    assert len(opt.Xi) == 7


def test_search_ignores_the_units_and_offset_of_the_loss() -> None:
    def heavy(x: list[float]) -> float:
        return float(math.exp(6 * quadratic(x)))

    plain, scaled = make(n_initial_points=4), make(n_initial_points=4)
    run(plain, heavy, 9)
    run(scaled, lambda x: 1000.0 * heavy(x) - 3.0, 9)
    np.testing.assert_allclose(plain.Xi, scaled.Xi, atol=1e-6)


def test_observations_seed_the_acquisition_optimizer(monkeypatch) -> None:
    # NOTE: the default analytic LogEI has no X_baseline of its own; without
    # the observations the restarts never start next to the incumbent.
    import skbo.optim as optim

    seen: list[torch.Tensor] = []
    original = optim.optimize_acqf

    def spy(*args, **kwargs):
        seen.append(kwargs["X_baseline"])
        return original(*args, **kwargs)

    monkeypatch.setattr(optim, "optimize_acqf", spy)
    opt = make(n_initial_points=3)
    run(opt, quadratic, 5)
    assert len(seen) == 2
    assert seen[-1].shape == (4, 2)
    expected = torch.as_tensor(opt.space.transform(opt.Xi[:4]), dtype=seen[-1].dtype)
    assert torch.equal(seen[-1], expected)
