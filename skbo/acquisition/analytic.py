r"""Analytic (closed-form, single-point) acquisition functions.

Notation
--------
``X``: candidates of shape ``(b, 1, d)``; ``mu``, ``sigma``: posterior mean
and standard deviation at ``X``, shape ``(b,)``; ``f*``: ``best_f``, the
incumbent value to improve on; ``z = (mu - f*) / sigma``; ``phi``, ``Phi``:
standard normal density and CDF; ``beta``: UCB's exploration weight.

* ``EI = sigma h(z)`` with ``h(z) = phi(z) + z Phi(z)``;
* ``log EI = log sigma + log h(z)``, computed without underflow
  (Ament et al. 2023, arXiv 2310.20708; see :func:`~skbo.acquisition.utils.log_h`);
* ``PI = Phi(z)``; ``log PI = log Phi(z)``;
* ``UCB = mu + sqrt(beta) sigma`` (Srinivas et al. 2010, arXiv 0912.3995).

All of them take ``q = 1``; for joint batches and pending points use their
Monte-Carlo ``q``-variants (:mod:`skbo.acquisition.monte_carlo`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from skbo.acquisition._fused import fused_log_ei, fused_log_ei_value_and_grad
from skbo.acquisition.base import AcquisitionFunction, _as_buffer, _check_beta
from skbo.acquisition.utils import log_h, normal_cdf, normal_pdf
from skbo.exceptions import UnsupportedError
from skbo.models.base import Model
from skbo.utils.transforms import t_batch_mode_transform

__all__ = [
    "AnalyticAcquisitionFunction",
    "ExpectedImprovement",
    "LogExpectedImprovement",
    "LogProbabilityOfImprovement",
    "ProbabilityOfImprovement",
    "UpperConfidenceBound",
]


class AnalyticAcquisitionFunction(AcquisitionFunction):
    """Base of the closed-form acquisition functions (``q = 1``, no pending points).

    Parameters
    ----------
    model : Model
        The surrogate.

    Examples
    --------
    >>> import torch
    >>> from skbo.utils.testing import MockModel, MockPosterior
    >>> acqf = UpperConfidenceBound(MockModel(MockPosterior(torch.zeros(1, 1))), 1.0)
    >>> isinstance(acqf, AnalyticAcquisitionFunction)
    True
    """

    def _mean_and_sigma(self, X: Tensor) -> tuple[Tensor, Tensor]:
        """Posterior mean and standard deviation ``(b,)`` at ``X (b, 1, d)``."""
        posterior = self.model.posterior(X)
        mean = posterior.mean.squeeze(-1)
        # NOTE: a variance floor keeps z finite (and gradients defined) at
        # observed points of a noise-free model, where sigma -> 0.
        floor = 1e-12 if mean.dtype == torch.float64 else 1e-10
        sigma = posterior.variance.squeeze(-1).clamp_min(floor).sqrt()
        return mean, sigma

    def _z_and_sigma(self, X: Tensor, best_f: Tensor) -> tuple[Tensor, Tensor]:
        """Standardized improvement ``z`` and ``sigma``, both ``(b,)``."""
        mean, sigma = self._mean_and_sigma(X)
        return (mean - best_f.to(mean)) / sigma, sigma

    def set_X_pending(self, X_pending: Tensor | None = None) -> None:
        """Pending points are not supported: only ``None`` is accepted.

        Parameters
        ----------
        X_pending : None
            Anything else raises :class:`~skbo.exceptions.UnsupportedError`.

        Examples
        --------
        >>> import torch
        >>> from skbo.utils.testing import MockModel, MockPosterior
        >>> model = MockModel(MockPosterior(torch.zeros(1, 1)))
        >>> acqf = LogExpectedImprovement(model, best_f=0.0)
        >>> acqf.set_X_pending(None)
        >>> acqf.X_pending is None
        True
        """
        if X_pending is not None:
            raise UnsupportedError(
                f"{type(self).__name__} is analytic and cannot account for pending "
                "points; use its Monte-Carlo q-variant (e.g. qLogExpectedImprovement)."
            )
        self.X_pending = None


class _ImprovementAcquisitionFunction(AnalyticAcquisitionFunction):
    """Analytic acquisition function of the improvement over ``best_f``."""

    best_f: Tensor

    def __init__(self, model: Model, best_f: float | Tensor) -> None:
        super().__init__(model)
        self.register_buffer("best_f", _as_buffer(best_f, "best_f"))


class ExpectedImprovement(_ImprovementAcquisitionFunction):
    """Expected improvement ``E[max(f(x) - f*, 0)] = sigma h(z)``.

    Underflows to 0 (with a 0 gradient) a few standard deviations below
    ``f*``; prefer :class:`LogExpectedImprovement` for optimization.

    Parameters
    ----------
    model : Model
        The surrogate.
    best_f : float or Tensor
        Incumbent value ``f*`` (a scalar, or one per t-batch).

    Examples
    --------
    >>> import torch
    >>> from skbo.utils.testing import MockModel, MockPosterior
    >>> post = MockPosterior(torch.zeros(1, 1), variance=torch.ones(1, 1))
    >>> ExpectedImprovement(MockModel(post), best_f=0.0)(torch.rand(1, 2))
    tensor(0.3989)
    """

    @t_batch_mode_transform(expected_q=1)
    def forward(self, X: Tensor) -> Tensor:
        """Expected improvement at each t-batch.

        Parameters
        ----------
        X : Tensor of shape (b, 1, d) or (1, d)
            Candidates, one per t-batch.

        Returns
        -------
        values : Tensor of shape (b,) or ()
        """
        z, sigma = self._z_and_sigma(X, self.best_f)
        return sigma * (normal_pdf(z) + z * normal_cdf(z))


class LogExpectedImprovement(_ImprovementAcquisitionFunction):
    """Logarithm of expected improvement, stable far into the tail.

    Equals ``log(EI)`` wherever EI is representable, and stays finite with
    informative gradients where EI underflows (Ament et al. 2023).

    Parameters
    ----------
    model : Model
        The surrogate.
    best_f : float or Tensor
        Incumbent value ``f*`` (a scalar, or one per t-batch).

    Examples
    --------
    >>> import torch
    >>> from skbo.utils.testing import MockModel, MockPosterior
    >>> post = MockPosterior(torch.zeros(1, 1), variance=torch.ones(1, 1))
    >>> LogExpectedImprovement(MockModel(post), best_f=40.0)(torch.rand(1, 2))
    tensor(-808.2986)
    """

    @t_batch_mode_transform(expected_q=1)
    def forward(self, X: Tensor) -> Tensor:
        """Log expected improvement at each t-batch.

        Parameters
        ----------
        X : Tensor of shape (b, 1, d) or (1, d)
            Candidates, one per t-batch.

        Returns
        -------
        values : Tensor of shape (b,) or ()
        """
        fused = fused_log_ei(self.model, X, self.best_f)
        if fused is not None:
            return fused
        z, sigma = self._z_and_sigma(X, self.best_f)
        return log_h(z) + torch.log(sigma)

    def value_and_grad(self, X: Tensor) -> tuple[Tensor, Tensor] | None:
        """Values and gradients at ``X (b, 1, d)`` without autograd, if possible.

        Used by the acquisition optimizer; available on skbo's own GP with
        the fused single-point posterior (otherwise ``None``: use autograd).

        Parameters
        ----------
        X : Tensor of shape (b, 1, d)
            Candidates.

        Returns
        -------
        (values, grad) : Tensors of shapes (b,) and (b, 1, d), or None
        """
        return fused_log_ei_value_and_grad(self.model, X, self.best_f)


class ProbabilityOfImprovement(_ImprovementAcquisitionFunction):
    """Probability of improvement ``P(f(x) > f*) = Phi(z)``.

    Parameters
    ----------
    model : Model
        The surrogate.
    best_f : float or Tensor
        Incumbent value ``f*``.

    Examples
    --------
    >>> import torch
    >>> from skbo.utils.testing import MockModel, MockPosterior
    >>> post = MockPosterior(torch.zeros(1, 1), variance=torch.ones(1, 1))
    >>> ProbabilityOfImprovement(MockModel(post), best_f=0.0)(torch.rand(1, 2))
    tensor(0.5000)
    """

    @t_batch_mode_transform(expected_q=1)
    def forward(self, X: Tensor) -> Tensor:
        """Probability of improvement at each t-batch.

        Parameters
        ----------
        X : Tensor of shape (b, 1, d) or (1, d)
            Candidates, one per t-batch.

        Returns
        -------
        values : Tensor of shape (b,) or ()
        """
        return normal_cdf(self._z_and_sigma(X, self.best_f)[0])


class LogProbabilityOfImprovement(_ImprovementAcquisitionFunction):
    """Log probability of improvement ``log Phi(z)``, stable in the tail.

    Parameters
    ----------
    model : Model
        The surrogate.
    best_f : float or Tensor
        Incumbent value ``f*``.

    Examples
    --------
    >>> import torch
    >>> from skbo.utils.testing import MockModel, MockPosterior
    >>> post = MockPosterior(torch.zeros(1, 1), variance=torch.ones(1, 1))
    >>> LogProbabilityOfImprovement(MockModel(post), best_f=40.0)(torch.rand(1, 2))
    tensor(-804.6085)
    """

    @t_batch_mode_transform(expected_q=1)
    def forward(self, X: Tensor) -> Tensor:
        """Log probability of improvement at each t-batch.

        Parameters
        ----------
        X : Tensor of shape (b, 1, d) or (1, d)
            Candidates, one per t-batch.

        Returns
        -------
        values : Tensor of shape (b,) or ()
        """
        out: Tensor = torch.special.log_ndtr(self._z_and_sigma(X, self.best_f)[0])
        return out


class UpperConfidenceBound(AnalyticAcquisitionFunction):
    """Upper confidence bound ``mu + sqrt(beta) sigma``.

    Parameters
    ----------
    model : Model
        The surrogate.
    beta : float or Tensor
        Non-negative exploration weight (``beta = kappa^2`` for
        scikit-optimize's ``kappa``).

    Examples
    --------
    >>> import torch
    >>> from skbo.utils.testing import MockModel, MockPosterior
    >>> post = MockPosterior(torch.zeros(1, 1), variance=torch.ones(1, 1))
    >>> UpperConfidenceBound(MockModel(post), beta=4.0)(torch.rand(1, 2))
    tensor(2.)
    """

    beta: Tensor

    def __init__(self, model: Model, beta: float | Tensor) -> None:
        super().__init__(model)
        self.register_buffer("beta", _check_beta(beta))

    @t_batch_mode_transform(expected_q=1)
    def forward(self, X: Tensor) -> Tensor:
        """Upper confidence bound at each t-batch.

        Parameters
        ----------
        X : Tensor of shape (b, 1, d) or (1, d)
            Candidates, one per t-batch.

        Returns
        -------
        values : Tensor of shape (b,) or ()
        """
        mean, sigma = self._mean_and_sigma(X)
        return mean + self.beta.to(mean).sqrt() * sigma
