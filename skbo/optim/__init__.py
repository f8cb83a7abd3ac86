"""Acquisition optimization: multi-start L-BFGS-B over boxes and mixed spaces.

Examples
--------
>>> from skbo.optim import MixedSpec, IntegerColumn, optimize_acqf
>>> MixedSpec((IntegerColumn(0, 1, 5),)).n_configurations
5
"""

from __future__ import annotations

from skbo.optim.initializers import (
    InitialConditions,
    draw_sobol_samples,
    gen_initial_conditions,
    initialize_q_batch,
    sample_around,
)
from skbo.optim.lbfgsb import optimize_restarts, screen_and_refine
from skbo.optim.mixed import IntegerColumn, MixedSpec, SpaceExhaustedError, local_search
from skbo.optim.optimize import optimize_acqf
from skbo.optim.thompson import thompson_candidate

__all__ = [
    "InitialConditions",
    "IntegerColumn",
    "MixedSpec",
    "SpaceExhaustedError",
    "draw_sobol_samples",
    "gen_initial_conditions",
    "initialize_q_batch",
    "local_search",
    "optimize_acqf",
    "optimize_restarts",
    "sample_around",
    "screen_and_refine",
    "thompson_candidate",
]
