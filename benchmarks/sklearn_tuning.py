"""Hyperparameter tuning of scikit-learn estimators with four search CVs.

``python -m benchmarks.sklearn_tuning --quick|--full [--tools ...] [--tasks ...]
[--seeds N] [--first-seed 0] [--n-iter 30] [--hardness] [--out PATH]``

Tools: ``random`` (``RandomizedSearchCV``), ``skopt`` (scikit-optimize
``BayesSearchCV``), ``optuna`` (``OptunaSearchCV`` with a seeded
``TPESampler``) and ``skbo`` (``skbo.BayesSearchCV``). All use the same
space, ``n_iter``, fixed CV splits, scorer, ``n_jobs=1`` and, for the model
based ones, the same initial-design size; ``refit=False`` and the held-out
test score is computed afterwards from ``best_params_`` (untimed).

Own overhead = wall time of ``fit`` minus the fit and score times reported in
``cv_results_`` (``mean_fit_time`` and ``mean_score_time`` times the number of
splits, summed over candidates).

``--hardness`` answers "does the search matter here?": ``random`` with
``n_iter`` over all seeds, and every tool with ``--hardness-iter`` (200)
iterations for ``--hardness-seeds`` (1) seeds.
"""

from __future__ import annotations

import sys
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks import _common
from benchmarks.sklearn_tasks import TASKS, Task
from benchmarks.space import native, to_optuna, to_scipy, to_skbo, to_skopt

TOOLS = ("random", "skopt", "optuna", "skbo")


@dataclass(frozen=True)
class Mode:
    """Defaults of a mode (tasks, n_iter and seeds can be overridden)."""

    tasks: tuple[str, ...]
    n_iter: int
    n_initial: int
    cv: int
    seeds: int


FULL = Mode(tuple(TASKS), n_iter=30, n_initial=10, cv=3, seeds=5)
QUICK = Mode(("svc", "model_switch"), n_iter=6, n_initial=3, cv=2, seeds=1)

SETTINGS = {
    "random": "sklearn RandomizedSearchCV (scipy.stats uniform / loguniform / randint; "
    "log integers: log-uniform bins)",
    "skopt": "skopt BayesSearchCV(optimizer_kwargs={'n_initial_points': n_initial}), "
    "defaults otherwise (GP, gp_hedge)",
    "optuna": "optuna_integration OptunaSearchCV(study=create_study(direction="
    "'maximize', sampler=TPESampler(seed, n_startup_trials=n_initial)))",
    "skbo": "skbo BayesSearchCV(optimizer_kwargs={'n_initial_points': n_initial}), "
    "defaults otherwise (qLogNEI, explore_every=3, levelwise mixed kernel)",
}


def make_search(
    tool: str, task: Task, n_iter: int, n_initial: int, cv: Any, seed: int
) -> Any:
    """The search-CV object of ``tool`` (not fitted)."""
    est = task.make_estimator()
    common = {"scoring": task.scoring, "cv": cv, "refit": False, "n_jobs": 1}
    if tool == "random":
        from sklearn.model_selection import RandomizedSearchCV

        return RandomizedSearchCV(
            est, to_scipy(task.dims), n_iter=n_iter, random_state=seed, **common
        )
    if tool == "skopt":
        from skopt import BayesSearchCV

        space = dict(zip([d.name for d in task.dims], to_skopt(task.dims), strict=True))
        return BayesSearchCV(
            est,
            space,
            n_iter=n_iter,
            random_state=seed,
            optimizer_kwargs={"n_initial_points": n_initial},
            **common,
        )
    if tool == "optuna":
        import optuna
        from optuna_integration import OptunaSearchCV

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_initial)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        return OptunaSearchCV(
            est,
            to_optuna(task.dims),
            n_trials=n_iter,
            random_state=seed,
            study=study,
            **common,
        )
    if tool == "skbo":
        from skbo import BayesSearchCV as SkboSearch  # type: ignore[attr-defined]

        space = dict(zip([d.name for d in task.dims], to_skbo(task.dims), strict=True))
        return SkboSearch(
            est,
            space,
            n_iter=n_iter,
            random_state=seed,
            optimizer_kwargs={"n_initial_points": n_initial},
            **common,
        )
    raise ValueError(f"unknown tool {tool!r}; choose from {TOOLS}.")


