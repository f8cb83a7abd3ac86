r"""Test doubles for skbo's core: fixed posteriors and a tiny differentiable GP.

Notation
--------
``batch``: t-batch shape; ``q``: joint points; ``S``: Monte-Carlo samples;
``n``: training points; ``d``: input dimension.

:class:`MockModel` returns a fixed :class:`MockPosterior` whatever the input,
so acquisition functions can be tested against known means, variances and
samples without fitting anything. :class:`ToyGPModel` is an exact GP with a
fixed RBF kernel in plain PyTorch: its posterior depends smoothly on ``X``, so
gradients flow to the candidates (for ``torch.autograd.gradcheck`` and for
optimizer tests), and it needs neither GPyTorch nor a fit.
"""

from __future__ import annotations

import torch
from torch import Tensor

from skbo.models.base import Model
from skbo.posteriors import GaussianPosterior, Posterior

__all__ = ["MockModel", "MockPosterior", "ToyGPModel"]


class MockPosterior(Posterior):
    """A posterior with given mean, (co)variance or samples.

    Samples are, by priority: the given ``samples``; else
    ``mean + L z`` with ``L`` the Cholesky factor of ``covariance``; else
    ``mean + sqrt(variance) z`` (independent points); else ``mean`` itself
    (a deterministic posterior).

    Parameters
    ----------
    mean : Tensor of shape (*batch, q)
        Posterior mean.
    variance : Tensor of shape (*batch, q), optional
        Marginal variances (default: the covariance's diagonal, else zeros).
    covariance : Tensor of shape (*batch, q, q), optional
        Joint covariance.
    samples : Tensor of shape (S, *batch, q) or (*batch, q), optional
        Returned by :meth:`rsample_from_base_samples` (the second form is
        repeated ``S`` times); ``S`` must match the base samples.

    Examples
    --------
    >>> import torch
    >>> post = MockPosterior(torch.zeros(2, 1), variance=torch.full((2, 1), 4.0))
    >>> post.rsample_from_base_samples(torch.ones(3, 1))[:, 0, 0]
    tensor([2., 2., 2.])
    """

    def __init__(
        self,
        mean: Tensor,
        variance: Tensor | None = None,
        covariance: Tensor | None = None,
        samples: Tensor | None = None,
    ) -> None:
        if mean.dim() < 1:
            raise ValueError("mean must have shape (*batch, q), got a 0-dim tensor.")
        for name, value, shape in (
            ("variance", variance, mean.shape),
            ("covariance", covariance, (*mean.shape, mean.shape[-1])),
        ):
            if value is not None and value.shape != shape:
                raise ValueError(
                    f"{name} must have shape {tuple(shape)} to match mean of shape "
                    f"{tuple(mean.shape)}, got {tuple(value.shape)}."
                )
        if samples is not None and samples.shape[-mean.dim() :] != mean.shape:
            raise ValueError(
                f"samples must have shape (S, *{tuple(mean.shape)}) or "
                f"{tuple(mean.shape)}, got {tuple(samples.shape)}."
            )
        self._mean = mean
        self._variance = variance
        self._covariance = covariance
        self._samples = samples

    @property
    def mean(self) -> Tensor:
        """Posterior mean, shape ``(*batch, q)``."""
        return self._mean

    @property
    def variance(self) -> Tensor:
        """Marginal variances, shape ``(*batch, q)``."""
        if self._variance is not None:
            return self._variance
        if self._covariance is not None:
            return self._covariance.diagonal(dim1=-2, dim2=-1)
        return torch.zeros_like(self._mean)

    def rsample_from_base_samples(self, base_samples: Tensor) -> Tensor:
        """Samples of shape ``(S, *batch, q)`` (see the class docstring).

        Parameters
        ----------
        base_samples : Tensor of shape (S, q)
            Standard-normal draws.

        Returns
        -------
        samples : Tensor of shape (S, *batch, q)
        """
        S = base_samples.shape[0]
        if base_samples.shape[-1] != self.q:
            raise ValueError(
                f"base_samples must have shape (S, {self.q}), got "
                f"{tuple(base_samples.shape)}."
            )
        if self._samples is not None:
            if self._samples.dim() == self._mean.dim():
                return self._samples.expand(S, *self._samples.shape)
            if self._samples.shape[0] != S:
                raise ValueError(
                    f"MockPosterior holds {self._samples.shape[0]} samples but "
                    f"{S} were requested."
                )
            return self._samples
        if self._covariance is not None:
            post = GaussianPosterior(self._mean, self._covariance)
            return post.rsample_from_base_samples(base_samples)
        z = base_samples.to(self._mean).reshape(
            S, *([1] * (self._mean.dim() - 1)), self.q
        )
        return self._mean + self.variance.clamp_min(0.0).sqrt() * z


