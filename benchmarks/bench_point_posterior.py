"""Per-call cost of analytic LogEI (fused vs. general posterior) and of the warp.

``python -m benchmarks.bench_point_posterior [--n 30 200] [--d 6 20]
[--repeats 200] [--out PATH]``

For every cell (n, d): a GP fitted to ``n`` points of
:func:`benchmarks.overhead.smooth`; one "call" is what an L-BFGS-B step of the
acquisition optimizer does: LogEI forward and backward on 10 candidates
``(10, 1, d)``. The fused single-point posterior (``ExactPredictor._point``)
and the general path (the same predictor with the fused path switched off)
are timed in blocks of 10 back-to-back calls, the blocks interleaved, one
thread, median over repeats. Also timed: skbo's
vectorized Yeo-Johnson warp against scikit-learn's ``PowerTransformer`` on
``n`` heavy-tailed values (what ``Optimizer`` runs at each ``ask``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from benchmarks import _common
from benchmarks.overhead import smooth


def cell(n: int, d: int, repeats: int) -> dict[str, Any]:
    """Median seconds per call of each variant for one (n, d)."""
    import torch

    from skbo.acquisition import LogExpectedImprovement
    from skbo.models import SingleTaskGP, fit_gp
    from skbo.utils.warping import power_warp

    rng = np.random.default_rng(0)
    X = rng.random((n, d))
    y = -smooth(X)
    model = SingleTaskGP(torch.tensor(X), torch.tensor(y))
    fit_gp(model)
    acqf = LogExpectedImprovement(model, best_f=float(y.max()))
    pred = model.predictor()
    fused_path = pred._point
    Xc = torch.rand(10, 1, d, dtype=torch.float64)

    def logei(fused: bool) -> None:
        pred._point = fused_path if fused else None
        x = Xc.clone().requires_grad_(True)
        torch.autograd.grad(acqf(x).sum(), x)

    values = np.exp(rng.normal(0.0, 2.0, n))

    def sklearn_warp() -> None:
        from sklearn.preprocessing import PowerTransformer

        PowerTransformer().fit_transform(values.reshape(-1, 1))

    variants: dict[str, Callable[[], object]] = {
        "logei_fused": lambda: logei(True),
        "logei_general": lambda: logei(False),
        "warp_skbo": lambda: power_warp(values),
        "warp_sklearn": sklearn_warp,
    }
    med = _common.interleaved_medians(variants, repeats)
    pred._point = fused_path
    return {
        "n": n,
        "d": d,
        "median_s": med,
        "logei_speedup": med["logei_general"] / med["logei_fused"],
        "warp_speedup": med["warp_sklearn"] / med["warp_skbo"],
    }


def _row(c: dict[str, Any]) -> str:
    m = c["median_s"]
    return (
        f"| {c['n']} | {c['d']} | {m['logei_fused'] * 1e3:.3f} | "
        f"{m['logei_general'] * 1e3:.3f} | {c['logei_speedup']:.2f}x | "
        f"{m['warp_skbo'] * 1e3:.3f} | {m['warp_sklearn'] * 1e3:.3f} |"
    )


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run every cell; print a table and save the JSON."""
    return _common.run_micro_cells(
        "point_posterior",
        argv,
        __doc__.splitlines()[0],
        n=(30, 200),
        d=(6, 20),
        repeats=200,
        cell=cell,
        header="| n | d | LogEI fused ms | general ms | ratio | warp skbo ms | "
        "sklearn ms |",
        row=_row,
    )


if __name__ == "__main__":
    main()
