"""Micro-benchmark: GP fitting and posterior evaluation, skbo vs. BoTorch.

Times, with one intra-op thread, for ``n`` in {50, 200, 1000} observations and
``d`` in {6, 20} dimensions:

* skbo ``fit_gp`` cold (from the prior mode) and warm (from the hyperparameters
  fitted on the first ``n - 1`` points), with the number of loss evaluations;
* BoTorch ``SingleTaskGP`` + ``fit_gpytorch_mll`` (its defaults), if BoTorch
  imports, and the ratio BoTorch / skbo;
* the posterior at 512 x 1 x d raw points (no gradient) and at 10 x 1 x d points
  with a backward pass (one acquisition-optimizer step), for both libraries;
* with ``--quality``: the fit quality, i.e. skbo's MAP loss (negative log
  posterior per point) of skbo's RBF fit and of BoTorch's fit (same model: RBF,
  same priors and bounds), both evaluated with skbo's loss; lower is better.

Each time is the median of ``--repeats`` runs (one for n = 1000 unless
``--repeats-large`` says otherwise). Run from the repository root::

    python benchmarks/bench_gp_fit.py            # all sizes
    python benchmarks/bench_gp_fit.py --quick    # n in {50, 200}, one repeat
"""

from __future__ import annotations

import os

# NOTE: thread pools read these when the native libraries load, so they are
# set before NumPy / SciPy / PyTorch are imported.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402

import torch  # noqa: E402

from skbo.models import SingleTaskGP, fit_gp  # noqa: E402
from skbo.models.fit import _MAPObjective  # noqa: E402

try:  # BoTorch is a reference only, never a dependency of skbo.
    import botorch
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP as BoTorchGP
    from gpytorch.mlls import ExactMarginalLogLikelihood
except ImportError:  # pragma: no cover - optional
    botorch = None


def objective(X: torch.Tensor) -> torch.Tensor:
    """A smooth test function with a few active dimensions, plus noise."""
    g = torch.Generator().manual_seed(123)
    w = torch.rand(X.shape[-1], dtype=X.dtype, generator=g)
    f = torch.sin(6.0 * X[:, 0]) + torch.cos(4.0 * X[:, 1] * X[:, 2 % X.shape[-1]])
    f = f + (X - 0.5).pow(2) @ w
    noise = torch.randn(X.shape[0], dtype=X.dtype, generator=g)
    return f + 0.05 * noise


