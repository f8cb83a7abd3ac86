"""skbo: Bayesian optimization for scikit-learn users, with a GPyTorch core."""

from __future__ import annotations

__version__ = "0.1.0"
