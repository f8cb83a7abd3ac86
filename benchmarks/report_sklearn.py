"""The sklearn-tuning section of the report (scores, normalized scores, overhead)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from benchmarks._tables import (
    REFERENCE,
    Groups,
    fmt,
    fmt_q,
    footer,
    latest_runs,
    provenance,
    quartiles,
    rank_table,
    summary_table,
    table,
    tools_of,
)

Norms = dict[str, tuple[float, float]]


def normalizers(runs: Sequence[dict[str, Any]], n_iter: int) -> Norms:
    """Per task: (median best CV score of random search at ``n_iter``, best known)."""
    out: Norms = {}
    for task in dict.fromkeys(r["task"] for r in runs):
        ok = [r for r in runs if r["task"] == task and not r["error"]]
        rand = [
            r["best_cv_score"]
            for r in ok
            if r["tool"] == "random" and r["n_iter"] == n_iter
        ]
        if rand:
            out[task] = (float(np.median(rand)), max(r["best_cv_score"] for r in ok))
    return out


def normalized(score: float, norm: tuple[float, float] | None) -> float | None:
    """(score - random median) / (best known - random median).

    Examples
    --------
    >>> normalized(0.9, (0.8, 1.0))
    0.5...
    """
    if norm is None or norm[1] - norm[0] <= 0:
        return None
    return (score - norm[0]) / (norm[1] - norm[0])


def render(
    files: Sequence[dict[str, Any]],
    hard_files: Sequence[dict[str, Any]],
    headlines: list[str] | None = None,
) -> str:
    """Markdown for the sklearn-tuning results and the hardness check."""
    runs = latest_runs(files, ("task", "tool", "seed", "n_iter"))
    hard = latest_runs(hard_files, ("task", "tool", "seed", "n_iter"))
    n_iter = int((files or hard_files)[0]["settings"]["n_iter"])
    out = ["## Tuning scikit-learn estimators"]
    if files:
        norms = normalizers([*runs, *hard], n_iter)
        out.append(_main_tables(files, runs, norms, headlines))
    if hard_files:
        out.append(_hardness(hard_files, hard, n_iter))
    return "\n\n".join(out)


def _main_tables(
    files: Sequence[dict[str, Any]],
    runs: Sequence[dict[str, Any]],
    norms: Norms,
    headlines: list[str] | None = None,
) -> str:
    s = files[0]["settings"]
    tools = tools_of(files, runs)
    tasks = list(dict.fromkeys(t for f in files for t in f["settings"]["tasks"]))
    by: Groups = defaultdict(list)
    for r in runs:
        by[r["task"], r["tool"]].append(r)
    cv, _ = summary_table(by, tasks, tools, lambda r: r["best_cv_score"], False)
    test, _ = summary_table(by, tasks, tools, lambda r: r["test_score"], False)
    norm, medians = summary_table(
        by,
        tasks,
        tools,
        lambda r: normalized(r["best_cv_score"], norms.get(r["task"])),
        False,
    )
    overhead, ovh_medians = summary_table(
        by, tasks, tools, lambda r: r["overhead_time"], True
    )
    ratio_rows = [
        [task, *[_ratio(ovh_medians[task], t) for t in tools]] for task in tasks
    ]
    mean_norm = [fmt(_mean([m[t] for m in medians.values()])) for t in tools]
    run_means = [
        fmt(
            _mean(
                [
                    normalized(r["best_cv_score"], norms.get(r["task"]))
                    for r in runs
                    if r["tool"] == t and not r["error"]
                ]
            )
        )
        for t in tools
    ]
    seeds = sorted({int(r["seed"]) for r in runs})
    means = table(
        ["", *tools],
        [
            ["mean of medians", *mean_norm],
            ["mean of all runs", *run_means],
            ["overhead / skbo's (median task)", *_median_ratios(ovh_medians, tools)],
        ],
    )
    if headlines is not None:
        headlines += [
            f"**Tuning scikit-learn estimators** ({len(tasks)} tasks, "
            f"n_iter={s['n_iter']}, {len(seeds)} seeds): normalized best CV score "
            "(0 = random search's median, 1 = best known), averaged over tasks, "
            "and each tool's own overhead relative to skbo's:",
            means,
        ]
    out = [
        f"n_iter={s['n_iter']}, {s['cv']}, initial design of {s['n_initial']} points "
        f"for the model-based tools, n_jobs=1, seeds {seeds}; median [q25, q75] "
        "over seeds; best median in bold. Where a tool was rerun (after a change "
        "to it), the newest file's runs replace its older ones (same task, seed "
        "and budget).",
        "",
        "### Best cross-validation score (higher is better)",
        "",
        cv,
        "",
        "### Held-out test score of the best parameters",
        "",
        test,
        "",
        "### Normalized score",
        "",
        "(best CV score − random-search median) / (best score known for the task − "
        "random-search median): 0 = random search, 1 = best known (the best over every "
        "run in these files, the 200-iteration hardness runs included).",
        "",
        norm,
        "",
        means,
        "",
        rank_table(medians, tools, lower_is_better=False),
        "",
        "### Own overhead (seconds per search)",
        "",
        "Wall time of `fit` minus the estimators' fit and score times from "
        "`cv_results_` (lower is better):",
        "",
        overhead,
        "",
        "Ratio of the median own overhead to skbo's:",
        "",
        table(["", *tools], ratio_rows),
        "",
        "### Tasks",
        "",
    ]
    for name in tasks:
        spec = next(
            f["settings"]["tasks"][name]
            for f in files
            if name in f["settings"]["tasks"]
        )
        out.append(
            f"* **{name}** ({spec['scoring']}): {spec['description']}. Space: "
            + "; ".join(spec["dims"])
        )
    return "\n".join(out + footer(files))


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return float(np.mean(known)) if known else None


def _median_ratios(
    ovh_medians: dict[str, dict[str, float | None]], tools: Sequence[str]
) -> list[str]:
    """Per tool, the median over tasks of its overhead ratio to skbo's."""
    out = []
    for t in tools:
        ratios = [
            m[t] / m[REFERENCE]
            for m in ovh_medians.values()
            if m.get(t) is not None and m.get(REFERENCE) and m[REFERENCE] > 0
        ]
        out.append(fmt(float(np.median(ratios)), 2) + "×" if ratios else "–")
    return out


