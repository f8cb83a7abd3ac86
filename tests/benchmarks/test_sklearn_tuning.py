"""``python -m benchmarks.sklearn_tuning --quick`` end to end, and the tasks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `benchmarks` lives at the repository root
    sys.path.insert(0, str(ROOT))

from benchmarks.sklearn_tasks import TASKS  # noqa: E402
from benchmarks.space import sample  # noqa: E402


def run_quick(suite: str, out: Path, *args: str) -> dict[str, Any]:
    """Run a suite's --quick mode in a fresh interpreter; return its JSON."""
    cmd = [sys.executable, "-m", f"benchmarks.{suite}", "--quick", "--out", str(out)]
    proc = subprocess.run([*cmd, *args], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", sorted(TASKS))
def test_task_space_matches_estimator_params(name: str) -> None:
    task = TASKS[name]
    params = task.make_estimator().get_params()
    assert {d.name for d in task.dims} <= set(params)
    assert 4 <= len(task.dims) <= 8


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", sorted(TASKS))
def test_task_fits_on_quick_data(name: str) -> None:
    from sklearn.base import clone
    from sklearn.metrics import get_scorer
    from threadpoolctl import threadpool_limits

    task = TASKS[name]
    X_tr, X_te, y_tr, y_te = task.load(True)
    assert len(X_tr) == 2 * len(X_te) > 0
    point = sample(task.dims, 1, np.random.RandomState(0))[0]
    # NOTE: one OpenMP thread, as in the suites: on a busy machine HGB's
    # spinning OpenMP workers next to torch's make a fit 10-50x slower.
    with threadpool_limits(1):
        est = clone(task.make_estimator()).set_params(**point).fit(X_tr, y_tr)
    assert np.isfinite(get_scorer(task.scoring)(est, X_te, y_te))


@pytest.mark.slow
def test_sklearn_tuning_quick(tmp_path: Path) -> None:
    for module, name in [
        ("skopt", "scikit-optimize"),
        ("optuna_integration", "optuna-integration"),
    ]:
        pytest.importorskip(module, reason=f"{name} is not installed")
    res = run_quick("sklearn_tuning", tmp_path / "sk.json")
    s = res["settings"]
    assert res["suite"] == "sklearn_tuning" and s["n_jobs"] == 1
    keys = {(r["task"], r["tool"], r["seed"]) for r in res["runs"]}
    assert keys == {
        (t, tool, seed)
        for t in s["tasks"]
        for tool in s["tools"]
        for seed in s["seeds"]
    }
    for r in res["runs"]:
        assert r["error"] is None, (r["tool"], r["error"])
        assert len(r["cv_scores"]) == s["n_iter"]
        assert r["best_cv_score"] == pytest.approx(np.nanmax(r["cv_scores"]))
        assert 0 <= r["fit_score_time"] <= r["wall_time"]
        assert r["overhead_time"] == pytest.approx(r["wall_time"] - r["fit_score_time"])


def test_hardness_mode_runs_long_searches(tmp_path: Path) -> None:
    import torch

    from benchmarks import sklearn_tuning

    threads = torch.get_num_threads()
    try:  # in-process (random search only): main() pins torch to one thread
        res = sklearn_tuning.main(
            [
                *("--quick", "--hardness", "--tasks", "svc", "--tools", "random"),
                *("--hardness-iter", "8", "--out", str(tmp_path / "hard.json")),
            ]
        )
    finally:
        torch.set_num_threads(threads)
    assert res["settings"]["hardness"] is True
    runs = [(r["tool"], r["n_iter"], r["error"]) for r in res["runs"]]
    assert runs == [("random", 6, None), ("random", 8, None)]
    assert json.loads((tmp_path / "hard.json").read_text())["runs"][1]["n_iter"] == 8
