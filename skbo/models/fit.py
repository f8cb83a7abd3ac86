r"""MAP fitting of a GP's hyperparameters with L-BFGS-B on the raw parameters.

Notation
--------
``theta``: all trainable raw (unconstrained) hyperparameters, flattened;
``K(theta) = k(Z, Z) + diag(noise)`` ``(n, n)`` with ``K = L L^T``;
``r = y - m(Z)``; ``alpha = K^{-1} r``. The loss is the negative log posterior
per observation,

``loss = [r^T alpha / 2 + sum(log diag L) + n log(2 pi) / 2 - log p(theta)] / n``.

Its gradient uses ``d loss / dK = (K^{-1} - alpha alpha^T) / (2 n)`` and
``d loss / dm = -alpha / n``, chained to ``theta`` by one autograd pass through
the kernel, mean and priors only; the ``O(n^3)`` part (Cholesky and
``K^{-1}``) never enters the autograd graph. For skbo's default model
structures (see :func:`skbo.models._fit_fused.build_fused`) the whole chain is
written out in closed form instead, without autograd or module calls (4-5x
less per evaluation at n = 50; ``_USE_FUSED = False`` or
``_MAPObjective(model, fused=False)`` forces the autograd path).

NOTE: measured per loss-and-gradient evaluation (1 thread, shared 2-core
machine): n = 200: 1.7 ms vs. 2.8 ms, n = 1000, d = 20: 39 ms vs. 124 ms for
``gpytorch``'s ``ExactMarginalLogLikelihood`` with Cholesky forced (by default
``gpytorch`` switches to iterative CG / Lanczos inference above
``max_cholesky_size = 800`` points, which is slower still). Differentiating
through ``cholesky_ex`` with autograd alone costs 97 ms at n = 1000 against
7 ms (Cholesky) + 12 ms (``cholesky_inverse``) here.
"""

from __future__ import annotations

import copy
import math
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import torch
from gpytorch.likelihoods import FixedNoiseGaussianLikelihood
from gpytorch.priors import LogNormalPrior
from torch import Tensor

from skbo.exceptions import NumericsWarning, OptimizationWarning
from skbo.models._fit_fused import FusedMAP, build_fused
from skbo.models._prediction import prior_mean
from skbo.models.gp import SingleTaskGP
from skbo.models.kernels import kernel_matrix
from skbo.utils.lbfgsb import run_lbfgsb
from skbo.utils.threads import limit_threads

__all__ = ["FitResult", "fit_gp", "get_fitted_model"]

_LOG_2PI = math.log(2.0 * math.pi)

#: Use the closed-form loss and gradient of :mod:`skbo.models._fit_fused` for
#: the model structures it knows (tests and benchmarks set it to compare).
_USE_FUSED = True
# Cold fits above _SUBSET_ABOVE points start from a fit on _SUBSET_SIZE of them.
_SUBSET_ABOVE = 400
_SUBSET_SIZE = 256


@dataclass(frozen=True)
class FitResult:
    """Outcome of :func:`fit_gp` (a frozen record; fields are also attributes).

    Parameters
    ----------
    loss : float
        Final negative log posterior per observation (standardized units);
        ``nan`` if no evaluation was finite.
    n_iterations : int
        L-BFGS-B iterations of the accepted run.
    n_evaluations : int
        Loss evaluations on the full data, all runs together.
    converged : bool
        Whether L-BFGS-B reported convergence.
    start : str
        ``"warm_start"``, ``"subset"`` or ``"prior_mode"``: where the accepted run
        started.
    fallback : bool
        True when every run failed and the hyperparameters were set to the
        best finite point evaluated (or left at the start values).
    message : str
        L-BFGS-B's message, or the reason of the fallback.
    fit_time : float
        Wall-clock seconds.

    Examples
    --------
    >>> import torch
    >>> X = torch.rand(10, 2, dtype=torch.float64)
    >>> res = fit_gp(SingleTaskGP(X, X.sum(-1)))
    >>> res.start, res.fallback
    ('prior_mode', False)
    """

    loss: float
    n_iterations: int
    n_evaluations: int
    converged: bool
    start: str
    fallback: bool
    message: str
    fit_time: float