def timed(fn: Callable[[], object], repeats: int) -> float:
    """Median wall-clock seconds of ``fn`` over ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_skbo(X: torch.Tensor, Y: torch.Tensor, repeats: int) -> dict[str, float]:
    out: dict[str, float] = {}
    results = []

    def cold() -> None:
        model = SingleTaskGP(X, Y)
        results.append(fit_gp(model))

    out["cold"] = timed(cold, repeats)
    out["cold_evals"] = results[-1].n_evaluations
    out["loss"] = results[-1].loss
    previous = SingleTaskGP(X[:-1], Y[:-1])
    fit_gp(previous)
    warm_results = []

    def warm() -> None:
        model = SingleTaskGP(X, Y)
        warm_results.append(fit_gp(model, warm_start=previous))

    out["warm"] = timed(warm, repeats)
    out["warm_evals"] = warm_results[-1].n_evaluations
    model = SingleTaskGP(X, Y)
    fit_gp(model)
    out.update(bench_posterior(lambda x: model.posterior(x), X, repeats))
    return out


def bench_posterior(
    posterior: Callable[[torch.Tensor], object], X: torch.Tensor, repeats: int
) -> dict[str, float]:
    d = X.shape[-1]
    g = torch.Generator().manual_seed(7)
    raw = torch.rand(512, 1, d, dtype=X.dtype, generator=g)
    step = torch.rand(10, 1, d, dtype=X.dtype, generator=g)

    def raw_eval() -> None:
        with torch.no_grad():
            p = posterior(raw)
            _ = (p.mean, p.variance)  # type: ignore[attr-defined]

    def step_eval() -> None:
        x = step.clone().requires_grad_(True)
        p = posterior(x)
        (p.mean + p.variance.sqrt()).sum().backward()  # type: ignore[attr-defined]

    raw_eval()  # first call builds the caches
    return {
        "post512": timed(raw_eval, max(repeats, 5)),
        "step10": timed(step_eval, max(repeats, 20)),
    }


def bench_botorch(X: torch.Tensor, Y: torch.Tensor, repeats: int) -> dict[str, float]:
    out: dict[str, float] = {}
    models = []

    def fit() -> None:
        model = BoTorchGP(X, Y.unsqueeze(-1))
        mll = ExactMarginalLogLikelihood(model.likelihood, model)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit_gpytorch_mll(mll)
        models.append(model)

    out["fit"] = timed(fit, repeats)
    model = models[-1]
    model.eval()
    out.update(bench_posterior(lambda x: model.posterior(x), X, repeats))
    return out


def map_loss_at(X: torch.Tensor, Y: torch.Tensor, reference: object) -> float:
    """skbo's MAP loss of an RBF model at BoTorch's fitted hyperparameters."""
    model = SingleTaskGP(X, Y, kernel="rbf")
    with torch.no_grad():
        ref = reference
        model.covar_module.lengthscale = ref.covar_module.lengthscale.detach().clone()  # type: ignore[attr-defined]
        model.likelihood.noise = ref.likelihood.noise.detach().clone()  # type: ignore[attr-defined]
        model.mean_module.constant = ref.mean_module.constant.detach().clone()  # type: ignore[attr-defined]
    objective = _MAPObjective(model)
    return objective(objective.get())[0]


def quality(X: torch.Tensor, Y: torch.Tensor) -> tuple[float, float]:
    """(skbo RBF loss, BoTorch loss), both with skbo's MAP loss."""
    ours = fit_gp(SingleTaskGP(X, Y, kernel="rbf")).loss
    model = BoTorchGP(X, Y.unsqueeze(-1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
    return ours, map_loss_at(X, Y, model)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="n in {50, 200}, 1 repeat")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--repeats-large", type=int, default=1, help="repeats at n=1000")
    p.add_argument("--no-botorch", action="store_true")
    p.add_argument("--quality", action="store_true", help="compare fitted losses")
    args = p.parse_args()
    torch.set_num_threads(1)
    sizes = [50, 200] if args.quick else [50, 200, 1000]
    use_botorch = botorch is not None and not args.no_botorch
    print(f"torch {torch.__version__}, threads={torch.get_num_threads()}", end="")
    print(f", botorch {botorch.__version__}" if use_botorch else ", botorch: not used")
    # warm-up (first calls pay for lazy initialization in torch / SciPy)
    Xw = torch.rand(20, 3, dtype=torch.float64)
    fit_gp(SingleTaskGP(Xw, Xw.sum(-1)))
    if use_botorch:
        bench_botorch(Xw, Xw.sum(-1), 1)
    header = (
        f"{'d':>3} {'n':>5} | {'cold s':>7} {'(ev)':>5} {'warm s':>7} {'(ev)':>5} "
        f"{'post512 ms':>10} {'step10 ms':>9}"
    )
    if use_botorch:
        header += (
            f" | {'BoTorch fit s':>13} {'ratio':>6} {'post512 ms':>10} {'step10 ms':>9}"
        )
    if use_botorch and args.quality:
        header += f" | {'loss skbo-rbf':>13} {'loss BoTorch':>12}"
    print(header)
    print("-" * len(header))
    for d in (6, 20):
        for n in sizes:
            g = torch.Generator().manual_seed(1000 * d + n)
            X = torch.rand(n, d, dtype=torch.float64, generator=g)
            Y = objective(X)
            reps = (
                args.repeats_large if n >= 1000 else (1 if args.quick else args.repeats)
            )
            s = bench_skbo(X, Y, reps)
            line = (
                f"{d:>3} {n:>5} | {s['cold']:>7.3f} {s['cold_evals']:>5.0f} "
                f"{s['warm']:>7.3f} {s['warm_evals']:>5.0f} "
                f"{1e3 * s['post512']:>10.2f} {1e3 * s['step10']:>9.2f}"
            )
            if use_botorch:
                b = bench_botorch(X, Y, reps)
                ratio = b["fit"] / s["cold"] if s["cold"] > 0 else math.nan
                line += (
                    f" | {b['fit']:>13.3f} {ratio:>6.1f} "
                    f"{1e3 * b['post512']:>10.2f} {1e3 * b['step10']:>9.2f}"
                )
                if args.quality:
                    ours, theirs = quality(X, Y)
                    line += f" | {ours:>13.5f} {theirs:>12.5f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
