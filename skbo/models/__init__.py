"""Surrogate models: skbo's GP, its kernels and fitting, and a plug-in wrapper.

Examples
--------
>>> import torch
>>> from skbo.models import get_fitted_model
>>> X = torch.rand(10, 2, dtype=torch.float64)
>>> model = get_fitted_model(X, (X - 0.5).pow(2).sum(-1))
>>> model.posterior(X[:4].unsqueeze(1)).mean.shape
torch.Size([4, 1])
"""

from __future__ import annotations

from skbo.models.base import Model
from skbo.models.defaults import default_kernel, default_likelihood
from skbo.models.fit import FitResult, fit_gp, get_fitted_model
from skbo.models.gp import SingleTaskGP
from skbo.models.kernels import (
    CategoricalKernel,
    DenseKernel,
    Matern52Kernel,
    RBFKernel,
    kernel_matrix,
)
from skbo.models.transforms import Standardize
from skbo.models.wrappers import GPyTorchModel

__all__ = [
    "CategoricalKernel",
    "DenseKernel",
    "FitResult",
    "GPyTorchModel",
    "Matern52Kernel",
    "Model",
    "RBFKernel",
    "SingleTaskGP",
    "Standardize",
    "default_kernel",
    "default_likelihood",
    "fit_gp",
    "get_fitted_model",
    "kernel_matrix",
]
