"""Tests of the common tuner interface and its timed loop."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `benchmarks` lives at the repository root
    sys.path.insert(0, str(ROOT))

from benchmarks.adapters import TOOLS, get_tool, run_tool  # noqa: E402
from benchmarks.mixed_problem import DIMS, mixed6  # noqa: E402
from benchmarks.space import Dim, Point  # noqa: E402


def _in_space(point: Point) -> bool:
    for d in DIMS:
        v = point[d.name]
        if d.kind == "categorical":
            ok = v in d.choices
        else:
            ok = d.low <= v <= d.high and (d.kind == "real" or isinstance(v, int))
        if not ok:
            return False
    return True


def test_random_search_trace_is_complete_and_reproducible() -> None:
    a = run_tool(get_tool("random"), DIMS, mixed6, mixed6, 12, 5, seed=4)
    b = run_tool(get_tool("random"), DIMS, mixed6, mixed6, 12, 5, seed=4)
    assert a.error is None
    assert a.x_iters == b.x_iters and a.y_iters == b.y_iters == a.y_true
    assert len(a.suggest_times) == 12 and all(t >= 0 for t in a.suggest_times)
    assert all(_in_space(p) for p in a.x_iters)
    assert a.recommended == min(range(12), key=a.y_iters.__getitem__)
    assert 0 <= a.overhead_time <= a.total_time
    data = a.to_json()
    assert data["recommended"] == a.recommended and len(data["suggest_times"]) == 12


class _Broken:
    settings: ClassVar[dict[str, Any]] = {}

    def __init__(self, dims: Sequence[Dim], n_initial: int, seed: int) -> None:
        self.n = 0

    def ask(self) -> Point:
        self.n += 1
        if self.n == 4:
            raise RuntimeError("boom")
        return {
            "x1": 0.5,
            "x2": 0.0,
            "n_units": 1,
            "lr": 1e-3,
            "batch": 8,
            "kind": "rbf",
        }

    def tell(self, point: Point, value: float) -> None:
        pass


def test_a_failing_tool_is_recorded_not_raised() -> None:
    trace = run_tool(_Broken, DIMS, mixed6, mixed6, 10, 5, seed=0)
    assert trace.error is not None and "RuntimeError: boom" in trace.error
    assert len(trace.x_iters) == 3


def test_unknown_tool_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown tool 'nope'"):
        get_tool("nope")


def test_every_tool_declares_its_settings() -> None:
    for name in TOOLS:
        settings = get_tool(name).settings
        assert settings["library"], name
