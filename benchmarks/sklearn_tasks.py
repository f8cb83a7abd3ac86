"""Tuning tasks for the sklearn suite: estimator, search space, data, scorer.

Data come from scikit-learn's bundled loaders and generators (no download)
and are split once (``random_state=0``) into a training part, searched with a
fixed shuffled 3-fold CV, and a held-out test part. ``quick=True`` shrinks
the data for the smoke run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from benchmarks.space import Dim, categorical, integer, real

Data = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Task:
    """One tuning task (scores are maximized, as in scikit-learn)."""

    name: str
    description: str
    dims: tuple[Dim, ...]
    make_estimator: Callable[[], Any]
    load: Callable[[bool], Data]
    scoring: str
    classification: bool = True

    def settings(self) -> dict[str, Any]:
        """JSON-able description recorded with the results."""
        return {
            "description": self.description,
            "scoring": self.scoring,
            "dims": [d.describe() for d in self.dims],
        }


def _split(X: np.ndarray, y: np.ndarray, n_train: int, stratify: bool) -> Data:
    """``n_train`` training rows and ``n_train // 2`` test rows (fixed seed)."""
    from sklearn.model_selection import train_test_split

    X_tr, X_te, y_tr, y_te = train_test_split(
        X,
        y,
        train_size=n_train,
        test_size=n_train // 2,
        random_state=0,
        stratify=y if stratify else None,
    )
    return X_tr, X_te, y_tr, y_te