class _NumericalFailure(ArithmeticError):
    """The loss could not be evaluated (Cholesky failure, non-finite values)."""


def _failed(info: Tensor) -> bool:
    # NOTE: info is 0-d for a single matrix: no reduction (one operation, about
    # 3 us at n = 50, less on the fast path).
    return bool(info) if info.dim() == 0 else bool(info.any())


def _cholesky_with_jitter(K: Tensor, max_tries: int = 6) -> Tensor:
    L: Tensor
    L, info = torch.linalg.cholesky_ex(K)
    if not _failed(info):
        return L
    jitter = 1e-8 if K.dtype == torch.float64 else 1e-6
    scale = float(K.diagonal().mean().abs().clamp_min(1e-12))
    for _ in range(max_tries):
        Kj = K.clone()
        Kj.diagonal().add_(jitter * scale)
        L, info = torch.linalg.cholesky_ex(Kj)
        if not _failed(info):
            return L
        jitter *= 10.0
    raise _NumericalFailure("the training covariance is not positive definite")


class _MAPObjective:
    """Loss and gradient of the MAP objective as a function of the raw vector.

    ``fused``: use the closed-form path of :mod:`skbo.models._fit_fused` when
    the model's structure allows it (``None``: as ``_USE_FUSED`` says);
    ``self.fused`` is that evaluator, or ``None`` on the autograd path.
    """

    def __init__(self, model: SingleTaskGP, *, fused: bool | None = None) -> None:
        self.model = model
        self.names: list[str] = []
        self.params: list[torch.nn.Parameter] = []
        for name, p in model.named_parameters():
            if p.requires_grad:
                self.names.append(name)
                self.params.append(p)
        self.priors = [
            (module, prior, closure)
            for _, module, prior, closure, _ in cast(Any, model).named_priors()
        ]
        self.X = model.train_X
        self.y = model.train_targets
        self.n = int(self.y.shape[0])
        self.n_evaluations = 0
        self.best: tuple[float, np.ndarray] | None = None
        use_fused = _USE_FUSED if fused is None else fused
        self.fused: FusedMAP | None = (
            build_fused(model, self.params) if use_fused else None
        )

    def get(self) -> np.ndarray:
        flat = torch.cat([p.detach().reshape(-1) for p in self.params])
        out: np.ndarray = flat.to(device="cpu", dtype=torch.float64).numpy().copy()
        return out

    def set(self, theta: np.ndarray) -> None:
        flat = torch.from_numpy(theta).to(self.X)
        offset = 0
        with torch.no_grad():
            for p in self.params:
                k = p.numel()
                p.copy_(flat[offset : offset + k].view_as(p))
                offset += k

    def load(self, values: Mapping[str, Tensor]) -> None:
        with torch.no_grad():
            for name, p in zip(self.names, self.params, strict=True):
                if name in values:
                    p.copy_(values[name])

    def bounds(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Box bounds ``(lower, upper)`` of the raw parameters (``-inf``/``inf``
        for none; only constraints that are not a transform bound them)."""
        lower: list[float] = []
        upper: list[float] = []
        constraints = {
            name: c
            for name, _, c in cast(Any, self.model).named_parameters_and_constraints()
        }
        for name, p in zip(self.names, self.params, strict=True):
            c = constraints.get(name)
            if c is None or c.enforced:
                lower += [-math.inf] * p.numel()
                upper += [math.inf] * p.numel()
                continue
            lower += torch.as_tensor(c.lower_bound).expand_as(p).reshape(-1).tolist()
            upper += torch.as_tensor(c.upper_bound).expand_as(p).reshape(-1).tolist()
        return np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)

    def _log_prior(self) -> Tensor:
        total = self.X.new_zeros(())
        for module, prior, closure in self.priors:
            value = closure(module)
            if type(prior) is LogNormalPrior:
                # NOTE: closed form; torch.distributions' TransformedDistribution
                # path costs several times more per call.
                loc, scale = prior.loc.to(value), prior.scale.to(value)
                log_value = value.log()
                z = (log_value - loc) / scale
                lp = -log_value - scale.log() - 0.5 * _LOG_2PI - 0.5 * z * z
            else:
                lp = prior.log_prob(value)
            total = total + lp.sum()
        return total

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        self.n_evaluations += 1
        if not np.isfinite(theta).all():
            raise _NumericalFailure("non-finite hyperparameters")
        if self.fused is not None:
            value, grad = self.fused.evaluate(theta, _cholesky_with_jitter)
        else:
            value, flat = self._autograd(theta)
            grad = flat.to(device="cpu", dtype=torch.float64).numpy()
        if not (math.isfinite(value) and np.isfinite(grad).all()):
            raise _NumericalFailure("non-finite loss or gradient")
        if self.best is None or value < self.best[0]:
            self.best = (value, theta.copy())
        return value, grad

    def _autograd(self, theta: np.ndarray) -> tuple[float, Tensor]:
        """Loss and flat gradient with autograd through kernel, mean and priors."""
        self.set(theta)
        model, X, n = self.model, self.X, self.n
        with torch.enable_grad():
            Kf = kernel_matrix(model.covar_module, X, X)
            noise = model.likelihood.noise
            mean = prior_mean(model.mean_module, X)
            with torch.no_grad():
                K = Kf.detach().clone()
                K.diagonal().add_(noise.detach())
                L = _cholesky_with_jitter(K)
                r = (self.y - mean.detach()).unsqueeze(-1)
                G = torch.cholesky_inverse(L)
                alpha = G @ r  # K^{-1} is needed anyway: one product, no solves
                # d loss / dK = (K^{-1} - alpha alpha^T) / (2 n)
                G.addmm_(alpha, alpha.mT, alpha=-1.0).mul_(0.5 / n)
                nll = (
                    0.5 * (r * alpha).sum()
                    + L.diagonal().log().sum()
                    + 0.5 * n * _LOG_2PI
                )
            log_prior = self._log_prior()
            # NOTE: the (n, n) part enters autograd as grad_outputs=G: no extra
            # elementwise pass over K for a surrogate sum(K * G).
            rest = (
                (G.diagonal() * noise).sum()
                - (alpha.squeeze(-1) * mean).sum() / n
                - log_prior / n
            )
            outputs = [t for t in (Kf, rest) if t.requires_grad]
            grad_outputs = [G if t is Kf else torch.ones_like(t) for t in outputs]
            grads = torch.autograd.grad(
                outputs, self.params, grad_outputs=grad_outputs, allow_unused=True
            )
        value = float((nll - log_prior.detach()) / n)
        flat = torch.cat(
            [
                (g if g is not None else torch.zeros_like(p)).reshape(-1)
                for g, p in zip(grads, self.params, strict=True)
            ]
        )
        return value, flat


def _warm_values(model: SingleTaskGP, warm_start: object) -> dict[str, Tensor]:
    if isinstance(warm_start, torch.nn.Module):
        source: Mapping[str, Any] = dict(warm_start.named_parameters())
    elif isinstance(warm_start, Mapping):
        source = warm_start
    else:
        raise TypeError(
            "warm_start must be None, a fitted model or a state dict (mapping of "
            f"parameter names to tensors), got {type(warm_start).__name__}."
        )
    out: dict[str, Tensor] = {}
    for name, p in model.named_parameters():
        value = source.get(name)
        if isinstance(value, Tensor) and value.shape == p.shape:
            out[name] = value.detach()
    return out


def _subset_values(
    model: SingleTaskGP, max_iter: int, ftol: float
) -> dict[str, Tensor]:
    """Hyperparameters fitted on a fixed random subset of the training data.

    NOTE: on n = 1000 (d = 6 / 20) a cold fit took 22 / 25 evaluations of the
    O(n^3) loss; from a 256-point fit, 14 / 23, to the same optimum (loss
    within 1e-5 per observation): 40 % / 20 % less time in all. The subset keeps
    the full data's standardization (its targets are the standardized ones).
    """
    n = model.train_targets.shape[-1]
    if n <= _SUBSET_ABOVE or isinstance(model.likelihood, FixedNoiseGaussianLikelihood):
        return {}
    gen = torch.Generator().manual_seed(0)
    idx = torch.randperm(n, generator=gen)[:_SUBSET_SIZE].to(model.train_X.device)
    sub = copy.deepcopy(model)
    sub.set_train_data(
        model.train_X[idx], model.train_targets[idx].clone(), strict=False
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the full fit reports its own trouble
        fit_gp(sub, max_iter=max_iter, ftol=ftol, n_threads=None)
    return _warm_values(model, sub)


def fit_gp(
    model: SingleTaskGP,
    *,
    warm_start: SingleTaskGP | Mapping[str, Tensor] | None = None,
    max_iter: int = 200,
    ftol: float | None = None,
    n_threads: int | None = 1,
) -> FitResult:
    """Fit a GP's hyperparameters by maximum a posteriori (MAP) estimation.

    Minimizes the negative log marginal likelihood minus the log priors with
    SciPy's L-BFGS-B
    (:func:`skbo.utils.lbfgsb.run_lbfgsb`: the iterates of
    ``scipy.optimize.minimize(method="L-BFGS-B", jac=True)``) over the flattened
    raw parameters, starting from ``warm_start`` (if given) and otherwise from
    the prior mode (for more than 400 observations: from a fit on a random
    subset of 256 of them, which saves 20-40 % of a cold fit). A failed run
    (Cholesky failure even with jitter, non-finite values) is retried from the
    prior mode; if that fails too, the best finite point evaluated is kept with
    an :class:`~skbo.exceptions.OptimizationWarning`.
    Numerical trouble never raises. The model is left in eval mode.

    Parameters
    ----------
    model : SingleTaskGP
        The model to fit, in place.
    warm_start : SingleTaskGP or mapping of str to Tensor, optional
        A previously fitted model or its ``state_dict()``: parameters with the
        same name and shape are the starting point (others start at the prior
        mode).
    max_iter : int, default=200
        Maximum L-BFGS-B iterations per run.
    ftol : float or None, default=None
        L-BFGS-B's relative tolerance on the loss (per observation). ``None``:
        ``1e-4`` from the prior mode (a cold fit), ``1e-6`` from a warm start
        or a subset fit. NOTE: from the prior mode the early steps are large
        and 1e-4 only trims the last ones: on n = 50-200 points (d = 6, 20)
        it took 12-30 % fewer evaluations than 1e-6 and moved the optimum by
        at most 0.04 nats of total log posterior (0.6 % in a lengthscale, 6 %
        in the least determined one). A warm start is already near the
        optimum, where the first steps are small: a loose tolerance would stop
        it before it moves, so warm fits keep 1e-6 (itself 5-25 % fewer
        evaluations than SciPy's 2.2e-9, < 2e-5 per observation apart).
    n_threads : int or None, default=1
        PyTorch intra-op threads during the fit (``None``: leave unchanged).

    Returns
    -------
    FitResult

    Examples
    --------
    >>> import torch
    >>> X = torch.rand(20, 1, dtype=torch.float64)
    >>> model = SingleTaskGP(X, torch.sin(6 * X[:, 0]))
    >>> result = fit_gp(model)
    >>> result.loss < 1.0
    True
    >>> fit_gp(model, warm_start=model).n_iterations <= result.n_iterations
    True
    """
    if not isinstance(model, SingleTaskGP):
        raise TypeError(f"model must be a SingleTaskGP, got {type(model).__name__}.")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}.")
    if ftol is not None and not ftol > 0:
        raise ValueError(f"ftol must be None or a positive float, got {ftol!r}.")
    starts: list[tuple[str, dict[str, Tensor]]] = []
    if warm_start is not None:
        values = _warm_values(model, warm_start)
        if values:
            starts.append(("warm_start", values))
    t0 = time.perf_counter()
    model.train()
    with limit_threads(n_threads):
        if not starts:
            subset = _subset_values(model, max_iter, _tolerance(ftol, "prior_mode"))
            if subset:
                starts.append(("subset", subset))
        starts.append(("prior_mode", model.initial_hyperparameters))
        objective = _MAPObjective(model)
        failures: list[str] = []
        result: FitResult | None = None
        for label, values in starts:
            objective.load(values)
            try:
                lb, ub = objective.bounds()
                res = run_lbfgsb(
                    objective,
                    objective.get(),
                    lb,
                    ub,
                    maxiter=max_iter,
                    ftol=_tolerance(ftol, label),
                    gtol=1e-5,  # SciPy's default
                )
            except (_NumericalFailure, torch.linalg.LinAlgError) as err:  # type: ignore[attr-defined]
                failures.append(f"{label}: {err}")
                continue
            if not (np.isfinite(res.fun) and np.all(np.isfinite(res.x))):
                failures.append(f"{label}: non-finite result")
                continue
            objective.set(res.x)
            result = FitResult(
                loss=float(res.fun),
                n_iterations=int(res.nit),
                n_evaluations=objective.n_evaluations,
                converged=bool(res.success),
                start=label,
                fallback=False,
                message=str(res.message),
                fit_time=0.0,
            )
            break
        if result is None:
            result, category, msg = _fall_back(objective, starts[0], failures)
            warnings.warn(msg, category, stacklevel=2)
    model.eval()
    model.clear_cache()
    return FitResult(**{**result.__dict__, "fit_time": time.perf_counter() - t0})


#: L-BFGS-B's ``ftol`` from the prior mode and from a start near the optimum.
_COLD_FTOL = 1e-4
_WARM_FTOL = 1e-6


def _tolerance(ftol: float | None, start: str) -> float:
    """``ftol``, or the default for a fit from ``start`` (see :func:`fit_gp`)."""
    if ftol is not None:
        return float(ftol)
    return _COLD_FTOL if start == "prior_mode" else _WARM_FTOL


def _fall_back(
    objective: _MAPObjective, start: tuple[str, dict[str, Tensor]], failures: list[str]
) -> tuple[FitResult, type[Warning], str]:
    reason = "; ".join(failures)
    if objective.best is not None:
        loss, theta = objective.best
        objective.set(theta)
        category: type[Warning] = OptimizationWarning
        msg = (
            f"GP hyperparameter fitting failed ({reason}); keeping the best "
            "hyperparameters evaluated."
        )
    else:
        loss = float("nan")
        objective.load(start[1])
        category = NumericsWarning
        msg = (
            f"GP hyperparameter fitting failed ({reason}) and no evaluation was "
            f"finite; using the {start[0].replace('_', ' ')} hyperparameters."
        )
    result = FitResult(
        loss=loss,
        n_iterations=0,
        n_evaluations=objective.n_evaluations,
        converged=False,
        start=start[0],
        fallback=True,
        message=reason,
        fit_time=0.0,
    )
    return result, category, msg


def get_fitted_model(
    train_X: Tensor,
    train_Y: Tensor,
    train_Yvar: Tensor | None = None,
    *,
    warm_start: SingleTaskGP | Mapping[str, Tensor] | None = None,
    max_iter: int = 200,
    n_threads: int | None = 1,
    **model_kwargs: Any,
) -> SingleTaskGP:
    """Build a :class:`SingleTaskGP` and fit it with :func:`fit_gp`.

    Parameters
    ----------
    train_X : Tensor of shape (n, d)
    train_Y : Tensor of shape (n,)
    train_Yvar : Tensor of shape (n,), optional
    warm_start : SingleTaskGP or mapping of str to Tensor, optional
    max_iter : int, default=200
    n_threads : int or None, default=1
    **model_kwargs
        ``categorical_groups``, ``kernel``, ``covar_module``, ``standardize``.

    Returns
    -------
    SingleTaskGP
        Fitted, in eval mode.

    Examples
    --------
    >>> import torch
    >>> X = torch.rand(12, 2, dtype=torch.float64)
    >>> model = get_fitted_model(X, X.sum(-1), kernel="rbf")
    >>> model.posterior(X[:3]).mean.shape
    torch.Size([3])
    """
    model = SingleTaskGP(train_X, train_Y, train_Yvar, **model_kwargs)
    fit_gp(model, warm_start=warm_start, max_iter=max_iter, n_threads=n_threads)
    return model
