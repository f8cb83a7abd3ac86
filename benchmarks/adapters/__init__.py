"""Adapters: every black-box tuner behind one ask/tell interface.

``TOOLS`` maps a tool name (as used on the command line and in results) to
``(module, class)``; :func:`get_tool` imports it. Tool libraries are imported
only when a tool is built, so a missing library fails that tool's runs (they
are recorded as errors) and nothing else.
"""

from __future__ import annotations

import importlib
from typing import Any

from benchmarks.adapters.base import Tool, ToolFactory, Trace, run_tool

__all__ = ["TOOLS", "Tool", "ToolFactory", "Trace", "get_tool", "run_tool"]

TOOLS: dict[str, tuple[str, str]] = {
    "random": ("random_search", "RandomSearch"),
    "skopt": ("scikit_optimize", "SkoptGP"),
    "optuna-tpe": ("optuna_samplers", "OptunaTPE"),
    "optuna-gp": ("optuna_samplers", "OptunaGP"),
    "botorch": ("botorch_loop", "BoTorchLoop"),
    "skbo": ("skbo_optimizer", "SkboOptimizer"),
}


def get_tool(name: str) -> Any:
    """The tool class called ``name``; ``ValueError`` for an unknown name."""
    if name not in TOOLS:
        raise ValueError(f"unknown tool {name!r}; choose from {sorted(TOOLS)}.")
    module, cls = TOOLS[name]
    return getattr(importlib.import_module(f"benchmarks.adapters.{module}"), cls)
