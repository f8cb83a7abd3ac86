"""Tests of skbo.optim.mixed and of optimize_acqf on mixed spaces."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import Tensor

from skbo._encoding import decode_integer, encode_integer
from skbo.optim import optimize_acqf
from skbo.optim.mixed import IntegerColumn, MixedSpec, SpaceExhaustedError, local_search


class TargetAcq(torch.nn.Module):
    """Protocol-conforming acquisition ``-||x - target||^2`` (summed over q)."""

    def __init__(self, target: Tensor) -> None:
        super().__init__()
        self.target = target
        self.X_pending: Tensor | None = None

    def set_X_pending(self, X_pending: Tensor | None) -> None:
        self.X_pending = X_pending

    def forward(self, X: Tensor) -> Tensor:
        return -((X - self.target.to(X)) ** 2).sum(-1).sum(-1)


def unit_bounds(d: int, **kw: object) -> Tensor:
    return torch.stack([torch.zeros(d, **kw), torch.ones(d, **kw)])  # type: ignore[arg-type]


SPEC = MixedSpec(
    integers=(IntegerColumn(0, 0, 4), IntegerColumn(3, 1, 100, log=True)),
    categorical_groups=((1, 2), (4, 5, 6)),
)


# ---------------------------------------------------------------- validation
def test_integer_column_validation() -> None:
    assert IntegerColumn(0, 2, 2).n_values == 1
    with pytest.raises(ValueError, match="low <= high"):
        IntegerColumn(0, 3, 1)
    with pytest.raises(ValueError, match="index must be >= 0"):
        IntegerColumn(-1, 0, 1)
    with pytest.raises(ValueError, match="log=True needs low >= 1"):
        IntegerColumn(0, 0, 10, log=True)
    with pytest.raises(TypeError, match=r"IntegerColumn\.low must be an int"):
        IntegerColumn(0, 0.5, 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"IntegerColumn\.index must be an int"):
        IntegerColumn(True, 0, 3)
    with pytest.raises(TypeError, match="log must be a bool"):
        IntegerColumn(0, 1, 3, log="yes")  # type: ignore[arg-type]


def test_mixed_spec_validation() -> None:
    with pytest.raises(ValueError, match="column 1 is listed twice"):
        MixedSpec((IntegerColumn(1, 0, 3),), ((1, 2),))
    with pytest.raises(ValueError, match="column 2 is listed twice"):
        MixedSpec(categorical_groups=((1, 2), (2, 3)))
    with pytest.raises(ValueError, match="column 0 is listed twice"):
        MixedSpec((IntegerColumn(0, 0, 3), IntegerColumn(0, 1, 2)))
    with pytest.raises(ValueError, match="needs >= 1 column"):
        MixedSpec(categorical_groups=((),))
    with pytest.raises(ValueError, match="ints >= 0"):
        MixedSpec(categorical_groups=((-1, 0),))
    with pytest.raises(ValueError, match="ints >= 0"):
        MixedSpec(categorical_groups=((0.5, 1),))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be a tuple"):
        MixedSpec(integers=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="IntegerColumn objects or tuples"):
        MixedSpec(integers=("a",))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="out of range"):
        SPEC.check_dim(6)
    SPEC.check_dim(7)


def test_mixed_spec_conversions() -> None:
    spec = MixedSpec(integers=[(0, 1, 5, False)], categorical_groups=[[2, 1]])  # type: ignore[arg-type]
    assert spec.integers == (IntegerColumn(0, 1, 5, False),)
    assert spec.categorical_groups == ((2, 1),)
    assert spec.columns == (0, 1, 2)
    assert MixedSpec.from_lists([(0, 1, 5, False)], [[2, 1]]) == spec
    assert SPEC.n_configurations == 5 * 100 * 2 * 3
    assert MixedSpec().columns == ()
    assert MixedSpec().n_configurations == 1


# ---------------------------------------------------------------- projection
def test_project_integer_codes_are_bin_centres(
    dtype: torch.dtype, device: torch.device
) -> None:
    X = torch.rand(200, 7, dtype=dtype, device=device)
    P = SPEC.project(X)
    assert P.dtype == dtype
    assert P.device == device
    for c in SPEC.integers:
        col = X[:, c.index].cpu().double().numpy()
        expected = encode_integer(
            decode_integer(col, c.low, c.high, c.log), c.low, c.high, c.log
        )
        np.testing.assert_array_equal(
            P[:, c.index].cpu().numpy(), expected.astype(P.cpu().numpy().dtype)
        )
    for g in SPEC.categorical_groups:
        hot = P[:, list(g)]
        assert bool(((hot == 0) | (hot == 1)).all())
        assert bool((hot.sum(-1) == 1).all())
        assert torch.equal(hot.argmax(-1), X[:, list(g)].argmax(-1))
    # Idempotent, exact.
    assert torch.equal(SPEC.project(P), P)
    assert bool(SPEC.is_valid(P).all())
    assert not bool(SPEC.is_valid(X).any())


def test_project_any_leading_shape_and_ties() -> None:
    X = torch.rand(2, 3, 5, 7, dtype=torch.float64)
    P = SPEC.project(X)
    assert P.shape == X.shape
    assert torch.equal(P.reshape(-1, 7), SPEC.project(X.reshape(-1, 7)))
    # Ties go to the first category; other columns untouched.
    spec = MixedSpec(categorical_groups=((0, 1, 2),))
    x = torch.tensor([0.5, 0.5, 0.1, 0.123])
    assert torch.equal(spec.project(x), torch.tensor([1.0, 0.0, 0.0, 0.123]))
    with pytest.raises(ValueError, match="non-finite"):
        spec.project(torch.tensor([math.nan, 0.0, 0.0, 0.0]))


def test_is_valid_handles_nan() -> None:
    spec = MixedSpec(categorical_groups=((0, 1),))
    X = torch.tensor([[1.0, 0.0, 0.3], [math.nan, 0.0, 0.3], [1.0, 0.0, math.nan]])
    assert spec.is_valid(X).tolist() == [True, False, False]


# ---------------------------------------------------------------- neighbours
def test_neighbors() -> None:
    x = SPEC.project(
        torch.rand(7, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    )
    N = SPEC.neighbors(x)
    assert bool(SPEC.is_valid(N).all())
    # Each neighbour differs from x in exactly one discrete dimension.
    changed = x != N
    for row in changed:
        touched = [k for k, c in enumerate(SPEC.integers) if row[c.index]] + [
            g for g in SPEC.categorical_groups if row[list(g)].any()
        ]
        assert len(touched) == 1
    v = int(SPEC.integers[0].decode(np.array(float(x[0]))))
    expected_int = (v > 0) + (v < 4)
    w = int(SPEC.integers[1].decode(np.array(float(x[3]))))
    expected_log = (w > 1) + (w < 100)
    assert N.shape == (expected_int + expected_log + 1 + 2, 7)


def test_neighbors_log_integer_moves_one_integer() -> None:
    c = IntegerColumn(0, 1, 1000, log=True)
    spec = MixedSpec((c,))
    for v in (1, 2, 37, 999, 1000):
        x = torch.tensor(encode_integer([v], 1, 1000, True), dtype=torch.float64)
        got = sorted(int(c.decode(n.numpy())[0]) for n in spec.neighbors(x))
        assert got == [w for w in (v - 1, v + 1) if 1 <= w <= 1000]
    with pytest.raises(ValueError, match="one point"):
        spec.neighbors(torch.zeros(2, 1))


def test_configurations_enumerates_every_valid_point() -> None:
    spec = MixedSpec(
        (IntegerColumn(0, 0, 2), IntegerColumn(3, 1, 4, log=True)), ((1, 2),)
    )
    template = torch.tensor([0.0, 0.0, 0.0, 0.0, 0.42], dtype=torch.float64)
    C = spec.configurations(template)
    assert C.shape == (spec.n_configurations, 5)
    assert bool(spec.is_valid(C).all())
    assert torch.unique(C, dim=0).shape[0] == C.shape[0]
    assert bool((C[:, 4] == 0.42).all())


def test_local_search_climbs_to_the_best_neighbour_chain() -> None:
    spec = MixedSpec((IntegerColumn(0, 0, 19), IntegerColumn(1, 0, 19)))
    target = torch.tensor(encode_integer([13, 4], 0, 19, False))

    def f(X: Tensor) -> Tensor:
        return -((X - target) ** 2).sum(-1)

    X0 = spec.project(torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64))
    X, v, visited, vv = local_search(f, X0, f(X0), spec, max_iter=50)
    assert torch.allclose(X, target.expand(2, 2))
    assert torch.allclose(v, f(X))
    assert visited.shape[0] == vv.shape[0] > 0
    # The iteration cap is respected: 1 move per iteration, of at most the
    # largest step in one column.
    X1, _, _, _ = local_search(f, X0, f(X0), spec, max_iter=1)
    steps = (X1 - X0).abs() * 20
    assert bool(((steps > 1e-9).sum(-1) <= 1).all())
    X1, _, _, _ = local_search(f, X0, f(X0), spec, max_iter=1, code_steps=())
    assert bool(((X1 - X0).abs().sum(-1) * 20 <= 1.0 + 1e-9).all())


def test_longer_steps_need_fewer_iterations() -> None:
    spec = MixedSpec((IntegerColumn(0, 1, 60, True), IntegerColumn(1, 0, 40)))
    target = torch.tensor(
        [
            float(encode_integer(45, 1, 60, True)),
            float(encode_integer(37, 0, 40, False)),
        ],
        dtype=torch.float64,
    )

    def f(X: Tensor) -> Tensor:
        return -((X - target) ** 2).sum(-1)

    X0 = spec.project(torch.zeros(1, 2, dtype=torch.float64))
    calls = {}
    for steps in ((), (1 / 4, 1 / 16)):
        n = [0]

        def counted(X: Tensor, n: list[int] = n) -> Tensor:
            n[0] += 1
            return f(X)

        X, _, _, _ = local_search(
            counted, X0, f(X0), spec, max_iter=100, code_steps=steps
        )
        assert torch.allclose(X, target.expand(1, 2))
        calls[steps] = n[0]
    assert calls[(1 / 4, 1 / 16)] < calls[()] / 3


def test_neighbors_of_rows_matches_neighbors_per_row() -> None:
    spec = MixedSpec(
        (IntegerColumn(0, 0, 9), IntegerColumn(1, 1, 50, True)), ((2, 3, 4),)
    )
    g = torch.Generator().manual_seed(0)
    X = spec.project(torch.rand(6, 5, dtype=torch.float64, generator=g))
    N, counts = spec.neighbors_of_rows(X, code_steps=(0.5, 0.1))
    parts = torch.split(N, counts)
    for x, part in zip(X, parts, strict=True):
        assert torch.equal(part, spec.neighbors(x, code_steps=(0.5, 0.1)))
        assert bool(spec.is_valid(part).all())
        assert not bool((part == x).all(-1).any())
        assert torch.unique(part, dim=0).shape[0] == part.shape[0]
    for bad in ((0.0,), (1.5,), (-0.1,)):
        with pytest.raises(ValueError, match="code_steps"):
            spec.neighbors_of_rows(X, code_steps=bad)
    with pytest.raises(ValueError, match="P, d"):
        spec.neighbors_of_rows(X[0])


# ------------------------------------------------------- optimize_acqf, mixed
def test_optimize_integer_and_categorical(
    dtype: torch.dtype, device: torch.device
) -> None:
    # Column 0: integer 0..9 (target between bins 6 and 7, nearer 7); 1-3: one-hot
    # (target category 2); 4: continuous (target 0.3).
    spec = MixedSpec((IntegerColumn(0, 0, 9),), ((1, 2, 3),))
    code7 = float(encode_integer(7, 0, 9, False))
    target = torch.tensor(
        [code7 - 0.03, 0.2, 0.3, 0.9, 0.3], dtype=dtype, device=device
    )
    acqf = TargetAcq(target)
    bounds = unit_bounds(5, dtype=dtype, device=device)
    x, v = optimize_acqf(acqf, bounds, discrete=spec, seed=0)
    assert x.shape == (1, 5)
    assert bool(spec.is_valid(x).all())
    assert torch.equal(spec.project(x), x)
    assert int(spec.integers[0].decode(x[0, 0].cpu().double().numpy())) == 7
    assert x[0, 1:4].tolist() == [0.0, 0.0, 1.0]
    assert float(x[0, 4]) == pytest.approx(0.3, abs=1e-4)
    assert float(v[0]) == pytest.approx(float(acqf(x.unsqueeze(0))), rel=1e-5)


def test_optimize_log_integer_space_returns_valid_points() -> None:
    acqf = TargetAcq(torch.tensor([0.37, 0.61, 0.5], dtype=torch.float64))
    x, _ = optimize_acqf(
        acqf, unit_bounds(3, dtype=torch.float64), q=3, discrete=SPEC_LOG, seed=1
    )
    assert bool(SPEC_LOG.is_valid(x).all())
    assert torch.unique(x, dim=0).shape[0] == 3


SPEC_LOG = MixedSpec((IntegerColumn(0, 1, 1000, log=True), IntegerColumn(1, 2, 7)))


def test_avoided_argmax_gives_next_best_discrete_point() -> None:
    spec = MixedSpec((IntegerColumn(0, 0, 9),))
    codes = torch.tensor(encode_integer(np.arange(10), 0, 9, False))
    acqf = TargetAcq(codes[4:5] + 0.01)  # best: 4, then 5, then 3
    bounds = unit_bounds(1, dtype=torch.float64)
    x, _ = optimize_acqf(acqf, bounds, discrete=spec, X_avoid=codes[4:5, None], seed=0)
    assert float(x) == float(codes[5])
    x, _ = optimize_acqf(
        acqf, bounds, discrete=spec, X_avoid=codes[[4, 5], None], seed=0
    )
    assert float(x) == float(codes[3])
    # Pending points are avoided as well, and the pending points are untouched.
    acqf.set_X_pending(codes[4:5, None])
    x, _ = optimize_acqf(acqf, bounds, discrete=spec, X_avoid=codes[5:6, None], seed=0)
    assert float(x) == float(codes[3])
    assert acqf.X_pending is not None and float(acqf.X_pending) == float(codes[4])


def test_q_batch_in_discrete_space_is_distinct_even_if_acqf_ignores_pending() -> None:
    spec = MixedSpec((IntegerColumn(0, 0, 3),), ((1, 2),))
    acqf = TargetAcq(torch.tensor([0.4, 1.0, 0.0], dtype=torch.float64))
    x, v = optimize_acqf(
        acqf, unit_bounds(3, dtype=torch.float64), q=4, discrete=spec, seed=0
    )
    assert torch.unique(x, dim=0).shape[0] == 4
    assert bool(spec.is_valid(x).all())
    assert v.shape == (4,)
    assert acqf.X_pending is None


def test_nearly_and_fully_exhausted_space() -> None:
    spec = MixedSpec((IntegerColumn(0, 0, 2),), ((1, 2),))
    all_points = spec.configurations(torch.zeros(3, dtype=torch.float64))
    acqf = TargetAcq(torch.tensor([0.5, 1.0, 0.0], dtype=torch.float64))
    bounds = unit_bounds(3, dtype=torch.float64)
    # One point left: it must be found, however bad.
    x, _ = optimize_acqf(acqf, bounds, discrete=spec, X_avoid=all_points[1:], seed=0)
    assert torch.equal(x[0], all_points[0])
    # q larger than what is left.
    with pytest.raises(SpaceExhaustedError, match="exhausted"):
        optimize_acqf(acqf, bounds, q=2, discrete=spec, X_avoid=all_points[1:], seed=0)
    assert acqf.X_pending is None
    with pytest.raises(SpaceExhaustedError):
        optimize_acqf(acqf, bounds, discrete=spec, X_avoid=all_points, seed=0)


def test_discrete_with_fixed_continuous_column() -> None:
    spec = MixedSpec((IntegerColumn(0, 0, 4),))
    acqf = TargetAcq(torch.tensor([0.48, 0.8], dtype=torch.float64))
    x, _ = optimize_acqf(
        acqf,
        unit_bounds(2, dtype=torch.float64),
        q=2,
        discrete=spec,
        fixed_features={1: 0.25},
        seed=0,
    )
    assert x[:, 1].tolist() == [0.25, 0.25]
    assert sorted(
        int(spec.integers[0].decode(x[:, 0].numpy())[i]) for i in range(2)
    ) == [1, 2]


def test_discrete_input_errors() -> None:
    acqf = TargetAcq(torch.zeros(3, dtype=torch.float64))
    bounds = unit_bounds(3, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"column 5 is out of range.*0\.\.2"):
        optimize_acqf(acqf, bounds, discrete=MixedSpec(categorical_groups=((4, 5),)))
    with pytest.raises(TypeError, match="discrete must be a MixedSpec"):
        optimize_acqf(acqf, bounds, discrete=[(0, 0, 3, False)])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"discrete columns must be \[0, 1\]"):
        optimize_acqf(acqf, bounds * 2, discrete=MixedSpec((IntegerColumn(0, 0, 3),)))
    with pytest.raises(
        ValueError, match="fixed_features: column 0 is a discrete column"
    ):
        optimize_acqf(
            acqf,
            bounds,
            discrete=MixedSpec((IntegerColumn(0, 0, 3),)),
            fixed_features={0: 0.5},
        )
