"""
=====================================================
Tuning a pipeline with BayesSearchCV
=====================================================

:class:`skbo.BayesSearchCV` is a drop-in for scikit-learn's
:class:`~sklearn.model_selection.RandomizedSearchCV`: same ``fit``, same
``cv_results_``, same ``best_estimator_``. Instead of drawing candidates at
random, each iteration fits a Gaussian process to the scores seen so far and
evaluates the candidates it expects to improve most.

This example tunes an SVM on the digits data set, compares the search with a
random search of the same budget, swaps the classifier of the pipeline
(conditional search spaces), and stops a search early with a callback.

Set the environment variable ``SKBO_SMOKE_TEST=1`` to run it on a tiny budget.
"""

# %%
# The data, the pipeline and the search space
# -------------------------------------------
# Parameter names follow the usual ``step__param`` convention. The ranges of
# ``C`` and ``gamma`` span several orders of magnitude, so they are searched
# on a log scale.
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RandomizedSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skbo import BayesSearchCV, Categorical, Real
from skbo.callbacks import NoImprovementStopper

SMOKE_TEST = os.environ.get("SKBO_SMOKE_TEST") == "1"
N_ITER = 4 if SMOKE_TEST else 24

X, y = load_digits(return_X_y=True)
if SMOKE_TEST:
    X, y = X[:300], y[:300]
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

pipe = Pipeline([("scale", StandardScaler()), ("clf", SVC())])
space = {
    "clf__C": Real(1e-3, 1e3, prior="log-uniform"),
    "clf__gamma": Real(1e-5, 1e0, prior="log-uniform"),
    "clf__kernel": Categorical(["rbf", "sigmoid"]),
}

# %%
# Bayesian search versus random search
# ------------------------------------
# Both searches get the same budget and the same 3-fold cross-validation.
# ``n_points=2`` asks for two candidates per iteration, so the four fits of
# one iteration run in parallel with ``n_jobs=2``.
bayes = BayesSearchCV(
    pipe, space, n_iter=N_ITER, cv=3, n_points=2, n_jobs=2, random_state=0
)
bayes.fit(X_train, y_train)

rand = RandomizedSearchCV(
    pipe,
    {
        "clf__C": np.logspace(-3, 3, 200),
        "clf__gamma": np.logspace(-5, 0, 200),
        "clf__kernel": ["rbf", "sigmoid"],
    },
    n_iter=N_ITER,
    cv=3,
    n_jobs=2,
    random_state=0,
)
rand.fit(X_train, y_train)

print(f"Bayesian search: best CV accuracy {bayes.best_score_:.3f}")
print(f"                 test accuracy    {bayes.score(X_test, y_test):.3f}")
print(f"Random search:   best CV accuracy {rand.best_score_:.3f}")
print("Best parameters:", bayes.best_params_)

# %%
# The best score found so far, after each candidate:
fig, ax = plt.subplots()
for name, search in [("BayesSearchCV", bayes), ("RandomizedSearchCV", rand)]:
    scores = np.nan_to_num(search.cv_results_["mean_test_score"], nan=0.0)
    ax.plot(np.arange(1, len(scores) + 1), np.maximum.accumulate(scores), label=name)
ax.set_xlabel("candidates evaluated")
ax.set_ylabel("best mean CV accuracy")
ax.legend()
plt.show()

# %%
# ``cv_results_`` is the one scikit-learn users know, with two more columns:
# the iteration of each candidate and its subspace.
results = bayes.cv_results_
for i in np.argsort(results["rank_test_score"])[:3]:
    print(results["iter"][i], results["params"][i], results["mean_test_score"][i])

# %%
# Swapping the classifier: conditional search spaces
# --------------------------------------------------
# A list of ``(search space, n_iter)`` pairs searches one subspace after the
# other, each with its own budget. A :class:`~skbo.Categorical` of estimators
# swaps a pipeline step, and the parameters of that step follow it.
spaces = [
    (
        {
            "clf": Categorical([SVC()]),
            "clf__C": Real(1e-3, 1e3, prior="log-uniform"),
            "clf__gamma": Real(1e-5, 1e0, prior="log-uniform"),
        },
        N_ITER // 2,
    ),
    (
        {
            "clf": Categorical([LogisticRegression(max_iter=500)]),
            "clf__C": Real(1e-3, 1e3, prior="log-uniform"),
        },
        N_ITER // 2,
    ),
]
swap = BayesSearchCV(pipe, spaces, cv=3, n_jobs=2, random_state=0)
swap.fit(X_train, y_train)
print("Best classifier:", swap.best_estimator_.named_steps["clf"])
print("Candidates per subspace:", np.bincount(swap.cv_results_["subspace"]))

# %%
# Stopping early
# --------------
# Callbacks receive the optimizer's result after each iteration (its values
# are *negated* scores: the optimizer minimizes). Returning ``True`` stops the
# search; here when the best score has not improved for 4 iterations.
early = BayesSearchCV(pipe, space, n_iter=3 * N_ITER, cv=3, random_state=0)
early.fit(X_train, y_train, callback=NoImprovementStopper(patience=4))
print(f"Stopped after {len(early.cv_results_['params'])} of {3 * N_ITER} candidates")