class MockModel(Model):
    """A model whose posterior is fixed, whatever ``X`` is.

    Parameters
    ----------
    posterior : Posterior
        Returned by every call of :meth:`posterior` (and of
        :meth:`~skbo.models.base.Model.joint_posterior`).

    Attributes
    ----------
    last_X : Tensor or None
        The ``X`` of the latest :meth:`posterior` call.

    Examples
    --------
    >>> import torch
    >>> model = MockModel(MockPosterior(torch.ones(4, 1)))
    >>> model.posterior(torch.rand(4, 1, 2)).mean.shape
    torch.Size([4, 1])
    >>> model.last_X.shape
    torch.Size([4, 1, 2])
    """

    def __init__(self, posterior: Posterior) -> None:
        super().__init__()
        self._posterior = posterior
        self.last_X: Tensor | None = None

    def posterior(self, X: Tensor, observation_noise: bool = False) -> Posterior:
        """Return the fixed posterior and remember ``X``.

        Parameters
        ----------
        X : Tensor of shape (*batch, q, d)
            Ignored, except that it is stored as ``last_X``.
        observation_noise : bool, default=False
            Ignored.

        Returns
        -------
        Posterior
            The posterior given at construction.
        """
        self.last_X = X
        return self._posterior


class ToyGPModel(Model):
    """Exact GP regression with a fixed RBF kernel, in plain PyTorch.

    ``k(x, x') = outputscale * exp(-|x - x'|^2 / (2 lengthscale^2))``, zero
    prior mean, Gaussian noise ``noise``. The Cholesky factor of the training
    covariance is computed once; :meth:`posterior` then costs two triangular
    solves. Not fitted: a fixture for tests.

    Parameters
    ----------
    train_X : Tensor of shape (n, d)
        Training inputs.
    train_Y : Tensor of shape (n,)
        Training targets.
    lengthscale : float, default=0.3
        Kernel lengthscale (all dimensions).
    outputscale : float, default=1.0
        Prior variance.
    noise : float, default=1e-4
        Observation noise variance.
    jitter : float, default=1e-6
        Added to the posterior covariance's diagonal, so that duplicated
        candidates keep it numerically positive definite.

    Examples
    --------
    >>> import torch
    >>> X = torch.tensor([[0.0], [1.0]], dtype=torch.float64)
    >>> model = ToyGPModel(X, torch.tensor([0.0, 1.0], dtype=torch.float64))
    >>> post = model.posterior(torch.tensor([[[1.0]]], dtype=torch.float64))
    >>> round(post.mean.item(), 3), post.variance.item() < 1e-3
    (1.0, True)
    """

    train_X: Tensor
    train_Y: Tensor
    _L: Tensor
    _alpha: Tensor

    def __init__(
        self,
        train_X: Tensor,
        train_Y: Tensor,
        lengthscale: float = 0.3,
        outputscale: float = 1.0,
        noise: float = 1e-4,
        jitter: float = 1e-6,
    ) -> None:
        super().__init__()
        if train_X.dim() != 2 or train_Y.shape != train_X.shape[:1]:
            raise ValueError(
                "train_X must have shape (n, d) and train_Y shape (n,), got "
                f"{tuple(train_X.shape)} and {tuple(train_Y.shape)}."
            )
        self.lengthscale = float(lengthscale)
        self.outputscale = float(outputscale)
        self.noise = float(noise)
        self.jitter = float(jitter)
        self.register_buffer("train_X", train_X)
        self.register_buffer("train_Y", train_Y)
        eye = torch.eye(train_X.shape[0], dtype=train_X.dtype, device=train_X.device)
        L = torch.linalg.cholesky(self._kernel(train_X, train_X) + self.noise * eye)
        self.register_buffer("_L", L)
        alpha = torch.cholesky_solve(train_Y.unsqueeze(-1), L)
        self.register_buffer("_alpha", alpha.squeeze(-1))

    def _kernel(self, A: Tensor, B: Tensor) -> Tensor:
        sq = (A.unsqueeze(-2) - B.unsqueeze(-3)).square().sum(-1)
        return self.outputscale * torch.exp(-0.5 * sq / self.lengthscale**2)

    def posterior(self, X: Tensor, observation_noise: bool = False) -> Posterior:
        """Joint Gaussian posterior of the latent function at ``X``.

        Parameters
        ----------
        X : Tensor of shape (*batch, q, d)
            Query points.
        observation_noise : bool, default=False
            Add the noise variance to the covariance's diagonal.

        Returns
        -------
        GaussianPosterior
            Mean ``(*batch, q)``, covariance ``(*batch, q, q)``.
        """
        K_xt = self._kernel(X, self.train_X)  # (*batch, q, n)
        mean = K_xt @ self._alpha
        # (*batch, n, q)
        V = torch.linalg.solve_triangular(self._L, K_xt.transpose(-1, -2), upper=False)
        cov = self._kernel(X, X) - V.transpose(-1, -2) @ V
        extra = self.jitter + (self.noise if observation_noise else 0.0)
        eye = torch.eye(X.shape[-2], dtype=X.dtype, device=X.device)
        return GaussianPosterior(mean, cov + extra * eye)
