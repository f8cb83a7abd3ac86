"""Table helpers shared by the report's sections (statistics, formatting, ranks)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

REFERENCE = "skbo"
"""Times are reported as ratios to this tool, measured in the same run."""


def latest_runs(
    files: Sequence[dict[str, Any]], key: Sequence[str]
) -> list[dict[str, Any]]:
    """Runs of every file; a newer file's run with the same ``key`` fields
    supersedes an older one (a tool rerun after a change replaces its old
    result instead of being counted twice; files ordered by their ``date``).

    Examples
    --------
    >>> old = {"date": "2026-01-01", "runs": [{"tool": "t", "seed": 0, "v": 1}]}
    >>> new = {"date": "2026-02-01", "runs": [{"tool": "t", "seed": 0, "v": 2}]}
    >>> [r["v"] for r in latest_runs([new, old], ("tool", "seed"))]
    [2]
    """
    keep: dict[tuple[Any, ...], dict[str, Any]] = {}
    for f in sorted(files, key=lambda f: str(f.get("date", ""))):
        for r in f["runs"]:
            keep[tuple(r.get(k) for k in key)] = r
    return list(keep.values())


def quartiles(values: Iterable[float | None]) -> tuple[float, float, float] | None:
    """(median, q25, q75) of the finite values, ``None`` if there are none."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    if v.size == 0:
        return None
    q25, med, q75 = np.percentile(v, [25, 50, 75])
    return float(med), float(q25), float(q75)


def fmt(x: float | None, digits: int = 3) -> str:
    """Compact number: 3 significant digits, scientific when tiny or huge."""
    if x is None or not np.isfinite(x):
        return "–"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}"


def fmt_q(q: tuple[float, float, float] | None) -> str:
    """``median [q25, q75]``."""
    return "–" if q is None else f"{fmt(q[0])} [{fmt(q[1])}, {fmt(q[2])}]"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def ranks(scores: dict[str, float | None], lower_is_better: bool) -> dict[str, float]:
    """Average ranks (1 = best); tools without a score share the last rank."""
    known = {t: s for t, s in scores.items() if s is not None and np.isfinite(s)}
    order = sorted(known, key=lambda t: known[t] if lower_is_better else -known[t])
    out: dict[str, float] = {}
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and known[order[j + 1]] == known[order[i]]:
            j += 1
        for t in order[i : j + 1]:
            out[t] = (i + j) / 2 + 1
        i = j + 1
    missing = [t for t in scores if t not in out]
    for t in missing:
        out[t] = len(known) + (len(missing) + 1) / 2
    return out


def error_note(n_errors: int, n_runs: int) -> str:
    """Appended to a cell where some runs failed."""
    return f" **error {n_errors}/{n_runs}**" if n_errors else ""


Groups = dict[tuple[str, str], list[dict[str, Any]]]
Medians = dict[str, dict[str, float | None]]


def summary_table(
    groups: Groups,
    rows: Sequence[str],
    tools: Sequence[str],
    value: Callable[[dict[str, Any]], float | None],
    lower_is_better: bool,
) -> tuple[str, Medians]:
    """Rows x tools of ``median [q25, q75]`` over the runs that did not fail.

    ``groups[row, tool]`` lists runs (dicts with an ``error`` key); the best
    median of each row is bold; failed runs are counted in the cell.
    Returns the table and the medians (``None`` where nothing finished).
    """
    lines, medians = [], {}
    for row in rows:
        meds: dict[str, float | None] = {}
        cells = []
        for t in tools:
            runs = groups.get((row, t), [])
            q = quartiles(value(r) for r in runs if not r["error"])
            meds[t] = None if q is None else q[0]
            n_err = sum(bool(r["error"]) for r in runs)
            cells.append(fmt_q(q) + error_note(n_err, len(runs)) if runs else "not run")
        best = _best(meds, lower_is_better)
        cells = [
            f"**{c}**" if best is not None and meds[t] == best else c
            for t, c in zip(tools, cells, strict=True)
        ]
        lines.append([row, *cells])
        medians[row] = meds
    return table(["", *tools], lines), medians


def _best(meds: dict[str, float | None], lower_is_better: bool) -> float | None:
    known = [m for m in meds.values() if m is not None]
    if not known:
        return None
    return min(known) if lower_is_better else max(known)


def rank_table(medians: Medians, tools: Sequence[str], lower_is_better: bool) -> str:
    """Mean rank of the per-row medians (ties averaged) and number of wins."""
    rank_lists: dict[str, list[float]] = {t: [] for t in tools}
    wins = dict.fromkeys(tools, 0)
    for meds in medians.values():
        for t, rk in ranks({t: meds.get(t) for t in tools}, lower_is_better).items():
            rank_lists[t].append(rk)
        best = _best(meds, lower_is_better)
        for t in tools:
            wins[t] += int(best is not None and meds.get(t) == best)
    return table(
        ["", *tools],
        [
            ["mean rank", *[fmt(float(np.mean(rank_lists[t])), 2) for t in tools]],
            ["wins", *[str(wins[t]) for t in tools]],
        ],
    )


