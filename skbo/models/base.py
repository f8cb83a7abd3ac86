"""The model interface: what an acquisition function needs from a surrogate.

A model is any :class:`torch.nn.Module` that maps a batch of points in the
unit cube to a :class:`~skbo.posteriors.Posterior`. That is the whole
contract; a researcher plugs in a GPyTorch model, a deep kernel or anything
else by writing :meth:`Model.posterior`. skbo models *maximize*-agnostic: they
model whatever the caller gives them (the ask/tell layer negates losses so
that acquisition functions always maximize).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import Tensor

from skbo.posteriors import Posterior

__all__ = ["Model"]


class Model(torch.nn.Module, ABC):
    """Abstract surrogate model with one output.

    Subclasses implement :meth:`posterior`. They may override
    :meth:`joint_posterior` with a faster path that reuses computations for a
    fixed set of baseline points (used by noisy expected improvement).

    Examples
    --------
    >>> import torch
    >>> from skbo.posteriors import GaussianPosterior
    >>> class Flat(Model):
    ...     def posterior(self, X, observation_noise=False):
    ...         mean = torch.zeros(X.shape[:-1], dtype=X.dtype)
    ...         cov = torch.eye(X.shape[-2], dtype=X.dtype).expand(*X.shape[:-1], -1)
    ...         return GaussianPosterior(mean, cov)
    >>> Flat().posterior(torch.rand(4, 2, 3)).mean.shape
    torch.Size([4, 2])
    """

    num_outputs: int = 1

    @abstractmethod
    def posterior(self, X: Tensor, observation_noise: bool = False) -> Posterior:
        """Joint posterior over the points ``X``.

        Parameters
        ----------
        X : Tensor of shape (*batch, q, d)
            Points in the unit cube.
        observation_noise : bool, default=False
            Whether to add the observation noise to the covariance (predictive
            distribution of new observations rather than of the latent function).

        Returns
        -------
        Posterior
            With mean and variance of shape ``(*batch, q)``.
        """

    def joint_posterior(self, X_baseline: Tensor, X: Tensor) -> Posterior:
        """Joint posterior over ``X_baseline`` (the same for every t-batch) and ``X``.

        Parameters
        ----------
        X_baseline : Tensor of shape (n_b, d)
            Baseline points, shared by all t-batches.
        X : Tensor of shape (*batch, q, d)
            Candidate points.

        Returns
        -------
        Posterior
            Over ``n_b + q`` points per t-batch, baseline first.
        """
        batch = X.shape[:-2]
        Xb = X_baseline.expand(*batch, *X_baseline.shape)
        return self.posterior(torch.cat([Xb, X], dim=-2))
