"""skbo: Bayesian optimization for scikit-learn users, with a GPyTorch core.

The public names below are imported lazily (PEP 562), so ``import skbo`` is
quick and pulls in neither PyTorch nor scikit-learn until they are needed.

Examples
--------
>>> import skbo
>>> skbo.Real(1e-3, 1e3, prior="log-uniform")
Real(low=0.001, high=1000.0, prior='log-uniform')
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "AllFitsFailedWarning": "skbo._search",
    "BayesSearchCV": "skbo._search",
    "Categorical": "skbo.space",
    "Integer": "skbo.space",
    "Optimizer": "skbo.optimizer",
    "OptimizeResult": "skbo.optimizer",
    "Real": "skbo.space",
    "Space": "skbo.space",
    "minimize": "skbo._minimize",
}

__all__ = [
    "AllFitsFailedWarning",
    "BayesSearchCV",
    "Categorical",
    "Integer",
    "OptimizeResult",
    "Optimizer",
    "Real",
    "Space",
    "__version__",
    "minimize",
]

if TYPE_CHECKING:
    from skbo._minimize import minimize
    from skbo._search import AllFitsFailedWarning, BayesSearchCV
    from skbo.optimizer import Optimizer, OptimizeResult
    from skbo.space import Categorical, Integer, Real, Space


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'skbo' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
