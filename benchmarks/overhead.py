"""Time of ONE suggestion (fit GP + acquisition + optimize) as n and d grow.

``python -m benchmarks.overhead --quick|--full [--tools ...] [--n 50 200 1000]
[--d 6 20] [--repeats R] [--out benchmarks/results/overhead.json]``

For every cell (n, d): draw ``n`` uniform points in [0, 1]^d and evaluate the
smooth function :func:`smooth` on them; then, per tool and repeat, build the
tool's state from that history (untimed) and time one suggestion (each repeat
draws its own history and seeds the tool with its index):

* ``skbo``: ``Optimizer.tell(all n points)`` + ``ask()`` (after its one
  initial-design point, asked and told untimed);
* ``skbo-core``: ``SingleTaskGP`` + ``fit_gp`` + ``qLogNoisyExpectedImprovement``
  + ``optimize_acqf(num_restarts=10, raw_samples=512)``;
* ``botorch``: the reference loop's suggestion (same restarts / raw samples);
* ``optuna-gp``: ``study.add_trials`` (untimed), then ``study.ask`` (GPSampler);
* ``skopt``: ``Optimizer.tell(all n points)`` (fits and optimizes) + ``ask()``.

Every tool runs with one thread. The median over repeats is reported; the
true value of each suggested point is recorded next to the history's best.

With ``--isolate`` (the default in ``--full``) every tool's every repeat runs
in a fresh Python process (warmed up there first; the tools of a cell take
turns repeat by repeat), so that no tool's timing
depends on what ran before it in the same process (allocator state, caches,
lazily imported modules): in one shared process, skbo's time at n = 50,
d = 20 was measured 1.4x longer after Optuna's GP had run at n = 1000. Every
worker imports all the tools' packages first (see :func:`_import_all_tools`).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks import _common
from benchmarks.space import Dim, real

TOOLS = ("skbo", "skbo-core", "botorch", "optuna-gp", "skopt")


@dataclass(frozen=True)
class Mode:
    """Defaults of a mode (each can be overridden on the command line)."""

    n: tuple[int, ...]
    d: tuple[int, ...]
    repeats: int


FULL = Mode(n=(50, 200, 1000), d=(6, 20), repeats=5)
QUICK = Mode(n=(30,), d=(6,), repeats=1)
N_INITIAL = 10  # initial-design size declared to the tools (history is larger)

Suggest = Callable[[np.ndarray, np.ndarray, int], tuple[np.ndarray, float]]


def smooth(X: np.ndarray) -> np.ndarray:
    """A smooth test function on [0, 1]^d (a shifted bowl with gentle waves).

    Examples
    --------
    >>> float(smooth(np.full((1, 2), 0.5))[0]) > 0
    True
    """
    X = np.atleast_2d(X)
    centre = np.linspace(0.2, 0.8, X.shape[1])
    return np.asarray(np.sum((X - centre) ** 2 + 0.05 * np.sin(6 * np.pi * X), axis=1))


def _dims(d: int) -> list[Dim]:
    return [real(f"x{i}", 0.0, 1.0) for i in range(d)]


def _skbo(X: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, float]:
    from benchmarks.space import to_skbo
    from skbo import Optimizer  # type: ignore[attr-defined]

    # NOTE: skbo's Optimizer serves at least one initial-design point before its
    # model whatever it was told, so that point is asked and told first (untimed).
    opt = Optimizer(to_skbo(_dims(X.shape[1])), n_initial_points=1, random_state=seed)
    design = opt.ask()
    opt.tell(design, float(smooth(np.asarray(design))[0]))
    t0 = time.perf_counter()
    opt.tell(X.tolist(), y.tolist())
    x = opt.ask()
    return np.asarray(x), time.perf_counter() - t0


def _skbo_core(X: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, float]:
    import torch

    from skbo.acquisition import qLogNoisyExpectedImprovement
    from skbo.models import SingleTaskGP, fit_gp
    from skbo.optim import optimize_acqf

    t0 = time.perf_counter()
    train_X = torch.as_tensor(X, dtype=torch.double)
    train_Y = -torch.as_tensor(y, dtype=torch.double)  # acquisitions maximize
    model = SingleTaskGP(train_X, train_Y)
    fit_gp(model)
    acqf = qLogNoisyExpectedImprovement(model, X_baseline=train_X)
    bounds = torch.stack([torch.zeros(X.shape[1]), torch.ones(X.shape[1])]).double()
    cand, _ = optimize_acqf(
        acqf, bounds, q=1, num_restarts=10, raw_samples=512, seed=seed
    )
    return cand.detach().reshape(-1).numpy(), time.perf_counter() - t0


def _botorch(X: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, float]:
    import torch

    from benchmarks.adapters.botorch_loop import botorch_suggest

    torch.manual_seed(seed)
    t0 = time.perf_counter()
    x = botorch_suggest(X, y)
    return x, time.perf_counter() - t0


def _optuna_gp(X: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, float]:
    import optuna

    from benchmarks.space import to_optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = to_optuna(_dims(X.shape[1]))
    study = optuna.create_study(
        sampler=optuna.samplers.GPSampler(seed=seed, n_startup_trials=N_INITIAL)
    )
    study.add_trials(
        [
            optuna.trial.create_trial(
                params={f"x{i}": float(v) for i, v in enumerate(row)},
                distributions=dists,
                value=float(val),
            )
            for row, val in zip(X, y, strict=True)
        ]
    )
    t0 = time.perf_counter()
    trial = study.ask(fixed_distributions=dists)
    elapsed = time.perf_counter() - t0
    return np.array([trial.params[f"x{i}"] for i in range(X.shape[1])]), elapsed


def _skopt(X: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, float]:
    from skopt import Optimizer

    from benchmarks.space import to_skopt

    opt = Optimizer(
        to_skopt(_dims(X.shape[1])), n_initial_points=N_INITIAL, random_state=seed
    )
    t0 = time.perf_counter()
    opt.tell(X.tolist(), y.tolist())
    x = opt.ask()
    return np.asarray(x), time.perf_counter() - t0


SUGGEST: dict[str, Suggest] = {
    "skbo": _skbo,
    "skbo-core": _skbo_core,
    "botorch": _botorch,
    "optuna-gp": _optuna_gp,
    "skopt": _skopt,
}

SETTINGS = {
    "skbo": "skbo.Optimizer(n_initial_points=1, random_state=seed); its one design "
    "point asked and told first (untimed, so n + 1 observations); timed: "
    "tell(history) + ask()",
    "skbo-core": "SingleTaskGP + fit_gp + qLogNoisyExpectedImprovement(X_baseline) + "
    "optimize_acqf(q=1, num_restarts=10, raw_samples=512)",
    "botorch": "SingleTaskGP(Standardize) + fit_gpytorch_mll + qLogNEI(X_baseline) + "
    "optimize_acqf(num_restarts=10, raw_samples=512)",
    "optuna-gp": "GPSampler(seed, n_startup_trials=10); history via add_trials "
    "(untimed); timed: study.ask()",
    "skopt": "skopt.Optimizer(GP, gp_hedge, n_initial_points=10); timed: "
    "tell(history) (fit + acquisition optimization) + ask()",
}


def _history(d: int, n: int, repeat: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The ``repeat``-th history of a cell: ``n`` uniform points and their values."""
    X = np.random.RandomState(1000 * d + n + 7919 * repeat).random_sample((n, d))
    return X, smooth(X)


