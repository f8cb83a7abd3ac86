"""The report's figures (matplotlib, Agg backend, PNG)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

FLOOR = 1e-8  # regrets below this are drawn at the floor of the log axis


def _style(tool: str, tools: Sequence[str]) -> dict[str, Any]:
    """The same colour for a tool in every figure of a page; skbo drawn thicker."""
    import matplotlib

    colors = matplotlib.colormaps["tab10"].colors  # type: ignore[attr-defined]
    return {
        "color": colors[list(tools).index(tool) % len(colors)],
        "lw": 2.2 if tool == "skbo" else 1.3,
    }


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def regret_curve(trace: Mapping[str, Any], optimum: float) -> np.ndarray:
    """Regret of the recommendation (best observed point) after each evaluation."""
    y = np.asarray(trace["y_iters"], dtype=float)
    y_true = np.asarray(trace["y_true"], dtype=float)
    best_idx = np.array([int(np.argmin(y[: i + 1])) for i in range(len(y))], dtype=int)
    return np.asarray(y_true[best_idx] - optimum) if len(y) else np.zeros(0)


def regret_curves(
    by: Mapping[tuple[str, str], Sequence[Mapping[str, Any]]],
    problems: Mapping[str, Mapping[str, Any]],
    tools: Sequence[str],
    path: Path,
) -> Path:
    """One panel per problem: median regret vs evaluations, IQR shaded."""
    plt = _plt()
    n = len(problems)
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False
    )
    for ax, (prob, spec) in zip(axes.flat, problems.items(), strict=False):
        for tool in tools:
            curves = [
                regret_curve(r["trace"], spec["optimum"])
                for r in by.get((prob, tool), [])
                if not r["error"] and r["trace"]["y_iters"]
            ]
            if not curves:
                continue
            length = min(len(c) for c in curves)
            C = np.maximum(np.stack([c[:length] for c in curves]), FLOOR)
            q25, med, q75 = np.percentile(C, [25, 50, 75], axis=0)
            x = np.arange(1, length + 1)
            style = _style(tool, tools)
            ax.plot(x, med, label=tool, **style)
            ax.fill_between(x, q25, q75, color=style["color"], alpha=0.15, lw=0)
        ax.axvline(spec["n_initial"] + 0.5, color="grey", lw=0.8, ls=":")
        ax.set_yscale("log")
        ax.set_title(prob, fontsize=10)
        ax.set_xlabel("evaluations")
        ax.set_ylabel("simple regret")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    legend: dict[str, Any] = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    fig.legend(
        list(legend.values()),
        list(legend),
        loc="lower center",
        ncol=max(1, len(legend)),
        frameon=False,
    )
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def overhead_vs_n(
    grid: Mapping[tuple[int, int], Mapping[str, Mapping[str, Any]]],
    tools: Sequence[str],
    path: Path,
) -> Path:
    """One panel per dimension: median time of one suggestion vs n (log-log)."""
    plt = _plt()
    dims = sorted({d for d, _ in grid})
    fig, axes = plt.subplots(
        1, len(dims), figsize=(4.5 * len(dims), 3.4), squeeze=False
    )
    for ax, d in zip(axes.flat, dims, strict=True):
        ns = sorted(n for dd, n in grid if dd == d)
        for tool in tools:
            pts = [
                (n, grid[d, n][tool]["median_time"])
                for n in ns
                if tool in grid[d, n]
                and grid[d, n][tool].get("median_time") is not None
            ]
            if pts:
                ax.plot(
                    *zip(*pts, strict=True),
                    marker="o",
                    label=tool,
                    **_style(tool, tools),
                )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"d = {d}", fontsize=10)
        ax.set_xlabel("observations n")
        ax.set_ylabel("seconds per suggestion")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