# ---------------------------------------------------------------- model-swapping task
class ModelSwitchClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A classifier whose ``model`` parameter picks the estimator family.

    Parameters only used by one family are ignored by the others, so one flat
    space covers a "which model, with which settings" search.
    """

    def __init__(
        self,
        model: str = "logreg",
        C: float = 1.0,
        n_neighbors: int = 5,
        max_depth: int = 8,
        min_samples_leaf: int = 1,
        max_features: float = 0.5,
    ) -> None:
        self.model = model
        self.C = C
        self.n_neighbors = n_neighbors
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features

    def _build(self) -> Any:
        from sklearn.ensemble import ExtraTreesClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.neighbors import KNeighborsClassifier
        from sklearn.svm import SVC

        if self.model == "logreg":
            return LogisticRegression(C=self.C, max_iter=500)
        if self.model == "svc":
            return SVC(C=self.C)
        if self.model == "knn":
            return KNeighborsClassifier(
                n_neighbors=self.n_neighbors, weights="distance"
            )
        if self.model == "extra_trees":
            return ExtraTreesClassifier(
                n_estimators=100,
                max_depth=self.max_depth,
                min_samples_leaf=self.min_samples_leaf,
                max_features=self.max_features,
                random_state=0,
            )
        raise ValueError(f"unknown model {self.model!r}")

    def fit(self, X: np.ndarray, y: np.ndarray) -> ModelSwitchClassifier:
        self.estimator_ = self._build().fit(X, y)
        self.classes_ = self.estimator_.classes_
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.estimator_.predict(X))


# -------------------------------------------------------------------------- the tasks
def _hgb() -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=100, early_stopping=False, random_state=0
    )


def _hgb_data(quick: bool) -> Data:
    from sklearn.datasets import make_classification

    n = 600 if quick else 6000
    X, y = make_classification(
        n_samples=n + n // 2,
        n_features=30,
        n_informative=12,
        n_redundant=6,
        n_clusters_per_class=4,
        class_sep=0.7,
        flip_y=0.05,
        random_state=0,
    )
    return _split(X, y, n, True)


def _svc() -> Any:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    return make_pipeline(StandardScaler(), SVC(cache_size=500, max_iter=20_000))


def _svc_data(quick: bool) -> Data:
    from sklearn.datasets import make_gaussian_quantiles

    n = 300 if quick else 4000
    rng = np.random.RandomState(0)
    X, y = make_gaussian_quantiles(
        n_samples=n + n // 2, n_features=6, n_classes=3, random_state=0
    )
    X = np.hstack([X, rng.normal(size=(X.shape[0], 6))])  # 6 uninformative features
    flip = rng.random_sample(len(y)) < 0.05
    y[flip] = rng.randint(3, size=int(flip.sum()))
    return _split(X, y, n, True)


def _mlp() -> Any:
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), MLPClassifier(max_iter=100, random_state=0))


def _digits(quick: bool) -> Data:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return _split(X, y, 400 if quick else 1190, True)


def _sgd() -> Any:
    from sklearn.kernel_approximation import Nystroem
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        StandardScaler(),
        Nystroem(n_components=300, random_state=0),
        SGDClassifier(penalty="elasticnet", max_iter=200, tol=1e-4, random_state=0),
    )


def _sgd_data(quick: bool) -> Data:
    from sklearn.datasets import make_classification

    n = 400 if quick else 6000
    X, y = make_classification(
        n_samples=n + n // 2,
        n_features=20,
        n_informative=10,
        n_redundant=2,
        n_clusters_per_class=4,
        class_sep=1.0,
        flip_y=0.02,
        random_state=2,
    )
    return _split(X, y, n, True)


def _switch() -> Any:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), ModelSwitchClassifier())


def _switch_data(quick: bool) -> Data:
    from sklearn.datasets import make_classification

    n = 300 if quick else 8000
    X, y = make_classification(
        n_samples=n + n // 2,
        n_features=20,
        n_informative=8,
        n_redundant=4,
        n_clusters_per_class=3,
        class_sep=0.8,
        flip_y=0.03,
        random_state=1,
    )
    return _split(X, y, n, True)


TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        Task(
            "hgb",
            "HistGradientBoostingClassifier(max_iter=100) on make_classification "
            "(6000 train, 30 features, 4 clusters/class, 5% label noise)",
            (
                real("learning_rate", 1e-3, 1.0, log=True),
                integer("max_leaf_nodes", 4, 256, log=True),
                integer("max_depth", 2, 16),
                integer("min_samples_leaf", 1, 200, log=True),
                real("l2_regularization", 1e-6, 10.0, log=True),
                real("max_features", 0.1, 1.0),
            ),
            _hgb,
            _hgb_data,
            "roc_auc",
        ),
        Task(
            "svc",
            "StandardScaler + SVC(max_iter=20000) on make_gaussian_quantiles "
            "(3 classes, 6 informative + 6 noise features, 5% label noise, 4000 train)",
            (
                real("svc__C", 1e-3, 1e3, log=True),
                real("svc__gamma", 1e-4, 1e1, log=True),
                categorical("svc__kernel", ("rbf", "poly", "sigmoid")),
                integer("svc__degree", 2, 5),
                real("svc__coef0", -1.0, 1.0),
            ),
            _svc,
            _svc_data,
            "accuracy",
        ),
        Task(
            "mlp",
            "StandardScaler + MLPClassifier(adam, max_iter=100) on digits "
            "(1190 train, 595 test)",
            (
                integer("mlpclassifier__hidden_layer_sizes", 8, 256, log=True),
                real("mlpclassifier__alpha", 1e-6, 10.0, log=True),
                real("mlpclassifier__learning_rate_init", 1e-4, 0.3, log=True),
                integer("mlpclassifier__batch_size", 16, 512, log=True),
                categorical("mlpclassifier__activation", ("relu", "tanh", "logistic")),
                real("mlpclassifier__beta_1", 0.5, 0.99),
            ),
            _mlp,
            _digits,
            "accuracy",
        ),
        Task(
            "sgd",
            "StandardScaler + Nystroem(300) + SGDClassifier(elastic net) on "
            "make_classification (6000 train, 20 features, 4 clusters/class)",
            (
                real("nystroem__gamma", 1e-4, 10.0, log=True),
                real("sgdclassifier__alpha", 1e-7, 1e-1, log=True),
                real("sgdclassifier__l1_ratio", 0.0, 1.0),
                categorical(
                    "sgdclassifier__loss", ("hinge", "log_loss", "modified_huber")
                ),
                categorical(
                    "sgdclassifier__learning_rate",
                    ("optimal", "constant", "invscaling", "adaptive"),
                ),
                real("sgdclassifier__eta0", 1e-5, 1.0, log=True),
            ),
            _sgd,
            _sgd_data,
            "accuracy",
        ),
        Task(
            "model_switch",
            "StandardScaler + one of logreg / svc / knn / extra_trees (a categorical "
            "picks the model) on make_classification (8000 train, 3 clusters/class)",
            (
                categorical(
                    "modelswitchclassifier__model",
                    ("logreg", "svc", "knn", "extra_trees"),
                ),
                real("modelswitchclassifier__C", 1e-3, 1e3, log=True),
                integer("modelswitchclassifier__n_neighbors", 1, 100, log=True),
                integer("modelswitchclassifier__max_depth", 1, 30),
                integer("modelswitchclassifier__min_samples_leaf", 1, 50, log=True),
                real("modelswitchclassifier__max_features", 0.05, 1.0),
            ),
            _switch,
            _switch_data,
            "accuracy",
        ),
    )
}