def time_cell(
    tool: str, d: int, n: int, repeats: int, first: int = 0
) -> dict[str, Any]:
    """Times of one suggestion from ``repeats`` histories; errors recorded.

    Repeat ``r`` (from ``first``) uses history ``r`` of the cell and seed
    ``r`` for the tool,
    so that the median time and the median value of the suggested points
    are over different histories, not one history's single answer.
    """
    times: list[float] = []
    values: list[float] = []
    bests: list[float] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            for r in range(first, first + repeats):
                X, y = _history(d, n, r)
                # a full collection now rather than inside the timed call
                # (~0.1 s with every tool imported)
                gc.collect()
                x, elapsed = SUGGEST[tool](X, y, r)
                times.append(elapsed)
                values.append(float(smooth(np.clip(x, 0.0, 1.0))[0]))
                bests.append(float(y.min()))
        except Exception as exc:
            return {"error": f"{type(exc).__name__}: {exc}", "times": times}
    return {
        "error": None,
        "times": times,
        "median_time": statistics.median(times),
        "suggested_values": values,
        "history_bests": bests,
    }


def _warm(tool: str) -> None:
    time_cell(tool, 2, 15, 1)


_WORKER = "--worker"
_MARK = "OVERHEAD-CELL "


# What every worker imports, whichever tool it times.
_TOOL_MODULES = ("skbo", "botorch", "optuna", "greenlet", "skopt", "sklearn")


def _import_all_tools() -> list[str]:
    """Import every tool's package (those installed); return the imported names.

    NOTE: the time of a small suggestion depends on the process's heap: in a
    fresh process that had imported only skbo, one skbo suggestion at n = 50,
    d = 6 took 0.041 s, after ``import botorch`` 0.028 s (glibc returns
    freed memory at the top of the heap to the system and the next large
    temporaries fault their pages in again; the objects of a large import sit
    above them and stop that). The same imports in every worker give every
    tool the same allocator conditions, as in one shared process, while
    keeping the cells independent.
    """
    imported = []
    for name in _TOOL_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
        imported.append(name)
    return imported


def _worker(argv: Sequence[str]) -> None:
    """``--worker TOOL D N REPEATS WARM FIRST``: one cell, printed as JSON."""
    tool, d, n, repeats, warm, first = argv[0], *(int(a) for a in argv[1:6])
    _common.limit_torch_threads()
    _import_all_tools()
    if warm:
        _warm(tool)
    print(_MARK + json.dumps(time_cell(tool, d, n, repeats, first)), flush=True)


