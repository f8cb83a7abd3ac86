"""Callbacks for :func:`skbo.minimize` and :class:`skbo.BayesSearchCV`.

A callback is any callable ``callback(result) -> bool | None`` that receives
the :class:`~skbo.optimizer.OptimizeResult` after every iteration (one told
batch). Returning ``True`` stops the search cleanly: the result so far is
kept and returned, exactly as if the budget had run out. This is
scikit-optimize's protocol, so its callbacks work with skbo unchanged.

Examples
--------
>>> from skbo import minimize
>>> from skbo.callbacks import ThresholdStopper
>>> res = minimize(lambda x: (x[0] - 0.3) ** 2, [(0.0, 1.0)], n_calls=20,
...                callback=ThresholdStopper(0.01), random_state=0)
>>> res.fun <= 0.01 or len(res.x_iters) == 20
True
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from skbo.optimizer import OptimizeResult

__all__ = [
    "Callback",
    "DeadlineStopper",
    "DeltaYStopper",
    "NoImprovementStopper",
    "ProgressBar",
    "ThresholdStopper",
    "VerboseCallback",
    "check_callbacks",
    "run_callbacks",
]

Callback = Callable[["OptimizeResult"], "bool | None"]


def check_callbacks(callback: Any) -> list[Callback]:
    """Turn ``None``, a callable or an iterable of callables into a list.

    Parameters
    ----------
    callback : None, callable or iterable of callables
        What the user passed as ``callback``.

    Returns
    -------
    list of callables

    Raises
    ------
    TypeError
        If ``callback`` or one of its items is not callable.

    Examples
    --------
    >>> check_callbacks(None)
    []
    >>> len(check_callbacks([print, print]))
    2
    """
    if callback is None:
        return []
    if callable(callback):
        return [callback]
    if isinstance(callback, Iterable) and not isinstance(callback, (str, bytes)):
        callbacks = list(callback)
        for i, cb in enumerate(callbacks):
            if not callable(cb):
                raise TypeError(
                    f"callback[{i}] must be callable, got {type(cb).__name__}."
                )
        return callbacks
    raise TypeError(
        "callback must be None, a callable or a list of callables, "
        f"got {type(callback).__name__}."
    )


def run_callbacks(callbacks: list[Callback], result: OptimizeResult) -> bool:
    """Call every callback (all of them, in order); True if any asks to stop.

    Parameters
    ----------
    callbacks : list of callables
        As returned by :func:`check_callbacks`.
    result : OptimizeResult
        The result so far.

    Returns
    -------
    bool
        Whether any callback returned a true value.

    Examples
    --------
    >>> run_callbacks([lambda r: None, lambda r: True], None)
    True
    """
    stop = False
    for cb in callbacks:
        if cb(result):
            stop = True
    return stop


def _finite_values(result: OptimizeResult) -> list[float]:
    return [float(v) for v in result.func_vals if math.isfinite(float(v))]


class DeadlineStopper:
    """Stop once ``total_time`` seconds have passed since the first call.

    The clock starts at the first callback call, so model-free start-up does
    not count. The stop happens between iterations: one iteration may overrun.

    Parameters
    ----------
    total_time : float
        Time budget in seconds (> 0).

    Examples
    --------
    >>> stopper = DeadlineStopper(total_time=3600)
    >>> stopper(None)
    False
    """

    def __init__(self, total_time: float) -> None:
        if not (isinstance(total_time, (int, float)) and total_time > 0):
            raise ValueError(
                f"total_time must be a positive number, got {total_time!r}."
            )
        self.total_time = float(total_time)
        self._start: float | None = None

    def __call__(self, result: OptimizeResult | None) -> bool:
        now = time.monotonic()
        if self._start is None:
            self._start = now
        return now - self._start >= self.total_time


class NoImprovementStopper:
    """Stop when the best value has not improved for ``patience`` iterations.

    An improvement is a decrease of the best (lowest) value by more than
    ``min_delta``.

    Parameters
    ----------
    patience : int
        Number of consecutive iterations without improvement that stops the run.
    min_delta : float, default=0.0
        Smallest decrease that counts as an improvement.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> stopper = NoImprovementStopper(patience=2)
    >>> history = ([3.0], [3.0, 4.0], [3.0, 4.0, 5.0])
    >>> [stopper(SimpleNamespace(func_vals=v)) for v in history]
    [False, False, True]
    """

    def __init__(self, patience: int, min_delta: float = 0.0) -> None:
        if not (isinstance(patience, int) and patience >= 1):
            raise ValueError(f"patience must be an int >= 1, got {patience!r}.")
        if not min_delta >= 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta!r}.")
        self.patience = patience
        self.min_delta = float(min_delta)
        self._best = math.inf
        self._stale = 0
        self._seen = 0

    def __call__(self, result: OptimizeResult) -> bool:
        values = [float(v) for v in result.func_vals]
        new = values[self._seen :]
        self._seen = len(values)
        finite = [v for v in new if math.isfinite(v)]
        best_new = min(finite) if finite else math.inf
        if best_new < self._best - self.min_delta:
            self._best = best_new
            self._stale = 0
        else:
            self._stale += 1
        return self._stale >= self.patience


class DeltaYStopper:
    """Stop when the ``n_best`` best values lie within ``delta`` of each other.

    This is scikit-optimize's ``DeltaYStopper``.

    Parameters
    ----------
    delta : float
        Spread of the best values below which the search stops.
    n_best : int, default=5
        How many of the best values to compare.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> DeltaYStopper(0.1, n_best=3)(SimpleNamespace(func_vals=[1.0, 1.05, 1.01, 9.0]))
    True
    """

    def __init__(self, delta: float, n_best: int = 5) -> None:
        if not delta > 0:
            raise ValueError(f"delta must be > 0, got {delta!r}.")
        if not (isinstance(n_best, int) and n_best >= 2):
            raise ValueError(f"n_best must be an int >= 2, got {n_best!r}.")
        self.delta = float(delta)
        self.n_best = n_best

    def __call__(self, result: OptimizeResult) -> bool:
        best = sorted(_finite_values(result))[: self.n_best]
        return len(best) == self.n_best and best[-1] - best[0] <= self.delta


class ThresholdStopper:
    """Stop once a value at or below ``threshold`` has been found (target reached).

    Parameters
    ----------
    threshold : float
        Target value of the (minimized) objective.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> ThresholdStopper(0.5)(SimpleNamespace(func_vals=[1.0, 0.4]))
    True
    """

    def __init__(self, threshold: float) -> None:
        if not math.isfinite(threshold):
            raise ValueError(f"threshold must be finite, got {threshold!r}.")
        self.threshold = float(threshold)

    def __call__(self, result: OptimizeResult) -> bool:
        finite = _finite_values(result)
        return bool(finite) and min(finite) <= self.threshold


class VerboseCallback:
    """Print one line per iteration: evaluations so far, last and best value.

    Parameters
    ----------
    total : int or None, default=None
        Budget, shown as ``n/total`` when known.
    stream : file-like, default=sys.stdout
        Where to print.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> VerboseCallback(total=10)(SimpleNamespace(func_vals=[2.0, 1.0]))
    Iteration 1: 2/10 evaluations, last 1, best 1
    False
    """

    def __init__(self, total: int | None = None, stream: TextIO | None = None) -> None:
        self.total = total
        self.stream = stream
        self._iteration = 0

    def __call__(self, result: OptimizeResult) -> bool:
        self._iteration += 1
        values = [float(v) for v in result.func_vals]
        finite = [v for v in values if math.isfinite(v)]
        n = f"{len(values)}/{self.total}" if self.total else f"{len(values)}"
        last = f"{values[-1]:.6g}" if values else "-"
        best = f"{min(finite):.6g}" if finite else "-"
        print(
            f"Iteration {self._iteration}: {n} evaluations, last {last}, best {best}",
            file=self.stream or sys.stdout,
        )
        return False


class ProgressBar:
    """Progress display: a tqdm bar when tqdm is installed, plain lines otherwise.

    ``tqdm.auto`` picks a notebook widget or a terminal bar. Without tqdm the
    callback falls back to :class:`VerboseCallback`.

    Parameters
    ----------
    total : int or None, default=None
        Budget (number of evaluations) for the bar's length.
    use_tqdm : bool or None, default=None
        Force (True) or avoid (False) tqdm; ``None`` uses it when importable.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> bar = ProgressBar(total=2, use_tqdm=False)
    >>> bar(SimpleNamespace(func_vals=[1.0]))
    Iteration 1: 1/2 evaluations, last 1, best 1
    False
    >>> bar.close()
    """

    def __init__(self, total: int | None = None, use_tqdm: bool | None = None) -> None:
        self.total = total
        self.use_tqdm = use_tqdm
        self._bar: Any = None
        self._fallback: VerboseCallback | None = None
        self._seen = 0

    def _start(self) -> None:
        if self.use_tqdm is not False:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                if self.use_tqdm:
                    raise ImportError(
                        "ProgressBar(use_tqdm=True) needs tqdm: "
                        "pip install skbo[progress]"
                    ) from None
            else:
                self._bar = tqdm(total=self.total, unit="eval")
                return
        self._fallback = VerboseCallback(total=self.total)

    def __call__(self, result: OptimizeResult) -> bool:
        if self._bar is None and self._fallback is None:
            self._start()
        if self._fallback is not None:
            return self._fallback(result)
        values = [float(v) for v in result.func_vals]
        finite = [v for v in values if math.isfinite(v)]
        self._bar.update(len(values) - self._seen)
        self._seen = len(values)
        if finite:
            self._bar.set_postfix(best=f"{min(finite):.6g}")
        return False

    def close(self) -> None:
        """Close the bar (also called when the object is garbage collected)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __del__(self) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_bar"] = None
        return state
