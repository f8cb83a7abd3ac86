r"""Posterior distributions over a model's outputs at a batch of points.

Notation
--------
``batch``: any leading batch shape (t-batches of an acquisition function);
``q``: points in one joint batch; ``S``: Monte-Carlo samples.

A posterior over ``X`` of shape ``(*batch, q, d)`` has ``mean`` and
``variance`` of shape ``(*batch, q)`` (skbo models have one output, so the
output dimension is dropped). Joint samples are drawn by reparameterization,
``f = mean + L z`` with ``L L^T = Sigma``, from *given* base samples ``z`` of
shape ``(S, q)`` shared by every t-batch, so that a Monte-Carlo acquisition
value is a deterministic, differentiable function of ``X``
(sample-average approximation; Balandat et al. 2020, arXiv 1910.06403).
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod

import torch
from torch import Tensor

from skbo.exceptions import NumericsWarning

__all__ = ["GaussianPosterior", "Posterior", "psd_safe_cholesky"]


def psd_safe_cholesky(A: Tensor, max_tries: int = 4, warn: bool = True) -> Tensor:
    """Cholesky factor of (a batch of) symmetric PSD matrices, adding jitter if needed.

    Jitter starts at ``1e-8`` (float64) or ``1e-6`` (float32) times the mean
    diagonal and grows tenfold per retry; a :class:`~skbo.exceptions.NumericsWarning`
    says how much was added, unless ``warn`` is False.

    Parameters
    ----------
    A : Tensor of shape (*batch, n, n)
        Symmetric positive semi-definite matrices.
    max_tries : int, default=4
        Jitter retries before giving up.
    warn : bool, default=True
        Warn when jitter was needed (callers for which singular matrices are
        routine turn it off).

    Returns
    -------
    L : Tensor of shape (*batch, n, n)
        Lower-triangular factors.

    Raises
    ------
    torch.linalg.LinAlgError
        If the matrix is not PSD even with the largest jitter.

    Examples
    --------
    >>> import torch
    >>> A = torch.tensor([[2.0, 1.0], [1.0, 2.0]], dtype=torch.float64)
    >>> L = psd_safe_cholesky(A)
    >>> bool(torch.allclose(L @ L.T, A))
    True
    """
    L: Tensor
    L, info = torch.linalg.cholesky_ex(A)
    if not bool(info.any()):
        return L
    scale = A.diagonal(dim1=-2, dim2=-1).mean(-1, keepdim=True).clamp_min(1e-12)
    jitter = 1e-8 if A.dtype == torch.float64 else 1e-6
    eye = torch.eye(A.shape[-1], dtype=A.dtype, device=A.device)
    for _ in range(max_tries):
        Aj = A + (jitter * scale).unsqueeze(-1) * eye
        L, info = torch.linalg.cholesky_ex(Aj)
        if not bool(info.any()):
            if warn:
                warnings.warn(
                    f"A covariance matrix was not positive definite; added jitter "
                    f"{jitter:.1e} (relative to its mean diagonal).",
                    NumericsWarning,
                    stacklevel=2,
                )
            return L
        jitter *= 10.0
    raise torch.linalg.LinAlgError(  # type: ignore[attr-defined]
        "Cholesky decomposition failed even after adding jitter "
        f"{jitter / 10:.1e}: the matrix is not positive semi-definite."
    )


class Posterior(ABC):
    """What an acquisition function needs from a model's prediction at ``X``.

    Subclasses give ``mean`` and ``variance`` of shape ``(*batch, q)`` and
    joint samples from fixed base samples.

    Examples
    --------
    >>> import torch
    >>> post = GaussianPosterior(torch.zeros(1, 2), torch.eye(2).unsqueeze(0))
    >>> isinstance(post, Posterior)
    True
    """

    @property
    @abstractmethod
    def mean(self) -> Tensor:
        """Posterior mean, shape ``(*batch, q)``."""

    @property
    @abstractmethod
    def variance(self) -> Tensor:
        """Posterior marginal variances, shape ``(*batch, q)``."""

    @abstractmethod
    def rsample_from_base_samples(self, base_samples: Tensor) -> Tensor:
        """Joint samples ``(S, *batch, q)`` from standard-normal ``(S, q)`` draws."""

    @property
    def device(self) -> torch.device:
        """Device of the posterior's tensors."""
        return self.mean.device

    @property
    def dtype(self) -> torch.dtype:
        """Floating-point type of the posterior's tensors."""
        return self.mean.dtype

    @property
    def q(self) -> int:
        """Number of jointly distributed points."""
        return int(self.mean.shape[-1])


