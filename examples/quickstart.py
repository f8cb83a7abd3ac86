"""
Quickstart: tune an SVM on the digits dataset with BayesSearchCV
================================================================

The README's main job. A real tuning run on a dataset that ships with
scikit-learn: four hyperparameters of an RBF/polynomial SVM, 20 Bayesian
optimization iterations with 3-fold cross-validation, then the held-out score
of the refitted best model. Set ``SKBO_SMOKE_TEST=1`` for a tiny budget.
"""

# %%
import os
import time

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skbo import BayesSearchCV, Categorical, Integer, Real

smoke = bool(os.environ.get("SKBO_SMOKE_TEST"))
X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)

# %%
# The search space uses scikit-optimize's vocabulary; scipy.stats distributions
# and ``(low, high, "log-uniform")`` tuples work too.
search = BayesSearchCV(
    make_pipeline(StandardScaler(), SVC()),
    {
        "svc__C": Real(1e-3, 1e3, prior="log-uniform"),
        "svc__gamma": Real(1e-5, 1e0, prior="log-uniform"),
        "svc__kernel": Categorical(["rbf", "poly"]),
        "svc__degree": Integer(2, 4),
    },
    n_iter=4 if smoke else 20,
    cv=3,
    n_jobs=-1,
    random_state=0,
)
start = time.perf_counter()
search.fit(X_train, y_train)
elapsed = time.perf_counter() - start

# %%
print(f"best parameters: {search.best_params_}")
print(f"best CV accuracy: {search.best_score_:.4f}")
print(f"held-out accuracy: {search.score(X_test, y_test):.4f}")
print(f"{len(search.cv_results_['params'])} candidates in {elapsed:.1f} s")