def best_median_probabilities(
    samples: dict[str, Sequence[float]],
    lower_is_better: bool,
    n_boot: int = 2000,
    seed: int = 0,
) -> dict[str, float]:
    """Bootstrap probability that each tool has the best median.

    Each replicate resamples every tool's values (its seeds) with replacement
    and credits the tool(s) with the best median; tied tools share the credit.
    Tools without values get 0. Deterministic for a given ``seed``.

    Examples
    --------
    >>> values = {"a": [1.0, 1.1, 0.9], "b": [5.0, 6.0, 7.0]}
    >>> p = best_median_probabilities(values, lower_is_better=True)
    >>> p["a"], p["b"]
    (1.0, 0.0)
    """
    rng = np.random.default_rng(seed)
    tools = list(samples)
    meds = []
    for t in tools:
        v = np.asarray([x for x in samples[t] if np.isfinite(x)], dtype=float)
        if v.size == 0:
            meds.append(np.full(n_boot, np.inf))
            continue
        idx = rng.integers(0, v.size, size=(n_boot, v.size))
        m = np.median(v[idx], axis=1)
        meds.append(m if lower_is_better else -m)
    M = np.stack(meds)  # (tools, n_boot), lower is better
    best = M.min(axis=0, keepdims=True) == M
    best &= np.isfinite(M)
    credit = best / np.maximum(best.sum(axis=0, keepdims=True), 1)
    return {t: float(c) for t, c in zip(tools, credit.mean(axis=1), strict=True)}


def win_probability_table(
    groups: Groups,
    rows: Sequence[str],
    tools: Sequence[str],
    value: Callable[[dict[str, Any]], float | None],
    lower_is_better: bool,
) -> str:
    """Rows x tools of :func:`best_median_probabilities` (in %), plus the
    expected number of best medians per tool."""
    lines, expected = [], dict.fromkeys(tools, 0.0)
    for row in rows:
        samples = {
            t: [
                float(v)
                for r in groups.get((row, t), [])
                if not r["error"] and (v := value(r)) is not None
            ]
            for t in tools
        }
        p = best_median_probabilities(samples, lower_is_better)
        for t in tools:
            expected[t] += p[t]
        lines.append([row, *[f"{100 * p[t]:.0f} %" for t in tools]])
    lines.append(["expected wins", *[f"{expected[t]:.1f}" for t in tools]])
    return table(["", *tools], lines)


def with_ratio(q: float | None, ref: float | None) -> str:
    """``q`` and, in parentheses, its ratio to the reference tool's value."""
    if q is None:
        return "–"
    if ref is None or ref <= 0:
        return fmt(q)
    return f"{fmt(q)} ({fmt(q / ref, 2)}×)"


def provenance(files: Sequence[dict[str, Any]]) -> str:
    """When, where and how each merged file was produced."""
    lines = []
    for f in files:
        m, v = f["machine"], f["versions"]
        pkgs = ", ".join(f"{k} {v[k]}" for k in sorted(v) if v[k])
        git = f.get("git", {})
        commit = (git.get("commit") or "?")[:10] + (
            " (dirty)" if git.get("dirty") else ""
        )
        lines.append(
            f"* `{f['command']}` — {f['date']}, mode **{f['mode']}**, commit {commit}; "
            f"{m['cpu']}, {m['usable_cpus']} usable CPUs, {m['memory_gb']} GB, "
            f"load average at start {_load(m.get('load_average'))}, "
            f"{m['platform']}; threads: torch {f['threads']['torch_intra_op']}, "
            f"OMP/MKL/OpenBLAS {f['threads'].get('OMP_NUM_THREADS')}. Versions: {pkgs}."
        )
    if len({f["mode"] for f in files}) > 1:
        lines.append(
            "* **Warning: quick and full results are merged in this section.**"
        )
    return "\n".join(lines)


def _load(load: Sequence[float] | None) -> str:
    return "?" if not load else "/".join(f"{x:.1f}" for x in load)


def tools_of(
    files: Sequence[dict[str, Any]], rows: Iterable[dict[str, Any]]
) -> list[str]:
    """Tools in the order the files list them, then any others found in ``rows``."""
    seen: list[str] = []
    for f in files:
        for t in f["settings"]["tools"]:
            if t not in seen:
                seen.append(t)
    for r in rows:
        if r["tool"] not in seen:
            seen.append(r["tool"])
    return seen


def settings_list(files: Sequence[dict[str, Any]]) -> str:
    """Tool options as recorded in the results."""
    merged: dict[str, Any] = {}
    for f in sorted(files, key=lambda f: str(f.get("date", ""))):
        merged.update(f["settings"]["tools"])  # the newest file's settings win
    return "\n".join(
        f"* **{t}**: {json.dumps(s) if isinstance(s, dict) else s}"
        for t, s in merged.items()
    )


def footer(files: Sequence[dict[str, Any]]) -> list[str]:
    """Tool settings and provenance, closing every section."""
    return [
        "",
        "### Tool settings",
        "",
        settings_list(files),
        "",
        "### Provenance",
        "",
        provenance(files),
    ]
