"""Per-call cost of qLogNEI's closed form against its Monte-Carlo estimate.

``python -m benchmarks.bench_qlognei_closed_form [--n 50] [--d 6 20]
[--repeats 100] [--out PATH]``

For every cell (n, d): a GP fitted to ``n`` points of
:func:`benchmarks.overhead.smooth`, and qLogNEI over the single best training
point (the case where pruning leaves one baseline point, as in most histories
of 50 points in the overhead benchmark) with ``closed_form=True`` and
``False`` (the same 256 Sobol base samples). Timed, one thread, calls in blocks
of 10 back to back, the variants interleaved, median over repeats:

* ``value_and_grad`` on 10 candidates ``(10, 1, d)``: one L-BFGS-B step of the
  acquisition optimizer;
* the value alone on 512 candidates: the optimizer's raw pool.

Also reported: the largest difference between the two routes' values where
the Monte-Carlo estimate resolves the expectation (log-value above -7), i.e.
the Monte-Carlo error the closed form removes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from benchmarks import _common
from benchmarks.overhead import smooth


def cell(n: int, d: int, repeats: int) -> dict[str, Any]:
    """Median seconds per call of each variant, and the value gap, for one cell."""
    import torch

    from skbo.acquisition import qLogNoisyExpectedImprovement
    from skbo.models import SingleTaskGP, fit_gp
    from skbo.sampling import SobolQMCNormalSampler

    rng = np.random.default_rng(0)
    X = torch.tensor(rng.random((n, d)))
    y = -torch.tensor(smooth(X.numpy()))
    model = SingleTaskGP(X, y)
    fit_gp(model)
    best = int(y.argmax())
    acqf = {
        closed: qLogNoisyExpectedImprovement(
            model,
            X_baseline=X[best : best + 1],
            sampler=SobolQMCNormalSampler(256, seed=0),
            closed_form=closed,
        )
        for closed in (True, False)
    }
    small = torch.tensor(rng.random((10, 1, d)))
    pool = torch.tensor(rng.random((512, 1, d)))

    def step(closed: bool) -> None:
        acqf[closed].value_and_grad(small)

    def raw_pool(closed: bool) -> None:
        with torch.no_grad():
            acqf[closed](pool)

    variants: dict[str, Callable[[], object]] = {
        "step_closed": lambda: step(True),
        "step_mc": lambda: step(False),
        "pool_closed": lambda: raw_pool(True),
        "pool_mc": lambda: raw_pool(False),
    }
    with model.pinned_predictor():
        # (the warm-up builds the caches of the baseline block and samples)
        med = _common.interleaved_medians(variants, repeats)
        with torch.no_grad():
            exact, sampled = acqf[True](pool), acqf[False](pool)
    resolved = exact > -7.0
    gap = (exact - sampled).abs()[resolved]
    return {
        "n": n,
        "d": d,
        "median_s": med,
        "step_ratio": med["step_closed"] / med["step_mc"],
        "pool_ratio": med["pool_closed"] / med["pool_mc"],
        "n_resolved": int(resolved.sum()),
        "max_log_value_gap": float(gap.max()) if gap.numel() else float("nan"),
    }


def _row(c: dict[str, Any]) -> str:
    m = c["median_s"]
    return (
        f"| {c['n']} | {c['d']} | {m['step_closed'] * 1e3:.3f} | "
        f"{m['step_mc'] * 1e3:.3f} | {c['step_ratio']:.2f} | "
        f"{m['pool_closed'] * 1e3:.3f} | {m['pool_mc'] * 1e3:.3f} | "
        f"{c['pool_ratio']:.2f} | {c['max_log_value_gap']:.3g} "
        f"({c['n_resolved']} points) |"
    )


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run every cell; print a table and save the JSON."""
    return _common.run_micro_cells(
        "qlognei_closed_form",
        argv,
        __doc__.splitlines()[0],
        n=(50,),
        d=(6, 20),
        repeats=100,
        cell=cell,
        header="| n | d | step closed ms | step MC ms | ratio | pool closed ms | "
        "pool MC ms | ratio | max MC error (log) |",
        row=_row,
    )


if __name__ == "__main__":
    main()
