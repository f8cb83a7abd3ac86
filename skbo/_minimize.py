"""``minimize``: Bayesian optimization of a black-box function in one call."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from skbo.callbacks import VerboseCallback, check_callbacks, run_callbacks
from skbo.optimizer import Optimizer, OptimizeResult, _as_failure_aware_float

__all__ = ["minimize"]


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int >= {minimum}, got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    return int(value)


def _evaluate(func: Callable[[list[Any]], Any], point: list[Any]) -> float:
    value = func(list(point))
    try:
        return _as_failure_aware_float(value)
    except TypeError:
        raise TypeError(
            f"func must return a real scalar (or None / NaN for a failed evaluation); "
            f"at {point} it returned {type(value).__name__} {value!r}."
        ) from None


def minimize(
    func: Callable[[list[Any]], Any],
    dimensions: Any,
    n_calls: int = 100,
    *,
    n_initial_points: int | None = None,
    initial_point_generator: str = "sobol",
    acquisition: str | Callable[..., Any] = "LogEI",
    x0: Sequence[Any] | None = None,
    y0: Sequence[Any] | Any | None = None,
    batch_size: int = 1,
    n_jobs: int = 1,
    callback: Any = None,
    random_state: int | np.random.RandomState | None = None,
    verbose: bool = False,
    acq_optimizer_kwargs: Mapping[str, Any] | None = None,
    model_kwargs: Mapping[str, Any] | None = None,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
    output_transform: str | None = "yeo-johnson",
    explore_every: int | None = None,
) -> OptimizeResult:
    """Minimize a black-box function by Bayesian optimization.

    A drop-in for scikit-optimize's ``gp_minimize``: same argument names, same
    result object. The surrogate is a GP with a dimension-scaled lengthscale
    prior; points are chosen by LogEI (see :class:`skbo.Optimizer`).

    Parameters
    ----------
    func : callable
        ``func(x) -> float`` with ``x`` a list in the order of ``dimensions``.
        Returning ``None``, NaN or inf marks a failed evaluation: it is recorded
        (NaN in ``func_vals``) and the search moves away from it.
    dimensions : list or dict
        The search space (see :class:`skbo.space.Space`).
    n_calls : int, default=100
        Number of calls to ``func`` (including the evaluations of ``x0``).
    n_initial_points : int or None, default=None
        Initial-design points; ``None`` gives ``max(5, n_dims + 1)`` less the
        number of ``x0`` points, at least 1 and at most what the budget allows.
    initial_point_generator : {"sobol", "random"}, default="sobol"
        Initial design.
    acquisition : str or callable, default="LogEI"
        Acquisition function (see :class:`skbo.Optimizer`); pass
        ``"qLogNEI"`` for a noisy ``func``.
    x0 : list or list of list, optional
        Points to evaluate first (or, with ``y0``, already evaluated).
    y0 : float or list, optional
        Values at ``x0``; then ``x0`` is not evaluated again and does not count
        toward ``n_calls``.
    batch_size : int, default=1
        Points suggested per iteration; a batch is evaluated in parallel.
    n_jobs : int, default=1
        joblib workers evaluating a batch (``-1``: all cores).
    callback : callable or list of callables, optional
        ``callback(result) -> bool``; ``True`` stops the run with the result so far.
    random_state : int, RandomState or None, default=None
        Same value, same ``x_iters`` on the same machine.
    verbose : bool, default=False
        Print one line per iteration.
    acq_optimizer_kwargs, model_kwargs : dict, optional
        Passed to :class:`skbo.Optimizer`.
    device, dtype : optional
        Where and in which precision the model runs.
    output_transform : {"yeo-johnson", "box-cox"} or None, default="yeo-johnson"
        Rank-preserving warp of the values before the GP sees them (see
        :class:`skbo.Optimizer`).
    explore_every : int or None, default=None
        Every ``explore_every``-th model-based point is a Thompson sample (see
        :class:`skbo.Optimizer`); ``None`` never.

    Returns
    -------
    OptimizeResult
        ``x``, ``fun``, ``x_iters``, ``func_vals``, ``failed``, ``space``,
        ``random_state``, ``models``, ``x_best_predicted``.

    Raises
    ------
    Exception
        Whatever ``func`` raises propagates unchanged, but first the history
        is attached to it: ``err.optimize_result`` is the
        :class:`OptimizeResult` of every evaluation completed before the
        failure, so nothing is lost.

    Examples
    --------
    >>> from skbo import minimize
    >>> res = minimize(lambda x: (x[0] - 0.3) ** 2 + (x[1] - 2) ** 2,
    ...                [(0.0, 1.0), (0, 4)], n_calls=12, random_state=0)
    >>> len(res.x_iters), res.fun < 0.1
    (12, True)
    """
    n_calls = _check_int("n_calls", n_calls, 1)
    batch_size = _check_int("batch_size", batch_size, 1)
    if (
        isinstance(n_jobs, bool)
        or not isinstance(n_jobs, numbers.Integral)
        or n_jobs == 0
    ):
        raise ValueError(f"n_jobs must be a non-zero int, got {n_jobs!r}.")
    callbacks = check_callbacks(callback)

    points0: list[list[Any]] = []
    if x0 is not None:
        if not isinstance(x0, Sequence) or isinstance(x0, str) or len(x0) == 0:
            raise ValueError(
                f"x0 must be a point or a non-empty list of points, got {x0!r}."
            )
        first = x0[0]
        nested = isinstance(first, Sequence) and not isinstance(first, str)
        points0 = [list(p) for p in x0] if nested else [list(x0)]
    values0: list[Any] | None = None
    if y0 is not None:
        if not points0:
            raise ValueError("y0 was given without x0.")
        values0 = list(y0) if isinstance(y0, (list, tuple, np.ndarray)) else [y0]
        if len(values0) != len(points0):
            raise ValueError(
                f"y0 must have one value per point of x0: got {len(values0)} values "
                f"for {len(points0)} points."
            )

    n_eval0 = 0 if values0 is not None else len(points0)
    if n_initial_points is None:
        from skbo.space import Space

        n_dims = (
            dimensions if isinstance(dimensions, Space) else Space(dimensions)
        ).n_dims
        n_initial_points = max(1, max(5, n_dims + 1) - len(points0))
        # The default never exceeds the budget; an explicit value that does is an error.
        n_initial_points = max(1, min(n_initial_points, n_calls - n_eval0))
    n_initial_points = _check_int("n_initial_points", n_initial_points, 1)
    if n_initial_points + n_eval0 > n_calls:
        raise ValueError(
            f"n_initial_points ({n_initial_points}) plus the {n_eval0} evaluations of "
            f"x0 exceed n_calls ({n_calls}); lower n_initial_points or raise n_calls."
        )

    opt = Optimizer(
        dimensions,
        n_initial_points=n_initial_points,
        initial_point_generator=initial_point_generator,
        acquisition=acquisition,
        acq_optimizer_kwargs=acq_optimizer_kwargs,
        model_kwargs=model_kwargs,
        random_state=random_state,
        device=device,
        dtype=dtype,
        output_transform=output_transform,
        explore_every=explore_every,
    )
    for p in points0:
        opt.space.validate_point(p)
    if verbose:
        callbacks.append(VerboseCallback(total=n_calls))

    def run_batch(points: list[list[Any]]) -> list[float]:
        if n_jobs == 1 or len(points) == 1:
            values: list[float] = []
            for p in points:
                try:
                    values.append(_evaluate(func, p))
                except BaseException as err:
                    if values:
                        opt.tell(points[: len(values)], values)
                    err.optimize_result = opt.get_result()
                    raise
            return values
        from joblib import Parallel, delayed

        try:
            return list(
                Parallel(n_jobs=n_jobs)(delayed(_evaluate)(func, p) for p in points)
            )
        except BaseException as err:
            err.optimize_result = opt.get_result()
            raise

    if values0 is not None:
        result = opt.tell(points0, values0)
    elif points0:
        for start in range(0, len(points0), batch_size):
            chunk = points0[start : start + batch_size]
            result = opt.tell(chunk, run_batch(chunk))
    result = opt.get_result()
    if points0 and run_callbacks(callbacks, result):
        return result

    remaining = n_calls - n_eval0
    while remaining > 0:
        n = min(batch_size, remaining)
        points = opt.ask(n)
        result = opt.tell(points, run_batch(points))
        remaining -= n
        if run_callbacks(callbacks, result):
            break
    return result
