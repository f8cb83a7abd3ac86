"""``python -m benchmarks.regret --quick`` end to end (every tool, mixed space)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

for _module, _name in [
    ("skopt", "scikit-optimize"),
    ("optuna", "optuna"),
    ("greenlet", "greenlet (batched Optuna GPSampler)"),
    ("botorch", "botorch"),
    ("skbo.test_functions", "skbo.test_functions"),
]:
    pytest.importorskip(_module, reason=f"{_name} is not installed")


def run_quick(suite: str, out: Path, *args: str) -> dict[str, Any]:
    """Run a suite's --quick mode in a fresh interpreter; return its JSON."""
    cmd = [sys.executable, "-m", f"benchmarks.{suite}", "--quick", "--out", str(out)]
    proc = subprocess.run([*cmd, *args], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def skbo_error(runs: list[dict[str, Any]]) -> str | None:
    return next((r["error"] for r in runs if r["tool"] == "skbo" and r["error"]), None)


@pytest.mark.slow
def test_regret_quick(tmp_path: Path) -> None:
    res = run_quick("regret", tmp_path / "regret.json")
    s = res["settings"]
    assert res["suite"] == "regret" and res["mode"] == "quick"
    assert res["command"].startswith("python -m benchmarks.regret --quick")
    assert res["versions"]["botorch"] and res["machine"]["cpu_count"]
    assert (
        res["threads"]["torch_intra_op"] == 1
        and res["threads"]["OMP_NUM_THREADS"] == "1"
    )
    tools = list(s["tools"])
    assert set(tools) == {
        "random",
        "skopt",
        "optuna-tpe",
        "optuna-gp",
        "botorch",
        "skbo",
    }
    expected = {
        (p, t, seed) for p in s["problems"] for t in tools for seed in s["seeds"]
    }
    assert {(r["problem"], r["tool"], r["seed"]) for r in res["runs"]} == expected
    for r in res["runs"]:
        if r["tool"] == "skbo":
            continue
        assert r["error"] is None, (r["tool"], r["error"])
        trace = r["trace"]
        assert len(trace["x_iters"]) == s["budget"] == len(trace["suggest_times"])
        assert r["regret"] >= -1e-9
        assert r["regret"] == pytest.approx(r["regret_best_evaluated"])  # noise-free
    # one initial-design size per problem for every tool, recorded
    for p in s["problems"].values():
        assert p["n_initial"] == min(max(5, p["dim"] + 1), s["budget"] // 2)
    error = skbo_error(res["runs"])
    assert error is None, error


def test_regret_shards_by_first_seed(tmp_path: Path) -> None:
    res = run_quick(
        "regret",
        tmp_path / "shard.json",
        "--tools",
        "random",
        "--problems",
        "branin",
        "--first-seed",
        "3",
        "--seeds",
        "2",
    )
    assert res["settings"]["seeds"] == [3, 4]
    assert sorted(r["seed"] for r in res["runs"]) == [3, 4]
