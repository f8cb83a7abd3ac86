"""Time of ONE suggestion, skbo's core vs. BoTorch vs. Optuna's GPSampler.

``python -m benchmarks.bench_suggestion [--n 50 200 1000] [--d 6 20]
[--repeats 5] [--tools skbo-core botorch optuna-gp] [--out PATH]``

For every cell (n, d): ``n`` uniform points in [0, 1]^d with the values of
:func:`benchmarks.overhead.smooth`; each repeat times one suggestion of every
tool (the tools interleaved, so that the load of a shared machine hits them
alike) with one thread:

* ``skbo-core``: ``SingleTaskGP`` + ``fit_gp`` + ``qLogNoisyExpectedImprovement``
  + ``optimize_acqf(num_restarts=10, raw_samples=512)`` (cold fit);
* ``botorch``: the reference loop's suggestion (same restarts / raw samples);
* ``optuna-gp``: ``study.ask()`` of ``GPSampler`` (history added untimed).

The table gives the median time per tool, the median true value of the
suggested points (lower is better; the history's best is shown) and the ratio
of the faster reference to skbo (``>= 2`` meets the speed target).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import _common
from benchmarks.overhead import SUGGEST, smooth

TOOLS = ("skbo-core", "botorch", "optuna-gp")
REFERENCES = ("botorch", "optuna-gp")


def run_cell(
    n: int, d: int, tools: Sequence[str], repeats: int
) -> dict[str, dict[str, Any]]:
    """Median time and suggested value of every tool on one (n, d) cell.

    Examples
    --------
    >>> out = run_cell(12, 2, ["skbo-core"], 1)
    >>> sorted(out["skbo-core"])
    ['median_time', 'median_value', 'times', 'values']
    """
    X = np.random.RandomState(1000 * d + n).random_sample((n, d))
    y = smooth(X)
    times: dict[str, list[float]] = {t: [] for t in tools}
    values: dict[str, list[float]] = {t: [] for t in tools}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for r in range(repeats):
            for tool in tools:
                x, elapsed = SUGGEST[tool](X, y, r)
                times[tool].append(elapsed)
                values[tool].append(float(smooth(np.clip(x, 0.0, 1.0))[0]))
    return {
        t: {
            "times": times[t],
            "values": values[t],
            "median_time": statistics.median(times[t]),
            "median_value": statistics.median(values[t]),
        }
        for t in tools
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the cells, print the table; returns (and optionally saves) the results."""
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_suggestion",
        description=(__doc__ or "").splitlines()[0],
    )
    p.add_argument("--n", nargs="+", type=int, default=[50, 200, 1000])
    p.add_argument("--d", nargs="+", type=int, default=[6, 20])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--tools", nargs="+", default=list(TOOLS), choices=list(TOOLS))
    p.add_argument("--out", type=Path, default=None, help="optional JSON output")
    args = p.parse_args(sys.argv[1:] if argv is None else list(argv))
    _common.limit_torch_threads()
    X0 = np.random.RandomState(0).random_sample((15, 2))
    for tool in args.tools:  # warm-up: imports and first-call costs, untimed
        SUGGEST[tool](X0, smooth(X0), 0)
    cells: list[dict[str, Any]] = []
    refs = [t for t in REFERENCES if t in args.tools]
    header = f"{'d':>3} {'n':>5} " + " ".join(f"{t:>18}" for t in args.tools)
    print(header + ("   ref/skbo" if refs and "skbo-core" in args.tools else ""))
    for d in args.d:
        for n in args.n:
            res = run_cell(n, d, args.tools, args.repeats)
            row = f"{d:>3} {n:>5} " + " ".join(
                f"{res[t]['median_time']:7.3f}s ({res[t]['median_value']:6.3f})"
                for t in args.tools
            )
            if refs and "skbo-core" in args.tools:
                fastest = min(res[t]["median_time"] for t in refs)
                row += f"   {fastest / res['skbo-core']['median_time']:6.2f}x"
            print(row, flush=True)
            X = np.random.RandomState(1000 * d + n).random_sample((n, d))
            best = float(smooth(X).min())
            cells.append({"n": n, "d": d, "history_best": best, "tools": res})
    results = {"repeats": args.repeats, "cells": cells}
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
