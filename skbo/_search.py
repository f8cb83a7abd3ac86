"""``BayesSearchCV``: Bayesian optimization of an estimator's hyperparameters.

Built on scikit-learn's ``BaseSearchCV``, overriding only ``_run_search``, so
cross-validation, scoring, refitting, ``cv_results_`` and metadata routing are
scikit-learn's own. One iteration, for the subspace ``s`` being searched::

    points = optimizers_[s].ask(k)          k = min(n_points, budget left)
    scores = evaluate_candidates(dicts)     k candidates x n_splits fits in ONE
                                            joblib call (Dask/Ray backends)
    optimizers_[s].tell(points, -scores)    minimizes; NaN marks a failure

This is the only skbo module that imports private scikit-learn names (all in
the import block below). Its first ``fit`` replaces scikit-learn's
``model_selection._search._warn_or_raise_about_fit_failures`` by a hook that
behaves exactly like it except inside a ``BayesSearchCV`` search (see
``_fit_failure_hook``).
"""

from __future__ import annotations

import inspect
import math
import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
import sklearn.model_selection._search as _sk_search
from sklearn import get_config
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils._param_validation import Interval

from skbo.callbacks import Callback, check_callbacks, run_callbacks
from skbo.exceptions import SkboWarning
from skbo.optimizer import Optimizer, OptimizeResult
from skbo.utils.random import check_random_state, draw_seed

__all__ = ["AllFitsFailedWarning", "BayesSearchCV"]

_NON_FINITE_WARNING = r"One or more of the (test|train) scores are non-finite"
_RESERVED_KWARGS = ("dimensions", "random_state")


class AllFitsFailedWarning(SkboWarning, FitFailedWarning):  # type: ignore[misc]
    """Every fit of one search iteration failed; the search went on.

    Emitted instead of scikit-learn's ``ValueError("All the N fits failed")``
    when ``error_score`` is a number: the candidates are recorded in
    ``cv_results_`` with that score, and the optimizer learns to avoid them.
    It is also a :class:`sklearn.exceptions.FitFailedWarning`.

    Examples
    --------
    >>> from sklearn.exceptions import FitFailedWarning
    >>> issubclass(AllFitsFailedWarning, FitFailedWarning)
    True
    """


# --------------------------------------------------------------- search spaces
def _parse_search_spaces(
    search_spaces: Any, n_iter: int
) -> list[tuple[Mapping[str, Any], int]]:
    """``search_spaces`` as a list of ``(dict of dimensions, n_iter)`` pairs."""
    single = isinstance(search_spaces, Mapping)
    if not (single or isinstance(search_spaces, list)):
        raise TypeError(
            "search_spaces must be a dict of dimensions, a list of dicts or a list "
            f"of (dict, n_iter) pairs; got {type(search_spaces).__name__}."
        )
    if not search_spaces:
        kind = "dict" if single else "list"
        raise ValueError(f"search_spaces is an empty {kind}.")
    specs: list[tuple[Mapping[str, Any], int]] = []
    for i, item in enumerate([search_spaces] if single else search_spaces):
        where, count = ("search_spaces" if single else f"search_spaces[{i}]"), n_iter
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], Mapping):
            item, count = item
            if isinstance(count, bool) or not isinstance(count, Integral):
                raise TypeError(f"The n_iter of {where} must be an int, got {count!r}.")
            if count < 1:
                raise ValueError(f"The n_iter of {where} must be >= 1, got {count}.")
        elif not isinstance(item, Mapping):
            got = type(item).__name__
            if isinstance(item, tuple):
                got = f"a tuple ({', '.join(type(v).__name__ for v in item)})"
            raise TypeError(
                f"{where} must be a dict of dimensions or a (dict, n_iter) pair; "
                f"got {got}."
            )
        if not item:
            raise ValueError(f"{where} is an empty dict.")
        if not all(isinstance(name, str) for name in item):
            raise TypeError(f"The parameter names in {where} must be strings.")
        specs.append((item, int(count)))
    return specs


