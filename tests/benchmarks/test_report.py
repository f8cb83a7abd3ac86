"""Tests of the report: statistics helpers and the generated page."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `benchmarks` lives at the repository root
    sys.path.insert(0, str(ROOT))

from benchmarks import _common, report  # noqa: E402
from benchmarks._tables import (  # noqa: E402
    best_median_probabilities,
    quartiles,
    ranks,
)
from benchmarks.adapters import get_tool, run_tool  # noqa: E402
from benchmarks.mixed_problem import DIMS, mixed6  # noqa: E402
from benchmarks.regret import summarize  # noqa: E402
from benchmarks.report_plots import regret_curve  # noqa: E402

pytest.importorskip("matplotlib", reason="matplotlib is not installed")


def test_quartiles_ignore_missing_values() -> None:
    assert quartiles([1.0, None, 3.0, float("nan"), 2.0]) == (2.0, 1.5, 2.5)  # type: ignore[list-item]
    assert quartiles([]) is None


def test_ranks_average_ties_and_put_missing_last() -> None:
    r = ranks({"a": 1.0, "b": 1.0, "c": 3.0, "d": None}, lower_is_better=True)
    assert r == {"a": 1.5, "b": 1.5, "c": 3.0, "d": 4.0}
    assert ranks({"a": 1.0, "b": 2.0}, lower_is_better=False) == {"b": 1.0, "a": 2.0}


def test_best_median_probabilities_share_ties_and_skip_missing_tools() -> None:
    p = best_median_probabilities(
        {"a": [1.0, 1.0], "b": [1.0, 1.0], "c": [], "d": [9.0]}, lower_is_better=True
    )
    assert p == {"a": 0.5, "b": 0.5, "c": 0.0, "d": 0.0}
    hi = best_median_probabilities({"a": [1.0], "b": [2.0]}, lower_is_better=False)
    assert hi == {"a": 0.0, "b": 1.0}


def test_best_median_probabilities_reflect_overlap() -> None:
    rng = __import__("numpy").random.default_rng(0)
    a, b = rng.normal(0.0, 1.0, 20), rng.normal(0.1, 1.0, 20)
    p = best_median_probabilities({"a": list(a), "b": list(b)}, lower_is_better=True)
    assert 0.1 < p["a"] < 0.9 and abs(p["a"] + p["b"] - 1.0) < 1e-12
    again = best_median_probabilities({"a": list(a), "b": list(b)}, True)
    assert again == p  # deterministic


def test_regret_curve_follows_the_best_observed_point() -> None:
    trace = {"y_iters": [3.0, 1.0, 2.0, 0.5], "y_true": [2.9, 1.2, 0.1, 0.7]}
    assert regret_curve(trace, optimum=0.0).tolist() == [2.9, 1.2, 1.2, 0.7]


def _meta(suite: str) -> dict[str, Any]:
    return _common.metadata(suite, ["--full"], "full")


def _regret_results() -> dict[str, Any]:
    runs = []
    for seed in range(3):
        for tool in ("random", "skbo"):
            trace = run_tool(
                get_tool("random"),
                DIMS,
                mixed6,
                mixed6,
                8,
                5,
                seed + 10 * (tool == "skbo"),
            ).to_json()
            row = {
                "problem": "mixed6",
                "tool": tool,
                "seed": seed,
                "error": None,
                "trace": trace,
            }
            runs.append({**row, **summarize(trace, 0.0)})
    broken = {
        **runs[0],
        "tool": "botorch",
        "error": "RuntimeError: boom",
        "regret": None,
    }
    problems = {
        "mixed6": {
            "dim": 6,
            "optimum": 0.0,
            "noise_std": 0.0,
            "description": "d",
            "dims": [],
            "n_initial": 5,
        }
    }
    tools = {
        "random": {"library": "numpy"},
        "skbo": {"library": "skbo"},
        "botorch": {"library": "botorch"},
    }
    settings = {"budget": 8, "seeds": [0, 1, 2], "tools": tools, "problems": problems}
    return {**_meta("regret"), "settings": settings, "runs": [*runs, broken]}


def _overhead_results() -> dict[str, Any]:
    cells = []
    for n in (50, 200):
        for tool, t in (("skbo", 0.5), ("botorch", 1.0)):
            cells.append(
                {
                    "n": n,
                    "d": 6,
                    "tool": tool,
                    "error": None,
                    "times": [t],
                    "median_time": t,
                    "suggested_values": [0.1],
                    "history_best": 0.2,
                }
            )
        cells.append(
            {"n": n, "d": 6, "tool": "skopt", "skipped": "slow", "history_best": 0.2}
        )
    settings = {
        "n": [50, 200],
        "d": [6],
        "repeats": 1,
        "tools": {"skbo": "", "botorch": "", "skopt": ""},
    }
    return {**_meta("overhead"), "settings": settings, "cells": cells}


def _sklearn_results() -> dict[str, Any]:
    runs = []
    for seed in range(3):
        for tool, score in (("random", 0.8 + 0.01 * seed), ("skbo", 0.9)):
            runs.append(
                {
                    "task": "svc",
                    "tool": tool,
                    "seed": seed,
                    "n_iter": 30,
                    "error": None,
                    "best_cv_score": score,
                    "test_score": score - 0.01,
                    "overhead_time": 1.0 + (tool == "skbo"),
                    "wall_time": 60.0,
                    "fit_score_time": 58.0,
                    "cv_scores": [score],
                }
            )
    settings = {
        "n_iter": 30,
        "n_initial": 10,
        "cv": "3-fold",
        "n_splits": 3,
        "n_jobs": 1,
        "seeds": [0, 1, 2],
        "hardness": False,
        "tools": {"random": "", "skbo": ""},
        "tasks": {"svc": {"description": "d", "scoring": "accuracy", "dims": ["C"]}},
    }
    return {**_meta("sklearn_tuning"), "settings": settings, "runs": runs}


def _write_results(tmp_path: Path) -> list[str]:
    """One result file per suite; their paths."""
    paths = []
    for name, data in [
        ("r", _regret_results()),
        ("o", _overhead_results()),
        ("s", _sklearn_results()),
    ]:
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(data))
        paths.append(str(path))
    return paths


def test_report_renders_every_suite(tmp_path: Path) -> None:
    paths = _write_results(tmp_path)
    out = tmp_path / "doc" / "benchmarks.md"
    page = report.main([*paths, "--out", str(out)])
    assert out.read_text() == page
    for heading in (
        "## Simple regret",
        "## Overhead of one suggestion",
        "## Tuning scikit-learn",
    ):
        assert heading in page
    assert "**error 1/1**" in page  # the failing tool is shown, not dropped
    assert "1 (2×)" in page  # botorch time relative to skbo's in the same run
    assert "| mean rank |" in page and "skipped" in page
    assert "| expected wins |" in page
    # botorch ran one seed (a failed run), the others three: counts are shown
    assert "1-3 seeds per tool and problem" in page
    assert "| seeds | 3 | 3 | 1 |" in page
    assert "python -m benchmarks.regret --full" in page  # how to reproduce
    assert "--quick" not in page.split("## Simple")[0]  # full results: no smoke banner
    assert (
        tmp_path / "doc" / "img" / "benchmarks" / "regret_curves.png"
    ).stat().st_size > 0
    assert "](img/benchmarks/overhead_vs_n.png)" in page
    # normalized score: random median -> 0, best known (skbo's 0.9) -> 1
    assert "| svc | 0 [-0.0556, 0.0556] | **1 [1, 1]** |" in page


def test_report_rewrites_the_readme_summary(tmp_path: Path) -> None:
    paths = _write_results(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text(
        f"# Title\n\nintro\n\n{report.README_START}\nold\n{report.README_END}\n\nend\n"
    )
    out = tmp_path / "doc" / "benchmarks.md"
    report.main([*paths, "--out", str(out), "--readme", str(readme)])
    text = readme.read_text()
    assert text.startswith("# Title\n\nintro\n\n") and text.endswith("\n\nend\n")
    assert "old" not in text and text.count(report.README_START) == 1
    for headline in ("**Simple regret**", "**Time of one suggestion**", "**Tuning"):
        assert headline in text
    assert "| mean rank |" in text and "| mean of medians |" in text
    assert f"--readme {readme}" in out.read_text()  # the command reproduces both
    # A README without the markers is an error, not a silent no-op.
    bare = tmp_path / "BARE.md"
    bare.write_text("# nothing\n")
    with pytest.raises(SystemExit, match="no '<!-- benchmarks:start -->'"):
        report.main([*paths, "--out", str(out), "--readme", str(bare)])


def test_overhead_target_rows_compare_the_core_with_the_faster_reference() -> None:
    def cell(tool: str, t: float, values: list[float]) -> dict[str, Any]:
        return {"tool": tool, "median_time": t, "suggested_values": values}

    grid = {
        (6, 50): {
            "skbo-core": cell("skbo-core", 0.02, [0.1, 0.5, 0.3]),
            "botorch": cell("botorch", 0.3, [0.2, 0.4, 0.9]),
            "optuna-gp": cell("optuna-gp", 0.05, [0.0, 0.6, 0.2]),
        },
        (6, 200): {
            "skbo-core": cell("skbo-core", 0.1, [0.1]),
            "botorch": {"tool": "botorch", "skipped": "slow"},
            "optuna-gp": cell("optuna-gp", 0.15, [0.3]),
        },
        (6, 1000): {"optuna-gp": cell("optuna-gp", 1.0, [0.0])},  # no core: no row
    }
    rows = report.target_rows(grid)
    assert rows[0] == ["6", "50", "0.02", "0.05 (optuna-gp)", "**2.50**", "2/3", "1/3"]
    assert rows[1] == ["6", "200", "0.1", "0.15 (optuna-gp)", "1.50", "", "1/1"]
    assert len(rows) == 2


def test_seed_counts_per_tool_when_they_differ() -> None:
    by = {
        ("p", "a"): [{"seed": s} for s in range(4)],
        ("q", "a"): [{"seed": s} for s in range(2)],
        ("p", "b"): [{"seed": s} for s in range(4)],
        ("q", "b"): [{"seed": s} for s in range(4)],
    }
    text, table = report.seed_counts(by, ["p", "q"], ["a", "b"])
    assert text == "2-4 seeds per tool and problem"
    assert table is not None and "| seeds | 2-4 | 4 |" in table
    same = {k: v for k, v in by.items() if k[0] == "p"}
    assert report.seed_counts(same, ["p"], ["a", "b"]) == ("4 seed(s)", None)
