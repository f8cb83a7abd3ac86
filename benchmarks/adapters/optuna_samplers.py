"""Optuna's TPE and GP samplers through ``study.ask`` / ``study.tell``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from benchmarks.space import Dim, Point, native, to_optuna


class _OptunaTool:
    sampler_name: ClassVar[str]

    def __init__(self, dims: Sequence[Dim], n_initial: int, seed: int) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.distributions = to_optuna(dims)
        self.study = optuna.create_study(
            direction="minimize", sampler=self._sampler(n_initial, seed)
        )
        self._pending: list[Any] = []

    def _sampler(self, n_initial: int, seed: int) -> Any:
        raise NotImplementedError

    def ask(self) -> Point:
        trial = self.study.ask(fixed_distributions=self.distributions)
        self._pending.append(trial)
        return {k: native(v) for k, v in trial.params.items()}

    def tell(self, point: Point, value: float) -> None:
        self.study.tell(self._pending.pop(0), value)


class OptunaTPE(_OptunaTool):
    """``TPESampler(seed, n_startup_trials=n_initial)``, other options default."""

    settings: ClassVar[dict[str, Any]] = {
        "library": "optuna",
        "sampler": "TPESampler (defaults otherwise)",
        "n_startup_trials": "same as every tool's initial design",
    }

    def _sampler(self, n_initial: int, seed: int) -> Any:
        import optuna

        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_initial)


class OptunaGP(_OptunaTool):
    """``GPSampler(seed, n_startup_trials=n_initial)``; greenlet makes it batched."""

    settings: ClassVar[dict[str, Any]] = {
        "library": "optuna",
        "sampler": "GPSampler (defaults otherwise: LogEI, random startup trials)",
        "n_startup_trials": "same as every tool's initial design",
        "batched_lbfgsb": "greenlet installed",
    }

    def _sampler(self, n_initial: int, seed: int) -> Any:
        import optuna

        return optuna.samplers.GPSampler(seed=seed, n_startup_trials=n_initial)
