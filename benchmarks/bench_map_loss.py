"""Per-evaluation cost of the GP's MAP loss and gradient: closed form vs. autograd.

``python -m benchmarks.bench_map_loss [--n 50 200 1000] [--d 6 20]
[--repeats 30] [--out PATH]``

For every cell (n, d), on the data of ``benchmarks/bench_gp_fit.py`` (a smooth
function of ``d`` uniform inputs plus noise) and skbo's default model
(Matern-5/2, inferred noise), with one thread:

* one loss-and-gradient evaluation of ``_MAPObjective`` at the prior mode,
  with the closed-form path (:mod:`skbo.models._fit_fused`) and with the
  autograd path (``fused=False``), timed in blocks of back-to-back calls (as
  inside L-BFGS-B), the blocks of the two paths interleaved; median over
  ``--repeats`` blocks (fewer at larger ``n``);
* a full cold ``fit_gp`` (from the prior mode) with each path, the two
  interleaved, median over a few repeats, with the number of loss
  evaluations and the fitted loss of each (they should agree).

Prints a markdown table with the ratios autograd / closed form.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks import _common


def _data(n: int, d: int) -> tuple[Any, Any]:
    """The test function of ``bench_gp_fit.py`` at ``n`` uniform points."""
    import torch

    g = torch.Generator().manual_seed(1000 * d + n)
    X = torch.rand(n, d, dtype=torch.float64, generator=g)
    w = torch.rand(d, dtype=torch.float64, generator=g)
    f = torch.sin(6.0 * X[:, 0]) + torch.cos(4.0 * X[:, 1] * X[:, 2 % d])
    f = f + (X - 0.5).pow(2) @ w
    return X, f + 0.05 * torch.randn(n, dtype=torch.float64, generator=g)


def _per_call(fn: Callable[[], object], block: int) -> float:
    """Seconds per call over ``block`` back-to-back calls."""
    t0 = time.perf_counter()
    for _ in range(block):
        fn()
    return (time.perf_counter() - t0) / block


def cell(n: int, d: int, repeats: int) -> dict[str, Any]:
    """Median per-evaluation and cold-fit seconds of both paths for one cell."""
    import skbo.models.fit as fit_module
    from skbo.models import SingleTaskGP, fit_gp
    from skbo.models.fit import _MAPObjective

    X, Y = _data(n, d)
    model = SingleTaskGP(X, Y)
    objectives = {
        "fused": _MAPObjective(model, fused=True),
        "autograd": _MAPObjective(model, fused=False),
    }
    assert objectives["fused"].fused is not None
    theta = objectives["fused"].get()
    block = 20 if n <= 50 else 5 if n <= 200 else 1
    reps = repeats if n <= 200 else max(3, repeats // 10)
    times: dict[str, list[float]] = {k: [] for k in objectives}
    for obj in objectives.values():
        obj(theta)  # warm up
    for _ in range(reps):
        for name, obj in objectives.items():
            times[name].append(_per_call(lambda obj=obj: obj(theta), block))
    eval_s = {k: statistics.median(v) for k, v in times.items()}

    fit_reps = 5 if n <= 50 else 3 if n <= 200 else 1
    fit_times: dict[str, list[float]] = {"fused": [], "autograd": []}
    fits: dict[str, Any] = {}
    default = fit_module._USE_FUSED
    try:
        for _ in range(fit_reps):
            for name in fit_times:
                fit_module._USE_FUSED = name == "fused"
                m = SingleTaskGP(X, Y)
                t0 = time.perf_counter()
                result = fit_gp(m)
                fit_times[name].append(time.perf_counter() - t0)
                fits[name] = result
    finally:
        fit_module._USE_FUSED = default
    fit_s = {k: statistics.median(v) for k, v in fit_times.items()}
    return {
        "n": n,
        "d": d,
        "eval_s": eval_s,
        "eval_ratio": eval_s["autograd"] / eval_s["fused"],
        "fit_s": fit_s,
        "fit_ratio": fit_s["autograd"] / fit_s["fused"],
        "fit_evaluations": {k: r.n_evaluations for k, r in fits.items()},
        "fit_loss": {k: r.loss for k, r in fits.items()},
        "eval_repeats": reps,
        "eval_block": block,
        "fit_repeats": fit_reps,
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run every cell; print a table and optionally save the JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, nargs="+", default=[50, 200, 1000])
    p.add_argument("--d", type=int, nargs="+", default=[6, 20])
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--out", type=Path, default=None, help="output JSON path")
    args = p.parse_args(list(sys.argv[1:] if argv is None else argv))
    _common.limit_torch_threads()
    results: dict[str, Any] = {
        **_common.metadata("bench_map_loss", list(argv or []), "full"),
        "cells": [],
    }
    print(
        "| n | d | eval closed-form ms | eval autograd ms | ratio | "
        "fit closed-form ms | fit autograd ms | ratio | evals | loss diff |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for d in args.d:
        for n in args.n:
            c = cell(n, d, args.repeats)
            results["cells"].append(c)
            e, f, ev, lo = c["eval_s"], c["fit_s"], c["fit_evaluations"], c["fit_loss"]
            print(
                f"| {n} | {d} | {e['fused'] * 1e3:.3f} | {e['autograd'] * 1e3:.3f} | "
                f"{c['eval_ratio']:.1f}x | {f['fused'] * 1e3:.1f} | "
                f"{f['autograd'] * 1e3:.1f} | {c['fit_ratio']:.1f}x | "
                f"{ev['fused']}/{ev['autograd']} | "
                f"{abs(lo['fused'] - lo['autograd']):.1e} |",
                flush=True,
            )
    if args.out is not None:
        _common.save(args.out, results)
    return results


if __name__ == "__main__":
    main()
