r"""Monte-Carlo ``q``-batch acquisition functions (sample-average approximation).

Notation
--------
``X``: candidates ``(b, q, d)``; ``X_b``: baseline (observed) points
``(n_b, d)``; ``X_p``: pending points ``(m, d)``; ``Y``: joint posterior samples
``(S, b, q)`` at the candidates; ``f*``: ``best_f``; ``beta``: UCB weight.
Each function estimates ``E[max_j u(Y_j)]`` by the mean over the ``S`` fixed
base samples of the maximum over the ``q`` points of a utility ``u``:

* qEI: ``u = max(Y - f*, 0)``;
* qNEI: ``u = max(Y - max(Y_b), 0)``, with ``Y_b`` the samples at the baseline,
  drawn jointly with ``Y`` (so the incumbent's noise is accounted for;
  Letham et al. 2019, arXiv 1706.07094; Balandat et al. 2020, arXiv 1910.06403);
  pending points join ``Y_b`` (elsewhere they join the ``q`` candidates);
* qUCB: ``u = mu + sqrt(beta pi / 2) |Y - mu|`` (Wilson et al. 2017, arXiv
  1712.00424), with ``mu`` the sample mean;
* qPI: ``u = sigmoid((Y - f*) / tau)``; qSimpleRegret: ``u = Y``.

Log-space variants (qLogEI, qLogNEI) live in :mod:`skbo.acquisition.logei`.
"""

from __future__ import annotations

import math
from abc import abstractmethod

import torch
from torch import Tensor

from skbo.acquisition.base import MCAcquisitionFunction, _as_buffer, _check_beta
from skbo.acquisition.utils import plausible_maxima
from skbo.models._prediction import JointGaussianPosterior
from skbo.models.base import Model
from skbo.posteriors import Posterior
from skbo.sampling import IIDNormalSampler, MCSampler

__all__ = [
    "prune_inferior_points",
    "qExpectedImprovement",
    "qNoisyExpectedImprovement",
    "qProbabilityOfImprovement",
    "qSimpleRegret",
    "qUpperConfidenceBound",
]

DEFAULT_MAX_BASELINE = 64
_PRUNE_SAMPLES = 256


def prune_inferior_points(
    model: Model,
    X: Tensor,
    *,
    sampler: MCSampler | None = None,
    max_points: int = DEFAULT_MAX_BASELINE,
    min_frac: float = 0.01,
) -> Tensor:
    """Keep the points that could plausibly be the best one.

    Draws joint posterior samples at ``X`` (duplicates removed) and keeps the
    points that are the sample maximum in at least a fraction ``min_frac`` of
    the samples (always at least the most frequent one), at most
    ``max_points`` of them: the most frequent, ties broken by higher posterior
    mean. The kept points stay in their original order.

    Parameters
    ----------
    model : Model
        The surrogate.
    X : Tensor of shape (n, d)
        Candidate baseline points.
    sampler : MCSampler or None, default=None
        Source of base samples; default ``IIDNormalSampler(256, seed=0)``.
    max_points : int, default=64
        Largest number of points kept.
    min_frac : float, default=0.01
        Smallest fraction of samples in which a kept point is the maximum.

    Returns
    -------
    X_pruned : Tensor of shape (n', d)
        With ``1 <= n' <= min(n, max_points)``.

    Examples
    --------
    >>> import torch
    >>> from skbo.utils.testing import ToyGPModel
    >>> X = torch.linspace(0, 1, 11, dtype=torch.float64).unsqueeze(-1)
    >>> model = ToyGPModel(X, -10 * (X.squeeze(-1) - 0.5) ** 2, noise=1e-2)
    >>> prune_inferior_points(model, X).squeeze(-1)
    tensor([0.4000, 0.5000, 0.6000], dtype=torch.float64)
    """
    if not isinstance(X, Tensor) or X.dim() != 2 or X.shape[0] == 0:
        raise ValueError(
            "X must be a non-empty tensor of shape (n, d), got "
            f"{tuple(X.shape) if isinstance(X, Tensor) else type(X).__name__}."
        )
    if (
        isinstance(max_points, bool)
        or not isinstance(max_points, int)
        or max_points < 1
    ):
        raise ValueError(f"max_points must be a positive int, got {max_points!r}.")
    if not 0.0 <= min_frac <= 1.0:
        raise ValueError(f"min_frac must be in [0, 1], got {min_frac!r}.")
    X = _screen_training_points(model, X.detach())
    # Remove duplicated rows (their joint covariance is singular), keeping the
    # first occurrence of each, in the original order.
    _, inverse = torch.unique(X, dim=0, return_inverse=True)
    index = torch.arange(X.shape[0], device=X.device)
    first = torch.full((int(inverse.max()) + 1,), X.shape[0], device=X.device)
    first = first.scatter_reduce(0, inverse, index, reduce="amin")
    X = X[first.sort().values]
    n = X.shape[0]
    if n == 1:
        return X
    if sampler is None:
        sampler = IIDNormalSampler(sample_shape=256, seed=0)
    with torch.no_grad():
        posterior = model.posterior(X)
        base = sampler.base_samples(n, posterior.device, posterior.dtype)
        samples = posterior.rsample_from_base_samples(base).reshape(-1, n)
        counts = torch.bincount(samples.argmax(dim=-1), minlength=n)
        by_mean = torch.argsort(posterior.mean.reshape(n), descending=True, stable=True)
        order = by_mean[torch.argsort(counts[by_mean], descending=True, stable=True)]
    # NOTE: as BoTorch's prune_inferior_points, plus a frequency threshold: a
    # point that is the maximum in a fraction p of the samples moves the
    # incumbent only in those, so dropping it biases the improvement by at most
    # p times its lead there (<= 1% by default), while every kept point costs a
    # row and column of the joint posterior in each acquisition call.
    min_count = max(1, math.ceil(min_frac * samples.shape[0] - 1e-9))
    keep = order[counts[order] >= min_count][:max_points]
    if keep.numel() == 0:
        keep = order[:1]
    return X[keep.sort().values]


