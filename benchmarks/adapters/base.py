"""The one interface every black-box tuner is driven through, and the timed loop.

A tool is a class built as ``Tool(dims, n_initial, seed)`` with ``ask() ->
point`` and ``tell(point, value)`` (minimization) and a class attribute
``settings`` (a JSON-able dict of every option that differs from, or matters
beyond, the tool's defaults). :func:`run_tool` drives it for ``budget``
evaluations and returns a :class:`Trace`.

Timing: ``suggest_times[i]`` is the wall time of the i-th ``ask`` plus the
following ``tell`` (scikit-optimize fits its model and optimizes the
acquisition inside ``tell``, Optuna inside ``ask``); ``overhead_time`` is the
whole run minus the objective evaluations, including construction.
"""

from __future__ import annotations

import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Protocol

from benchmarks.space import Dim, Point


class Tool(Protocol):
    """What :func:`run_tool` needs from a tuner."""

    settings: ClassVar[dict[str, Any]]

    def ask(self) -> Point:
        """Next point to evaluate."""

    def tell(self, point: Point, value: float) -> None:
        """Record the observed (possibly noisy) value of ``point``."""


# Optional: ``recommend() -> Point | None``, a model-based recommendation.


ToolFactory = Callable[[Sequence[Dim], int, int], Tool]


@dataclass
class Trace:
    """Everything one run of one tool produced.

    ``y_iters`` are the observed values, ``y_true`` the noise-free ones;
    ``recommended`` indexes the best *observed* value (the recommendation of
    every tool); ``model_recommended`` is a tool's own model-based
    recommendation where it exposes one (skbo: best posterior mean among the
    evaluated points); ``error`` is the formatted exception if the run stopped
    early.
    """

    x_iters: list[Point] = field(default_factory=list)
    y_iters: list[float] = field(default_factory=list)
    y_true: list[float] = field(default_factory=list)
    ask_times: list[float] = field(default_factory=list)
    tell_times: list[float] = field(default_factory=list)
    overhead_time: float = 0.0
    total_time: float = 0.0
    error: str | None = None
    warnings: dict[str, int] = field(default_factory=dict)
    model_recommended: Point | None = None
    model_recommended_true: float | None = None

    @property
    def suggest_times(self) -> list[float]:
        """Per-iteration own time: ``ask`` plus the matching ``tell``."""
        return [a + t for a, t in zip(self.ask_times, self.tell_times, strict=False)]

    @property
    def recommended(self) -> int | None:
        """Index of the best observed value (first one on ties)."""
        if not self.y_iters:
            return None
        return min(range(len(self.y_iters)), key=self.y_iters.__getitem__)

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form, with the derived fields added."""
        out = asdict(self)
        out["suggest_times"] = self.suggest_times
        out["recommended"] = self.recommended
        return out


def run_tool(
    factory: ToolFactory,
    dims: Sequence[Dim],
    objective: Callable[[Point], float],
    true_fn: Callable[[Point], float],
    budget: int,
    n_initial: int,
    seed: int,
) -> Trace:
    """Run one tool for ``budget`` evaluations; never raises.

    Parameters
    ----------
    factory : callable
        ``factory(dims, n_initial, seed)`` builds the tool.
    dims : sequence of Dim
        Search space.
    objective, true_fn : callable
        Observed and noise-free objective, point -> float.
    budget : int
        Number of evaluations, initial design included.
    n_initial : int
        Initial-design size asked of the tool.
    seed : int
        The tool's seed.

    Returns
    -------
    Trace
        The history; on an exception, the history so far and ``error``.
    """
    trace = Trace()
    eval_time = 0.0
    tool: Tool | None = None
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            tool = factory(dims, n_initial, seed)
            for _ in range(budget):
                t0 = time.perf_counter()
                point = tool.ask()
                t1 = time.perf_counter()
                value = float(objective(point))
                t2 = time.perf_counter()
                tool.tell(point, value)
                t3 = time.perf_counter()
                trace.x_iters.append(point)
                trace.y_iters.append(value)
                trace.y_true.append(float(true_fn(point)))
                trace.ask_times.append(t1 - t0)
                trace.tell_times.append(t3 - t2)
                eval_time += time.perf_counter() - t1 - (t3 - t2)
        except Exception as exc:  # a failing tool is a result, not a crash
            trace.error = "".join(
                traceback.format_exception_only(type(exc), exc)
            ).strip()
            trace.error += "\n" + "".join(traceback.format_tb(exc.__traceback__)[-3:])
        trace.total_time = time.perf_counter() - start
        trace.overhead_time = trace.total_time - eval_time
        recommend = getattr(tool, "recommend", None) if trace.error is None else None
        if recommend is not None:  # untimed: a post-hoc query of the final model
            try:
                trace.model_recommended = recommend()
            except Exception as exc:
                trace.error = f"recommend() failed: {exc!r}"
            if trace.model_recommended is not None:
                trace.model_recommended_true = float(true_fn(trace.model_recommended))
    trace.warnings = dict(Counter(w.category.__name__ for w in caught))
    return trace
