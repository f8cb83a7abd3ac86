"""BayesSearchCV against scikit-learn: estimator checks, GridSearchCV and
RandomizedSearchCV equivalence, scikit-learn's callbacks, a Dask backend."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import loguniform
from sklearn.datasets import make_classification, make_regression
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from skbo import BayesSearchCV
from skbo.optimizer import Optimizer
from skbo.space import Real

LOG_ALPHA = Real(1e-3, 1e3, prior="log-uniform")
FAST = {"n_initial_points": 2}

# The two checks scikit-learn itself expects to fail for its searches.
EXPECTED_FAILED_CHECKS = {
    "check_supervised_y_2d": "DataConversionWarning not caught (as GridSearchCV)",
    "check_requires_y_none": "Doesn't fail gracefully (as GridSearchCV)",
}


# About 100 fits, each with a GP-based iteration: over a minute on 2 busy cores.
@pytest.mark.slow
@parametrize_with_checks(
    [
        BayesSearchCV(
            Ridge(),
            {"alpha": LOG_ALPHA},
            n_iter=3,
            cv=2,
            error_score="raise",
            random_state=0,
            optimizer_kwargs=FAST,
        ),
        BayesSearchCV(
            Pipeline([("pca", PCA()), ("logisticregression", LogisticRegression())]),
            {"logisticregression__C": Real(1e-2, 1e2, prior="log-uniform")},
            n_iter=3,
            cv=2,
            error_score="raise",
            random_state=0,
            optimizer_kwargs=FAST,
        ),
    ],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def _fix_asks(monkeypatch: pytest.MonkeyPatch, points: list[list[object]]) -> None:
    """Make every Optimizer propose ``points``, in order."""
    queue = list(points)

    def ask(self, n_points=None):
        batch = [queue.pop(0) for _ in range(n_points or 1)]
        return batch if n_points is not None else batch[0]

    monkeypatch.setattr(Optimizer, "ask", ask)


@pytest.mark.parametrize("n_points", [1, 3])
def test_equivalent_to_grid_search_on_fixed_candidates(monkeypatch, n_points):
    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    Cs = [0.1, 1.0, 10.0, 0.5, 3.0]
    _fix_asks(monkeypatch, [[c] for c in Cs])
    common = dict(
        cv=3, scoring=["accuracy", "f1"], refit="accuracy", return_train_score=True
    )
    bayes = BayesSearchCV(
        LogisticRegression(),
        {"C": Real(0.01, 100.0)},
        n_iter=5,
        n_points=n_points,
        **common,
    ).fit(X, y)
    grid = GridSearchCV(LogisticRegression(), {"C": Cs}, **common).fit(X, y)
    assert set(bayes.cv_results_) - set(grid.cv_results_) == {"iter", "subspace"}
    for key, expected in grid.cv_results_.items():
        got = bayes.cv_results_[key]
        if key.endswith("_time"):
            assert got.shape == expected.shape and got.dtype == expected.dtype
        elif key == "params":
            assert got == expected
        else:
            assert type(got) is type(expected), key
            assert got.dtype == expected.dtype, key
            np.testing.assert_array_equal(got, expected, err_msg=key)
    assert bayes.best_index_ == grid.best_index_
    assert bayes.best_params_ == grid.best_params_
    assert bayes.best_score_ == grid.best_score_
    assert bayes.n_splits_ == grid.n_splits_


@pytest.mark.parametrize(
    ("scoring", "return_train_score"),
    [(None, False), (["r2", "neg_mean_squared_error"], True)],
)
def test_cv_results_like_randomized_search(scoring, return_train_score):
    X, y = make_regression(n_samples=30, n_features=3, random_state=0)
    # A RandomizedSearchCV param_distributions dict works unchanged.
    distributions = {"alpha": loguniform(1e-3, 1e3), "solver": ["auto", "svd"]}
    common = dict(
        n_iter=3,
        cv=2,
        scoring=scoring,
        refit="r2" if scoring else True,
        return_train_score=return_train_score,
        random_state=0,
    )
    bayes = BayesSearchCV(Ridge(), distributions, **common).fit(X, y)
    rand = RandomizedSearchCV(Ridge(), distributions, **common).fit(X, y)
    assert set(bayes.cv_results_) == set(rand.cv_results_) | {"iter", "subspace"}
    for key, expected in rand.cv_results_.items():
        got = bayes.cv_results_[key]
        assert type(got) is type(expected), key
        if isinstance(expected, np.ndarray):
            assert got.dtype == expected.dtype, key
            assert got.shape == expected.shape, key
    assert isinstance(bayes.cv_results_["param_alpha"], np.ma.MaskedArray)
    assert bayes.cv_results_["iter"].dtype.kind == "i"


def test_sklearn_callback_api_keeps_working():
    callback = pytest.importorskip("sklearn.callback")
    X, y = make_regression(n_samples=30, n_features=3, random_state=0)
    events: list[tuple[str, str]] = []

    class Recorder:
        def setup(self, estimator, context):
            events.append(("setup", context.task_name))

        def teardown(self, estimator, context):
            events.append(("teardown", context.task_name))

        def on_fit_task_begin(self, estimator, context, **kwargs):
            events.append(("begin", context.task_name))

        def on_fit_task_end(self, estimator, context, **kwargs):
            events.append(("end", context.task_name))

    assert isinstance(Recorder(), callback.FitCallback)
    search = BayesSearchCV(
        Ridge(), {"alpha": LOG_ALPHA}, n_iter=3, cv=2, random_state=0
    )
    search.set_callbacks(Recorder())
    search.fit(X, y, callback=lambda result: None)  # skbo's callbacks as well
    assert events[0] == ("setup", "fit") and events[-1] == ("teardown", "fit")
    assert ("begin", "fit") in events and ("end", "fit") in events
    assert len(search.cv_results_["params"]) == 3


@pytest.mark.slow
def test_dask_joblib_backend():
    distributed = pytest.importorskip("dask.distributed")
    joblib = pytest.importorskip("joblib")
    X, y = make_regression(n_samples=30, n_features=3, random_state=0)

    def search() -> BayesSearchCV:
        return BayesSearchCV(
            Ridge(),
            {"alpha": LOG_ALPHA},
            n_iter=3,
            n_points=2,
            cv=2,
            n_jobs=2,
            random_state=0,
            optimizer_kwargs=FAST,
        )

    expected = search().fit(X, y).cv_results_
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
        joblib.parallel_backend("dask"),
    ):
        got = search().fit(X, y).cv_results_
    assert got["params"] == expected["params"]
    np.testing.assert_allclose(got["mean_test_score"], expected["mean_test_score"])