def _isolated_cell(
    tool: str, d: int, n: int, repeats: int, warm: bool, first: int = 0
) -> dict[str, Any]:
    """:func:`time_cell` in a fresh interpreter (same Python, same thread limits)."""
    cmd = [sys.executable, "-m", "benchmarks.overhead", _WORKER, tool]
    cmd += [str(d), str(n), str(repeats), str(int(warm)), str(first)]
    proc = subprocess.run(
        cmd, cwd=_common.ROOT, capture_output=True, text=True, check=False
    )
    for line in proc.stdout.splitlines():
        if line.startswith(_MARK):
            out: dict[str, Any] = json.loads(line[len(_MARK) :])
            return out
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
    return {"error": f"worker exited with {proc.returncode}: {tail[0]}", "times": []}


def _merge(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One cell from single-repeat cells (the first error wins)."""
    times = [t for p in parts for t in p["times"]]
    error = next((p["error"] for p in parts if p.get("error")), None)
    if error is not None:
        return {"error": error, "times": times}
    return {
        "error": None,
        "times": times,
        "median_time": statistics.median(times),
        "suggested_values": [v for p in parts for v in p["suggested_values"]],
        "history_bests": [b for p in parts for b in p["history_bests"]],
    }


def _time_tools(
    tools: Sequence[str], d: int, n: int, repeats: int, warm: bool, isolate: bool
) -> dict[str, dict[str, Any]]:
    """Cells of every tool; isolated, the tools take turns repeat by repeat.

    NOTE: this shared machine's speed drifts by tens of percent over minutes;
    with every tool's repeat ``r`` run back to back, the drift hits the
    tools of a cell alike instead of whichever ran in a slow minute.
    """
    if not isolate:
        return {tool: time_cell(tool, d, n, repeats) for tool in tools}
    parts: dict[str, list[dict[str, Any]]] = {tool: [] for tool in tools}
    for r in range(repeats):
        for tool in tools:
            parts[tool].append(_isolated_cell(tool, d, n, 1, warm, first=r))
    return {tool: _merge(p) for tool, p in parts.items()}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the suite; returns the results dict it also saves."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == [_WORKER]:
        _worker(argv[1:])
        return {}
    p = _common.parser("overhead", __doc__.splitlines()[0], TOOLS)
    p.add_argument("--n", nargs="+", type=int, default=None, help="history sizes")
    p.add_argument("--d", nargs="+", type=int, default=None, help="dimensions")
    p.add_argument("--repeats", type=int, default=None)
    p.add_argument(
        "--skopt-max-n", type=int, default=None, help="skip skopt above this n (slow)"
    )
    p.add_argument(
        "--isolate",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="each (cell, tool) in a fresh process (default: on in --full)",
    )
    args = p.parse_args(argv)
    mode = "quick" if args.quick else "full"
    defaults = QUICK if args.quick else FULL
    isolate = args.isolate if args.isolate is not None else not args.quick
    ns, ds = list(args.n or defaults.n), list(args.d or defaults.d)
    repeats = args.repeats or defaults.repeats
    out = args.out or _common.default_out("overhead", mode)
    _common.limit_torch_threads()
    warm = args.warmup if args.warmup is not None else True  # cheap: on in --quick too
    if warm and not isolate:
        for tool in args.tools:
            _warm(tool)
    results: dict[str, Any] = {
        **_common.metadata("overhead", argv, mode),
        "settings": {
            "n": ns,
            "d": ds,
            "repeats": repeats,
            "function": "benchmarks.overhead.smooth on uniform random points",
            "tools": {t: SETTINGS[t] for t in args.tools},
            "skopt_max_n": args.skopt_max_n,
            "warmup": warm,
            "isolate": isolate,
        },
        "cells": [],
    }
    for d in ds:
        for n in ns:
            best = statistics.median(
                float(_history(d, n, r)[1].min()) for r in range(repeats)
            )
            skip = args.skopt_max_n is not None and n > args.skopt_max_n
            timed = [t for t in args.tools if not (t == "skopt" and skip)]
            cells = _time_tools(timed, d, n, repeats, warm, isolate)
            for tool in args.tools:
                cell: dict[str, Any] = cells.get(
                    tool, {"skipped": f"n > --skopt-max-n {args.skopt_max_n}"}
                )
                cell.update(n=n, d=d, tool=tool, history_best=best)
                results["cells"].append(cell)
                shown = (
                    cell.get("error")
                    or cell.get("skipped")
                    or f"{cell['median_time']:.3f} s"
                )
                _common.log(f"[overhead] d={d} n={n} {tool}: {shown}")
            _common.save(out, results)
    _common.log(f"[overhead] wrote {out}")
    return results


if __name__ == "__main__":
    main()