def _screen_training_points(model: Model, X: Tensor) -> Tensor:
    """Drop training points that cannot be the best, without a joint posterior.

    Applies when ``X`` is the model's training inputs and the model offers
    ``training_bounds()`` (skbo's GPs): O(n) instead of the O(n^3) joint
    posterior of all n points. A dropped point is below another one with
    probability > 99.8 %, so it would fall under ``min_frac`` anyway.
    """
    bounds = getattr(model, "training_bounds", None)
    train_X = getattr(model, "train_X", None)
    if (
        bounds is None
        or not isinstance(train_X, Tensor)
        or train_X.shape != X.shape
        or not torch.equal(train_X, X)
    ):
        return X
    mean, std = bounds()
    return X[plausible_maxima(mean, std)]


def _prepare_baseline(
    model: Model, X_baseline: Tensor, sampler: MCSampler, prune: bool
) -> Tensor:
    """Validate (and optionally prune) the baseline of a noisy EI variant."""
    if (
        not isinstance(X_baseline, Tensor)
        or not X_baseline.is_floating_point()
        or X_baseline.dim() != 2
        or X_baseline.shape[0] == 0
    ):
        raise ValueError(
            "X_baseline must be a non-empty floating-point tensor of shape (n, d) "
            "(the points observed so far), got "
            + (
                f"shape {tuple(X_baseline.shape)}."
                if isinstance(X_baseline, Tensor)
                else f"{type(X_baseline).__name__}."
            )
        )
    if prune:
        # NOTE: i.i.d. draws, seeded from the acquisition's sampler: pruning
        # needs only rough frequencies of the sample maximum, and a scrambled
        # Sobol sequence costs ~25 us per joint point to set up (1.4 ms for
        # the ~60 points screened at n = 200, d = 6; 3 % of a suggestion),
        # against ~5 us for normal draws.
        pruner = IIDNormalSampler(sample_shape=_PRUNE_SAMPLES, seed=sampler.seed)
        return prune_inferior_points(model, X_baseline, sampler=pruner)
    return X_baseline.detach().clone()