class GaussianPosterior(Posterior):
    """Multivariate normal posterior over ``q`` points for each t-batch.

    Parameters
    ----------
    mean : Tensor of shape (*batch, q)
        Posterior means.
    covariance : Tensor of shape (*batch, q, q)
        Posterior covariance matrices (symmetric PSD).

    Examples
    --------
    >>> import torch
    >>> post = GaussianPosterior(torch.zeros(3, 2), torch.eye(2).expand(3, 2, 2))
    >>> post.rsample_from_base_samples(torch.ones(5, 2)).shape
    torch.Size([5, 3, 2])
    >>> post.variance
    tensor([[1., 1.],
            [1., 1.],
            [1., 1.]])
    """

    def __init__(self, mean: Tensor, covariance: Tensor) -> None:
        if (
            covariance.shape[:-1] != mean.shape
            or covariance.shape[-1] != mean.shape[-1]
        ):
            raise ValueError(
                f"covariance of shape {tuple(covariance.shape)} does not match mean of "
                f"shape {tuple(mean.shape)}; expected {(*mean.shape, mean.shape[-1])}."
            )
        self._mean = mean
        self._covariance = covariance
        self._scale_tril: Tensor | None = None

    @property
    def mean(self) -> Tensor:
        """Posterior mean, shape ``(*batch, q)``."""
        return self._mean

    @property
    def covariance(self) -> Tensor:
        """Posterior covariance, shape ``(*batch, q, q)``."""
        return self._covariance

    @property
    def variance(self) -> Tensor:
        """Posterior marginal variances, shape ``(*batch, q)``."""
        return self._covariance.diagonal(dim1=-2, dim2=-1)

    @property
    def scale_tril(self) -> Tensor:
        """Lower Cholesky factor of the covariance (computed once, with jitter)."""
        if self._scale_tril is None:
            if self.q == 1:
                # A tiny floor keeps sqrt's gradient finite at zero variance.
                tiny = torch.finfo(self._covariance.dtype).tiny
                self._scale_tril = self._covariance.clamp_min(tiny).sqrt()
            else:
                # NOTE: singular whenever two of the q points coincide, which
                # the acquisition optimizer's candidates do routinely (a
                # neighbour equal to a pending point): the jitter is expected.
                self._scale_tril = psd_safe_cholesky(self._covariance, warn=False)
        return self._scale_tril

    def rsample_from_base_samples(self, base_samples: Tensor) -> Tensor:
        """Draw joint samples by reparameterization.

        Parameters
        ----------
        base_samples : Tensor of shape (S, q)
            Standard-normal draws, shared by every t-batch.

        Returns
        -------
        samples : Tensor of shape (S, *batch, q)
        """
        if base_samples.shape[-1] != self.q:
            raise ValueError(
                f"base_samples must have last dimension q={self.q}, "
                f"got shape {tuple(base_samples.shape)}."
            )
        z = base_samples.to(self._mean)
        # (*batch, S, q) = z @ L^T, one batched matmul (no per-sample copy of L),
        # then samples first: (S, *batch, q).
        return self._mean.unsqueeze(0) + (z @ self.scale_tril.mT).movedim(-2, 0)
