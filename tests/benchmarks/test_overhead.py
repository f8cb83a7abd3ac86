"""``python -m benchmarks.overhead --quick`` end to end."""

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

from benchmarks.overhead import smooth  # noqa: E402


def run_quick(suite: str, out: Path, *args: str) -> dict[str, Any]:
    """Run a suite's --quick mode in a fresh interpreter; return its JSON."""
    cmd = [sys.executable, "-m", f"benchmarks.{suite}", "--quick", "--out", str(out)]
    proc = subprocess.run([*cmd, *args], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def test_smooth_is_vectorized_and_bounded_below() -> None:
    X = np.random.RandomState(0).random_sample((100, 6))
    y = smooth(X)
    assert y.shape == (100,) and np.all(np.isfinite(y))
    assert float(smooth(X[:1])[0]) == pytest.approx(float(y[0]))
    assert y.min() > -0.05 * 6


def test_overhead_quick(tmp_path: Path) -> None:
    for module, name in [
        ("skopt", "scikit-optimize"),
        ("optuna", "optuna"),
        ("greenlet", "greenlet"),
        ("botorch", "botorch"),
    ]:
        pytest.importorskip(module, reason=f"{name} is not installed")
    res = run_quick("overhead", tmp_path / "overhead.json")
    s = res["settings"]
    assert res["suite"] == "overhead" and res["threads"]["torch_intra_op"] == 1
    cells = {(c["d"], c["n"], c["tool"]): c for c in res["cells"]}
    assert set(cells) == {(d, n, t) for d in s["d"] for n in s["n"] for t in s["tools"]}
    for (_, _, tool), cell in cells.items():
        if tool.startswith("skbo"):
            continue
        assert cell["error"] is None, (tool, cell["error"])
        assert len(cell["times"]) == s["repeats"] and cell["median_time"] > 0
        assert np.isfinite(cell["suggested_values"]).all()
    for tool in ("skbo", "skbo-core"):
        errors = [c["error"] for (_, _, t), c in cells.items() if t == tool]
        assert errors == [None] * len(errors), errors


def test_overhead_isolated_cells_run_in_fresh_processes(tmp_path: Path) -> None:
    res = run_quick(
        "overhead",
        tmp_path / "overhead.json",
        "--isolate",
        "--tools",
        "skbo-core",
        "--n",
        "12",
        "--d",
        "2",
    )
    assert res["settings"]["isolate"] is True
    (cell,) = res["cells"]
    assert cell["error"] is None and cell["tool"] == "skbo-core"
    assert len(cell["times"]) == 1 and np.isfinite(cell["suggested_values"]).all()
    assert len(cell["history_bests"]) == 1


def test_single_repeat_cells_merge_in_order_and_keep_the_first_error() -> None:
    from benchmarks.overhead import _merge

    ok = [
        {"error": None, "times": [t], "suggested_values": [v], "history_bests": [b]}
        for t, v, b in [(0.3, 1.0, 0.5), (0.1, 2.0, 0.4), (0.2, 3.0, 0.6)]
    ]
    cell = _merge(ok)
    assert cell["times"] == [0.3, 0.1, 0.2] and cell["median_time"] == 0.2
    assert cell["suggested_values"] == [1.0, 2.0, 3.0]
    assert cell["history_bests"] == [0.5, 0.4, 0.6]
    failed = _merge([ok[0], {"error": "boom", "times": []}, ok[1]])
    assert failed == {"error": "boom", "times": [0.3, 0.1]}


def test_workers_import_every_installed_tool() -> None:
    from benchmarks.overhead import _TOOL_MODULES, _import_all_tools

    imported = _import_all_tools()
    assert imported[0] == "skbo" and set(imported) <= set(_TOOL_MODULES)


def test_each_repeat_draws_its_own_history() -> None:
    from benchmarks.overhead import _history

    X0, y0 = _history(6, 50)
    X1, _ = _history(6, 50, 1)
    assert X0.shape == X1.shape == (50, 6) and not np.allclose(X0, X1)
    # the first repeat keeps the history of the earlier single-history runs
    np.testing.assert_array_equal(
        X0, np.random.RandomState(6050).random_sample((50, 6))
    )
    np.testing.assert_array_equal(y0, smooth(X0))


def test_overhead_worker_failure_is_recorded_not_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import benchmarks.overhead as overhead

    class Failed:
        returncode = 1
        stdout = ""
        stderr = "Traceback ...\nRuntimeError: boom"

    monkeypatch.setattr(overhead.subprocess, "run", lambda *a, **k: Failed())
    cell = overhead._isolated_cell("skbo", 2, 12, 1, False)
    assert cell == {"error": "worker exited with 1: RuntimeError: boom", "times": []}


def test_bench_point_posterior_runs(tmp_path: Path) -> None:
    from benchmarks.bench_point_posterior import main

    out = tmp_path / "pp.json"
    res = main(["--n", "12", "--d", "3", "--repeats", "2", "--out", str(out)])
    saved = json.loads(out.read_text())
    assert saved["cells"][0]["n"] == 12
    cell = res["cells"][0]
    assert set(cell["median_s"]) == {
        "logei_fused",
        "logei_general",
        "warp_skbo",
        "warp_sklearn",
    }
    assert cell["logei_speedup"] > 0 and cell["warp_speedup"] > 0


def test_bench_qlognei_closed_form_runs(tmp_path: Path) -> None:
    from benchmarks.bench_qlognei_closed_form import main

    out = tmp_path / "cf.json"
    res = main(["--n", "15", "--d", "3", "--repeats", "2", "--out", str(out)])
    saved = json.loads(out.read_text())
    assert saved["cells"][0]["n"] == 15
    cell = res["cells"][0]
    assert set(cell["median_s"]) == {
        "step_closed",
        "step_mc",
        "pool_closed",
        "pool_mc",
    }
    assert cell["step_ratio"] > 0 and cell["pool_ratio"] > 0
    # where the 256 samples resolve the expectation, the two routes agree
    assert cell["n_resolved"] == 0 or cell["max_log_value_gap"] < 0.5
