r"""Log-space Monte-Carlo expected improvement: qLogEI and qLogNEI.

Notation
--------
``Y``: joint posterior samples at the candidates ``(S, b, q)``; ``f*``: the
incumbent (``best_f``, or per sample the smoothed maximum of the baseline and
pending samples); ``tau_relu``, ``tau_max``: smoothing temperatures.

Following Ament et al. 2023 ("Unexpected Improvements to Expected Improvement
for Bayesian Optimization", arXiv 2310.20708, sec. 4), the Monte-Carlo EI
estimator ``mean_s max_j max(Y_sj - f*, 0)`` is computed in log space with
smooth, non-vanishing approximations of its three non-smooth pieces::

    log_imp = log_fatplus(Y - f*, tau_relu)       # log max(., 0)   (S, b, q)
    per_sample = fatmax(log_imp, dim=q, tau_max)   # log max_j       (S, b)
    value = logmeanexp(per_sample, dim=S)          # log mean_s      (b,)

``fat=False`` uses the exponentially-tailed ``log_softplus`` and
``tau_max * logsumexp(. / tau_max)`` instead. For small temperatures the value
approaches ``log`` of qEI (qNEI) where that is representable, but unlike it
keeps a finite value and an informative gradient everywhere.

qLogNEI with a single baseline point (after pruning), ``q = 1``, no pending
points and a Gaussian posterior has a closed form (``closed_form=True``, the
default): ``D = f(x) - f(x_b)`` is normal with mean ``mu_x - mu_b`` and
variance ``s^2 = var_x + var_b - 2 cov(x, x_b)``, the estimator's limit
``tau_relu -> 0, S -> inf`` is ``E[max(D, 0)] = s h(m / s)`` and its log is
evaluated as LogEI's ``log_h(m / s) + log s``: no Monte-Carlo error, and
(256 samples, n = 50, d = 6) 12 % less time per value-and-gradient call on 10
candidates and 80 % less for the values of a 512-point raw pool.
"""

from __future__ import annotations

import torch
from torch import Tensor

from skbo.acquisition.base import MCAcquisitionFunction, _as_buffer
from skbo.acquisition.monte_carlo import _NoisyImprovementAcquisitionFunction
from skbo.acquisition.utils import (
    fatmax,
    log_fatplus,
    log_h,
    log_softplus,
    logmeanexp,
    smooth_amax,
)
from skbo.models._prediction import JointGaussianPosterior
from skbo.models.base import Model
from skbo.posteriors import GaussianPosterior, Posterior
from skbo.sampling import MCSampler

__all__ = ["qLogExpectedImprovement", "qLogNoisyExpectedImprovement"]


def _check_temperatures(tau_max: float, tau_relu: float) -> tuple[float, float]:
    for name, value in (("tau_max", tau_max), ("tau_relu", tau_relu)):
        if not value > 0:
            raise ValueError(f"{name} must be a positive float, got {value!r}.")
    return float(tau_max), float(tau_relu)


def _log_improvement(diff: Tensor, fat: bool, tau_relu: float) -> Tensor:
    """Smoothed ``log(max(diff, 0))``."""
    return log_fatplus(diff, tau=tau_relu) if fat else log_softplus(diff, tau=tau_relu)


def _smooth_max(x: Tensor, fat: bool, tau: float, keepdim: bool = False) -> Tensor:
    """Smoothed maximum over the last dimension."""
    if fat:
        return fatmax(x, dim=-1, tau=tau, keepdim=keepdim)
    return smooth_amax(x, dim=-1, tau=tau, keepdim=keepdim)


class qLogExpectedImprovement(MCAcquisitionFunction):
    """Log of the Monte-Carlo ``q``-batch expected improvement over ``best_f``.

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
    fat : bool, default=True
        Use the fat-tailed smoothings (polynomial tails; recommended).
    tau_max : float, default=1e-2
        Temperature of the smooth maximum over the ``q`` points (in units of
        log-improvement: it overestimates by at most ``tau_max * log(q)``).
    tau_relu : float, default=1e-6
        Temperature of the smooth ``max(., 0)`` (in units of the objective).

    Examples
    --------
    >>> import torch
    >>> from skbo.sampling import SobolQMCNormalSampler
    >>> from skbo.utils.testing import MockModel, MockPosterior
    >>> post = MockPosterior(torch.zeros(1, 1, dtype=torch.float64),
    ...                      variance=torch.ones(1, 1, dtype=torch.float64))
    >>> acqf = qLogExpectedImprovement(MockModel(post), best_f=0.0,
    ...                                sampler=SobolQMCNormalSampler(4096, seed=0))
    >>> round(acqf(torch.rand(1, 2, dtype=torch.float64)).exp().item(), 3)
    0.399
    """

    best_f: Tensor

    def __init__(
        self,
        model: Model,
        best_f: float | Tensor,
        sampler: MCSampler | None = None,
        X_pending: Tensor | None = None,
        fat: bool = True,
        tau_max: float = 1e-2,
        tau_relu: float = 1e-6,
    ) -> None:
        super().__init__(model, sampler=sampler, X_pending=X_pending)
        self.register_buffer("best_f", _as_buffer(best_f, "best_f"))
        self.fat = bool(fat)
        self.tau_max, self.tau_relu = _check_temperatures(tau_max, tau_relu)

    def _sample_forward(self, samples: Tensor) -> Tensor:
        diff = samples - self.best_f.to(samples).unsqueeze(-1)
        return _log_improvement(diff, self.fat, self.tau_relu)

    def _reduce_q(self, values: Tensor) -> Tensor:
        return _smooth_max(values, self.fat, self.tau_max)

    def _reduce_samples(self, values: Tensor) -> Tensor:
        return logmeanexp(values, dim=0)


