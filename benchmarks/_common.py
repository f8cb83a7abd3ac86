"""What every suite shares: command line, thread limits, metadata, JSON output."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.metadata
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks import N_THREADS, THREAD_ENV_VARS

ROOT = Path(__file__).resolve().parent.parent

PACKAGES = (
    "skbo",
    "torch",
    "gpytorch",
    "linear_operator",
    "botorch",
    "optuna",
    "optuna-integration",
    "scikit-optimize",
    "scikit-learn",
    "numpy",
    "scipy",
    "greenlet",
    "pandas",
    "matplotlib",
)


def parser(
    suite: str, description: str, tools: Sequence[str]
) -> argparse.ArgumentParser:
    """The options every suite takes (``--quick|--full``, tools, seeds, out)."""
    p = argparse.ArgumentParser(
        prog=f"python -m benchmarks.{suite}", description=description
    )
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--quick", action="store_true", help="tiny smoke run (< 1 min)")
    mode.add_argument("--full", action="store_true", help="the real benchmark")
    p.add_argument("--tools", nargs="+", default=list(tools), choices=list(tools))
    p.add_argument("--seeds", type=int, default=None, help="number of seeds")
    p.add_argument("--out", type=Path, default=None, help="output JSON path")
    p.add_argument(
        "--warmup",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="one untimed run per tool first (default: on in --full, off in --quick)",
    )
    return p


def limit_torch_threads() -> None:
    """One intra-op (and inter-op) thread for PyTorch, as for the BLAS pools."""
    import torch

    torch.set_num_threads(N_THREADS)
    # Raises once set, or once inter-op parallel work has started: keep that value.
    with contextlib.suppress(RuntimeError):
        torch.set_num_interop_threads(N_THREADS)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _git() -> dict[str, Any]:
    def run(*cmd: str) -> str:
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=10)
        return out.stdout.strip()

    try:
        return {
            "commit": run("git", "rev-parse", "HEAD") or None,
            "dirty": bool(run("git", "status", "--porcelain", "--untracked-files=no")),
        }
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def versions() -> dict[str, str | None]:
    """Installed version of every package the benchmarks touch (None: absent)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def metadata(suite: str, argv: Sequence[str], mode: str) -> dict[str, Any]:
    """Date, command line, machine, thread settings, package versions, git state."""
    import torch

    return {
        "suite": suite,
        "mode": mode,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "command": shlex.join(["python", "-m", f"benchmarks.{suite}", *argv]),
        "machine": {
            "cpu": _cpu_model(),
            "cpu_count": os.cpu_count(),
            "usable_cpus": len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else os.cpu_count(),
            "memory_gb": _memory_gb(),
            "platform": platform.platform(),
            "load_average": list(os.getloadavg())
            if hasattr(os, "getloadavg")
            else None,
        },
        "threads": {
            "torch_intra_op": torch.get_num_threads(),
            **{var: os.environ.get(var) for var in THREAD_ENV_VARS},
        },
        "versions": versions(),
        "git": _git(),
    }


def default_out(suite: str, mode: str) -> Path:
    """``benchmarks/results/<suite>[_quick].json`` in the repository."""
    name = f"{suite}_quick.json" if mode == "quick" else f"{suite}.json"
    return ROOT / "benchmarks" / "results" / name


def save(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON atomically (a crash never leaves half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=_json_default) + "\n")
    tmp.replace(path)


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return repr(obj)


def log(message: str) -> None:
    """Progress line on stderr (stdout stays clean)."""
    print(message, file=sys.stderr, flush=True)


def timed_block(fn: Callable[[], object], block: int = 10) -> float:
    """Seconds per call over ``block`` back-to-back calls (as in an L-BFGS-B loop).

    NOTE: single calls interleaved with other variants ran about 1.6x slower
    (cold caches) than calls in a row.
    """
    t0 = time.perf_counter()
    for _ in range(block):
        fn()
    return (time.perf_counter() - t0) / block


def interleaved_medians(
    variants: dict[str, Callable[[], object]], repeats: int
) -> dict[str, float]:
    """Median seconds per call of each variant: warmed up, then blocks interleaved."""
    times: dict[str, list[float]] = {k: [] for k in variants}
    for fn in variants.values():
        fn()  # warm up
    for _ in range(repeats):
        for name, fn in variants.items():
            times[name].append(timed_block(fn))
    return {k: statistics.median(v) for k, v in times.items()}


def run_micro_cells(
    suite: str,
    argv: Sequence[str] | None,
    description: str,
    *,
    n: Sequence[int],
    d: Sequence[int],
    repeats: int,
    cell: Callable[[int, int, int], dict[str, Any]],
    header: str,
    row: Callable[[dict[str, Any]], str],
) -> dict[str, Any]:
    """CLI of a per-call micro-benchmark: every (n, d) cell, a table, the JSON."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--n", type=int, nargs="+", default=list(n))
    p.add_argument("--d", type=int, nargs="+", default=list(d))
    p.add_argument("--repeats", type=int, default=repeats)
    p.add_argument("--out", default=f"benchmarks/results/{suite}_quick.json")
    args = p.parse_args(list(sys.argv[1:] if argv is None else argv))
    limit_torch_threads()
    results: dict[str, Any] = {
        **metadata(f"bench_{suite}", list(argv or []), "full"),
        "cells": [],
    }
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for dd in args.d:
        for nn in args.n:
            c = cell(nn, dd, args.repeats)
            results["cells"].append(c)
            print(row(c), flush=True)
    save(Path(args.out), results)
    return results
