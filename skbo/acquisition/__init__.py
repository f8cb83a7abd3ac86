"""Acquisition functions: analytic, Monte-Carlo and log-space variants.

All of them **maximize** the model output. Build one by name with
:func:`get_acquisition_function` or instantiate a class directly.

Examples
--------
>>> import torch
>>> from skbo.acquisition import qLogNoisyExpectedImprovement
>>> from skbo.utils.testing import ToyGPModel
>>> X = torch.rand(4, 2, dtype=torch.float64)
>>> acqf = qLogNoisyExpectedImprovement(ToyGPModel(X, X.sum(-1)), X_baseline=X)
>>> acqf(torch.rand(2, 2, dtype=torch.float64)).shape
torch.Size([])
"""

from __future__ import annotations

from skbo.acquisition.analytic import (
    AnalyticAcquisitionFunction,
    ExpectedImprovement,
    LogExpectedImprovement,
    LogProbabilityOfImprovement,
    ProbabilityOfImprovement,
    UpperConfidenceBound,
)
from skbo.acquisition.base import (
    DEFAULT_SAMPLE_SHAPE,
    AcquisitionFunction,
    MCAcquisitionFunction,
)
from skbo.acquisition.factory import (
    ACQUISITION_NAMES,
    DEFAULT_BETA,
    get_acquisition_function,
)
from skbo.acquisition.logei import qLogExpectedImprovement, qLogNoisyExpectedImprovement
from skbo.acquisition.monte_carlo import (
    prune_inferior_points,
    qExpectedImprovement,
    qNoisyExpectedImprovement,
    qProbabilityOfImprovement,
    qSimpleRegret,
    qUpperConfidenceBound,
)

__all__ = [
    "ACQUISITION_NAMES",
    "DEFAULT_BETA",
    "DEFAULT_SAMPLE_SHAPE",
    "AcquisitionFunction",
    "AnalyticAcquisitionFunction",
    "ExpectedImprovement",
    "LogExpectedImprovement",
    "LogProbabilityOfImprovement",
    "MCAcquisitionFunction",
    "ProbabilityOfImprovement",
    "UpperConfidenceBound",
    "get_acquisition_function",
    "prune_inferior_points",
    "qExpectedImprovement",
    "qLogExpectedImprovement",
    "qLogNoisyExpectedImprovement",
    "qNoisyExpectedImprovement",
    "qProbabilityOfImprovement",
    "qSimpleRegret",
    "qUpperConfidenceBound",
]