def _valid_param_names(estimator: Any, names: Sequence[str], space: Any) -> set[str]:
    """Parameter names of ``estimator``, plus those of swapped-in sub-estimators."""
    valid = set(estimator.get_params(deep=True))
    dims = dict(zip(names, space.dimensions, strict=True))
    grew = True
    while grew:  # a swapped step may itself hold a swapped step
        grew = False
        for name in names:
            if name not in valid:
                continue
            for category in getattr(dims[name], "categories", ()):
                if hasattr(category, "get_params") and not isinstance(category, type):
                    for key in category.get_params(deep=True):
                        if f"{name}__{key}" not in valid:
                            valid.add(f"{name}__{key}")
                            grew = True
    return valid


def _native(value: Any) -> Any:
    """A NumPy scalar as the Python scalar it holds; anything else unchanged."""
    return value.item() if isinstance(value, np.generic) else value


# ------------------------------------------------------------------ fit state
class _FixedSplits:
    """The CV folds of one ``fit``, computed once and replayed on every call.

    NOTE: ``evaluate_candidates`` calls ``cv.split`` again on every call, so a
    shuffling splitter without an int seed would score each iteration on
    different folds (a noisier objective, and scores that do not compare);
    see the note in ``BaseSearchCV._run_search``.
    """

    def __init__(self, splits: Iterator[tuple[Any, Any]]) -> None:
        self.splits = [(np.asarray(train), np.asarray(test)) for train, test in splits]

    def split(self, *args: Any, **kwargs: Any) -> Iterator[tuple[Any, Any]]:
        return iter(self.splits)

    def get_n_splits(self, *args: Any, **kwargs: Any) -> int:
        return len(self.splits)


@dataclass
class _Subspace:
    optimizer: Optimizer
    n_iter: int
    names: list[str]


@dataclass
class _SearchState:
    """What one ``fit`` hands to ``_run_search``; never pickled with the search."""

    subspaces: list[_Subspace]
    callbacks: list[Callback]
    cv: _FixedSplits | None = None
    n_fits: int = 0
    n_failed_fits: int = 0
    first_error: str | None = None
    iteration: int = 0
    total: int = 0
    score_names: list[str] | None = None
    scalar_failures: list[dict[str, Any]] = field(default_factory=list)

    def record(self, out: list[dict[str, Any]], error_score: Any) -> bool:
        """Book-keep one call's fit results; True if every fit failed."""
        failed = [r for r in out if r.get("fit_error") is not None]
        self.n_fits += len(out)
        self.n_failed_fits += len(failed)
        if failed and self.first_error is None:
            self.first_error = str(failed[0]["fit_error"])
        # NOTE: with a callable ``scoring`` that returns a dict, scikit-learn
        # turns the scalar error scores of failed fits into dicts only when a
        # fit of the *same call* succeeded (``_insert_error_scores``). A call
        # whose fits all failed would leave scalars among dicts and break
        # ``_format_results`` later; these result dicts are shared with
        # ``BaseSearchCV``'s history, so they are fixed in place here.
        for r in out:
            if r.get("fit_error") is None and isinstance(r["test_scores"], dict):
                self.score_names = list(r["test_scores"])
                break
        if len(failed) == len(out):
            self.scalar_failures.extend(
                r for r in out if not isinstance(r["test_scores"], dict)
            )
        if self.score_names is not None:
            for r in self.scalar_failures:
                r["test_scores"] = dict.fromkeys(self.score_names, error_score)
                if "train_scores" in r:
                    r["train_scores"] = dict.fromkeys(self.score_names, error_score)
            self.scalar_failures.clear()
        return bool(out) and len(failed) == len(out)


_SKLEARN_FAILURE_CHECK = _sk_search._warn_or_raise_about_fit_failures