class qLogNoisyExpectedImprovement(_NoisyImprovementAcquisitionFunction):
    """Log of the Monte-Carlo ``q``-batch noisy expected improvement.

    skbo's default acquisition function. Per joint sample, the incumbent is
    the smoothed maximum (temperature ``tau_max``) of the samples at the
    baseline and pending points, drawn jointly with the candidates through
    ``model.joint_posterior``; no noisy ``best_f`` is needed.

    Parameters
    ----------
    model : Model
        The surrogate.
    X_baseline : Tensor of shape (n, d)
        Points observed so far.
    sampler : MCSampler or None, default=None
        Base samples (default: 256 scrambled Sobol samples).
    X_pending : Tensor of shape (m, d) or None, default=None
        Pending points; they join the incumbents, so ``X`` is valued by its
        improvement over the baseline and the pending points.
    prune_baseline : bool, default=True
        Keep only the baseline points that could be the best (see
        :func:`~skbo.acquisition.monte_carlo.prune_inferior_points`).
    fat : bool, default=True
        Use the fat-tailed smoothings (recommended).
    tau_max : float, default=1e-2
        Temperature of the smooth maxima (over the ``q`` candidates, in
        log-improvement units; over the incumbents, in objective units).
    tau_relu : float, default=1e-6
        Temperature of the smooth ``max(., 0)``.
    closed_form : bool, default=True
        With one baseline point (after pruning), ``q = 1``, no pending points
        and a Gaussian posterior, evaluate the exact log expected improvement
        over that point instead of its Monte-Carlo estimate (see the module
        notes); ``False`` always samples (as BoTorch does).

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
    >>> acqf = qLogNoisyExpectedImprovement(model, X_baseline=X)
    >>> values = acqf(torch.tensor([[[0.8]], [[0.95]]], dtype=torch.float64))
    >>> bool(values[1] > values[0])  # at the incumbent there is little to gain
    True
    """

    def __init__(
        self,
        model: Model,
        X_baseline: Tensor,
        sampler: MCSampler | None = None,
        X_pending: Tensor | None = None,
        prune_baseline: bool = True,
        fat: bool = True,
        tau_max: float = 1e-2,
        tau_relu: float = 1e-6,
        closed_form: bool = True,
    ) -> None:
        super().__init__(model, sampler=sampler, X_pending=X_pending)
        self.fat = bool(fat)
        self.tau_max, self.tau_relu = _check_temperatures(tau_max, tau_relu)
        self.closed_form = bool(closed_form)
        self._set_baseline(X_baseline, prune_baseline)

    def _closed_form_applies(self) -> bool:
        """One baseline point, no pending points and ``closed_form`` (q aside)."""
        return (
            self.closed_form
            and self.X_baseline.shape[0] == 1
            and self.X_pending is None
        )

    @property
    def samples_single_points(self) -> bool:
        """``False`` while the closed form applies (one baseline point, no pending)."""
        return not self._closed_form_applies()

    def _evaluate(self, posterior: Posterior) -> Tensor:
        moments = self._difference_moments(posterior)
        if moments is None:
            return super()._evaluate(posterior)
        from skbo.acquisition._fused import _floor  # analytic LogEI's floor

        mean, var = moments
        sigma = var.clamp_min(_floor(var)).sqrt()
        return log_h(mean / sigma) + torch.log(sigma)

    def _difference_moments(self, posterior: Posterior) -> tuple[Tensor, Tensor] | None:
        """Mean and variance ``(b,)`` of ``f(x) - f(x_b)``, or None (sample)."""
        if not self._closed_form_applies() or posterior.q != 2:
            return None
        if isinstance(posterior, JointGaussianPosterior):
            return posterior.difference_moments()
        if isinstance(posterior, GaussianPosterior):
            m, C = posterior.mean, posterior.covariance
            var = C[..., 1, 1] + C[..., 0, 0] - 2.0 * C[..., 1, 0]
            return m[..., 1] - m[..., 0], var
        return None

    def _best(self, Y_inc: Tensor) -> Tensor:
        # NOTE: a smooth incumbent keeps the value differentiable in the
        # baseline samples (which depend on X through the joint posterior);
        # it overestimates max(Y_inc) by at most tau_max * log(n_b + m).
        return _smooth_max(Y_inc, self.fat, self.tau_max, keepdim=True)

    def _improvement(self, diff: Tensor) -> Tensor:
        return _log_improvement(diff, self.fat, self.tau_relu)

    def _reduce_q(self, values: Tensor) -> Tensor:
        return _smooth_max(values, self.fat, self.tau_max)

    def _reduce_samples(self, values: Tensor) -> Tensor:
        return logmeanexp(values, dim=0)

    def _value_without_grad(self, X: Tensor) -> Tensor | None:
        from skbo.acquisition._fused import fused_qlognei_value

        return fused_qlognei_value(self, X)

    def value_and_grad(self, X: Tensor) -> tuple[Tensor, Tensor] | None:
        """Values and gradients at ``X (b, 1, d)`` without autograd, if possible.

        Used by the acquisition optimizer; available for single points without
        pending points on skbo's own GP with the fused single-point posterior
        (otherwise ``None``: use autograd).

        Parameters
        ----------
        X : Tensor of shape (b, 1, d)
            Candidates.

        Returns
        -------
        (values, grad) : Tensors of shapes (b,) and (b, 1, d), or None
        """
        from skbo.acquisition._fused import fused_qlognei_value_and_grad

        return fused_qlognei_value_and_grad(self, X)
