"""Tests of BayesSearchCV with failing fits (error_score) and bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.datasets import make_regression
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skbo import BayesSearchCV
from skbo._search import AllFitsFailedWarning
from skbo.optimizer import Optimizer
from skbo.space import Real

FAST = {"n_initial_points": 3}

# scikit-learn's own warning when cv_results_ holds NaN means (failed fits).
pytestmark = pytest.mark.filterwarnings("ignore:One or more of the:UserWarning")


class FragileRidge(RegressorMixin, BaseEstimator):
    """Ridge whose fit raises when ``alpha > max_alpha``."""

    def __init__(self, alpha: float = 1.0, max_alpha: float = np.inf) -> None:
        self.alpha = alpha
        self.max_alpha = max_alpha

    def fit(self, X, y):
        if self.alpha > self.max_alpha:
            raise ValueError(f"alpha={self.alpha} is too large")
        self.ridge_ = Ridge(alpha=self.alpha).fit(X, y)
        return self

    def predict(self, X):
        return self.ridge_.predict(X)


class NeverFit(RegressorMixin, BaseEstimator):
    """An estimator whose fit must not be reached."""

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = alpha

    def fit(self, X, y):
        raise AssertionError("fit must not be called")


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return make_regression(n_samples=30, n_features=3, noise=5.0, random_state=0)


def _fix_asks(monkeypatch: pytest.MonkeyPatch, points: list[list[object]]) -> None:
    """Make every Optimizer propose ``points``, in order."""
    queue = list(points)

    def ask(self, n_points=None):
        batch = [queue.pop(0) for _ in range(n_points or 1)]
        return batch if n_points is not None else batch[0]

    monkeypatch.setattr(Optimizer, "ask", ask)


def _search(estimator: BaseEstimator, **kwargs: object) -> BayesSearchCV:
    params: dict[str, object] = dict(
        n_iter=6, cv=2, random_state=0, optimizer_kwargs=FAST
    )
    params.update(kwargs)
    space = {"alpha": Real(1e-3, 1e3, prior="log-uniform")}
    return BayesSearchCV(estimator, space, **params)


def test_failed_fits_are_recorded_and_told(data):
    X, y = data
    with pytest.warns(AllFitsFailedWarning, match="search goes on"):
        search = _search(FragileRidge(max_alpha=0.5)).fit(X, y)
    res = search.cv_results_
    alphas = np.array([p["alpha"] for p in res["params"]])
    failed = alphas > 0.5
    assert len(alphas) == 6 and failed.any() and not failed.all()
    assert np.isnan(res["mean_test_score"][failed]).all()
    assert np.isnan(res["split0_test_score"][failed]).all()
    assert np.isfinite(res["mean_test_score"][~failed]).all()
    np.testing.assert_array_equal(res["param_alpha"].data.astype(float), alphas)
    # Failures rank last; the best candidate is one that worked.
    assert res["rank_test_score"][failed].min() > res["rank_test_score"][~failed].max()
    assert search.best_params_["alpha"] <= 0.5
    # The optimizer was told these candidates failed.
    [result] = search.optimizer_results_
    np.testing.assert_array_equal(result.failed, failed)
    # Same keys and dtypes as a search where nothing fails.
    clean = _search(FragileRidge()).fit(X, y).cv_results_
    assert res.keys() == clean.keys()
    for key in clean:
        assert type(res[key]) is type(clean[key]), key
        if isinstance(clean[key], np.ndarray):
            assert res[key].dtype == clean[key].dtype, key


def test_non_finite_warning_once_per_fit(data):
    X, y = data
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _search(FragileRidge(max_alpha=0.5)).fit(X, y)
    non_finite = [w for w in caught if "non-finite" in str(w.message)]
    assert len(non_finite) == 1
    assert any(issubclass(w.category, AllFitsFailedWarning) for w in caught)


def test_error_score_raise_surfaces_the_error(data, monkeypatch):
    X, y = data
    _fix_asks(monkeypatch, [[0.1], [10.0], [0.2]])
    search = _search(FragileRidge(max_alpha=0.5), n_iter=3, error_score="raise")
    with pytest.raises(ValueError, match=r"alpha=10\.0 is too large"):
        search.fit(X, y)


def test_numeric_error_score_is_told(data, monkeypatch):
    X, y = data
    _fix_asks(monkeypatch, [[0.1], [10.0], [0.2]])
    with pytest.warns(AllFitsFailedWarning):
        search = _search(FragileRidge(max_alpha=1.0), n_iter=3, error_score=-5.0)
        search.fit(X, y)
    assert search.cv_results_["mean_test_score"][1] == -5.0
    assert search.optimizer_results_[0].func_vals[1] == 5.0


def test_all_candidates_failing_is_a_clear_error(data):
    X, y = data
    search = _search(FragileRidge(max_alpha=-1.0), n_iter=3)
    with (
        pytest.warns(AllFitsFailedWarning),
        pytest.raises(ValueError, match="All 3 candidates of the search failed") as err,
    ):
        search.fit(X, y)
    assert "is too large" in str(err.value)
    assert not hasattr(search, "cv_results_")


def test_nested_search_keeps_sklearn_failure_check(data):
    # The inner GridSearchCV's own "All the N fits failed" error must survive.
    X, y = data
    inner = GridSearchCV(FragileRidge(), {"alpha": [1.0, 2.0]}, cv=2)
    search = BayesSearchCV(
        inner,
        {"estimator__max_alpha": Real(0.1, 0.9)},
        n_iter=2,
        cv=2,
        random_state=0,
    )
    with (
        pytest.warns(AllFitsFailedWarning),
        pytest.raises(ValueError, match="All 2 candidates") as err,
    ):
        search.fit(X, y)
    assert "All the 4 fits failed" in str(err.value)


def test_callable_dict_scoring_after_a_failed_iteration(data, monkeypatch):
    X, y = data
    _fix_asks(monkeypatch, [[10.0], [0.01], [0.02]])

    def scoring(estimator, X_, y_):
        r2 = estimator.score(X_, y_)
        return {"r2": r2, "half": r2 / 2}

    with pytest.warns(AllFitsFailedWarning):
        search = _search(
            FragileRidge(max_alpha=1.0),
            n_iter=3,
            scoring=scoring,
            refit="r2",
            return_train_score=True,
        ).fit(X, y)
    res = search.cv_results_
    assert np.isnan(res["mean_test_r2"][0]) and np.isnan(res["mean_train_half"][0])
    assert np.isfinite(res["mean_test_half"][1:]).all()
    assert search.best_index_ in (1, 2)


@pytest.mark.parametrize(
    ("spaces", "error", "match"),
    [
        ("alpha", ValueError, "'search_spaces' parameter of BayesSearchCV"),
        ([], ValueError, "empty list"),
        ({}, ValueError, "empty dict"),
        ([{"alpha": (0.1, 1.0)}, 3], TypeError, r"search_spaces\[1\] must be a dict"),
        ([({"alpha": (0.1, 1.0)}, 0)], ValueError, r"n_iter of search_spaces\[0\]"),
        ([({"alpha": (0.1, 1.0)}, 2.5)], TypeError, "must be an int"),
        ([({"alpha": (0.1, 1.0)},)], TypeError, r"got a tuple \(dict\)"),
        ([("alpha", 3)], TypeError, r"got a tuple \(str, int\)"),
        ({1: (0.1, 1.0)}, TypeError, "must be strings"),
    ],
)
def test_bad_search_spaces(data, spaces, error, match):
    X, y = data
    search = BayesSearchCV(NeverFit(), spaces, n_iter=2)
    with pytest.raises(error, match=match):
        search.fit(X, y)


def test_wrong_parameter_name_lists_valid_ones(data):
    X, y = data
    pipe = Pipeline([("scale", StandardScaler()), ("model", NeverFit())])
    search = BayesSearchCV(pipe, {"model__alpah": (0.1, 1.0)}, n_iter=2)
    with pytest.raises(ValueError, match=r"\['model__alpah'\]") as err:
        search.fit(X, y)
    assert "model__alpha" in str(err.value) and "scale__with_mean" in str(err.value)
    listed = BayesSearchCV(NeverFit(), [{"alpha": (0.1, 1.0)}, {"beta": (0, 1)}])
    with pytest.raises(ValueError, match=r"search_spaces\[1\] for estimator NeverFit"):
        listed.fit(X, y)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"n_iter": 0}, "'n_iter' parameter"),
        ({"n_iter": "3"}, "'n_iter' parameter"),
        ({"n_points": 0}, "'n_points' parameter"),
        ({"optimizer_kwargs": [1]}, "'optimizer_kwargs' parameter"),
        ({"optimizer_kwargs": {"random_state": 1}}, r"key\(s\) \['random_state'\]"),
        ({"optimizer_kwargs": {"n_initial": 1}}, r"key\(s\) \['n_initial'\]; it may"),
        ({"random_state": "seed"}, "'random_state' parameter"),
    ],
)
def test_bad_parameters_fail_before_any_fit(data, params, match):
    X, y = data
    search = BayesSearchCV(NeverFit(), {"alpha": (0.1, 1.0)}, **params)
    with pytest.raises(ValueError, match=match):
        search.fit(X, y)


def test_bad_callback(data):
    X, y = data
    search = BayesSearchCV(NeverFit(), {"alpha": (0.1, 1.0)}, n_iter=2)
    with pytest.raises(TypeError, match="callback"):
        search.fit(X, y, callback=3)