def _split_joint_samples(
    samples: Tensor, n_baseline: int, n_pending: int
) -> tuple[Tensor, Tensor]:
    """Split ``(S, b, n_b + q + m)`` samples into candidates and incumbents.

    Returns the candidates' samples ``(S, b, q)`` and those of the baseline and
    pending points together ``(S, b, n_b + m)``.
    """
    q = samples.shape[-1] - n_baseline - n_pending
    candidates = samples[..., n_baseline : n_baseline + q]
    incumbents = torch.cat(
        [samples[..., :n_baseline], samples[..., n_baseline + q :]], dim=-1
    )
    return candidates, incumbents


def _blockwise_samples(
    posterior: JointGaussianPosterior,
    base: Tensor,
    n_pending: int,
    limit: int | None = None,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """Samples of a block posterior, split without materializing the joint ones.

    Returns the candidates' samples ``(S', b, q)`` of the first ``S' = limit``
    base samples (all when None), the baseline samples ``(S, n_b)`` of all
    (shared by every t-batch, the same tensor on every call with the same base
    samples) and the pending points' samples ``(S', b, m)`` (None when
    ``m = 0``).
    """
    new = posterior.rsample_new_from_base_samples(base[:limit])  # (S', b, q + m)
    fb = posterior.baseline.samples(base)
    if n_pending == 0:
        return new, fb, None
    q = new.shape[-1] - n_pending
    return new[..., :q], fb, new[..., q:]


def _with_baseline(fb: Tensor, Y_pending: Tensor) -> Tensor:
    """Baseline samples ``(S, n_b)`` broadcast to and joined with ``(S, b, m)``."""
    S, nb = fb.shape
    shape = (S, *Y_pending.shape[1:-1], nb)
    return torch.cat(
        [fb.reshape(S, *([1] * (Y_pending.dim() - 2)), nb).expand(shape), Y_pending],
        dim=-1,
    )


class _NoisyImprovementAcquisitionFunction(MCAcquisitionFunction):
    """Improvement over incumbents sampled jointly with the candidates.

    The incumbents are the baseline points ``X_b`` and the pending points.
    Subclasses call :meth:`_set_baseline` in ``__init__`` and define the
    incumbent value :meth:`_best` and the utility :meth:`_improvement`.
    """

    X_baseline: Tensor

    def _set_baseline(self, X_baseline: Tensor, prune: bool) -> None:
        baseline = _prepare_baseline(self.model, X_baseline, self.sampler, prune)
        self.register_buffer("X_baseline", baseline)
        self._incumbent: tuple[Tensor, Tensor] | None = None

    @abstractmethod
    def _best(self, Y_inc: Tensor) -> Tensor:
        """Incumbent value ``(..., 1)`` of the incumbents' samples ``(..., n)``."""

    @abstractmethod
    def _improvement(self, diff: Tensor) -> Tensor:
        """Utility of the candidates' samples minus the incumbent value."""

    def _posterior(self, X: Tensor) -> Posterior:
        return self.model.joint_posterior(self.X_baseline.to(X), X)

    def _n_pending(self) -> int:
        return 0 if self.X_pending is None else self.X_pending.shape[0]

    def _evaluate(self, posterior: Posterior) -> Tensor:
        if not isinstance(posterior, JointGaussianPosterior):
            return super()._evaluate(posterior)
        # NOTE: block posteriors give the baseline samples once (they do not
        # depend on X), so without pending points the incumbent value of every
        # sample is computed once and only the candidates' samples are drawn
        # per call; same values as the joint path up to rounding.
        # In :meth:`subsample`, the baseline samples and incumbent values of
        # all base samples stay cached; only their leading rows are used.
        base = self.sampler.base_samples(posterior.q, posterior.device, posterior.dtype)
        Y, fb, Y_pending = _blockwise_samples(
            posterior, base, self._n_pending(), self._sample_limit
        )
        if Y_pending is None:
            cached = self._incumbent
            if cached is None or cached[0] is not fb:
                cached = (fb, self._best(fb))
                self._incumbent = cached
            best = self._limit_samples(cached[1]).reshape(-1, *([1] * (Y.dim() - 1)))
        else:
            best = self._best(_with_baseline(self._limit_samples(fb), Y_pending))
        return self._reduce(self._improvement(Y - best))

    def _sample_forward(self, samples: Tensor) -> Tensor:
        n_baseline = self.X_baseline.shape[0]
        Y, Y_inc = _split_joint_samples(samples, n_baseline, self._n_pending())
        return self._improvement(Y - self._best(Y_inc))


class qExpectedImprovement(MCAcquisitionFunction):
    """Monte-Carlo ``q``-batch expected improvement over ``best_f``.

    Parameters
    ----------
    model : Model
        The surrogate.
    best_f : float or Tensor
        Incumbent value ``f*``.
    sampler : MCSampler or None, default=None
        Base samples (default: 256 scrambled Sobol samples).
    X_pending : Tensor of shape (m, d) or None, default=None
        Pending points, evaluated jointly with each candidate batch.

    Examples
    --------
    >>> import torch
    >>> from skbo.sampling import SobolQMCNormalSampler
    >>> from skbo.utils.testing import MockModel, MockPosterior
    >>> post = MockPosterior(torch.zeros(1, 1), variance=torch.ones(1, 1))
    >>> acqf = qExpectedImprovement(MockModel(post), best_f=0.0,
    ...                             sampler=SobolQMCNormalSampler(4096, seed=0))
    >>> round(acqf(torch.rand(1, 2)).item(), 3)  # analytic: 0.399
    0.399
    """

    best_f: Tensor

    def __init__(
        self,
        model: Model,
        best_f: float | Tensor,
        sampler: MCSampler | None = None,
        X_pending: Tensor | None = None,
    ) -> None:
        super().__init__(model, sampler=sampler, X_pending=X_pending)
        self.register_buffer("best_f", _as_buffer(best_f, "best_f"))

    def _sample_forward(self, samples: Tensor) -> Tensor:
        return (samples - self.best_f.to(samples).unsqueeze(-1)).clamp_min(0.0)


class qNoisyExpectedImprovement(_NoisyImprovementAcquisitionFunction):
    """Monte-Carlo ``q``-batch noisy expected improvement.

    The incumbent is the maximum of the posterior samples at the baseline
    points, drawn jointly with the candidates (via the model's
    ``joint_posterior``), so no noisy ``best_f`` is needed. Pending points
    join the incumbents (the value of ``X`` is its improvement over the
    baseline *and* the pending points): the same maximizer as a joint
    evaluation, without the pending points' value swamping the candidates'.

    Parameters
    ----------
    model : Model
        The surrogate.
    X_baseline : Tensor of shape (n, d)
        Points observed so far.
    sampler : MCSampler or None, default=None
        Base samples (default: 256 scrambled Sobol samples).
    X_pending : Tensor of shape (m, d) or None, default=None
        Pending points.
    prune_baseline : bool, default=True
        Keep only the baseline points that could be the best (see
        :func:`prune_inferior_points`), once, at construction.

    Attributes
    ----------
    X_baseline : Tensor of shape (n', d)
        The (pruned) baseline.

    Examples
    --------
    >>> import torch
    >>> from skbo.utils.testing import ToyGPModel
    >>> X = torch.tensor([[0.2], [0.8]], dtype=torch.float64)
    >>> model = ToyGPModel(X, torch.tensor([0.0, 1.0], dtype=torch.float64))
    >>> acqf = qNoisyExpectedImprovement(model, X_baseline=X)
    >>> acqf.X_baseline
    tensor([[0.8000]], dtype=torch.float64)
    >>> bool(acqf(torch.tensor([[0.9]], dtype=torch.float64)) > 0)
    True
    """

    def __init__(
        self,
        model: Model,
        X_baseline: Tensor,
        sampler: MCSampler | None = None,
        X_pending: Tensor | None = None,
        prune_baseline: bool = True,
    ) -> None:
        super().__init__(model, sampler=sampler, X_pending=X_pending)
        self._set_baseline(X_baseline, prune_baseline)

    def _best(self, Y_inc: Tensor) -> Tensor:
        return Y_inc.amax(dim=-1, keepdim=True)

    def _improvement(self, diff: Tensor) -> Tensor:
        return diff.clamp_min(0.0)


class qUpperConfidenceBound(MCAcquisitionFunction):
    """Monte-Carlo ``q``-batch upper confidence bound.

    For ``q = 1`` it equals ``mu + sqrt(beta) sigma`` in expectation.

    Parameters
    ----------
    model : Model
        The surrogate.
    beta : float or Tensor
        Non-negative exploration weight.
    sampler : MCSampler or None, default=None
        Base samples (default: 256 scrambled Sobol samples).
    X_pending : Tensor of shape (m, d) or None, default=None
        Pending points.

    Examples
    --------
    >>> import torch
    >>> from skbo.sampling import SobolQMCNormalSampler
    >>> from skbo.utils.testing import MockModel, MockPosterior
    >>> post = MockPosterior(torch.zeros(1, 1), variance=torch.ones(1, 1))
    >>> acqf = qUpperConfidenceBound(MockModel(post), beta=4.0,
    ...                              sampler=SobolQMCNormalSampler(4096, seed=0))
    >>> round(acqf(torch.rand(1, 2)).item(), 2)  # analytic: 2.0
    2.0
    """

    beta: Tensor

    def __init__(
        self,
        model: Model,
        beta: float | Tensor,
        sampler: MCSampler | None = None,
        X_pending: Tensor | None = None,
    ) -> None:
        super().__init__(model, sampler=sampler, X_pending=X_pending)
        self.register_buffer("beta", _check_beta(beta))

    def _sample_forward(self, samples: Tensor) -> Tensor:
        # NOTE: E|Y - mu| = sigma sqrt(2 / pi), hence the sqrt(pi / 2) factor
        # (Wilson et al. 2017, arXiv 1712.00424, sec. 3).
        beta_prime = (self.beta.to(samples) * (0.5 * math.pi)).sqrt()
        mean = samples.mean(dim=0)
        return mean + beta_prime * (samples - mean).abs()


class qProbabilityOfImprovement(MCAcquisitionFunction):
    """Monte-Carlo ``q``-batch probability of improvement (sigmoid-smoothed).

    Parameters
    ----------
    model : Model
        The surrogate.
    best_f : float or Tensor
        Incumbent value ``f*``.
    sampler : MCSampler or None, default=None
        Base samples (default: 256 scrambled Sobol samples).
    X_pending : Tensor of shape (m, d) or None, default=None
        Pending points.
    tau : float, default=1e-3
        Temperature of the sigmoid replacing the indicator ``1[Y > f*]``.

    Examples
    --------
    >>> import torch
    >>> from skbo.sampling import SobolQMCNormalSampler
    >>> from skbo.utils.testing import MockModel, MockPosterior
    >>> post = MockPosterior(torch.zeros(1, 1), variance=torch.ones(1, 1))
    >>> acqf = qProbabilityOfImprovement(MockModel(post), best_f=0.0,
    ...                                  sampler=SobolQMCNormalSampler(4096, seed=0))
    >>> round(acqf(torch.rand(1, 2)).item(), 2)  # analytic: 0.5
    0.5
    """

    best_f: Tensor

    def __init__(
        self,
        model: Model,
        best_f: float | Tensor,
        sampler: MCSampler | None = None,
        X_pending: Tensor | None = None,
        tau: float = 1e-3,
    ) -> None:
        super().__init__(model, sampler=sampler, X_pending=X_pending)
        if not tau > 0:
            raise ValueError(f"tau must be positive, got {tau!r}.")
        self.register_buffer("best_f", _as_buffer(best_f, "best_f"))
        self.tau = float(tau)

    def _sample_forward(self, samples: Tensor) -> Tensor:
        improvement = samples - self.best_f.to(samples).unsqueeze(-1)
        return torch.sigmoid(improvement / self.tau)


class qSimpleRegret(MCAcquisitionFunction):
    """Monte-Carlo ``q``-batch simple regret: ``E[max_j Y_j]``.

    Parameters
    ----------
    model : Model
        The surrogate.
    sampler : MCSampler or None, default=None
        Base samples (default: 256 scrambled Sobol samples).
    X_pending : Tensor of shape (m, d) or None, default=None
        Pending points.

    Examples
    --------
    >>> import torch
    >>> from skbo.utils.testing import MockModel, MockPosterior
    >>> acqf = qSimpleRegret(MockModel(MockPosterior(torch.tensor([[1.0, 3.0]]))))
    >>> acqf(torch.rand(1, 2, 4))
    tensor([3.])
    """

    def _sample_forward(self, samples: Tensor) -> Tensor:
        return samples
