r"""Plug any fitted ``gpytorch`` model into skbo's acquisition functions.

What an acquisition function needs from a model
-----------------------------------------------
skbo's acquisition functions and optimizer rely on the
:class:`skbo.models.base.Model` interface only:

* ``model.posterior(X, observation_noise=False)`` for ``X`` of shape
  ``(*batch, q, d)`` (points in the unit cube, same dtype and device as the
  model) returns a :class:`~skbo.posteriors.Posterior` whose ``mean`` and
  ``variance`` have shape ``(*batch, q)`` and whose
  ``rsample_from_base_samples(base)`` maps standard-normal draws ``(S, q)`` to
  joint samples ``(S, *batch, q)``. A
  :class:`~skbo.posteriors.GaussianPosterior` (mean and ``q x q`` covariance)
  provides all of this.
* The posterior must be differentiable with respect to ``X`` (acquisition
  functions are maximized with L-BFGS-B and autograd gradients) and
  deterministic for a given ``X`` (fixed base samples turn Monte-Carlo
  acquisition values into smooth functions of ``X``).
* One output, in the units the acquisition function should **maximize** (the
  ask/tell layer negates losses before fitting).
* Optional: ``model.joint_posterior(X_baseline, X)``, a posterior over
  ``n_b + q`` points (baseline first) used by noisy expected improvement; the
  default implementation concatenates the points and calls ``posterior``.

:class:`GPyTorchModel` fulfils this for any fitted ``gpytorch`` exact or
approximate (variational) GP with a single output. To write a model from
scratch, subclass :class:`~skbo.models.base.Model` and implement ``posterior``.
"""

from __future__ import annotations

from contextlib import ExitStack

import gpytorch
from gpytorch.distributions import MultitaskMultivariateNormal, MultivariateNormal
from gpytorch.likelihoods import FixedNoiseGaussianLikelihood, Likelihood
from gpytorch.models import GP
from torch import Tensor

from skbo.exceptions import InputDataError, UnsupportedError
from skbo.models._prediction import clamp_diagonal
from skbo.models.base import Model
from skbo.models.transforms import Standardize
from skbo.posteriors import GaussianPosterior

__all__ = ["GPyTorchModel"]


