"""
Minimizing the Branin function with ``minimize``
================================================

:func:`skbo.minimize` minimizes any black-box function of a list of
parameters, with scikit-optimize's ``gp_minimize`` arguments and result
object. Here the function is Branin-Hoo (:class:`skbo.test_functions.Branin`),
a classic two-dimensional benchmark with three global minima of value
0.397887. Set ``SKBO_SMOKE_TEST=1`` to run it on a tiny budget.
"""

# %%
import os

import numpy as np

from skbo import minimize
from skbo.callbacks import ThresholdStopper
from skbo.test_functions import Branin

SMOKE_TEST = os.environ.get("SKBO_SMOKE_TEST") == "1"
N_CALLS = 8 if SMOKE_TEST else 40

branin = Branin()
# One (low, high) pair of floats per coordinate is a ``Real`` dimension.
dimensions = [(float(lo), float(hi)) for lo, hi in branin.bounds.T]

# %%
# The first ``max(5, d + 1)`` points come from a scrambled Sobol design; each
# later point maximizes qLogNEI under a GP fitted to the values so far. The
# stopper ends the run early once a value within 1e-3 of the optimum is found.
result = minimize(
    branin,
    dimensions,
    n_calls=N_CALLS,
    random_state=0,
    callback=ThresholdStopper(branin.optimal_value + 1e-3),
)

# %%
# ``result`` is a scikit-optimize-style ``OptimizeResult``.
best_so_far = np.minimum.accumulate(result.func_vals)
print(f"evaluations:    {len(result.x_iters)}")
print(f"best point:     [{result.x[0]:.4f}, {result.x[1]:.4f}]")
print(f"best value:     {result.fun:.6f}")
print(f"known minimum:  {branin.optimal_value:.6f}")
print(f"regret:         {result.fun - branin.optimal_value:.2e}")
print("best so far:   ", np.array2string(best_so_far[-5:], precision=4))