def _fit_failure_hook(out: list[dict[str, Any]], error_score: Any) -> None:
    """Stand-in for scikit-learn's fit-failure check inside ``evaluate_candidates``.

    NOTE: scikit-learn raises ``ValueError("All the N fits failed")`` when all
    the fits of one ``evaluate_candidates`` call fail, even with a numeric
    ``error_score``, and drops that call's candidates from ``cv_results_``. A
    Bayesian search makes one call per iteration, so one bad batch would end
    it. When the caller is a fitting ``BayesSearchCV`` (its frame's ``self``:
    searches nested in it keep scikit-learn's behaviour) this warns instead,
    and scikit-learn records the candidates with ``error_score`` exactly as it
    records partial failures: same keys, same dtypes.
    """
    caller = sys._getframe(1).f_locals.get("self")
    state = getattr(caller, "__dict__", {}).get("_search_state")
    if not isinstance(state, _SearchState) or not state.record(out, error_score):
        _SKLEARN_FAILURE_CHECK(out, error_score)
        return
    error = str(out[0]["fit_error"]).strip().splitlines()[-1:]
    warnings.warn(
        f"All the {len(out)} fits of iteration {state.iteration} (column 'iter' of "
        "cv_results_) failed; their candidates are recorded with error_score="
        f"{error_score} and the search goes on. The first one raised: "
        f"{''.join(error)}",
        AllFitsFailedWarning,
        stacklevel=2,
    )


