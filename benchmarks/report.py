"""Render benchmark results (JSON) as a markdown page with tables and plots.

``python -m benchmarks.report benchmarks/results/*.json --out doc/benchmarks.md
[--img-dir doc/img/benchmarks] [--readme README.md]``

Files of the same suite are merged (e.g. runs split over ``--problems``).
``--readme`` also rewrites the headline tables of every suite between the
``<!-- benchmarks:start -->`` and ``<!-- benchmarks:end -->`` markers of that
file.
Every number on the page comes from the JSON files; the page states when and
where they were measured and the commands that reproduce them. Times are
compared as ratios to skbo measured in the same file (same run, same machine).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import report_plots
from benchmarks._tables import (
    REFERENCE,
    Groups,
    fmt,
    fmt_q,
    footer,
    latest_runs,
    quartiles,
    rank_table,
    summary_table,
    table,
    tools_of,
    win_probability_table,
    with_ratio,
)


def render_regret(
    files: Sequence[dict[str, Any]],
    img: Path,
    md_dir: Path,
    headlines: list[str] | None = None,
) -> str:
    """Regret tables, ranks, suggestion times and regret curves."""
    runs = latest_runs(files, ("problem", "tool", "seed"))
    tools = tools_of(files, runs)
    problems: dict[str, dict[str, Any]] = {}
    for f in files:
        problems.update(f["settings"]["problems"])
    by: Groups = defaultdict(list)
    for r in runs:
        by[r["problem"], r["tool"]].append(r)
    budgets = ", ".join(
        str(b) for b in sorted({f["settings"]["budget"] for f in files})
    )
    seeds_text, seeds_table = seed_counts(by, list(problems), tools)

    regret, medians = summary_table(
        by, list(problems), tools, lambda r: r["regret"], lower_is_better=True
    )
    ranks = rank_table(medians, tools, lower_is_better=True)
    if headlines is not None:
        headlines += [
            f"**Simple regret** on {len(problems)} synthetic problems (budget "
            f"{budgets}, {seeds_text}): rank of each tool's median regret per "
            "problem (1 = best) and the problems where it is best:",
            ranks,
        ]
    out = [
        "## Simple regret on synthetic problems",
        "",
        f"Budget {budgets} evaluations, {seeds_text}. Simple regret = noise-free "
        "value of the recommended point (for every tool its best *observed* point) "
        "minus the known optimum; median [q25, q75] over seeds; lower is better; the "
        "best median of each problem in bold. Where a tool was run in several "
        "files, the newest file's runs are used (same problem and seed); the "
        "files and their dates are listed below.",
        "",
        regret,
        "",
        *(
            []
            if seeds_table is None
            else [
                "Seeds per tool (the tools were not all run on the same number "
                "of seeds; every seed a tool was run on counts):",
                "",
                seeds_table,
                "",
            ]
        ),
        "Rank of the median regret per problem (1 = best, ties averaged; a tool "
        "without a finished run ranks last):",
        "",
        ranks,
        "",
        "How firm each best median is: the share of 2000 bootstrap replicates "
        "(each tool's seeds resampled with replacement) in which the tool has "
        "the best median regret of the problem, and the sum over problems "
        "(expected number of best medians). Medians of bimodal results (a run "
        "either finds the best basin or category or it does not) flip with a "
        "seed or two.",
        "",
        win_probability_table(
            by, list(problems), tools, lambda r: r["regret"], lower_is_better=True
        ),
    ]
    out += _model_recommendation(by, problems, tools)
    out += [
        "",
        "### Suggestion time per iteration",
        "",
        "Median wall time of one ask + tell after the initial design (model fit + "
        "acquisition optimization), seconds; in parentheses the ratio to skbo. "
        "Only tools in the same file as skbo were timed in the same run as skbo "
        "(files listed below); compare the others with care.",
        "",
        _time_table(by, problems, tools),
    ]
    curves = report_plots.regret_curves(by, problems, tools, img / "regret_curves.png")
    out += [
        "",
        "Median regret of the recommendation after each evaluation (shaded: "
        "interquartile range; dotted line: end of the initial design).",
        "",
        f"![Regret curves]({os.path.relpath(curves, md_dir)})",
        "",
        "### Problems",
        "",
    ]
    for name, s in problems.items():
        out.append(
            f"* **{name}** (d={s['dim']}, n_initial={s['n_initial']}, optimum "
            f"{fmt(s['optimum'], 6)}): {s['description']}"
        )
    return "\n".join(out + footer(files))


def seed_counts(
    by: Groups, problems: Sequence[str], tools: Sequence[str]
) -> tuple[str, str | None]:
    """``("N seeds", None)`` when every tool has N seeds on every problem, else
    ``("N1-N2 seeds", table of each tool's seed counts)``.

    Examples
    --------
    >>> by = {("p", "a"): [{"seed": 0}, {"seed": 1}], ("p", "b"): [{"seed": 0}]}
    >>> seed_counts(by, ["p"], ["a", "b"])[0]
    '1-2 seeds per tool and problem'
    >>> seed_counts({("p", "a"): [{"seed": 0}]}, ["p"], ["a"])
    ('1 seed(s)', None)
    """
    counts = {
        (p, t): len({r["seed"] for r in by.get((p, t), [])})
        for p in problems
        for t in tools
    }
    values = sorted(set(counts.values()))
    if len(values) <= 1:
        return f"{values[0] if values else 0} seed(s)", None
    cells = []
    for t in tools:
        own = sorted({counts[p, t] for p in problems})
        cells.append(str(own[0]) if len(own) == 1 else f"{own[0]}-{own[-1]}")
    table = "\n".join(
        [
            "|  | " + " | ".join(tools) + " |",
            "|---|" + "---|" * len(tools),
            "| seeds | " + " | ".join(cells) + " |",
        ]
    )
    return f"{values[0]}-{values[-1]} seeds per tool and problem", table


def _model_recommendation(
    by: Groups, problems: dict[str, dict[str, Any]], tools: Sequence[str]
) -> list[str]:
    rows = []
    for prob, spec in problems.items():
        if not spec.get("noise_std"):
            continue
        for t in tools:
            ok = [r for r in by.get((prob, t), []) if not r["error"]]
            q = quartiles(r.get("regret_model") for r in ok)
            if q is not None:
                rows.append(
                    [prob, t, fmt_q(q), fmt_q(quartiles(r["regret"] for r in ok))]
                )
    if not rows:
        return []
    header = ["problem", "tool", "model recommendation", "best observed"]
    return [
        "",
        "Noisy problems: regret of the model-based recommendation of the tools that "
        "expose one (skbo: the evaluated point with the best posterior mean) next to "
        "the regret of the best observed point.",
        "",
        table(header, rows),
    ]


def _time_table(
    by: Groups, problems: dict[str, dict[str, Any]], tools: Sequence[str]
) -> str:
    rows = []
    for prob, spec in problems.items():
        med: dict[str, float | None] = {}
        for t in tools:
            times = [
                s
                for r in by.get((prob, t), [])
                for s in r["trace"]["suggest_times"][spec["n_initial"] :]
            ]
            q = quartiles(times)
            med[t] = None if q is None else q[0]
        rows.append([prob, *[with_ratio(med[t], med.get(REFERENCE)) for t in tools]])
    return table(["problem", *tools], rows)


#: The core's speed target (issue 3): at least 2x faster than the faster of these.
TARGET_TOOL = "skbo-core"
TARGET_REFERENCES = ("botorch", "optuna-gp")


def _timed(c: dict[str, Any] | None) -> bool:
    return c is not None and not c.get("skipped") and not c.get("error")


def target_rows(
    grid: dict[tuple[int, int], dict[str, dict[str, Any]]],
) -> list[list[str]]:
    """Per cell: the core's time, the faster reference's, their ratio, and in how
    many histories the core's suggested point is better than each reference's
    (repeat r of every tool starts from history r)."""
    rows = []
    for (d, n), by_tool in sorted(grid.items()):
        core = by_tool.get(TARGET_TOOL)
        refs = [t for t in TARGET_REFERENCES if _timed(by_tool.get(t))]
        if core is None or not _timed(core) or not refs:
            continue
        fastest = min(refs, key=lambda t: float(by_tool[t]["median_time"]))
        ratio = by_tool[fastest]["median_time"] / core["median_time"]
        mine = np.asarray(core["suggested_values"])
        better = []
        for t in TARGET_REFERENCES:
            theirs = np.asarray(by_tool[t]["suggested_values"]) if t in refs else None
            if theirs is None or theirs.shape != mine.shape:
                better.append("")
                continue
            better.append(f"{int((mine < theirs).sum())}/{mine.size}")
        rows.append(
            [
                str(d),
                str(n),
                fmt(core["median_time"]),
                f"{fmt(by_tool[fastest]['median_time'])} ({fastest})",
                f"**{ratio:.2f}**" if ratio >= 2.0 else f"{ratio:.2f}",
                *better,
            ]
        )
    return rows


def render_overhead(
    files: Sequence[dict[str, Any]],
    img: Path,
    md_dir: Path,
    headlines: list[str] | None = None,
) -> str:
    """Time of one suggestion vs n and d, with ratios to skbo."""
    cells = [c for f in files for c in f["cells"]]
    tools = tools_of(files, cells)
    grid: dict[tuple[int, int], dict[str, dict[str, Any]]] = defaultdict(dict)
    for c in cells:
        grid[c["d"], c["n"]][c["tool"]] = c
    rows, value_rows = [], []
    for (d, n), by_tool in sorted(grid.items()):
        ref = by_tool.get(REFERENCE, {}).get("median_time")
        row, vrow = [str(d), str(n)], [str(d), str(n)]
        vrow.append(fmt(next(iter(by_tool.values()))["history_best"]))
        for t in tools:
            c = by_tool.get(t, {"skipped": "not run"})
            if c.get("skipped") or c.get("error"):
                row.append("skipped" if c.get("skipped") else "**error**")
                vrow.append("")
                continue
            row.append(with_ratio(c["median_time"], ref))
            vrow.append(fmt(float(np.median(c["suggested_values"]))))
        rows.append(row)
        value_rows.append(vrow)
    times = table(["d", "n", *tools], rows)
    if headlines is not None:
        headlines += [
            "**Time of one suggestion** (fit, acquisition, optimization) from a "
            "history of n points in d dimensions, seconds, one thread; in "
            "parentheses the ratio to skbo:",
            times,
        ]
    plot = report_plots.overhead_vs_n(grid, tools, img / "overhead_vs_n.png")
    out = [
        "## Overhead of one suggestion",
        "",
        "Time of one suggestion (fit the GP, build the acquisition, optimize it) "
        "from a history of n random points, median over repeats, seconds; in "
        "parentheses the ratio to skbo in the same run; one thread for every tool.",
        "",
        times,
        "",
        f"![Overhead vs n]({os.path.relpath(plot, md_dir)})",
        "",
        "Objective value at the suggested point (median over repeats; lower is "
        "better) next to the best value in the history (where each repeat drew "
        "its own history, the median of their best values):",
        "",
        table(["d", "n", "history best", *tools], value_rows),
    ]
    target = target_rows(grid)
    if target:
        out += [
            "",
            f"The core's speed target: the faster of {' and '.join(TARGET_REFERENCES)} "
            f"over {TARGET_TOOL} (bold: at least 2); and in how many histories "
            f"{TARGET_TOOL}'s suggested point has a lower objective value than each "
            "reference's (the same history for every tool in a repeat):",
            "",
            table(
                [
                    "d",
                    "n",
                    f"{TARGET_TOOL} (s)",
                    "faster reference (s)",
                    "ratio",
                    *[f"better than {t}" for t in TARGET_REFERENCES],
                ],
                target,
            ),
        ]
    errors = [
        f"* {c['tool']} d={c['d']} n={c['n']}: `{c['error'].splitlines()[0]}`"
        for c in cells
        if c.get("error")
    ]
    if errors:
        out += ["", "Errors:", "", *errors]
    return "\n".join(out + footer(files))


def _suite_key(data: dict[str, Any]) -> str:
    hardness = data["suite"] == "sklearn_tuning" and data["settings"].get("hardness")
    return "sklearn_hardness" if hardness else str(data["suite"])


def main(argv: Sequence[str] | None = None) -> str:
    """Read result files, write the markdown page and its images."""
    from benchmarks.report_sklearn import render as render_sklearn

    p = argparse.ArgumentParser(
        prog="python -m benchmarks.report", description=__doc__.splitlines()[0]
    )
    p.add_argument("results", nargs="+", type=Path)
    p.add_argument("--out", type=Path, default=Path("doc/benchmarks.md"))
    p.add_argument(
        "--img-dir", type=Path, default=None, help="default: <out dir>/img/benchmarks"
    )
    p.add_argument(
        "--readme",
        type=Path,
        default=None,
        help="also write the headline tables between its benchmark markers",
    )
    args = p.parse_args(list(sys.argv[1:] if argv is None else argv))
    md_dir = args.out.resolve().parent
    img = (args.img_dir or md_dir / "img" / "benchmarks").resolve()
    img.mkdir(parents=True, exist_ok=True)
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path in args.results:
        data = json.loads(path.read_text())
        groups[_suite_key(data)].append(data)
    extra = [] if args.readme is None else ["--readme", str(args.readme)]
    command = "python -m benchmarks.report " + " ".join(
        [*(str(r) for r in args.results), "--out", str(args.out), *extra]
    )
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    parts = [
        "# Benchmarks",
        "<!-- Generated by benchmarks/report.py: do not edit by hand. -->",
        f"Generated {now} by `{command}`. Each section lists the result files it "
        "shows, with their date, machine, package versions and the command that "
        "reproduces them; `benchmarks/README.md` explains how to rerun everything.",
    ]
    if any(f["mode"] == "quick" for fs in groups.values() for f in fs):
        parts.append(
            "> **These include `--quick` smoke-run results** (tiny budgets, one "
            "seed): they show that the harness runs end to end and are *not* "
            "evidence about the tools."
        )
    headlines: list[str] = []
    if "regret" in groups:
        parts.append(render_regret(groups["regret"], img, md_dir, headlines))
    if "overhead" in groups:
        parts.append(render_overhead(groups["overhead"], img, md_dir, headlines))
    if "sklearn_tuning" in groups or "sklearn_hardness" in groups:
        parts.append(
            render_sklearn(
                groups.get("sklearn_tuning", []),
                groups.get("sklearn_hardness", []),
                headlines,
            )
        )
    page = "\n\n".join(parts).rstrip() + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(page)
    print(f"wrote {args.out}", file=sys.stderr)
    if args.readme is not None:
        files = [f for fs in groups.values() for f in fs]
        write_readme_block(args.readme, headlines, files, now, command, args.out)
    return page


README_START = "<!-- benchmarks:start -->"
README_END = "<!-- benchmarks:end -->"


def readme_block(
    headlines: Sequence[str],
    files: Sequence[dict[str, Any]],
    now: str,
    command: str,
    page: Path,
) -> str:
    """The README's generated benchmark summary (markers included).

    Examples
    --------
    >>> block = readme_block(["a table"], [], "2026-01-01", "cmd", Path("b.md"))
    >>> block.splitlines()[0] == README_START, "a table" in block
    (True, True)
    """
    dates = sorted(str(f["date"])[:10] for f in files)
    machines = sorted(
        {f"{f['machine']['cpu']}, {f['machine']['usable_cpus']} cores" for f in files}
    )
    commits = sorted({str(f["git"]["commit"])[:7] for f in files})
    span = "-" if not dates else dates[0]
    if dates and dates[-1] != dates[0]:
        span = f"{dates[0]} to {dates[-1]}"
    return "\n\n".join(
        [
            README_START,
            "<!-- Generated by benchmarks/report.py --readme: do not edit by hand. -->",
            f"Measured {span} on {'; '.join(machines) or '-'} (skbo commits "
            f"{', '.join(commits) or '-'}); generated {now} by `{command}`. "
            f"Details, settings, every tool's losses and the commands of each run: "
            f"`{page}`.",
            *headlines,
            README_END,
        ]
    )


def write_readme_block(
    readme: Path,
    headlines: Sequence[str],
    files: Sequence[dict[str, Any]],
    now: str,
    command: str,
    page: Path,
) -> None:
    """Replace the text between the benchmark markers of ``readme``."""
    text = readme.read_text()
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise SystemExit(
            f"{readme} has no '{README_START}' ... '{README_END}' block to rewrite."
        )
    block = readme_block(headlines, files, now, command, page)
    readme.write_text(text[:start] + block + text[end + len(README_END) :])
    print(f"wrote the benchmark summary of {readme}", file=sys.stderr)


if __name__ == "__main__":
    main()
