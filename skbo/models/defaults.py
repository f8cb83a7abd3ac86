r"""skbo's default priors, constraints, kernel and likelihood for its GP.

Notation
--------
``d``: continuous input columns; ``G``: categorical groups; ``l``: lengthscales;
``noise``: Gaussian noise variance of the standardized outcomes.

* ``l ~ LogNormal(max(0, sqrt(2) + log(d) / 2 - 3), 1)``, ``l >= 0.025``: median
  ``max(1, 0.205 sqrt(d))``, i.e. the width of the unit cube, or for ``d > 24``
  the mode of the dimension-scaled prior of Hvarfner et al. 2024 ("Vanilla
  Bayesian Optimization Performs Great in High Dimensions", arXiv 2402.02229;
  ``LogNormal(sqrt(2) + log(d) / 2, sqrt(3))``, BoTorch's default since 0.12),
  with a scale of 1 instead of ``sqrt(3)`` (skbo's choice, see
  :func:`dim_scaled_lengthscale_prior`);
* categorical ``l_g ~ LogNormal(log(G) + 1, 1)``, ``l_g >= 0.025`` (skbo's choice);
* ``noise ~ LogNormal(-4, 1)`` (BoTorch's prior), ``noise >= 1e-6`` in float64
  (Optuna's GP floor; BoTorch's 1e-4 in float32, see :data:`MIN_INFERRED_NOISE`);
* no output scale (the outcomes are standardized); hyperparameters start at the
  prior mode.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import cast

import numpy as np
import torch
from gpytorch import settings as gpt_settings
from gpytorch.constraints import GreaterThan
from gpytorch.kernels import Kernel, ProductKernel, ScaleKernel
from gpytorch.likelihoods import FixedNoiseGaussianLikelihood, GaussianLikelihood
from gpytorch.priors import GammaPrior, LogNormalPrior, Prior
from torch import Tensor
from torch.distributions import TransformedDistribution

from skbo.models.kernels import (
    CategoricalKernel,
    DenseKernel,
    LevelwiseKernel,
    Matern52Kernel,
    MixedKernel,
    RBFKernel,
)

__all__ = [
    "MIN_INFERRED_NOISE",
    "MIN_INFERRED_NOISE_FLOAT32",
    "MIN_LENGTHSCALE",
    "categorical_lengthscale_prior",
    "default_kernel",
    "default_likelihood",
    "dim_scaled_lengthscale_prior",
    "lower_bound_constraint",
    "sync_transformed_priors",
]

#: Lower bound of the inferred noise variance (standardized units), float64.
#: NOTE: BoTorch's 1e-4 is a noise standard deviation of 1 % of the outcomes'
#: spread, which limits how precisely the posterior mean can locate the optimum
#: of a deterministic function. With 1e-6 (Optuna's GP floor) and the
#: observations seeding the acquisition optimizer, skbo's median regret on
#: Branin after 40 evaluations went 2.3e-4 -> 1.6e-4 (40 seeds), other problems
#: unchanged within seed noise (``benchmarks/regret.py``).
MIN_INFERRED_NOISE = 1e-6

#: Lower bound of the inferred noise variance in float32 (BoTorch's value):
#: a smaller floor sits below what a float32 Cholesky factor resolves.
MIN_INFERRED_NOISE_FLOAT32 = 1e-4

#: Lower bound of every lengthscale of the default kernels (BoTorch's value).
MIN_LENGTHSCALE = 0.025
MIXED_KERNELS = ("product", "levelwise")


def _lognormal(loc: float, scale: float) -> LogNormalPrior:
    # float64 parameters: no float32 rounding of loc / scale in float64 models.
    # NOTE: no argument validation: the constants are valid by construction,
    # and torch.distributions' checks were half of the prior's 0.16 ms (two
    # priors per model, one model per suggestion).
    f64 = torch.float64
    return LogNormalPrior(
        torch.tensor(loc, dtype=f64),
        torch.tensor(scale, dtype=f64),
        validate_args=False,
    )


def dim_scaled_lengthscale_prior(d: int) -> LogNormalPrior:
    """skbo's LogNormal lengthscale prior for ``d`` continuous dimensions.

    ``LogNormal(loc = max(0, sqrt(2) + log(d) / 2 - 3), scale = 1)``: the
    median is 1 (the width of the unit cube) up to ``d = 24`` and then grows
    like ``sqrt(d)``, as the mode of the prior of Hvarfner et al. (2024, arXiv
    2402.02229; ``LogNormal(sqrt(2) + log(d) / 2, sqrt(3))``, BoTorch's default
    since 0.12), so the prior complexity of the model does not explode in high
    dimensions.

    NOTE: skbo's choice, measured on the regret benchmark (40 evaluations, 10
    seeds): with Hvarfner's wide scale ``sqrt(3)`` the MAP lengthscales of a
    small-data fit drift long (median ``10`` at ``d = 6``), the GP
    over-smooths and BO stalls in local optima. Scale 1 with median 1 (close
    to Optuna's GPSampler prior) cut the median regret on Hartmann-6 from
    0.13 to 0.013, on Styblinski-Tang-8 from 84 to 63 and on Ackley-10 from
    15 to 14.

    Parameters
    ----------
    d : int
        Number of (continuous) input dimensions, at least 1.

    Returns
    -------
    LogNormalPrior

    Examples
    --------
    >>> prior = dim_scaled_lengthscale_prior(6)
    >>> round(float(prior.mode), 3), round(float(prior.loc), 3)
    (0.368, 0.0)
    >>> round(float(dim_scaled_lengthscale_prior(100).loc), 3)
    0.717
    """
    if d < 1:
        raise ValueError(f"d must be a positive integer, got {d}.")
    loc = max(0.0, math.sqrt(2.0) + 0.5 * math.log(d) - 3.0)
    return _lognormal(loc, 1.0)


def categorical_lengthscale_prior(n_groups: int) -> LogNormalPrior:
    """LogNormal prior of the categorical kernel's lengthscales.

    ``LogNormal(loc = log(G) + 1, scale = 1)`` with mode ``G`` (the number of
    categorical groups): at the mode, points that differ in every group still
    have correlation ``exp(-1)``, so the exponent stays of order one as ``G``
    grows, the categorical analogue of the dimension scaling above. This choice
    is skbo's own (the literature gives no standard default).

    Parameters
    ----------
    n_groups : int
        Number of categorical groups ``G``, at least 1.

    Returns
    -------
    LogNormalPrior

    Examples
    --------
    >>> round(float(categorical_lengthscale_prior(3).mode), 6)
    3.0
    """
    if n_groups < 1:
        raise ValueError(f"n_groups must be a positive integer, got {n_groups}.")
    return _lognormal(math.log(n_groups) + 1.0, 1.0)


def lower_bound_constraint(lower_bound: float = MIN_LENGTHSCALE) -> GreaterThan:
    """``value >= lower_bound`` with the raw parameter on a log scale.

    The raw (unconstrained) value is ``log(value - lower_bound)``, which keeps
    the optimizer's steps well scaled over orders of magnitude (lengthscales,
    noise variances).

    Parameters
    ----------
    lower_bound : float, default=0.025
        Smallest allowed value (the default is the lengthscale bound).

    Returns
    -------
    GreaterThan

    Examples
    --------
    >>> import torch
    >>> c = lower_bound_constraint()
    >>> round(c.transform(torch.tensor(0.0)).item(), 6)
    1.025
    """
    return GreaterThan(lower_bound, transform=torch.exp, inv_transform=torch.log)


def _at_prior_mode(kernel: Kernel, prior: LogNormalPrior) -> Kernel:
    kernel.lengthscale = prior.mode
    return kernel


def default_kernel(
    d: int,
    *,
    kind: str = "matern52",
    categorical_groups: Sequence[Sequence[int]] | None = None,
    mixed: str = "product",
    outputscale: bool = False,
) -> Kernel:
    """skbo's default kernel for ``d`` input columns, at its prior mode.

    Without categorical groups: an ARD Matern-5/2 (or RBF) kernel with the
    dimension-scaled lengthscale prior and ``lengthscale >= 0.025``. With
    groups: that kernel on the other columns (prior scaled by their number)
    times a :class:`CategoricalKernel` on the groups; only the categorical
    kernel when every column is categorical.

    Parameters
    ----------
    d : int
        Number of input columns.
    kind : {"matern52", "rbf"}, default="matern52"
        Continuous kernel.
    categorical_groups : sequence of sequence of int, optional
        One-hot column groups, one per categorical variable.
    mixed : {"product", "levelwise"}, default="product"
        With both kinds of columns: their product, or (``"levelwise"``) a
        :class:`~skbo.models.kernels.MixedKernel` that averages the product
        with a :class:`~skbo.models.kernels.LevelwiseKernel` (same prior).
    outputscale : bool, default=False
        Multiply the kernel by a fitted output scale with a ``Gamma(2, 1)``
        prior (mode 1; Optuna's GPSampler prior), starting at 1. Off by
        default (the outcomes are standardized, as in BoTorch since 0.12).
        NOTE: measured on the regret benchmark (30 seeds, 40 evaluations), it
        cut skbo's median regret on Branin from 0.0070 to 0.0011 and on the
        integer Hartmann-6 from 0.043 to 0.002-0.037 (three variants; that
        median sits between two basins), with no gain elsewhere (noisy
        Hartmann-6 0.22 -> 0.25). Fits and single-point predictions stay on
        the fused paths (fits take 1.1-1.3x the time).

    Returns
    -------
    gpytorch.kernels.Kernel
        Lengthscales at the prior mode, default dtype; ``SingleTaskGP`` moves
        it (priors included) to the dtype and device of its data.

    Examples
    --------
    >>> k = default_kernel(3, categorical_groups=[[1, 2]])
    >>> [type(p).__name__ for p in k.kernels]
    ['Matern52Kernel', 'CategoricalKernel']
    >>> k.kernels[0].active_dims
    tensor([0])
    >>> type(default_kernel(2, outputscale=True)).__name__
    'ScaleKernel'
    """
    if not isinstance(outputscale, (bool, np.bool_)):
        raise TypeError(f"outputscale must be a bool, got {outputscale!r}.")
    base = _default_kernel(d, kind, categorical_groups, mixed)
    if not outputscale:
        return base
    prior = GammaPrior(torch.tensor(2.0), torch.tensor(1.0))
    scaled = ScaleKernel(
        base,
        outputscale_prior=prior,
        outputscale_constraint=lower_bound_constraint(1e-4),
    )
    scaled.outputscale = 1.0  # the prior mode
    return scaled


def _default_kernel(
    d: int, kind: str, categorical_groups: Sequence[Sequence[int]] | None, mixed: str
) -> Kernel:
    if kind not in ("matern52", "rbf"):
        raise ValueError(f"kind must be 'matern52' or 'rbf', got {kind!r}.")
    if mixed not in MIXED_KERNELS:
        raise ValueError(f"mixed must be one of {MIXED_KERNELS}, got {mixed!r}.")
    cls: type[Matern52Kernel] | type[RBFKernel] = (
        Matern52Kernel if kind == "matern52" else RBFKernel
    )
    groups = [list(g) for g in categorical_groups or []]
    cat_columns = {c for g in groups for c in g}
    if any(not 0 <= c < d for c in cat_columns):
        raise ValueError(
            f"categorical_groups must hold column indices in [0, {d}), got {groups}."
        )
    continuous = [c for c in range(d) if c not in cat_columns]
    kernels: list[Kernel] = []
    if continuous:
        prior = dim_scaled_lengthscale_prior(len(continuous))
        cont = cls(
            len(continuous),
            active_dims=continuous if groups else None,
            lengthscale_prior=prior,
            lengthscale_constraint=lower_bound_constraint(),
        )
        kernels.append(_at_prior_mode(cont, prior))
    if groups:
        cat_prior = categorical_lengthscale_prior(len(groups))
        cat = CategoricalKernel(
            groups,
            lengthscale_prior=cat_prior,
            lengthscale_constraint=lower_bound_constraint(),
        )
        kernels.append(_at_prior_mode(cat, cat_prior))
    if len(kernels) == 1:
        return kernels[0]
    if mixed == "product":
        return ProductKernel(*kernels)
    prior = dim_scaled_lengthscale_prior(len(continuous))
    levelwise = LevelwiseKernel(
        continuous,
        groups,
        matern=kind == "matern52",
        lengthscale_prior=prior,
        lengthscale_constraint=lower_bound_constraint(),
    )
    return MixedKernel(
        cast(DenseKernel, kernels[0]),
        cast(CategoricalKernel, kernels[1]),
        cast(LevelwiseKernel, _at_prior_mode(levelwise, prior)),
    )


def default_likelihood(
    Yvar: Tensor | None = None, *, dtype: torch.dtype | None = None
) -> GaussianLikelihood | FixedNoiseGaussianLikelihood:
    """skbo's default likelihood: inferred or known (fixed) Gaussian noise.

    Without ``Yvar``: homoskedastic Gaussian noise with a ``LogNormal(-4, 1)``
    prior, starting at the prior mode (BoTorch's prior), and
    ``noise >= MIN_INFERRED_NOISE`` (1e-6) in float64 or
    ``MIN_INFERRED_NOISE_FLOAT32`` (1e-4) in a lower precision.
    With ``Yvar``: the known per-point variances, floored at ``gpytorch``'s
    ``min_fixed_noise`` (quietly, instead of ``gpytorch``'s warning).

    Parameters
    ----------
    Yvar : Tensor of shape (n,), optional
        Known noise variances (in the units of the modelled outcomes).
    dtype : torch.dtype or None, default=None
        Precision of the model, for the noise floor; ``None`` means float64.

    Returns
    -------
    GaussianLikelihood or FixedNoiseGaussianLikelihood

    Examples
    --------
    >>> lik = default_likelihood()
    >>> round(float(lik.noise.detach()), 4)
    0.0067
    """
    if Yvar is not None:
        floor = gpt_settings.min_fixed_noise.value(Yvar.dtype)
        return FixedNoiseGaussianLikelihood(noise=Yvar.clamp_min(floor))
    prior = _lognormal(-4.0, 1.0)
    low_precision = dtype is not None and dtype != torch.float64
    floor = MIN_INFERRED_NOISE_FLOAT32 if low_precision else MIN_INFERRED_NOISE
    likelihood = GaussianLikelihood(
        noise_prior=prior, noise_constraint=lower_bound_constraint(floor)
    )
    likelihood.noise = prior.mode
    return likelihood


_BUFFERED = "_buffered_"  # gpytorch.priors.utils.BUFFERED_PREFIX


def sync_transformed_priors(module: torch.nn.Module) -> None:
    """Make ``TransformedDistribution`` priors follow ``.to()``.

    NOTE: gpytorch keeps the parameters of such priors (e.g. ``LogNormalPrior``)
    twice: as ``_buffered_<name>`` buffers, which ``.to()`` moves, and on
    ``base_dist``, which ``log_prob`` uses and ``.to()`` does not move. Copying
    the moved buffers over makes the priors follow the model's dtype and device.

    Parameters
    ----------
    module : torch.nn.Module
        Searched recursively for priors.

    Examples
    --------
    >>> import torch
    >>> from gpytorch.priors import LogNormalPrior
    >>> prior = LogNormalPrior(0.0, 1.0).double()
    >>> sync_transformed_priors(prior)
    >>> prior.loc.dtype
    torch.float64
    """
    for m in module.modules():
        if isinstance(m, Prior) and isinstance(m, TransformedDistribution):
            for name, buf in cast(torch.nn.Module, m)._buffers.items():
                if name.startswith(_BUFFERED) and buf is not None:
                    setattr(m.base_dist, name[len(_BUFFERED) :], buf)