# ---------------------------------------------------------------- the search
class BayesSearchCV(BaseSearchCV):  # type: ignore[misc]
    """Bayesian optimization over hyperparameters, with cross-validation.

    A drop-in for :class:`~sklearn.model_selection.RandomizedSearchCV` and for
    scikit-optimize's ``BayesSearchCV`` (same arguments): each iteration asks a
    Gaussian-process optimizer (:class:`~skbo.optimizer.Optimizer`) for the
    most promising candidates given every score so far. Scoring, refitting,
    ``cv_results_`` and the delegated methods (``predict``, ``predict_proba``,
    ``decision_function``, ``transform``, ``score``, ...) are scikit-learn's.

    Parameters
    ----------
    estimator : estimator object
        The estimator (or pipeline) to tune.
    search_spaces : dict, list of dict or list of (dict, int)
        A dict maps parameter names (``step__param`` in pipelines) to
        dimensions: ``Real``, ``Integer``, ``Categorical`` or any shorthand
        :mod:`skbo.space` accepts, ``scipy.stats`` distributions included, so
        a ``RandomizedSearchCV`` ``param_distributions`` works as it is. A
        list gives subspaces searched one after the other (conditional
        spaces, e.g. a ``Categorical`` of estimators swapping a pipeline
        step); a ``(dict, n_iter)`` pair gives its subspace its own budget.
    n_iter : int, default=50
        Candidates evaluated in each subspace without a budget of its own.
    optimizer_kwargs : dict or None, default=None
        Passed to every :class:`~skbo.optimizer.Optimizer` (e.g.
        ``n_initial_points``, ``acquisition``, ``device``), except
        ``dimensions`` and ``random_state``. The acquisition defaults to
        ``"qLogNEI"`` here (cross-validation scores are noisy observations)
        and ``explore_every`` to 3: every third model-based candidate is a
        Thompson sample, so that a search over a categorical of estimators
        does not settle on the first model that scores well (pass
        ``explore_every=None`` to turn it off).
    scoring : str, callable, list, tuple, dict or None, default=None
        As in :class:`~sklearn.model_selection.GridSearchCV`.
    fit_params : dict or None, default=None
        Parameters for the estimator's ``fit``, merged with those given to
        :meth:`fit` (kept for scikit-optimize compatibility).
    n_jobs : int or None, default=None
        Parallel fits (joblib). The fits of one iteration (candidates x
        folds) go to one joblib call, so a Dask or Ray backend spreads them.
    n_points : int, default=1
        Candidates asked per iteration (one joint batch): more parallel work.
    refit : bool, str or callable, default=True
        As in ``GridSearchCV``. With several metrics it must name the metric
        the search maximizes (``False`` and callables are refused, as in
        scikit-optimize); with one metric a callable may pick ``best_index_``.
    cv : int, cross-validation generator, iterable or None, default=None
        As in ``GridSearchCV``. The folds are drawn once per ``fit``, so even
        an unseeded shuffling splitter scores every candidate on the same ones.
    verbose : int, default=0
        ``> 0`` prints one line per iteration (candidates, best score).
    pre_dispatch : int or str, default="2*n_jobs"
        As in ``GridSearchCV``.
    random_state : int, RandomState instance or None, default=None
        Seeds the optimizers: an int gives the same candidates, in the same
        order, whatever ``n_jobs``.
    error_score : "raise" or float, default=np.nan
        Score of a failed fit. With a number the search goes on: failures are
        recorded in ``cv_results_``, a candidate without a finite mean score
        is told to the optimizer as failed (it avoids the region), and an
        iteration whose fits all fail warns :class:`AllFitsFailedWarning`.
        If every candidate fails, ``fit`` raises ``ValueError`` after the
        search, with the first error. ``"raise"`` raises at once.
    return_train_score : bool, default=False
        Whether ``cv_results_`` holds training scores too.

    Attributes
    ----------
    cv_results_ : dict of numpy (masked) ndarrays
        As in ``GridSearchCV``, one row per candidate in evaluation order,
        plus ``iter`` (iteration, from 0) and ``subspace`` (its index).
    best_estimator_, best_score_, best_params_, best_index_
        As in ``GridSearchCV`` (the best candidate, refitted if ``refit``).
    scorer_, n_splits_, refit_time_, multimetric_
        As in ``GridSearchCV``.
    optimizers_ : list of Optimizer
        One per subspace, in their final state.
    optimizer_results_ : list of OptimizeResult
        One per subspace, as in scikit-optimize (values are negated scores).
    classes_, n_features_in_, feature_names_in_
        Those of ``best_estimator_``.

    See Also
    --------
    sklearn.model_selection.RandomizedSearchCV : Random search.
    skbo.optimizer.Optimizer : The ask/tell engine behind the search.
    skbo.callbacks : Early stopping and progress for :meth:`fit`.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.svm import SVC
    >>> from skbo import BayesSearchCV, Real
    >>> X, y = load_iris(return_X_y=True)
    >>> search = BayesSearchCV(SVC(), {"C": Real(1e-2, 1e2, prior="log-uniform")},
    ...                        n_iter=3, cv=2, random_state=0).fit(X, y)
    >>> len(search.cv_results_["params"]), sorted(search.best_params_)
    (3, ['C'])
    >>> bool(search.best_score_ > 0.8)
    True
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **BaseSearchCV._parameter_constraints,
        "search_spaces": [dict, list],
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "n_points": [Interval(Integral, 1, None, closed="left")],
        "optimizer_kwargs": [dict, None],
        "fit_params": [dict, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator: Any,
        search_spaces: Any,
        n_iter: int = 50,
        *,
        optimizer_kwargs: dict[str, Any] | None = None,
        scoring: Any = None,
        fit_params: dict[str, Any] | None = None,
        n_jobs: int | None = None,
        n_points: int = 1,
        refit: Any = True,
        cv: Any = None,
        verbose: int = 0,
        pre_dispatch: int | str = "2*n_jobs",
        random_state: int | np.random.RandomState | None = None,
        error_score: float | str = np.nan,
        return_train_score: bool = False,
    ) -> None:
        self.search_spaces = search_spaces
        self.n_iter = n_iter
        self.optimizer_kwargs = optimizer_kwargs
        self.fit_params = fit_params
        self.n_points = n_points
        self.random_state = random_state
        super().__init__(
            estimator=estimator,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            error_score=error_score,
            return_train_score=return_train_score,
        )

    @property
    def total_iterations(self) -> int:
        """Candidates a full ``fit`` evaluates: ``n_iter`` summed over subspaces.

        Returns
        -------
        int

        Examples
        --------
        >>> spaces = [({"C": (0.1, 1.0)}, 4), {"tol": (1e-4, 1e-2)}]
        >>> BayesSearchCV(None, spaces, n_iter=10).total_iterations
        14
        """
        return sum(n for _, n in _parse_search_spaces(self.search_spaces, self.n_iter))

    def fit(
        self,
        X: Any,
        y: Any = None,
        *,
        groups: Any = None,
        callback: Any = None,
        **fit_params: Any,
    ) -> BayesSearchCV:
        """Run the search, then refit the best candidate on all of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
            Target; ``None`` for unsupervised learning.
        groups : array-like of shape (n_samples,), default=None
            Group labels for a group splitter (``cv``).
        callback : callable, list of callables or None, default=None
            Called as ``callback(result)`` after every iteration with the
            :class:`~skbo.optimizer.OptimizeResult` of the subspace being
            explored (values are *negated* scores, as the optimizer minimizes).
            One returning ``True`` ends the search of that subspace with the
            results so far; the next subspace, if any, is searched next, as in
            scikit-optimize. See :mod:`skbo.callbacks`.
        **fit_params : dict
            Passed to the estimator's ``fit`` (and, with metadata routing, to
            the scorer and splitter), merged with the constructor's
            ``fit_params`` (a key given in both is an error).

        Returns
        -------
        self : BayesSearchCV
            The fitted search.

        Examples
        --------
        >>> from sklearn.datasets import load_diabetes
        >>> from sklearn.linear_model import Ridge
        >>> X, y = load_diabetes(return_X_y=True)
        >>> search = BayesSearchCV(Ridge(), {"alpha": (1e-3, 1e3, "log-uniform")},
        ...                        n_iter=4, cv=2, random_state=0)
        >>> stop_after_two = lambda result: len(result.func_vals) >= 2
        >>> len(search.fit(X, y, callback=stop_after_two).cv_results_["params"])
        2
        """
        if not get_config()["skip_parameter_validation"]:
            self._validate_params()
        params = dict(self.fit_params or {})
        both = sorted(set(params) & set(fit_params))
        if both:
            raise ValueError(
                f"Fit parameter(s) {both} were given both in the fit_params of "
                "BayesSearchCV and to fit(); give each in one place only."
            )
        params.update(fit_params)
        if groups is not None:
            params["groups"] = groups
        subspaces = self._make_subspaces(check_random_state(self.random_state))
        total = sum(sub.n_iter for sub in subspaces)
        state = _SearchState(subspaces, check_callbacks(callback), total=total)
        _sk_search._warn_or_raise_about_fit_failures = _fit_failure_hook
        for attr in ("optimizers_", "optimizer_results_"):
            self.__dict__.pop(attr, None)
        self._search_state = state
        try:
            super().fit(X, y, **params)
        finally:
            del self._search_state
        return self

    def _make_subspaces(self, rng: np.random.RandomState) -> list[_Subspace]:
        kwargs = dict(self.optimizer_kwargs or {})
        kwargs.setdefault("acquisition", "qLogNEI")  # CV scores are noisy
        # NOTE: measured on the sklearn tuning suite (model_switch): without
        # exploration steps, qLogNEI settled on one model in 2 of 5 seeds.
        kwargs.setdefault("explore_every", 3)
        # Conditional hyperparameters (a categorical choosing the model): each
        # level gets its own continuous kernel as well (LevelwiseKernel).
        kwargs["model_kwargs"] = {
            "mixed_kernel": "levelwise",
            **(kwargs.get("model_kwargs") or {}),
        }
        allowed = set(inspect.signature(Optimizer).parameters) - set(_RESERVED_KWARGS)
        if set(kwargs) - allowed:
            raise ValueError(
                f"optimizer_kwargs has key(s) {sorted(set(kwargs) - allowed)}; it may "
                f"hold {sorted(allowed)} (search_spaces gives the dimensions and "
                "random_state the seeds)."
            )
        subspaces = []
        specs = _parse_search_spaces(self.search_spaces, self.n_iter)
        for i, (dims, n_iter) in enumerate(specs):
            optimizer = Optimizer(dict(dims), random_state=draw_seed(rng), **kwargs)
            names = list(optimizer.space.dimension_names)
            valid = _valid_param_names(self.estimator, names, optimizer.space)
            unknown = [name for name in names if name not in valid]
            if unknown:
                where = "" if isinstance(self.search_spaces, Mapping) else f"[{i}]"
                raise ValueError(
                    f"Invalid parameter(s) {unknown} in search_spaces{where} for "
                    f"estimator {type(self.estimator).__name__}. Valid parameters "
                    f"are: {sorted(valid)}."
                )
            subspaces.append(_Subspace(optimizer, n_iter, names))
        return subspaces

    def _check_input_parameters(self, X: Any, y: Any, split_params: Any) -> None:
        # Called by ``BaseSearchCV.fit`` right after it checked ``cv``: the one
        # place that sees the splitter together with X, y and the split params.
        state = self.__dict__.get("_search_state")
        if state is not None:
            state.cv = _FixedSplits(self._checked_cv_orig.split(X, y, **split_params))

    def _check_refit_for_multimetric(self, scores: Any) -> None:
        # As in scikit-optimize: with several metrics, ``refit`` names the one
        # the optimization maximizes (False and callables give no such metric).
        if not (isinstance(self.refit, str) and self.refit in scores):
            raise ValueError(
                "For multi-metric scoring, BayesSearchCV needs refit set to the "
                "name of one of the scorers: the metric the Bayesian optimization "
                f"maximizes and refits on. Scorers: {sorted(scores)}; refit="
                f"{self.refit!r} was passed."
            )

    def _metric(self, results: Mapping[str, Any]) -> str:
        names = [k[len("mean_test_") :] for k in results if k.startswith("mean_test_")]
        if names == ["score"]:
            return "score"
        # Several metrics, or a callable scoring that returns a dict: checked
        # after the first iteration, not (as in BaseSearchCV) after the search.
        self._check_refit_for_multimetric(names)
        return str(self.refit)

    def _run_search(self, evaluate_candidates: Any) -> None:
        state: _SearchState | None = self.__dict__.get("_search_state")
        if state is None:
            raise RuntimeError("BayesSearchCV._run_search runs only inside fit().")
        results, optimizer_results = self._search(state, evaluate_candidates)
        metric = self._metric(results)
        means = np.asarray(results[f"mean_test_{metric}"], dtype=float)
        all_fits_failed = state.n_failed_fits == state.n_fits
        if all_fits_failed or not np.isfinite(means).any():
            why = "every fit raised" if all_fits_failed else "no finite mean score"
            raise ValueError(
                f"All {len(means)} candidates of the search failed ({why}); the "
                "estimator or the search space is very likely misconfigured (set "
                "error_score='raise' to debug). First error:\n"
                f"{state.first_error or 'none'}"
            )
        self.optimizers_ = [sub.optimizer for sub in state.subspaces]
        self.optimizer_results_ = optimizer_results

    def _search(
        self, state: _SearchState, evaluate_candidates: Any
    ) -> tuple[Any, list[OptimizeResult]]:
        results: Any = None
        optimizer_results: list[OptimizeResult] = []
        quiet_non_finite = False
        for s, sub in enumerate(state.subspaces):
            remaining = sub.n_iter
            result = sub.optimizer.get_result()
            while remaining > 0:
                n = min(self.n_points, remaining)
                points = sub.optimizer.ask(n_points=n)
                candidates = [
                    {k: _native(v) for k, v in zip(sub.names, point, strict=True)}
                    for point in points
                ]
                more = {"iter": [state.iteration] * n, "subspace": [s] * n}
                with warnings.catch_warnings():
                    # scikit-learn re-warns about every earlier failure on every
                    # call (its results are cumulative): once per fit is enough.
                    if quiet_non_finite:
                        warnings.filterwarnings(
                            "ignore", _NON_FINITE_WARNING, UserWarning
                        )
                    results = evaluate_candidates(
                        candidates, cv=state.cv, more_results=more
                    )
                metric = self._metric(results)
                scores = np.asarray(results[f"mean_test_{metric}"][-n:], dtype=float)
                quiet_non_finite = quiet_non_finite or not all(
                    np.isfinite(v).all()
                    for k, v in results.items()
                    if k.startswith(("mean_test_", "mean_train_"))
                )
                result = sub.optimizer.tell(
                    points, [-v if math.isfinite(v) else math.nan for v in scores]
                )
                remaining -= n
                state.iteration += 1
                if self.verbose > 0:
                    means = np.asarray(results[f"mean_test_{metric}"], dtype=float)
                    print(
                        f"[BayesSearchCV] iteration {state.iteration} (subspace {s}): "
                        f"{len(means)}/{state.total} candidates, best "
                        f"mean_test_{metric} {np.nanmax(means, initial=-np.inf):.6g}"
                    )
                if run_callbacks(state.callbacks, result):
                    break
            optimizer_results.append(result)
        return results, optimizer_results

    def __getstate__(self) -> dict[str, Any]:
        # ``BaseSearchCV.fit`` passes ``caller=self`` to every parallel fit, so
        # the search is pickled while it runs: keep the per-fit state out (of
        # a copy: ``object.__getstate__`` may return the instance's __dict__).
        state: dict[str, Any] = dict(super().__getstate__())
        state.pop("_search_state", None)
        return state