def _ratio(meds: dict[str, float | None], tool: str) -> str:
    ref, value = meds.get(REFERENCE), meds.get(tool)
    if ref is None or value is None or ref <= 0:
        return "–"
    return fmt(value / ref, 2) + "×"


def _hardness(
    files: Sequence[dict[str, Any]], hard: Sequence[dict[str, Any]], n_iter: int
) -> str:
    long_iter = int(files[0]["settings"]["hardness_iter"])
    rows = []
    for task in dict.fromkeys(r["task"] for r in hard):
        ok = [r for r in hard if r["task"] == task and not r["error"]]
        rand = quartiles(
            r["best_cv_score"]
            for r in ok
            if r["tool"] == "random" and r["n_iter"] == n_iter
        )
        long = [r for r in ok if r["n_iter"] == long_iter]
        if rand is None or not long:
            rows.append([task, fmt_q(rand), "–", "–", "–"])
            continue
        top = max(long, key=lambda r: r["best_cv_score"])
        gap = top["best_cv_score"] - rand[0]
        iqr = rand[2] - rand[1]
        rows.append(
            [
                task,
                fmt_q(rand),
                f"{fmt(top['best_cv_score'], 4)} ({top['tool']})",
                fmt(gap),
                fmt(gap / iqr, 2) if iqr > 0 else "∞",
            ]
        )
    header = [
        "task",
        f"random, {n_iter} iterations",
        f"best in {long_iter} iterations",
        "gap",
        "gap / IQR",
    ]
    return "\n".join(
        [
            "### Is the search hard? (`--hardness`)",
            "",
            f"Best CV score of random search with {n_iter} iterations (median [q25, "
            f"q75] over seeds) against the best score any tool reached in {long_iter} "
            "iterations. A gap well above the random-search spread (IQR) means the "
            "task rewards a better search.",
            "",
            table(header, rows),
            "",
            "#### Provenance",
            "",
            provenance(files),
        ]
    )
