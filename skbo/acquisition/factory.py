"""Build an acquisition function from its name (the string ``acq_func`` API).

Short names (``"qLogNEI"``) and BoTorch's class names
(``"qLogNoisyExpectedImprovement"``) are both accepted, case-sensitively.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch
from torch import Tensor

from skbo.acquisition.analytic import (
    AnalyticAcquisitionFunction,
    ExpectedImprovement,
    LogExpectedImprovement,
    LogProbabilityOfImprovement,
    ProbabilityOfImprovement,
    UpperConfidenceBound,
)
from skbo.acquisition.base import DEFAULT_SAMPLE_SHAPE, AcquisitionFunction
from skbo.acquisition.logei import qLogExpectedImprovement, qLogNoisyExpectedImprovement
from skbo.acquisition.monte_carlo import (
    qExpectedImprovement,
    qNoisyExpectedImprovement,
    qProbabilityOfImprovement,
    qSimpleRegret,
    qUpperConfidenceBound,
)
from skbo.exceptions import UnsupportedError
from skbo.models.base import Model
from skbo.sampling import SobolQMCNormalSampler

__all__ = ["ACQUISITION_NAMES", "DEFAULT_BETA", "get_acquisition_function"]

_SHORT_NAMES: dict[str, type[AcquisitionFunction]] = {
    "EI": ExpectedImprovement,
    "LogEI": LogExpectedImprovement,
    "UCB": UpperConfidenceBound,
    "PI": ProbabilityOfImprovement,
    "LogPI": LogProbabilityOfImprovement,
    "qEI": qExpectedImprovement,
    "qLogEI": qLogExpectedImprovement,
    "qNEI": qNoisyExpectedImprovement,
    "qLogNEI": qLogNoisyExpectedImprovement,
    "qUCB": qUpperConfidenceBound,
    "qPI": qProbabilityOfImprovement,
    "qSR": qSimpleRegret,
}
_CLASSES = {cls.__name__: cls for cls in _SHORT_NAMES.values()}
_REGISTRY = {**_SHORT_NAMES, **_CLASSES}

#: Every name :func:`get_acquisition_function` accepts: short names, then
#: class names.
ACQUISITION_NAMES: tuple[str, ...] = (*_SHORT_NAMES, *_CLASSES)

#: Default UCB weight: ``1.96 ** 2``, i.e. scikit-optimize's ``kappa = 1.96``.
DEFAULT_BETA = 1.96**2

_NEEDS_BEST_F = (
    ExpectedImprovement,
    LogExpectedImprovement,
    ProbabilityOfImprovement,
    LogProbabilityOfImprovement,
    qExpectedImprovement,
    qLogExpectedImprovement,
    qProbabilityOfImprovement,
)
_NEEDS_BASELINE = (qNoisyExpectedImprovement, qLogNoisyExpectedImprovement)
_NEEDS_BETA = (UpperConfidenceBound, qUpperConfidenceBound)
# Set by the factory itself, so not accepted among **options.
_NO_BASELINE = ", ".join(n for n, c in _SHORT_NAMES.items() if c not in _NEEDS_BASELINE)
_RESERVED = {"model", "best_f", "X_baseline", "X_pending", "beta", "sampler"}


def get_acquisition_function(
    name: str,
    model: Model,
    *,
    X_baseline: Tensor | None = None,
    best_f: float | Tensor | None = None,
    X_pending: Tensor | None = None,
    beta: float = DEFAULT_BETA,
    sample_shape: int = DEFAULT_SAMPLE_SHAPE,
    seed: int | None = None,
    **options: Any,
) -> AcquisitionFunction:
    """Build the acquisition function called ``name``.

    Arguments a function does not use are ignored (e.g. ``best_f`` for
    qLogNEI, ``X_baseline`` for EI once ``best_f`` is given), so a caller can
    pass everything it has.

    Parameters
    ----------
    name : str
        One of ``"EI"``, ``"LogEI"``, ``"UCB"``, ``"PI"``, ``"LogPI"``,
        ``"qEI"``, ``"qLogEI"``, ``"qNEI"``, ``"qLogNEI"``, ``"qUCB"``,
        ``"qPI"``, ``"qSR"``, or the corresponding class name (see
        ``ACQUISITION_NAMES``).
    model : Model
        The surrogate.
    X_baseline : Tensor of shape (n, d) or None, default=None
        Points observed so far. Required by the noisy EI variants; otherwise
        used for the default ``best_f``.
    best_f : float, Tensor or None, default=None
        Incumbent value for EI/PI variants; default: the largest posterior
        mean at ``X_baseline``.
    X_pending : Tensor of shape (m, d) or None, default=None
        Pending points (Monte-Carlo functions only).
    beta : float, default=1.96**2
        UCB exploration weight.
    sample_shape : int, default=256
        Number of Sobol samples of Monte-Carlo functions.
    seed : int or None, default=None
        Sobol scrambling seed of Monte-Carlo functions.
    **options
        Further constructor arguments (e.g. ``prune_baseline``, ``fat``,
        ``tau_max``, ``tau_relu``, ``tau``).

    Returns
    -------
    AcquisitionFunction

    Raises
    ------
    ValueError
        For an unknown name, or a missing ``X_baseline`` / ``best_f``.
    TypeError
        For an option the chosen function does not take.
    UnsupportedError
        For pending points with an analytic function.

    Examples
    --------
    >>> import torch
    >>> from skbo.utils.testing import ToyGPModel
    >>> X = torch.rand(5, 2, dtype=torch.float64)
    >>> model = ToyGPModel(X, X.sum(-1))
    >>> acqf = get_acquisition_function("qLogNEI", model, X_baseline=X, seed=0)
    >>> type(acqf).__name__
    'qLogNoisyExpectedImprovement'
    >>> acqf(torch.rand(3, 1, 2, dtype=torch.float64)).shape
    torch.Size([3])
    """
    cls = _REGISTRY.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(
            f"Unknown acquisition function {name!r}; valid names are "
            f"{', '.join(_SHORT_NAMES)} (or the class names "
            f"{', '.join(_CLASSES)})."
        )
    allowed = set(inspect.signature(cls.__init__).parameters) - _RESERVED - {"self"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise TypeError(
            f"{cls.__name__} got unexpected option(s) {unknown}; its options are "
            f"{sorted(allowed) or 'none'}."
        )
    kwargs: dict[str, Any] = dict(options)
    if issubclass(cls, _NEEDS_BASELINE):
        if X_baseline is None:
            raise ValueError(
                f"{name} needs X_baseline, the points observed so far (a tensor of "
                "shape (n, d)); acquisition functions that need no baseline are "
                f"{_NO_BASELINE}."
            )
        kwargs["X_baseline"] = X_baseline
    if issubclass(cls, _NEEDS_BEST_F):
        kwargs["best_f"] = _default_best_f(name, model, X_baseline, best_f)
    if issubclass(cls, _NEEDS_BETA):
        kwargs["beta"] = beta
    if issubclass(cls, AnalyticAcquisitionFunction):
        if X_pending is not None:
            raise UnsupportedError(
                f"{name} is analytic and cannot account for pending points; use a "
                "Monte-Carlo variant (qLogEI, qLogNEI, qUCB, ...)."
            )
    else:
        kwargs["sampler"] = SobolQMCNormalSampler(sample_shape=sample_shape, seed=seed)
        kwargs["X_pending"] = X_pending
    return cls(model, **kwargs)


def _default_best_f(
    name: str, model: Model, X_baseline: Tensor | None, best_f: float | Tensor | None
) -> float | Tensor:
    """``best_f``, or the largest posterior mean at ``X_baseline``."""
    if best_f is not None:
        return best_f
    if X_baseline is None:
        raise ValueError(
            f"{name} needs best_f (the incumbent value) or X_baseline (the points "
            "observed so far, shape (n, d)) to take the best posterior mean from."
        )
    with torch.no_grad():
        return model.posterior(X_baseline).mean.max()