class GPyTorchModel(Model):
    """Adapter from a fitted single-output ``gpytorch`` GP to skbo's model interface.

    Predictions use ``gpytorch``'s own machinery in eval mode (its prediction
    caches are reused across calls while the model is not put back in
    training mode).

    Parameters
    ----------
    model : gpytorch.models.GP
        A fitted ``ExactGP`` or ``ApproximateGP`` with one output.
    likelihood : gpytorch.likelihoods.Likelihood, optional
        Used for ``observation_noise=True``; defaults to ``model.likelihood``.
    outcome_transform : Standardize, optional
        If the model was trained on standardized outcomes, the transform that
        maps its predictions back to original units.
    fast_pred_var : bool, default=False
        Use ``gpytorch.settings.fast_pred_var`` (LOVE): faster, approximate
        predictive covariances.

    Examples
    --------
    >>> import torch, gpytorch
    >>> class ExactModel(gpytorch.models.ExactGP):
    ...     def __init__(self, X, y):
    ...         super().__init__(X, y, gpytorch.likelihoods.GaussianLikelihood())
    ...         self.mean_module = gpytorch.means.ConstantMean()
    ...         self.covar_module = gpytorch.kernels.RBFKernel()
    ...     def forward(self, x):
    ...         return gpytorch.distributions.MultivariateNormal(
    ...             self.mean_module(x), self.covar_module(x))
    >>> X = torch.rand(10, 2, dtype=torch.float64)
    >>> model = GPyTorchModel(ExactModel(X, X.sum(-1)).double())
    >>> post = model.posterior(torch.rand(4, 3, 2, dtype=torch.float64))
    >>> post.mean.shape, post.covariance.shape
    (torch.Size([4, 3]), torch.Size([4, 3, 3]))
    """

    def __init__(
        self,
        model: GP,
        likelihood: Likelihood | None = None,
        *,
        outcome_transform: Standardize | None = None,
        fast_pred_var: bool = False,
    ) -> None:
        super().__init__()
        if not isinstance(model, GP):
            raise TypeError(
                "model must be a gpytorch.models.GP (ExactGP or ApproximateGP), "
                f"got {type(model).__name__}."
            )
        if likelihood is None:
            likelihood = getattr(model, "likelihood", None)
        if likelihood is not None and not isinstance(likelihood, Likelihood):
            raise TypeError(
                "likelihood must be a gpytorch.likelihoods.Likelihood or None, "
                f"got {type(likelihood).__name__}."
            )
        if outcome_transform is not None and not isinstance(
            outcome_transform, Standardize
        ):
            raise TypeError(
                "outcome_transform must be a skbo.models.transforms.Standardize or "
                f"None, got {type(outcome_transform).__name__}."
            )
        self.model = model
        self.likelihood = likelihood
        self.outcome_transform = outcome_transform
        self.fast_pred_var = bool(fast_pred_var)

    def posterior(
        self, X: Tensor, observation_noise: bool = False
    ) -> GaussianPosterior:
        """Joint posterior over ``X`` from the wrapped model.

        Parameters
        ----------
        X : Tensor of shape (*batch, q, d)
        observation_noise : bool, default=False
            Pass the prediction through the likelihood (for known per-point
            noise, the mean training noise is used at new points).

        Returns
        -------
        GaussianPosterior
            Mean ``(*batch, q)`` and covariance ``(*batch, q, q)``.
        """
        if not isinstance(X, Tensor) or X.dim() < 2:
            raise InputDataError(
                f"X must be a tensor of shape (*batch, q, d), got "
                f"{tuple(X.shape) if isinstance(X, Tensor) else type(X).__name__}."
            )
        self.model.eval()
        if self.likelihood is not None:
            self.likelihood.eval()
        with ExitStack() as stack:
            if self.fast_pred_var:
                stack.enter_context(gpytorch.settings.fast_pred_var())
            mvn = self.model(X)
            if observation_noise:
                mvn = self._add_noise(mvn, X)
        if isinstance(mvn, MultitaskMultivariateNormal) or not isinstance(
            mvn, MultivariateNormal
        ):
            raise UnsupportedError(
                "GPyTorchModel supports single-output models returning a "
                f"MultivariateNormal, got {type(mvn).__name__}."
            )
        mean = mvn.mean
        if mean.shape != X.shape[:-1]:
            raise UnsupportedError(
                f"The wrapped model returned a mean of shape {tuple(mean.shape)} for "
                f"X of shape {tuple(X.shape)}; expected {tuple(X.shape[:-1])}."
            )
        cov = mvn.covariance_matrix
        min_var = gpytorch.settings.min_variance.value(cov.dtype)
        cov = clamp_diagonal(cov, min_var)
        if self.outcome_transform is not None:
            mean = self.outcome_transform.untransform(mean)
            cov = self.outcome_transform.untransform_covariance(cov)
        return GaussianPosterior(mean, cov)

    def _add_noise(self, mvn: MultivariateNormal, X: Tensor) -> MultivariateNormal:
        if self.likelihood is None:
            raise ValueError(
                "observation_noise=True needs a likelihood: pass one to GPyTorchModel."
            )
        if isinstance(self.likelihood, FixedNoiseGaussianLikelihood):
            noise = self.likelihood.noise.mean().expand(X.shape[:-1])
            out = self.likelihood(mvn, X, noise=noise)
        else:
            out = self.likelihood(mvn, X)
        if not isinstance(out, MultivariateNormal):
            raise UnsupportedError(
                "observation_noise=True needs a Gaussian likelihood, got "
                f"{type(self.likelihood).__name__}."
            )
        return out

    def forward(self, X: Tensor) -> Tensor:
        """Posterior mean at ``X`` (so that the wrapper is a callable module).

        Parameters
        ----------
        X : Tensor of shape (*batch, q, d)

        Returns
        -------
        Tensor of shape (*batch, q)
        """
        return self.posterior(X).mean
