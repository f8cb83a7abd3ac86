"""Ask/tell Bayesian optimization of any black-box function (minimization).

:class:`Optimizer` joins the search space (:mod:`skbo.space`) and the core
(:mod:`skbo.models`, :mod:`skbo.acquisition`, :mod:`skbo.optim`): points are
encoded to the unit cube, losses are negated (acquisition functions
maximize), a GP is fitted with hyperparameters warm-started from the previous
iteration, and the acquisition function (LogEI by default) is optimized
jointly over all pending points.

Failed evaluations (``y`` is ``None``, NaN or infinite) are recorded as NaN in
``yi`` and shown in the result. They never reach the GP as a number that
poisons it: for the model they are imputed with the *worst* finite value seen
so far, which steers the search away from the region without distorting the
rest of the fit, and the point itself is never proposed again.
"""

from __future__ import annotations

import copy
import inspect
import math
import numbers
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from scipy.optimize import OptimizeResult as _ScipyOptimizeResult

from skbo.exceptions import OptimizationWarning, SpaceExhaustedError
from skbo.space import Space
from skbo.utils.random import check_random_state, draw_seed
from skbo.utils.threads import limit_threads
from skbo.utils.warping import POWER_WARPS, power_warp

__all__ = ["OptimizeResult", "Optimizer"]

_INITIAL_GENERATORS = ("sobol", "random")
_BATCH_EQUIVALENT = {
    "EI": "qEI",
    "LogEI": "qLogEI",
    "UCB": "qUCB",
    "PI": "qPI",
    "LogPI": "qPI",
    "ExpectedImprovement": "qEI",
    "LogExpectedImprovement": "qLogEI",
    "UpperConfidenceBound": "qUCB",
    "ProbabilityOfImprovement": "qPI",
    "LogProbabilityOfImprovement": "qPI",
}


class OptimizeResult(_ScipyOptimizeResult):  # type: ignore[misc]
    """Result of an optimization, as in scikit-optimize (a dict with attributes).

    Attributes
    ----------
    x : list
        Best point found (lowest finite value), ``None`` if every evaluation failed.
    fun : float
        Value at ``x`` (NaN if every evaluation failed).
    x_iters : list of list
        Every evaluated point, in order.
    func_vals : ndarray of shape (n_evaluations,)
        Their values; failed evaluations are NaN.
    failed : ndarray of bool
        Which evaluations failed.
    space : Space
        The search space.
    random_state : numpy.random.RandomState
        The optimizer's random state.
    models : list
        The most recent fitted surrogate model(s).
    x_best_predicted : list or None
        Evaluated point with the best posterior mean (more robust than ``x`` on
        noisy objectives); ``None`` before a model was fitted.

    Examples
    --------
    >>> res = OptimizeResult(x=[1.0], fun=0.5)
    >>> res.fun
    0.5
    """


def _as_failure_aware_float(y: Any, index: int | None = None) -> float:
    where = "" if index is None else f" (at position {index})"
    if y is None:
        return math.nan
    if isinstance(y, bool) or np.ndim(y) != 0:
        raise TypeError(
            f"Each objective value must be a real scalar (or None / NaN for a failed "
            f"evaluation); got {type(y).__name__} {y!r}{where}."
        )
    try:
        value = float(y)
    except (TypeError, ValueError):
        raise TypeError(
            f"Each objective value must be a real scalar (or None / NaN for a failed "
            f"evaluation); got {type(y).__name__} {y!r}{where}."
        ) from None
    return value if math.isfinite(value) else math.nan


