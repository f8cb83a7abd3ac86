r"""Exact GP prediction from a cached factorization of the training covariance.

Notation
--------
``Z (n, d)``: training inputs; ``y (n,)``: standardized targets; ``m(.)``: prior
mean; ``k(., .)``: kernel; ``K = k(Z, Z) + diag(noise)``, ``K = L L^T``;
``alpha = K^{-1} (y - m(Z))``; ``X (*batch, q, d)``: query points;
``V = k(X, Z) L^{-T}`` so that ``V V^T = k(X, Z) K^{-1} k(Z, X)``;
``mu``, ``sigma``: outcome standardization (results are in original units).

Posterior (standardized): mean ``m(X) + k(X, Z) alpha``, covariance
``k(X, X) - V V^T``. For a fixed baseline ``B (n_b, d)`` shared by all
t-batches, ``V_B`` and the baseline block are computed once, and each call adds
only ``k(X, B) - V V_B^T``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import cast

import torch
from gpytorch.constraints import Interval
from gpytorch.kernels import ProductKernel, ScaleKernel
from gpytorch.means import ConstantMean
from gpytorch.priors import Prior
from torch import Tensor

from skbo.models._fused import point_moments
from skbo.models.kernels import (
    CategoricalKernel,
    Matern52Kernel,
    RBFKernel,
    cross_kernel,
    kernel_diagonal,
    kernel_matrix,
)
from skbo.posteriors import GaussianPosterior, psd_safe_cholesky

__all__ = ["BaselineBlock", "ExactPredictor", "JointGaussianPosterior"]


def prior_mean(mean_module: torch.nn.Module, X: Tensor) -> Tensor:
    """``mean_module(X)``, shape ``X.shape[:-1]``, with a shortcut for constants.

    NOTE: ``gpytorch``'s ``ConstantMean.forward`` calls
    ``torch.broadcast_shapes``, whose first call imports SymPy (0.3-1 s,
    torch 2.13): paid on a search's first model-based suggestion. Expanding
    the constant gives the same tensor (and gradient) without it.
    """
    if type(mean_module) is ConstantMean:
        constant = cast(Tensor, mean_module.constant)
        if constant.dim() == 0:
            return constant.expand(X.shape[:-1])
    out: Tensor = mean_module(X)
    return out


def clamp_diagonal(cov: Tensor, min_var: float) -> Tensor:
    """Raise the diagonal of ``cov (..., q, q)`` to at least ``min_var``."""
    if cov.shape[-1] == 1:
        return cov.clamp_min(min_var)
    diag = cov.diagonal(dim1=-2, dim2=-1)
    return cov + torch.diag_embed(diag.clamp_min(min_var) - diag)


def _cholesky_or_sqrt(cov: Tensor, min_var: float) -> Tensor:
    if cov.shape[-1] == 1:
        # NOTE: sqrt(clamp(v, 0)) has an infinite derivative at 0 (NaN gradients);
        # flooring at min_var keeps the gradient finite.
        return cov.clamp_min(min_var).sqrt()
    # NOTE: the candidates' block is singular whenever two of the q points
    # coincide, which the acquisition optimizer's iterates do routinely (a
    # q-batch collapsing onto one point); the jitter is expected there.
    return psd_safe_cholesky(clamp_diagonal(cov, min_var), warn=False)


class BaselineBlock:
    """Posterior of the baseline points ``B``, shared by every t-batch.

    Parameters
    ----------
    X : Tensor of shape (n_b, d)
    mean : Tensor of shape (n_b,)
        Posterior mean, original units.
    covariance : Tensor of shape (n_b, n_b)
        Posterior covariance, original units.
    V : Tensor of shape (n_b, n)
        ``k(B, Z) L^{-T}``.
    """

    def __init__(self, X: Tensor, mean: Tensor, covariance: Tensor, V: Tensor) -> None:
        self.X = X
        self.version = X._version
        self.mean = mean
        self.covariance = covariance
        self.V = V
        self._scale_tril: Tensor | None = None
        self._samples: tuple[Tensor, int, Tensor] | None = None
        self.cross: Callable[[Tensor], Tensor] | None = None

    def samples(self, base_samples: Tensor) -> Tensor:
        """Baseline samples ``(S, n_b)`` from the first ``n_b`` base-sample columns.

        They do not depend on the new points, so they are computed once per
        ``base_samples`` tensor (samplers hand out the same cached tensor).

        Parameters
        ----------
        base_samples : Tensor of shape (S, n_b + q)

        Returns
        -------
        samples : Tensor of shape (S, n_b)
        """
        cached = self._samples
        if (
            cached is not None
            and cached[0] is base_samples
            and cached[1] == base_samples._version
        ):
            return cached[2]
        nb = self.mean.shape[-1]
        zb = base_samples[:, :nb].to(self.mean)
        fb = torch.addmm(self.mean, zb, self.scale_tril.mT)
        self._samples = (base_samples, base_samples._version, fb)
        return fb

    @property
    def scale_tril(self) -> Tensor:
        """Cholesky factor of the baseline covariance (computed once, with jitter)."""
        if self._scale_tril is None:
            self._scale_tril = psd_safe_cholesky(self.covariance)
        return self._scale_tril

    def matches(self, X: Tensor) -> bool:
        """Whether ``X`` is the (unmodified) tensor this block was computed for."""
        return X is self.X and X._version == self.version


class JointGaussianPosterior(GaussianPosterior):
    """Gaussian posterior over ``n_b`` shared baseline points followed by ``q`` points.

    Stored by blocks: the baseline block (shared, not copied per t-batch), the
    cross-covariance and the new points' covariance. ``mean``, ``variance``,
    ``covariance`` and ``scale_tril`` are those of the joint ``(n_b + q)``-point
    Gaussian; :meth:`rsample_from_base_samples` uses the block Cholesky factor,
    so drawing samples costs ``O(q n_b)`` per t-batch and sample.

    Parameters
    ----------
    baseline : BaselineBlock
    mean : Tensor of shape (*batch, q)
    cross_covariance : Tensor of shape (*batch, q, n_b)
        ``Cov(f(X), f(B))``.
    covariance : Tensor of shape (*batch, q, q)
    min_variance : float
        Floor of the conditional variances in the block factorization.
    """

    # NOTE: GaussianPosterior.__init__ is not called on purpose: it would need the
    # dense (*batch, n_b + q, n_b + q) covariance. Every public member is overridden.
    def __init__(
        self,
        baseline: BaselineBlock,
        mean: Tensor,
        cross_covariance: Tensor,
        covariance: Tensor,
        min_variance: float,
    ) -> None:
        self._baseline = baseline
        self._mean_x = mean
        self._cov_xb = cross_covariance
        self._cov_xx = covariance
        self._min_variance = min_variance
        self._batch = mean.shape[:-1]
        self._joint_mean: Tensor | None = None
        self._joint_cov: Tensor | None = None
        self._factors: tuple[Tensor, Tensor] | None = None

    def _expand_baseline(self, t: Tensor) -> Tensor:
        return t.expand(*self._batch, *t.shape)

    # NOTE: overridden so that the Monte-Carlo template, which reads them on
    # every call, does not materialize the joint mean.
    @property
    def q(self) -> int:
        """Number of jointly distributed points, ``n_b + q``."""
        return int(self._baseline.mean.shape[-1] + self._mean_x.shape[-1])

    @property
    def device(self) -> torch.device:
        """Device of the posterior's tensors."""
        return self._mean_x.device

    @property
    def dtype(self) -> torch.dtype:
        """Floating-point type of the posterior's tensors."""
        return self._mean_x.dtype

    @property
    def baseline(self) -> BaselineBlock:
        """The shared baseline block."""
        return self._baseline

    @property
    def mean(self) -> Tensor:
        """Posterior mean, shape ``(*batch, n_b + q)`` (baseline first)."""
        if self._joint_mean is None:
            mb = self._expand_baseline(self._baseline.mean)
            self._joint_mean = torch.cat([mb, self._mean_x], dim=-1)
        return self._joint_mean

    @property
    def variance(self) -> Tensor:
        """Posterior marginal variances, shape ``(*batch, n_b + q)``."""
        vb = self._baseline.covariance.diagonal()
        vx = self._cov_xx.diagonal(dim1=-2, dim2=-1)
        return torch.cat([self._expand_baseline(vb), vx], dim=-1)

    @property
    def covariance(self) -> Tensor:
        """Joint covariance, shape ``(*batch, n_b + q, n_b + q)`` (materialized)."""
        if self._joint_cov is None:
            top = torch.cat(
                [self._expand_baseline(self._baseline.covariance), self._cov_xb.mT],
                dim=-1,
            )
            bottom = torch.cat([self._cov_xb, self._cov_xx], dim=-1)
            self._joint_cov = torch.cat([top, bottom], dim=-2)
        return self._joint_cov

    def _block_factors(self) -> tuple[Tensor, Tensor]:
        """``L_xb = C_xb L_bb^{-T}`` and ``L_xx = chol(C_xx - L_xb L_xb^T)``."""
        if self._factors is None:
            Lbb = self._baseline.scale_tril
            nb = Lbb.shape[-1]
            cxb = self._cov_xb.reshape(-1, nb)
            Lxb = torch.linalg.solve_triangular(Lbb.mT, cxb, upper=True, left=False)
            Lxb = Lxb.reshape(self._cov_xb.shape)
            if Lxb.shape[-2] == 1:
                schur = self._cov_xx - Lxb.square().sum(-1, keepdim=True)
            else:
                schur = self._cov_xx - Lxb @ Lxb.mT
            self._factors = (Lxb, _cholesky_or_sqrt(schur, self._min_variance))
        return self._factors

    def difference_moments(self) -> tuple[Tensor, Tensor]:
        """Mean and variance ``(*batch,)`` of ``f(x) - f(x_b)``, one ``x`` and ``x_b``.

        From the block factors (the same floors as the samples): for
        ``n_b = q = 1`` the samples are ``f(x) - f(x_b) = mu_x - mu_b +
        (L_xb - L_bb) e_b + L_xx e_x``.

        Returns
        -------
        (mean, variance) : Tensors of shape (*batch,)
        """
        if self._baseline.mean.shape[-1] != 1 or self._mean_x.shape[-1] != 1:
            raise ValueError("difference_moments needs one baseline and one new point.")
        Lxb, Lxx = self._block_factors()
        gap = Lxb[..., 0, 0] - self._baseline.scale_tril.reshape(())
        var = gap.square() + Lxx[..., 0, 0].square()
        return self._mean_x[..., 0] - self._baseline.mean.reshape(()), var

    @property
    def scale_tril(self) -> Tensor:
        """Lower Cholesky factor of the joint covariance (materialized)."""
        Lxb, Lxx = self._block_factors()
        Lbb = self._expand_baseline(self._baseline.scale_tril)
        zeros = Lbb.new_zeros(*self._batch, Lbb.shape[-1], Lxx.shape[-1])
        top = torch.cat([Lbb, zeros], dim=-1)
        return torch.cat([top, torch.cat([Lxb, Lxx], dim=-1)], dim=-2)

    def _check_base(self, base_samples: Tensor) -> None:
        nb = self._baseline.mean.shape[-1]
        q = self._mean_x.shape[-1]
        if base_samples.dim() != 2 or base_samples.shape[-1] != nb + q:
            raise ValueError(
                f"base_samples must have shape (S, {nb + q}), "
                f"got {tuple(base_samples.shape)}."
            )

    def rsample_new_from_base_samples(self, base_samples: Tensor) -> Tensor:
        """Samples ``(S, *batch, q)`` at the new points only (baseline left out).

        Equal to the last ``q`` columns of :meth:`rsample_from_base_samples`;
        the baseline samples are :meth:`BaselineBlock.samples`.

        Parameters
        ----------
        base_samples : Tensor of shape (S, n_b + q)

        Returns
        -------
        samples : Tensor of shape (S, *batch, q)
        """
        self._check_base(base_samples)
        nb = self._baseline.mean.shape[-1]
        z = base_samples.to(self._mean_x)
        zb, zx = z[:, :nb], z[:, nb:]
        Lxb, Lxx = self._block_factors()
        if Lxx.shape[-1] == 1:
            # q = 1: Lxx is (*batch, 1, 1); one fused multiply-add, no matmul.
            fx = torch.addcmul(Lxb @ zb.mT, Lxx, zx.mT)
        else:
            fx = Lxb @ zb.mT + Lxx @ zx.mT
        return fx.movedim(-1, 0) + self._mean_x  # (S, *batch, q)

    def rsample_from_base_samples(self, base_samples: Tensor) -> Tensor:
        """Joint samples ``(S, *batch, n_b + q)`` from ``(S, n_b + q)`` normal draws.

        Parameters
        ----------
        base_samples : Tensor of shape (S, n_b + q)

        Returns
        -------
        samples : Tensor of shape (S, *batch, n_b + q)
        """
        fx = self.rsample_new_from_base_samples(base_samples)
        fb = self._baseline.samples(base_samples)  # (S, n_b)
        S, nb = fb.shape
        fb = fb.reshape(S, *([1] * len(self._batch)), nb).expand(S, *self._batch, nb)
        return torch.cat([fb, fx], dim=-1)


