"""Tests of skbo.BayesSearchCV: search spaces, pipelines, scoring, callbacks."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from scipy.stats import loguniform
from sklearn import config_context
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GroupKFold, KFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skbo import BayesSearchCV
from skbo.callbacks import ThresholdStopper
from skbo.space import Categorical, Integer, Real

ALPHA = {"alpha": Real(1e-3, 1e3, prior="log-uniform")}
FAST = {"n_initial_points": 2}


@pytest.fixture(scope="module")
def regression() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_regression(n_samples=40, n_features=3, noise=5.0, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def classification() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_classification(
        n_samples=60,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=3,
        random_state=0,
    )
    return X, y


def _ridge_search(**kwargs: object) -> BayesSearchCV:
    params: dict[str, object] = dict(
        n_iter=3, cv=2, random_state=0, optimizer_kwargs=FAST
    )
    params.update(kwargs)
    return BayesSearchCV(Ridge(), ALPHA, **params)


def test_basic_search_fitted_attributes(regression):
    X, y = regression
    search = _ridge_search(n_iter=4).fit(X, y)
    res = search.cv_results_
    assert len(res["params"]) == 4 == search.total_iterations
    assert search.n_splits_ == 2
    assert search.best_index_ == int(np.argmax(res["mean_test_score"]))
    assert search.best_score_ == res["mean_test_score"][search.best_index_]
    assert search.best_params_ == res["params"][search.best_index_]
    assert search.best_estimator_.alpha == search.best_params_["alpha"]
    assert search.refit_time_ >= 0 and not search.multimetric_
    assert callable(search.scorer_)
    # Native Python values, inside the space; the optimizer saw -score.
    assert all(
        type(p["alpha"]) is float and 1e-3 <= p["alpha"] <= 1e3 for p in res["params"]
    )
    [result] = search.optimizer_results_
    np.testing.assert_allclose(result.func_vals, -res["mean_test_score"])
    assert len(search.optimizers_) == 1
    assert list(res["iter"]) == [0, 1, 2, 3] and list(res["subspace"]) == [0] * 4
    np.testing.assert_allclose(search.predict(X), search.best_estimator_.predict(X))
    assert search.score(X, y) == pytest.approx(search.best_estimator_.score(X, y))
    assert "BayesSearchCV" in search._repr_html_()


def test_model_device_and_dtype(regression, device, dtype):
    X, y = regression
    kwargs = {**FAST, "device": device, "dtype": dtype}
    search = _ridge_search(n_iter=4, optimizer_kwargs=kwargs).fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    [optimizer] = search.optimizers_
    assert optimizer.device.type == device.type and optimizer.dtype == dtype
    assert all(type(p["alpha"]) is float for p in search.cv_results_["params"])


def test_exploration_steps_default_and_override(regression):
    X, y = regression
    search = _ridge_search(n_iter=3, optimizer_kwargs=FAST).fit(X, y)
    assert search.optimizers_[0].explore_every == 3
    kwargs = {**FAST, "explore_every": None}
    search = _ridge_search(n_iter=3, optimizer_kwargs=kwargs).fit(X, y)
    assert search.optimizers_[0].explore_every is None


def test_init_stores_arguments_verbatim():
    spaces = [({"alpha": (0.1, 1.0)}, 2)]
    search = BayesSearchCV(Ridge(), spaces, 7, fit_params=None, n_points=2)
    assert search.search_spaces is spaces
    params = search.get_params(deep=False)
    assert params["n_iter"] == 7 and params["n_points"] == 2
    assert set(params) == {
        "estimator",
        "search_spaces",
        "n_iter",
        "optimizer_kwargs",
        "scoring",
        "fit_params",
        "n_jobs",
        "n_points",
        "refit",
        "cv",
        "verbose",
        "pre_dispatch",
        "random_state",
        "error_score",
        "return_train_score",
    }
    assert not [k for k in vars(search) if k.endswith("_")]
    assert search.total_iterations == 2
    assert clone(search).search_spaces == spaces


def test_scipy_distributions_and_shorthands(classification):
    X, y = classification
    spaces = {"C": loguniform(1e-2, 1e2), "kernel": ["linear", "rbf"]}
    search = BayesSearchCV(SVC(), spaces, n_iter=3, cv=2, random_state=0)
    search.fit(X, y)
    assert {p["kernel"] for p in search.cv_results_["params"]} <= {"linear", "rbf"}
    assert search.cv_results_["param_kernel"].dtype == object


def test_pipeline_step_params_and_delegation(classification):
    X, y = classification
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())])
    search = BayesSearchCV(
        pipe, {"clf__C": (1e-2, 1e2, "log-uniform")}, n_iter=3, cv=2, random_state=0
    ).fit(X, y)
    assert set(search.best_params_) == {"clf__C"}
    np.testing.assert_array_equal(search.classes_, [0, 1, 2])
    assert search.predict_proba(X).shape == (60, 3)
    assert search.decision_function(X).shape == (60, 3)
    pca = BayesSearchCV(
        PCA(), {"n_components": Integer(1, 3)}, n_iter=3, cv=2, random_state=0
    ).fit(X)
    assert pca.transform(X).shape[1] == pca.best_params_["n_components"]


def _swap_pipeline() -> Pipeline:
    return Pipeline([("scale", StandardScaler()), ("clf", SVC())])


def test_conditional_spaces_with_n_iter_pairs(classification):
    X, y = classification
    spaces = [
        (
            {
                "clf": Categorical([LogisticRegression(), SVC()]),
                "clf__C": Real(1e-2, 1e2, prior="log-uniform"),
            },
            3,
        ),
        ({"clf": [KNeighborsClassifier()], "clf__n_neighbors": Integer(1, 8)}, 2),
    ]
    search = BayesSearchCV(_swap_pipeline(), spaces, n_iter=50, cv=2, random_state=0)
    assert search.total_iterations == 5
    search.fit(X, y)
    res = search.cv_results_
    assert list(res["subspace"]) == [0, 0, 0, 1, 1]
    # Masked where a candidate lacks the parameter.
    assert list(res["param_clf__n_neighbors"].mask) == [True] * 3 + [False] * 2
    assert list(res["param_clf__C"].mask) == [False] * 3 + [True] * 2
    assert all(isinstance(p["clf"], KNeighborsClassifier) for p in res["params"][3:])
    assert type(search.best_estimator_.named_steps["clf"]) in (
        LogisticRegression,
        SVC,
        KNeighborsClassifier,
    )
    assert [len(r.x_iters) for r in search.optimizer_results_] == [3, 2]


def test_list_of_plain_dicts_each_gets_n_iter(classification):
    X, y = classification
    spaces = [
        {"clf": [SVC()], "clf__C": (1e-2, 1e2, "log-uniform")},
        {"clf": [KNeighborsClassifier()], "clf__n_neighbors": (1, 8)},
    ]
    search = BayesSearchCV(_swap_pipeline(), spaces, n_iter=2, cv=2, random_state=1)
    assert search.total_iterations == 4
    search.fit(X, y)
    assert list(search.cv_results_["subspace"]) == [0, 0, 1, 1]


def test_nested_cross_validation(regression):
    X, y = regression
    scores = cross_val_score(_ridge_search(), X, y, cv=2)
    assert scores.shape == (2,) and np.isfinite(scores).all()


def test_multimetric_refit_metric(classification):
    X, y = classification
    search = BayesSearchCV(
        LogisticRegression(),
        {"C": (1e-2, 1e2, "log-uniform")},
        n_iter=4,
        cv=2,
        scoring=["accuracy", "f1_macro"],
        refit="f1_macro",
        random_state=0,
        optimizer_kwargs=FAST,
    ).fit(X, y)
    res = search.cv_results_
    assert search.multimetric_
    assert search.best_index_ == int(np.argmin(res["rank_test_f1_macro"]))
    assert search.best_score_ == res["mean_test_f1_macro"][search.best_index_]
    # The optimizer maximizes the refit metric.
    func_vals = search.optimizer_results_[0].func_vals
    np.testing.assert_allclose(func_vals, -res["mean_test_f1_macro"])
    assert set(search.scorer_) == {"accuracy", "f1_macro"}


def test_multimetric_callable_scoring(classification):
    X, y = classification

    def scoring(estimator, X_, y_):
        return {"acc": estimator.score(X_, y_), "neg": -estimator.score(X_, y_)}

    search = BayesSearchCV(
        LogisticRegression(),
        {"C": (1e-2, 1e2, "log-uniform")},
        n_iter=3,
        cv=2,
        scoring=scoring,
        refit="acc",
        random_state=0,
    ).fit(X, y)
    func_vals = search.optimizer_results_[0].func_vals
    np.testing.assert_allclose(func_vals, -search.cv_results_["mean_test_acc"])


@pytest.mark.parametrize("refit", [False, lambda results: 0, "recall"])
def test_multimetric_needs_a_refit_metric(classification, refit):
    X, y = classification
    search = BayesSearchCV(
        LogisticRegression(),
        {"C": (1e-2, 1e2, "log-uniform")},
        n_iter=3,
        cv=2,
        scoring=["accuracy", "f1_macro"],
        refit=refit,
    )
    with pytest.raises(ValueError, match="needs refit set to the name of one"):
        search.fit(X, y)
    assert not hasattr(search, "cv_results_")


def test_dict_scoring_needs_refit_after_first_iteration(classification):
    X, y = classification
    calls = []

    def scoring(estimator, X_, y_):
        calls.append(1)
        return {"acc": estimator.score(X_, y_)}

    search = BayesSearchCV(
        LogisticRegression(),
        {"C": (1e-2, 1e2, "log-uniform")},
        n_iter=5,
        cv=2,
        scoring=scoring,
    )
    with pytest.raises(ValueError, match=r"Scorers: \['acc'\]; refit=True"):
        search.fit(X, y)
    assert len(calls) == 2  # one candidate, two folds


def test_callable_refit_single_metric(regression):
    X, y = regression

    def pick_smallest_alpha(results):
        return int(np.argmin([p["alpha"] for p in results["params"]]))

    search = _ridge_search(refit=pick_smallest_alpha).fit(X, y)
    alphas = [p["alpha"] for p in search.cv_results_["params"]]
    assert search.best_params_["alpha"] == min(alphas)
    assert not hasattr(search, "best_score_")


@pytest.mark.slow
def test_n_jobs_gives_the_same_candidates(regression):
    X, y = regression
    sequential = _ridge_search(n_iter=4).fit(X, y).cv_results_
    parallel = _ridge_search(n_iter=4, n_jobs=2).fit(X, y).cv_results_
    assert parallel["params"] == sequential["params"]
    np.testing.assert_allclose(
        parallel["mean_test_score"], sequential["mean_test_score"]
    )


def test_same_random_state_same_search(regression):
    X, y = regression
    first = _ridge_search(n_iter=4).fit(X, y).cv_results_["params"]
    assert _ridge_search(n_iter=4).fit(X, y).cv_results_["params"] == first
    other = _ridge_search(n_iter=4, random_state=1).fit(X, y).cv_results_["params"]
    assert other != first


def test_n_points_batches(regression):
    X, y = regression
    search = _ridge_search(n_iter=5, n_points=3).fit(X, y)
    res = search.cv_results_
    assert list(res["iter"]) == [0, 0, 0, 1, 1]
    alphas = [p["alpha"] for p in res["params"]]
    assert len(set(alphas)) == 5


def test_folds_drawn_once_per_fit(regression):
    X, y = regression
    calls = []

    class CountingKFold(KFold):
        def split(self, X, y=None, groups=None):
            calls.append(1)
            return super().split(X, y, groups)

    search = _ridge_search(n_iter=4, cv=CountingKFold(3, shuffle=True)).fit(X, y)
    # An unseeded shuffling splitter is split once: every iteration is scored
    # on the same folds.
    assert len(calls) == 1 and search.n_splits_ == 3
    assert len(search.cv_results_["params"]) == 4


def test_groups_and_fit_params(regression):
    X, y = regression
    groups = np.repeat(np.arange(4), 10)
    weights = np.linspace(0.5, 2.0, len(y))
    by_init = _ridge_search(cv=GroupKFold(4), fit_params={"sample_weight": weights})
    by_init.fit(X, y, groups=groups)
    by_fit = _ridge_search(cv=GroupKFold(4)).fit(
        X, y, groups=groups, sample_weight=weights
    )
    assert by_init.n_splits_ == 4
    np.testing.assert_allclose(
        by_init.cv_results_["mean_test_score"], by_fit.cv_results_["mean_test_score"]
    )
    unweighted = _ridge_search(cv=GroupKFold(4)).fit(X, y, groups=groups)
    assert not np.allclose(
        unweighted.cv_results_["mean_test_score"], by_fit.cv_results_["mean_test_score"]
    )
    with pytest.raises(ValueError, match=r"\['sample_weight'\] were given both"):
        by_init.fit(X, y, groups=groups, sample_weight=weights)


def test_metadata_routing(regression):
    X, y = regression
    weights = np.linspace(0.5, 2.0, len(y))
    with config_context(enable_metadata_routing=True):
        ridge = Ridge().set_fit_request(sample_weight=True)
        routed = BayesSearchCV(
            ridge.set_score_request(sample_weight=False),
            ALPHA,
            n_iter=3,
            cv=2,
            random_state=0,
            optimizer_kwargs=FAST,
        ).fit(X, y, sample_weight=weights)
    plain = _ridge_search().fit(X, y)
    assert routed.cv_results_["params"][0] == plain.cv_results_["params"][0]
    assert not np.allclose(
        routed.cv_results_["mean_test_score"], plain.cv_results_["mean_test_score"]
    )


def test_callback_stops_early(regression):
    X, y = regression
    seen = []

    def stop_after_two(result):
        seen.append(len(result.func_vals))
        return len(result.func_vals) >= 2

    search = _ridge_search(n_iter=5).fit(X, y, callback=[stop_after_two])
    assert seen == [1, 2]
    assert len(search.cv_results_["params"]) == 2
    assert len(search.optimizer_results_[0].x_iters) == 2
    # A skbo stopper: the threshold is on the negated score, always reached.
    search.fit(X, y, callback=ThresholdStopper(1e9))
    assert len(search.cv_results_["params"]) == 1


def test_callback_ends_each_subspace(classification):
    X, y = classification
    spaces = [
        {"clf": [SVC()], "clf__C": (1e-2, 1e2, "log-uniform")},
        {"clf": [KNeighborsClassifier()], "clf__n_neighbors": (1, 8)},
    ]
    search = BayesSearchCV(_swap_pipeline(), spaces, n_iter=3, cv=2, random_state=0)
    search.fit(X, y, callback=lambda result: True)
    assert list(search.cv_results_["subspace"]) == [0, 1]


def test_verbose_reports_progress(regression, capsys):
    X, y = regression
    _ridge_search(verbose=1).fit(X, y)
    lines = [
        line
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("[BayesSearchCV]")
    ]
    assert len(lines) == 3
    assert lines[-1].startswith("[BayesSearchCV] iteration 3 (subspace 0): 3/3")
    assert "best mean_test_score" in lines[-1]


def test_pickle_after_fit(classification):
    X, y = classification
    search = BayesSearchCV(
        LogisticRegression(),
        {"C": (1e-2, 1e2, "log-uniform")},
        n_iter=3,
        cv=2,
        random_state=0,
        optimizer_kwargs=FAST,
    ).fit(X, y)
    assert "_search_state" not in vars(search)
    loaded = pickle.loads(pickle.dumps(search))
    np.testing.assert_array_equal(loaded.predict(X), search.predict(X))
    np.testing.assert_allclose(loaded.predict_proba(X), search.predict_proba(X))
    assert loaded.cv_results_["params"] == search.cv_results_["params"]
    # The optimizers travel too, and can go on asking.
    assert len(loaded.optimizers_[0].ask(n_points=1)) == 1


def test_refit_false(regression):
    X, y = regression
    search = _ridge_search(refit=False).fit(X, y)
    assert not hasattr(search, "best_estimator_")
    assert search.best_params_ == search.cv_results_["params"][search.best_index_]
    with pytest.raises(AttributeError, match="has no attribute 'predict'"):
        search.predict(X)