class Optimizer:
    """Bayesian optimization with an ask/tell interface; minimizes.

    Parameters
    ----------
    dimensions : list or dict
        The search space: a list of dimensions (``Real``, ``Integer``,
        ``Categorical`` or shorthands such as ``(1e-3, 1e3, "log-uniform")``)
        or a dict name -> dimension, or a :class:`~skbo.space.Space`.
    n_initial_points : int or None, default=None
        Points from the initial design before the model takes over; ``None``
        means ``max(5, n_dims + 1)``.
    initial_point_generator : {"sobol", "random"}, default="sobol"
        Initial design: scrambled Sobol points or uniform random points.
    acquisition : str or callable, default="LogEI"
        Name of one of the core's acquisition functions (see
        :func:`skbo.acquisition.get_acquisition_function`), or a callable /
        class ``acquisition(model, **kwargs)`` returning an acquisition
        function; it receives those of ``X_baseline``, ``best_f`` and
        ``X_pending`` that its signature accepts. The default, analytic
        log expected improvement over the best observed value, is exact for
        deterministic objectives (where it equals qLogNEI) and about 3x
        cheaper per call; batches and pending points use its Monte-Carlo
        version ``qLogEI``. For noisy objectives pass ``"qLogNEI"``, the
        default of :class:`~skbo.BayesSearchCV`.
    acq_optimizer_kwargs : dict or None, default=None
        Passed to :func:`skbo.optim.optimize_acqf` (``num_restarts``,
        ``raw_samples``, ``options``).
    model_kwargs : dict or None, default=None
        Passed to :class:`skbo.models.SingleTaskGP` (e.g. ``kernel="rbf"``).
    random_state : int, RandomState or None, default=None
        Makes the sequence of suggestions reproducible on one machine.
    device : str, torch.device or None, default=None
        Where the model and acquisition work runs (``"cpu"`` by default).
    dtype : torch.dtype or None, default=None
        ``torch.float64`` (default) or ``torch.float32``.
    n_threads : int or None, default=1
        PyTorch intra-op threads while fitting and optimizing (``None``: leave
        the global setting alone).
    output_transform : {"yeo-johnson", "box-cox"} or None, default="yeo-johnson"
        Rank-preserving, concave power transform of the finite values
        (:func:`skbo.utils.warping.power_warp`) before the GP sees them.
        Heavy-tailed losses (one bad region dominating the variance)
        otherwise leave the GP too little resolution near the optimum (HEBO,
        Cowen-Rivers et al. 2022). Yeo-Johnson warps the z-scores of the
        values, so the search ignores the units of the loss and any added
        constant; ``None`` models the raw values (standardized).
    explore_every : int or None, default=None
        Every ``explore_every``-th model-based point is a Thompson sample (the
        best point of one joint posterior draw over Sobol candidates and
        perturbed incumbents, :func:`skbo.optim.thompson.thompson_candidate`)
        instead of the acquisition maximizer; ``None`` never. Expected
        improvement can settle on small sure gains in one region, or one
        level of a categorical, while a region the model knows little about
        stays unexplored; an occasional Thompson step visits it with the
        probability that it holds the optimum. :class:`~skbo.BayesSearchCV`
        uses 3.

    Attributes
    ----------
    space : Space
        The search space.
    Xi : list of list
        Points told so far.
    yi : list of float
        Their values (NaN for failed evaluations).
    models : list
        The most recent fitted model (empty before the first fit).

    Examples
    --------
    >>> from skbo import Optimizer
    >>> opt = Optimizer([(-2.0, 2.0), (0, 5)], n_initial_points=3, random_state=0)
    >>> for _ in range(5):
    ...     x = opt.ask()
    ...     _ = opt.tell(x, (x[0] - 1.0) ** 2 + x[1])
    >>> len(opt.Xi), isinstance(opt.Xi[0][1], int)
    (5, True)
    """

    space: Space
    n_initial_points: int
    initial_point_generator: str
    acquisition: str | Callable[..., Any]
    acq_optimizer_kwargs: dict[str, Any]
    model_kwargs: dict[str, Any]
    device: torch.device
    dtype: torch.dtype
    n_threads: int | None
    output_transform: str | None
    explore_every: int | None
    random_state: np.random.RandomState
    _n_initial_asked: int
    _n_model_asked: int
    _initial_design: list[list[Any]]

    def __init__(
        self,
        dimensions: Any,
        *,
        n_initial_points: int | None = None,
        initial_point_generator: str = "sobol",
        acquisition: str | Callable[..., Any] = "LogEI",
        acq_optimizer_kwargs: Mapping[str, Any] | None = None,
        model_kwargs: Mapping[str, Any] | None = None,
        random_state: int | np.random.RandomState | None = None,
        device: str | torch.device | None = None,
        dtype: torch.dtype | None = None,
        n_threads: int | None = 1,
        output_transform: str | None = "yeo-johnson",
        explore_every: int | None = None,
    ) -> None:
        self.space = dimensions if isinstance(dimensions, Space) else Space(dimensions)
        if n_initial_points is None:
            n_initial_points = max(5, self.space.n_dims + 1)
        if isinstance(n_initial_points, bool) or not isinstance(
            n_initial_points, numbers.Integral
        ):
            raise TypeError(
                "n_initial_points must be an int >= 1 or None, "
                f"got {n_initial_points!r}."
            )
        if n_initial_points < 1:
            raise ValueError(f"n_initial_points must be >= 1, got {n_initial_points}.")
        if initial_point_generator not in _INITIAL_GENERATORS:
            raise ValueError(
                f"initial_point_generator must be one of {_INITIAL_GENERATORS}, "
                f"got {initial_point_generator!r}."
            )
        if not (isinstance(acquisition, str) or callable(acquisition)):
            raise TypeError(
                "acquisition must be the name of an acquisition function or a "
                f"callable, got {type(acquisition).__name__}."
            )
        if isinstance(acquisition, str):
            from skbo.acquisition import ACQUISITION_NAMES

            if acquisition not in ACQUISITION_NAMES:
                raise ValueError(
                    f"Unknown acquisition {acquisition!r}; choose one of "
                    f"{sorted(ACQUISITION_NAMES)} or pass a callable."
                )
        if dtype is None:
            dtype = torch.float64
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(
                f"dtype must be torch.float32 or torch.float64, got {dtype}."
            )
        self.n_initial_points = int(n_initial_points)
        self.initial_point_generator = initial_point_generator
        self.acquisition = acquisition
        self.acq_optimizer_kwargs = dict(acq_optimizer_kwargs or {})
        self.model_kwargs = dict(model_kwargs or {})
        self.device = (
            torch.device(device) if device is not None else torch.device("cpu")
        )
        self.dtype = dtype
        self.n_threads = n_threads
        if output_transform is not None and output_transform not in POWER_WARPS:
            raise ValueError(
                "output_transform must be None, 'yeo-johnson' or 'box-cox', "
                f"got {output_transform!r}."
            )
        self.output_transform = output_transform
        if explore_every is not None and (
            isinstance(explore_every, bool)
            or not isinstance(explore_every, numbers.Integral)
            or explore_every < 1
        ):
            raise ValueError(
                f"explore_every must be None or an int >= 1, got {explore_every!r}."
            )
        self.explore_every = None if explore_every is None else int(explore_every)
        self._n_model_asked = 0
        self.random_state = check_random_state(random_state)
        self.Xi: list[list[Any]] = []
        self.yi: list[float] = []
        self.models: list[Any] = []
        self._pending: list[list[Any]] = []
        self._n_initial_asked = 0
        self._initial_design = self._draw_design(self.n_initial_points)

    # ------------------------------------------------------------------ design
    def _draw_design(self, n: int) -> list[list[Any]]:
        seed = draw_seed(self.random_state)
        if self.initial_point_generator == "sobol":
            return self.space.sample(n, random_state=seed)
        rng = np.random.RandomState(seed)
        X = rng.uniform(size=(n, self.space.n_dims))
        return self.space.sample_from_unit(X)

    @property
    def _tkwargs(self) -> dict[str, Any]:
        return {"device": self.device, "dtype": self.dtype}

    # --------------------------------------------------------------------- ask
    def ask(self, n_points: int | None = None) -> Any:
        """Suggest the next point (or ``n_points`` distinct points).

        Points asked but not yet told are *pending*: later suggestions account
        for them (they are never suggested again, and batch acquisition
        conditions on them).

        Parameters
        ----------
        n_points : int or None, default=None
            ``None`` returns one point; an int returns a list of that many.

        Returns
        -------
        list or list of list
            Point(s) in the order of the dimensions, with native Python values.
        """
        if n_points is not None and (
            isinstance(n_points, bool)
            or not isinstance(n_points, numbers.Integral)
            or n_points < 1
        ):
            raise ValueError(f"n_points must be None or an int >= 1, got {n_points!r}.")
        n = 1 if n_points is None else int(n_points)
        points: list[list[Any]] = []
        # Told points (also ones the optimizer never suggested, e.g. a warm
        # start) count toward the initial design, as in scikit-optimize.
        n_design = self.n_initial_points - len(self.Xi) - len(self._pending)
        while (
            len(points) < min(n, n_design)
            and self._n_initial_asked < self.n_initial_points
        ):
            points.append(list(self._initial_design[self._n_initial_asked]))
            self._n_initial_asked += 1
        if len(points) < n:
            points.extend(self._ask_model(n - len(points), pending_extra=points))
        self._pending.extend(copy.copy(p) for p in points)
        return points[0] if n_points is None else points

    def _finite_count(self) -> int:
        return int(np.isfinite(np.asarray(self.yi, dtype=float)).sum())

    def _ask_model(self, n: int, pending_extra: list[list[Any]]) -> list[list[Any]]:
        if self._finite_count() < 2:
            return self._ask_random(n, avoid=pending_extra)
        try:
            with limit_threads(self.n_threads):
                return self._ask_model_unsafe(n, pending_extra)
        except SpaceExhaustedError:
            warnings.warn(
                "Every point of this finite search space has been evaluated or is "
                "pending; repeating already evaluated points.",
                OptimizationWarning,
                stacklevel=3,
            )
            return self._ask_random(n, avoid=pending_extra)
        except RuntimeError as err:  # torch.linalg.LinAlgError included
            warnings.warn(
                f"The model-based suggestion failed ({err}); proposing random points "
                "instead.",
                OptimizationWarning,
                stacklevel=3,
            )
            return self._ask_random(n, avoid=pending_extra)

    def _ask_random(self, n: int, avoid: list[list[Any]]) -> list[list[Any]]:
        seen = {self._key(p) for p in [*self.Xi, *self._pending, *avoid]}
        out: list[list[Any]] = []
        for _ in range(50):
            for p in self._draw_design(max(2 * n, 8)):
                if self._key(p) not in seen:
                    seen.add(self._key(p))
                    out.append(p)
                    if len(out) == n:
                        return out
        # Tiny discrete spaces: duplicates are unavoidable once all is explored.
        out.extend(self._draw_design(n - len(out)))
        return out

    def _key(self, point: Sequence[Any]) -> bytes:
        key: bytes = np.round(self.space.transform([point])[0], 12).tobytes()
        return key

    def _training_data(self) -> tuple[torch.Tensor, torch.Tensor]:
        X = torch.as_tensor(self.space.transform(self.Xi), **self._tkwargs)
        y = np.asarray(self.yi, dtype=np.float64)
        failed = ~np.isfinite(y)
        y[~failed] = power_warp(y[~failed], self.output_transform)
        if failed.any():
            y[failed] = y[~failed].max()  # the worst value seen
        return X, torch.as_tensor(-y, **self._tkwargs)  # acquisitions maximize

    def _mixed_spec(self) -> Any:
        if not self.space.integer_columns and not self.space.categorical_groups:
            return None
        from skbo.optim import IntegerColumn, MixedSpec

        return MixedSpec(
            integers=tuple(
                IntegerColumn(index=c, low=lo, high=hi, log=log)
                for c, lo, hi, log in self.space.integer_columns
            ),
            categorical_groups=tuple(tuple(g) for g in self.space.categorical_groups),
        )

    def _fit_model(self, X: torch.Tensor, Y: torch.Tensor) -> Any:
        from skbo.models import SingleTaskGP, fit_gp

        kwargs = dict(self.model_kwargs)
        if self.space.categorical_groups and "categorical_groups" not in kwargs:
            kwargs["categorical_groups"] = [
                list(g) for g in self.space.categorical_groups
            ]
        model = SingleTaskGP(X, Y, **kwargs)
        previous = self.models[-1] if self.models else None
        fit_gp(model, warm_start=previous, n_threads=None)
        self.models = [model]
        return model

    def _build_acquisition(
        self,
        model: Any,
        X: torch.Tensor,
        Y: torch.Tensor,
        X_pending: torch.Tensor | None,
        q: int = 1,
    ) -> Any:
        best_f = Y.max()
        if isinstance(self.acquisition, str):
            name = self.acquisition
            if X_pending is not None or q > 1:
                # Analytic functions cannot condition on pending points: use the
                # Monte-Carlo version of the same criterion for batches.
                name = _BATCH_EQUIVALENT.get(name, name)
            from skbo.acquisition import get_acquisition_function

            return get_acquisition_function(
                name,
                model,
                X_baseline=X,
                best_f=best_f,
                X_pending=X_pending,
                seed=draw_seed(self.random_state),
            )
        available = {"X_baseline": X, "best_f": best_f, "X_pending": X_pending}
        try:
            params = inspect.signature(self.acquisition).parameters
        except (TypeError, ValueError):
            params = {}  # type: ignore[assignment]
        takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in params.values())
        kwargs = {k: v for k, v in available.items() if takes_kwargs or k in params}
        acqf = self.acquisition(model, **kwargs)
        if "X_pending" not in kwargs and X_pending is not None:
            acqf.set_X_pending(X_pending)
        return acqf

    def _ask_model_unsafe(
        self, n: int, pending_extra: list[list[Any]]
    ) -> list[list[Any]]:
        from skbo.optim import optimize_acqf

        X, Y = self._training_data()
        model = self._fit_model(X, Y)
        pending = [*self._pending, *pending_extra]
        X_pending = (
            torch.as_tensor(self.space.transform(pending), **self._tkwargs)
            if pending
            else None
        )
        bounds = torch.as_tensor(self.space.bounds, **self._tkwargs)
        explore = self._thompson_points(model, X, Y, X_pending, bounds, n)
        if explore:
            extra = torch.stack(explore)
            X_pending = extra if X_pending is None else torch.cat([X_pending, extra])
        candidates = torch.stack(explore) if explore else bounds[:0]
        if len(explore) < n:
            acqf = self._build_acquisition(model, X, Y, X_pending, q=n - len(explore))
            kwargs = dict(self.acq_optimizer_kwargs)
            kwargs.setdefault("seed", draw_seed(self.random_state))
            found, _ = optimize_acqf(
                acqf,
                bounds,
                q=n - len(explore),
                discrete=self._mixed_spec(),
                X_avoid=X,
                X_baseline=X,
                **kwargs,
            )
            candidates = torch.cat([candidates, found.detach()])
        return self.space.inverse_transform(candidates.cpu().numpy())

    def _thompson_points(
        self,
        model: Any,
        X: torch.Tensor,
        Y: torch.Tensor,
        X_pending: torch.Tensor | None,
        bounds: torch.Tensor,
        n: int,
    ) -> list[torch.Tensor]:
        """Thompson samples for the exploration slots among the next ``n`` points."""
        from skbo.optim.thompson import thompson_candidate

        first = self._n_model_asked + 1
        self._n_model_asked += n
        k = self.explore_every
        if k is None:
            return []
        slots = sum(1 for i in range(first, first + n) if i % k == 0)
        out: list[torch.Tensor] = []
        for _ in range(slots):
            avoid = [X] if X_pending is None else [X, X_pending]
            x = thompson_candidate(
                model,
                bounds,
                X_incumbent=X[torch.argsort(Y, descending=True)[:5]],
                discrete=self._mixed_spec(),
                X_avoid=torch.cat([*avoid, *[p.unsqueeze(0) for p in out]]),
                seed=draw_seed(self.random_state),
            )
            if x is None:
                break
            out.append(x)
        return out

    # -------------------------------------------------------------------- tell
    def tell(self, x: Any, y: Any) -> OptimizeResult:
        """Record the value(s) of evaluated point(s).

        Parameters
        ----------
        x : list or list of list
            One point, or a list of points when ``y`` is a list.
        y : float, None or list of them
            Objective value(s) to minimize. ``None``, NaN or an infinite value
            marks a failed evaluation: recorded as NaN, and the search steers
            away from it.

        Returns
        -------
        OptimizeResult
            The result so far (see :meth:`get_result`).
        """
        many = isinstance(y, (list, tuple)) or (
            isinstance(y, np.ndarray) and y.ndim == 1
        )
        if many:
            if not isinstance(x, Sequence) or len(x) != len(y):
                got = len(x) if isinstance(x, Sequence) else type(x).__name__
                raise ValueError(
                    f"With a list of {len(y)} values, x must be a list of as many "
                    f"points; got {got}."
                )
            points, values = list(x), list(y)
        else:
            points, values = [x], [y]
        checked_values = [
            _as_failure_aware_float(v, i if many else None)
            for i, v in enumerate(values)
        ]
        if many:
            self.space.transform(points)  # validates (column by column)
        else:
            self.space.validate_point(points[0])
        for point, value in zip(points, checked_values, strict=True):
            self.Xi.append(list(point))
            self.yi.append(value)
            self._remove_pending(point)
        return self.get_result()

    def _remove_pending(self, point: Sequence[Any]) -> None:
        if not self._pending:
            return
        key = self._key(point)
        for i, p in enumerate(self._pending):
            if self._key(p) == key:
                del self._pending[i]
                return

    # ------------------------------------------------------------------ result
    def get_result(self) -> OptimizeResult:
        """The optimization result so far.

        Returns
        -------
        OptimizeResult
            With ``x``, ``fun``, ``x_iters``, ``func_vals``, ``failed``,
            ``space``, ``random_state``, ``models`` and ``x_best_predicted``.
        """
        func_vals = np.asarray(self.yi, dtype=np.float64)
        failed = ~np.isfinite(func_vals)
        if (~failed).any():
            best = int(np.nanargmin(func_vals))
            x, fun = list(self.Xi[best]), float(func_vals[best])
        else:
            x, fun = None, math.nan
        return OptimizeResult(
            x=x,
            fun=fun,
            x_iters=[list(p) for p in self.Xi],
            func_vals=func_vals,
            failed=failed,
            space=self.space,
            random_state=self.random_state,
            models=list(self.models),
            x_best_predicted=self._best_predicted(),
        )

    def _best_predicted(self) -> list[Any] | None:
        if not self.models or not self.Xi:
            return None
        model = self.models[-1]
        X = torch.as_tensor(self.space.transform(self.Xi), **self._tkwargs)
        ok = torch.as_tensor(np.isfinite(np.asarray(self.yi)), device=self.device)
        with torch.no_grad(), limit_threads(self.n_threads):
            mean = model.posterior(X.unsqueeze(-2)).mean.squeeze(-1)
        mean = torch.where(ok, mean, torch.full_like(mean, -math.inf))
        return list(self.Xi[int(mean.argmax())])

    @property
    def pending(self) -> list[list[Any]]:
        """Points asked but not yet told."""
        return [list(p) for p in self._pending]

    def copy(self) -> Optimizer:
        """An independent deep copy (same state, same random state).

        Examples
        --------
        >>> opt = Optimizer([(0.0, 1.0)], random_state=0)
        >>> opt.copy().ask() == opt.ask()
        True
        """
        return copy.deepcopy(self)

    def __repr__(self) -> str:
        return (
            f"Optimizer({self.space!r}, n_initial_points={self.n_initial_points}, "
            f"acquisition={self.acquisition!r}, told={len(self.Xi)}, "
            f"pending={len(self._pending)})"
        )