def _frozen_copy(module: torch.nn.Module) -> torch.nn.Module:
    # NOTE: priors and constraints are shared, not copied: the copy only
    # evaluates (constraints map raw values, read-only; priors are unused), and
    # copying them was 3/4 of the time (0.62 -> 0.16 ms for a Matern kernel).
    memo: dict[int, object] = {
        id(sub): sub for sub in module.modules() if isinstance(sub, (Prior, Interval))
    }
    frozen = copy.deepcopy(module, memo)
    for p in frozen.parameters():
        p.requires_grad_(False)
    return frozen


class _PointPath:
    """Constants of :func:`point_moments` for one fitted GP (see ``ExactPredictor``)."""

    def __init__(self, constant: Tensor) -> None:
        self.constant = constant
        self.matern = True
        self.cont_cols: Tensor | None = None
        self.shift: Tensor | None = None
        self.inv: Tensor | None = None
        self.zt: Tensor | None = None
        self.cat_cols: Tensor | None = None
        self.ct: Tensor | None = None
        self.w: Tensor | None = None
        self.total: Tensor | None = None
        self.scale: Tensor | None = None  # output scale (a ScaleKernel's)

    def inputs(self, X: Tensor) -> tuple[Tensor | None, Tensor | None]:
        """Scaled continuous columns ``z`` and one-hot columns ``c`` of ``X (b, d)``."""
        z = c = None
        if self.zt is not None:
            assert self.shift is not None and self.inv is not None
            Xc = X if self.cont_cols is None else X.index_select(-1, self.cont_cols)
            z = (Xc - self.shift) * self.inv
        if self.cat_cols is not None:
            c = X.index_select(-1, self.cat_cols)
        return z, c

    def moments(self, X: Tensor, L: Tensor, alpha: Tensor) -> tuple[Tensor, Tensor]:
        """Standardized mean (prior mean included) and variance at ``X (b, d)``."""
        z, c = self.inputs(X)
        categorical = None
        if c is not None:
            assert self.ct is not None and self.w is not None
            assert self.total is not None
            categorical = (c, self.ct, self.w, self.total)
        mean, var = point_moments(
            z, self.zt, L, alpha, self.matern, categorical, self.scale
        )
        return mean + self.constant, var


