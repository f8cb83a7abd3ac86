"""Simple regret after a fixed budget on synthetic problems, and suggestion times.

``python -m benchmarks.regret --quick|--full [--tools ...] [--problems ...]
[--seeds N] [--first-seed S] [--budget B] [--out benchmarks/results/regret.json]``

For every problem, seed and tool: run the tool for ``budget`` evaluations
(initial design of ``max(5, d + 1)`` points for every tool, capped at half the
budget) and record the trace. The regret of a run is the *true* (noise-free)
value of the tool's recommendation, its best observed point, minus the known
optimum. Runs are ordered problem -> seed -> tool and the JSON is rewritten
after each run, so an interrupted run keeps what it finished.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks import _common
from benchmarks.adapters import TOOLS, get_tool, run_tool
from benchmarks.problems import PROBLEMS, Problem, get_problems


@dataclass(frozen=True)
class Mode:
    """Defaults of a mode (each can be overridden on the command line)."""

    problems: tuple[str, ...]
    budget: int
    seeds: int


FULL = Mode(tuple(PROBLEMS), budget=40, seeds=10)
QUICK = Mode(("branin", "mixed6"), budget=4, seeds=1)


def n_initial(problem: Problem, budget: int) -> int:
    """Initial-design size used by every tool: ``max(5, d + 1)``, at most budget/2."""
    return min(max(5, problem.dim + 1), max(1, budget // 2))


def summarize(trace: dict[str, Any], optimum: float) -> dict[str, Any]:
    """Regret numbers of one finished trace (``None`` where undefined)."""
    y_true = trace["y_true"]
    rec = trace["recommended"]
    model_true = trace.get("model_recommended_true")
    return {
        "regret": None if trace["error"] or rec is None else y_true[rec] - optimum,
        "regret_best_evaluated": min(y_true) - optimum if y_true else None,
        "regret_model": None if model_true is None else model_true - optimum,
    }


def warmup(tools: Sequence[str]) -> None:
    """One short untimed run per tool: imports, caches and lazy initialization."""
    from benchmarks.mixed_problem import DIMS, mixed6

    for name in tools:
        run_tool(get_tool(name), DIMS, mixed6, mixed6, 8, 5, 0)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the suite; returns the results dict it also saves."""
    argv = list(sys.argv[1:] if argv is None else argv)
    p = _common.parser("regret", __doc__.splitlines()[0], list(TOOLS))
    p.add_argument("--problems", nargs="+", default=None, choices=list(PROBLEMS))
    p.add_argument("--budget", type=int, default=None)
    p.add_argument(
        "--first-seed", type=int, default=0, help="seeds run from here (to shard)"
    )
    args = p.parse_args(argv)
    mode = "quick" if args.quick else "full"
    defaults = QUICK if args.quick else FULL
    budget = args.budget or defaults.budget
    seeds = list(
        range(args.first_seed, args.first_seed + (args.seeds or defaults.seeds))
    )
    problems = get_problems(args.problems or defaults.problems)
    out = args.out or _common.default_out("regret", mode)
    _common.limit_torch_threads()
    if args.warmup if args.warmup is not None else not args.quick:
        warmup(args.tools)

    results: dict[str, Any] = {
        **_common.metadata("regret", argv, mode),
        "settings": {
            "budget": budget,
            "seeds": seeds,
            "tools": {name: get_tool(name).settings for name in args.tools},
            "problems": {
                p.name: {**p.settings(), "n_initial": n_initial(p, budget)}
                for p in problems
            },
            "recommendation": "best observed point; its noise-free value is scored",
            "warmup": bool(args.warmup if args.warmup is not None else not args.quick),
        },
        "runs": [],
    }
    for problem in problems:
        for seed in seeds:
            for name in args.tools:
                trace = run_tool(
                    get_tool(name),
                    problem.dims,
                    problem.objective(seed),
                    problem.true_fn,
                    budget,
                    n_initial(problem, budget),
                    seed,
                ).to_json()
                row = {"problem": problem.name, "tool": name, "seed": seed}
                row.update(summarize(trace, problem.optimum))
                results["runs"].append({**row, "error": trace["error"], "trace": trace})
                _common.save(out, results)
                status = "ERROR" if trace["error"] else f"regret {row['regret']:.4g}"
                _common.log(
                    f"[regret] {problem.name} seed={seed} {name}: {status} "
                    f"({trace['overhead_time']:.1f} s own time)"
                )
    _common.log(f"[regret] wrote {out}")
    return results


if __name__ == "__main__":
    main()