def fit_and_time(
    search: Any, task: Task, data: tuple[np.ndarray, ...], n_splits: int
) -> dict[str, Any]:
    """Fit ``search``, score its best parameters on the test split; never raises."""
    from sklearn.base import clone
    from sklearn.metrics import get_scorer

    X_tr, X_te, y_tr, y_te = data
    out: dict[str, Any] = {"error": None}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        try:
            search.fit(X_tr, y_tr)
            wall = time.perf_counter() - start
            res = search.cv_results_
            fit = np.asarray(res["mean_fit_time"], dtype=float)
            score = np.asarray(res["mean_score_time"], dtype=float)
            spent = float(np.nansum(fit + score) * n_splits)
            best = {k: native(v) for k, v in search.best_params_.items()}
            out.update(
                wall_time=wall,
                fit_score_time=spent,
                overhead_time=wall - spent,
                best_cv_score=float(search.best_score_),
                best_params=best,
                cv_scores=[float(s) for s in res["mean_test_score"]],
            )
            final = clone(task.make_estimator()).set_params(**best).fit(X_tr, y_tr)
            out["test_score"] = float(get_scorer(task.scoring)(final, X_te, y_te))
        except Exception as exc:  # a failing tool is a result, not a crash
            out["error"] = "".join(
                traceback.format_exception_only(type(exc), exc)
            ).strip()
            out.setdefault("wall_time", time.perf_counter() - start)
    out["warnings"] = dict(Counter(w.category.__name__ for w in caught))
    return out


def _cv(task: Task, n_splits: int) -> Any:
    from sklearn.model_selection import KFold, StratifiedKFold

    splitter = StratifiedKFold if task.classification else KFold
    return splitter(n_splits=n_splits, shuffle=True, random_state=0)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the suite; returns the results dict it also saves."""
    argv = list(sys.argv[1:] if argv is None else argv)
    p = _common.parser("sklearn_tuning", __doc__.splitlines()[0], TOOLS)
    p.add_argument("--tasks", nargs="+", default=None, choices=list(TASKS))
    p.add_argument("--n-iter", type=int, default=None)
    p.add_argument(
        "--hardness", action="store_true", help="random-n_iter vs 200-iter runs"
    )
    p.add_argument("--hardness-iter", type=int, default=200)
    p.add_argument("--hardness-seeds", type=int, default=1)
    p.add_argument(
        "--first-seed", type=int, default=0, help="seeds run from here (to extend)"
    )
    args = p.parse_args(argv)
    mode = "quick" if args.quick else "full"
    cfg = QUICK if args.quick else FULL
    n_iter = args.n_iter or cfg.n_iter
    n_initial = min(cfg.n_initial, max(1, n_iter // 2))
    n_splits = cfg.cv
    seeds = list(range(args.first_seed, args.first_seed + (args.seeds or cfg.seeds)))
    tasks = [TASKS[t] for t in (args.tasks or cfg.tasks)]
    suite = "sklearn_hardness" if args.hardness else "sklearn_tuning"
    out = args.out or _common.default_out(suite, mode)
    _common.limit_torch_threads()

    plan: list[tuple[str, int, int]] = []  # (tool, n_iter, seed)
    if args.hardness:
        plan += [("random", n_iter, s) for s in seeds]
        plan += [
            (t, args.hardness_iter, s)
            for s in range(args.hardness_seeds)
            for t in args.tools
        ]
    else:
        plan += [(t, n_iter, s) for s in seeds for t in args.tools]

    results: dict[str, Any] = {
        **_common.metadata("sklearn_tuning", argv, mode),
        "settings": {
            "n_iter": n_iter,
            "n_initial": n_initial,
            "cv": f"{n_splits}-fold (Stratified)KFold(shuffle=True, random_state=0)",
            "n_splits": n_splits,
            "n_jobs": 1,
            "seeds": seeds,
            "hardness": args.hardness,
            "hardness_iter": args.hardness_iter if args.hardness else None,
            "tools": {t: SETTINGS[t] for t in args.tools},
            "tasks": {t.name: t.settings() for t in tasks},
        },
        "runs": [],
    }
    for task in tasks:
        data = task.load(args.quick)
        for tool, iters, seed in plan:
            try:
                with warnings.catch_warnings():  # OptunaSearchCV is "experimental"
                    warnings.simplefilter("ignore")
                    search = make_search(
                        tool, task, iters, n_initial, _cv(task, n_splits), seed
                    )
                row = fit_and_time(search, task, data, n_splits)
            except Exception as exc:  # e.g. the tool is not installed
                row = {"error": f"{type(exc).__name__}: {exc}", "warnings": {}}
            row.update(task=task.name, tool=tool, seed=seed, n_iter=iters)
            results["runs"].append(row)
            _common.save(out, results)
            shown = row["error"] or (
                f"cv {row['best_cv_score']:.4f} test {row['test_score']:.4f} "
                f"overhead {row['overhead_time']:.1f} s of {row['wall_time']:.1f} s"
            )
            _common.log(
                f"[{suite}] {task.name} seed={seed} {tool} n_iter={iters}: {shown}"
            )
    _common.log(f"[{suite}] wrote {out}")
    return results


if __name__ == "__main__":
    main()