class ExactPredictor:
    """Posterior moments of an exact GP, from a factorization computed once.

    All returned moments are in original units (``mu + sigma * f``).

    The mean and kernel modules are copied with their parameters frozen, so
    predictions are differentiable in ``X`` only (the hyperparameters are
    constants), and later changes to the model cannot make the cache stale
    silently (the model compares its parameters with the frozen ones).

    Parameters
    ----------
    mean_module : torch.nn.Module
        Prior mean, ``(..., q, d) -> (..., q)``.
    covar_module : gpytorch.kernels.Kernel
    train_X : Tensor of shape (n, d)
    train_y : Tensor of shape (n,)
        Standardized targets.
    noise : Tensor of shape (n,) or (1,)
        Observation noise variances (standardized units).
    y_mean, y_std : Tensor (0-dim)
        Outcome standardization.
    min_variance : float
        Floor of posterior variances (standardized units).
    """

    def __init__(
        self,
        mean_module: torch.nn.Module,
        covar_module: torch.nn.Module,
        train_X: Tensor,
        train_y: Tensor,
        noise: Tensor,
        y_mean: Tensor,
        y_std: Tensor,
        min_variance: float,
    ) -> None:
        self.mean_module = _frozen_copy(mean_module)
        self.covar_module = _frozen_copy(covar_module)
        self.train_X = train_X
        self.y_mean = y_mean.detach()
        self.y_std = y_std.detach()
        self.y_var = self.y_std.square()
        self.min_variance = min_variance
        self.min_variance_orig = min_variance * float(self.y_std.square())
        self.noise = noise.detach()
        self.train_y = train_y.detach()
        with torch.no_grad():
            K = kernel_matrix(self.covar_module, train_X, train_X).clone()
            K.diagonal().add_(noise.detach())
            self.L = psd_safe_cholesky(K)
            resid = (train_y - prior_mean(self.mean_module, train_X)).unsqueeze(-1)
            self.alpha = torch.cholesky_solve(resid, self.L).squeeze(-1)
        self.baseline: BaselineBlock | None = None
        self._point = self._point_setup()

    def _point_setup(self) -> _PointPath | None:
        """Constants of the fused q = 1 path, or None when it does not apply."""
        kernel, X = self.covar_module, self.train_X
        if not (
            isinstance(self.mean_module, ConstantMean)
            and X.dim() == 2
            and self.L.dim() == 2
        ):
            return None
        scale = None
        if type(kernel) is ScaleKernel:
            if kernel.active_dims is not None or kernel.outputscale.dim() != 0:
                return None
            scale = kernel.outputscale.detach()
            kernel = kernel.base_kernel
        parts: list[torch.nn.Module] = (
            list(cast(torch.nn.ModuleList, kernel.kernels))
            if type(kernel) is ProductKernel
            else [kernel]
        )
        if type(kernel) is ProductKernel and kernel.active_dims is not None:
            return None
        path = _PointPath(self.mean_module.constant.detach().reshape(()))
        path.scale = scale
        with torch.no_grad():
            for part in parts:
                if isinstance(part, (Matern52Kernel, RBFKernel)) and path.zt is None:
                    ls = part.lengthscale.detach()
                    cols = part.active_dims
                    Xc = X if cols is None else X.index_select(-1, cols)
                    if ls.shape != (1, Xc.shape[-1]):
                        return None
                    path.matern = isinstance(part, Matern52Kernel)
                    path.cont_cols = cols
                    path.shift = Xc.mean(0)
                    root = math.sqrt(5.0) if path.matern else math.sqrt(0.5)
                    path.inv = (root / ls).reshape(-1)
                    path.zt = (Xc - path.shift) * path.inv
                elif isinstance(part, CategoricalKernel) and path.ct is None:
                    w, total = part._weights()
                    path.cat_cols = part.active_dims
                    path.ct = X.index_select(-1, part.active_dims)
                    path.w, path.total = w.detach(), total.detach()
                else:
                    return None
        return path

    def training_bounds(self) -> tuple[Tensor, Tensor]:
        """Posterior means at the training inputs and bounds of their deviations.

        ``mean = y - noise * alpha`` exactly (``k(Z, Z) alpha = y - c - noise
        alpha``), in O(n); the posterior covariance there, ``(K^-1 +
        N^-1)^-1``, is below ``N = diag(noise)`` in the PSD order, so
        ``sqrt(noise)`` bounds every standard deviation. Original units.
        """
        mean = self.train_y - self.noise * self.alpha
        var = self.noise.clamp_min(self.min_variance).expand_as(mean)
        return mean * self.y_std + self.y_mean, var.sqrt() * self.y_std

    def _cross(self, X: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Standardized mean ``(..., q)``, ``k(X, Z)`` and ``V (..., q, n)``."""
        Kxz = kernel_matrix(self.covar_module, X, self.train_X)
        n = Kxz.shape[-1]
        # NOTE: a left solve on the transposed right-hand side was the fastest
        # variant measured (1 thread, n = 50..1000, 10..512 points, with backward).
        V = torch.linalg.solve_triangular(self.L, Kxz.reshape(-1, n).mT, upper=False)
        V = V.mT.reshape(Kxz.shape)
        mean = prior_mean(self.mean_module, X) + Kxz @ self.alpha
        return mean, Kxz, V

    def moments(self, X: Tensor, noise: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Posterior mean ``(*batch, q)`` and covariance ``(*batch, q, q)`` at ``X``.

        ``noise`` (standardized variances, broadcast over ``q``) is added to the
        diagonal for the predictive distribution of new observations.
        """
        if self._point is not None and X.shape[-2] == 1:
            m, v = self._point.moments(X.reshape(-1, X.shape[-1]), self.L, self.alpha)
            mean = m.reshape(X.shape[:-1])
            cov = v.clamp_min(self.min_variance).reshape(*X.shape[:-1], 1)
        else:
            mean, _, V = self._cross(X)
            cov = kernel_matrix(self.covar_module, X, X) - V @ V.mT
            cov = clamp_diagonal(cov, self.min_variance)
        if noise is not None:
            cov = cov + torch.diag_embed(noise.expand(cov.shape[:-1]))
        return self._untransform(mean, cov)

    def _untransform(self, mean: Tensor, cov: Tensor) -> tuple[Tensor, Tensor]:
        return mean * self.y_std + self.y_mean, cov * self.y_std.square()

    def baseline_block(self, X_baseline: Tensor) -> BaselineBlock:
        """Baseline terms for ``X_baseline (n_b, d)``, cached for the same tensor."""
        if self.baseline is not None and self.baseline.matches(X_baseline):
            return self.baseline
        mean, _, V = self._cross(X_baseline)
        cov = kernel_matrix(self.covar_module, X_baseline, X_baseline) - V @ V.mT
        mean, cov = self._untransform(mean, clamp_diagonal(cov, self.min_variance))
        block = BaselineBlock(X_baseline, mean, cov, V)
        # NOTE: k(X, Z) and k(X, B) in one kernel call per acquisition call,
        # with the scaled [Z; B] prepared once.
        block.cross = cross_kernel(
            self.covar_module, torch.cat([self.train_X, X_baseline.detach()])
        )
        if not X_baseline.requires_grad:
            self.baseline = block
        return block

    def joint(self, block: BaselineBlock, X: Tensor) -> JointGaussianPosterior:
        """Joint posterior over the baseline and ``X (*batch, q, d)``."""
        if block.cross is None or block.X.requires_grad:
            K = torch.cat(
                [
                    kernel_matrix(self.covar_module, X, self.train_X),
                    kernel_matrix(self.covar_module, X, block.X),
                ],
                dim=-1,
            )
        else:
            K = block.cross(X)
        n = self.train_X.shape[0]
        Kxz, Kxb = K[..., :n], K[..., n:]
        V = torch.linalg.solve_triangular(self.L, Kxz.reshape(-1, n).mT, upper=False)
        V = V.mT.reshape(Kxz.shape)
        mean = prior_mean(self.mean_module, X) + Kxz @ self.alpha
        if X.shape[-2] == 1:
            # q = 1: the prior variance and a squared norm, no (q, q) products.
            var = kernel_diagonal(self.covar_module, X) - V.square().sum(-1)
            cov = var.clamp_min(self.min_variance).unsqueeze(-1)
        else:
            cov = kernel_matrix(self.covar_module, X, X) - V @ V.mT
            cov = clamp_diagonal(cov, self.min_variance)
        cross = Kxb - V @ block.V.mT
        mean, cov = self._untransform(mean, cov)
        cross = cross * self.y_std.square()
        return JointGaussianPosterior(block, mean, cross, cov, self.min_variance_orig)
