r"""Exact single-output GP surrogate with skbo's defaults, on ``gpytorch``'s ExactGP.

Notation
--------
``X (n, d)``: training inputs in the unit cube; ``y (n,)``: outcomes;
``mu``, ``sigma``: their mean and standard deviation; the GP models the
standardized ``(y - mu) / sigma`` as ``f + eps`` with ``f ~ GP(c, k)``
(constant mean ``c``, kernel ``k`` without output scale) and
``eps ~ N(0, noise)``; posteriors are reported back in the units of ``y``.

Defaults (see :mod:`skbo.models.defaults`): ARD Matern-5/2 (or RBF) with a
``LogNormal(max(0, sqrt(2) + log(d) / 2 - 3), 1)`` lengthscale prior (median
1 up to ``d = 24``, then the mode of Hvarfner et al. 2024's prior) and
``lengthscale >= 0.025``; Gaussian noise with a ``LogNormal(-4, 1)`` prior
and ``noise >= 1e-6`` (1e-4 in float32); known per-point noise when
``train_Yvar`` is given. Hyperparameters start at the prior mode.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from gpytorch import settings as gpt_settings
from gpytorch.distributions import MultivariateNormal
from gpytorch.kernels import Kernel
from gpytorch.likelihoods import FixedNoiseGaussianLikelihood, GaussianLikelihood
from gpytorch.means import ConstantMean
from gpytorch.models import ExactGP
from torch import Tensor

from skbo.exceptions import InputDataError
from skbo.models._prediction import ExactPredictor, JointGaussianPosterior
from skbo.models.base import Model
from skbo.models.defaults import (
    default_kernel,
    default_likelihood,
    sync_transformed_priors,
)
from skbo.models.transforms import Standardize
from skbo.posteriors import GaussianPosterior

__all__ = ["SingleTaskGP"]


def _check_tensor(value: object, name: str, ndim: int, n: int | None) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}.")
    if value.dtype not in (torch.float32, torch.float64):
        raise TypeError(
            f"{name} must have dtype float32 or float64, got {value.dtype}."
        )
    if value.dim() != ndim:
        shape = "(n, d)" if ndim == 2 else "(n,)"
        hint = ""
        if ndim == 1 and value.dim() == 2 and value.shape[-1] == 1:
            hint = f" (a single output: pass {name}.squeeze(-1))"
        raise InputDataError(
            f"{name} must have shape {shape}, got {tuple(value.shape)}{hint}."
        )
    if n is not None and value.shape[0] != n:
        raise InputDataError(
            f"{name} has {value.shape[0]} rows but train_X has {n}: they must match."
        )
    if not bool(torch.isfinite(value).all()):
        raise InputDataError(f"{name} contains NaN or infinite values.")
    return value


def _check_groups(groups: object, d: int) -> list[list[int]]:
    if groups is None:
        return []
    msg = (
        "categorical_groups must be a list of non-empty lists of distinct column "
        f"indices in [0, {d}) (one list of one-hot columns per categorical), "
        f"got {groups!r}."
    )
    if not isinstance(groups, Sequence) or isinstance(groups, str):
        raise ValueError(msg)
    out: list[list[int]] = []
    for g in groups:
        if not isinstance(g, Sequence) or isinstance(g, str) or len(g) == 0:
            raise ValueError(msg)
        cols = []
        for c in g:
            if isinstance(c, bool) or not isinstance(c, numbers.Integral):
                raise ValueError(msg)
            if not 0 <= int(c) < d:
                raise ValueError(msg)
            cols.append(int(c))
        out.append(cols)
    flat = [c for g in out for c in g]
    if len(set(flat)) != len(flat):
        raise ValueError(msg)
    return out


class SingleTaskGP(ExactGP, Model):  # type: ignore[misc]
    """Exact GP surrogate for one outcome, with skbo's (BoTorch-style) defaults.

    Parameters
    ----------
    train_X : Tensor of shape (n, d)
        Training inputs in the unit cube (float32 or float64); the model
        follows their dtype and device.
    train_Y : Tensor of shape (n,)
        Training outcomes.
    train_Yvar : Tensor of shape (n,), optional
        Known observation noise variances (original units). If given, the
        noise is fixed to them instead of being inferred.
    categorical_groups : list of list of int, optional
        One list of one-hot column indices per categorical variable. The
        kernel becomes (continuous kernel on the other columns) times a
        :class:`~skbo.models.kernels.CategoricalKernel` on the groups.
    kernel : {"matern52", "rbf"}, default="matern52"
        Continuous kernel of the default covariance.
    covar_module : gpytorch.kernels.Kernel, optional
        Any ``gpytorch`` kernel to use instead of the default one (then
        ``kernel`` and ``categorical_groups`` must be left at their defaults).
    standardize : bool, default=True
        Standardize the outcomes (recommended: the default kernel has no
        output scale).
    mixed_kernel : {"product", "levelwise"}, default="product"
        Default kernel of a space with categorical and continuous columns:
        the product of a continuous and a categorical kernel, or
        (``"levelwise"``) its average with a
        :class:`~skbo.models.kernels.LevelwiseKernel`, one continuous kernel
        per categorical level, for hyperparameters that matter for one level
        only (:class:`~skbo.BayesSearchCV`'s default).
    outputscale : bool, default=False
        Give the default kernel a fitted output scale (``Gamma(2, 1)`` prior);
        see :func:`~skbo.models.defaults.default_kernel`. Through
        :class:`~skbo.Optimizer`: ``model_kwargs={"outputscale": True}``.

    Attributes
    ----------
    mean_module : gpytorch.means.ConstantMean
    covar_module : gpytorch.kernels.Kernel
    likelihood : GaussianLikelihood or FixedNoiseGaussianLikelihood
    outcome_transform : Standardize or None

    Examples
    --------
    >>> import torch
    >>> X = torch.rand(8, 2, dtype=torch.float64)
    >>> model = SingleTaskGP(X, X.sum(-1))
    >>> post = model.posterior(torch.rand(5, 1, 2, dtype=torch.float64))
    >>> post.mean.shape, post.variance.shape
    (torch.Size([5, 1]), torch.Size([5, 1]))
    """

    outcome_transform: Standardize | None
    likelihood: GaussianLikelihood | FixedNoiseGaussianLikelihood
    mean_module: ConstantMean
    covar_module: Kernel
    train_inputs: tuple[Tensor, ...]
    train_targets: Tensor

    def __init__(
        self,
        train_X: Tensor,
        train_Y: Tensor,
        train_Yvar: Tensor | None = None,
        *,
        categorical_groups: Sequence[Sequence[int]] | None = None,
        kernel: str = "matern52",
        covar_module: Kernel | None = None,
        standardize: bool = True,
        mixed_kernel: str = "product",
        outputscale: bool = False,
    ) -> None:
        X = _check_tensor(train_X, "train_X", 2, None)
        n, d = X.shape
        if n == 0 or d == 0:
            raise InputDataError(
                "train_X must have at least one row and one column, "
                f"got shape {(n, d)}."
            )
        Y = _check_tensor(train_Y, "train_Y", 1, n).to(X)
        Yvar = None
        if train_Yvar is not None:
            Yvar = _check_tensor(train_Yvar, "train_Yvar", 1, n).to(X)
            if bool((Yvar < 0).any()):
                raise InputDataError("train_Yvar must be non-negative (variances).")
        groups = _check_groups(categorical_groups, d)
        if kernel not in ("matern52", "rbf"):
            raise ValueError(f"kernel must be 'matern52' or 'rbf', got {kernel!r}.")
        if covar_module is not None:
            if not isinstance(covar_module, Kernel):
                raise TypeError(
                    "covar_module must be a gpytorch.kernels.Kernel, "
                    f"got {type(covar_module).__name__}."
                )
            if groups or outputscale:
                raise ValueError(
                    "Pass either covar_module or categorical_groups / outputscale, "
                    "not both: those only configure the default kernel."
                )
        transform = Standardize(Y) if standardize else None
        Ys, Yvars = transform(Y, Yvar) if transform is not None else (Y, Yvar)
        super().__init__(X, Ys, default_likelihood(Yvars, dtype=Y.dtype))
        self.mean_module = ConstantMean()
        self.covar_module = (
            covar_module
            if covar_module is not None
            else default_kernel(
                d,
                kind=kernel,
                categorical_groups=groups,
                mixed=mixed_kernel,
                outputscale=outputscale,
            )
        )
        self.outcome_transform = transform
        self.categorical_groups = groups
        self.to(device=X.device, dtype=X.dtype)
        self._initial_hypers = {
            k: v.detach().clone() for k, v in self.named_parameters()
        }
        self._predictor: ExactPredictor | None = None
        self._fingerprint: tuple[list[tuple[Tensor, int]], Tensor] | None = None
        self._pinned: ExactPredictor | None = None

    # ------------------------------------------------------------------ gpytorch
    def _apply(self, fn: Any, *args: Any, **kwargs: Any) -> SingleTaskGP:
        super()._apply(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        sync_transformed_priors(self)
        self.clear_cache()
        return self

    def forward(self, x: Tensor) -> MultivariateNormal:
        """Prior of the standardized latent function (``gpytorch`` protocol).

        Parameters
        ----------
        x : Tensor of shape (..., n, d)

        Returns
        -------
        gpytorch.distributions.MultivariateNormal
        """
        return MultivariateNormal(self.mean_module(x), self.covar_module(x))

    # ------------------------------------------------------------------ data
    @property
    def train_X(self) -> Tensor:
        """Training inputs, shape ``(n, d)``."""
        return self.train_inputs[0]

    @property
    def train_Y(self) -> Tensor:
        """Training outcomes in original units, shape ``(n,)``."""
        if self.outcome_transform is None:
            return self.train_targets
        return self.outcome_transform.untransform(self.train_targets)

    @property
    def initial_hyperparameters(self) -> dict[str, Tensor]:
        """Raw hyperparameter values at construction (the prior mode), by name."""
        return {k: v.clone() for k, v in self._initial_hypers.items()}

    def set_train_data(
        self,
        inputs: Tensor | tuple[Tensor, ...] | None = None,
        targets: Tensor | None = None,
        strict: bool = True,
    ) -> None:
        """Replace the training data (``gpytorch`` semantics) and drop caches.

        ``targets`` are in the model's *standardized* units (as ``train_targets``);
        build a new model to change the standardization.

        Parameters
        ----------
        inputs : Tensor of shape (n, d), optional
        targets : Tensor of shape (n,), optional
        strict : bool, default=True
            Require the same shapes, dtypes and devices as before.
        """
        super().set_train_data(inputs=inputs, targets=targets, strict=strict)
        self.clear_cache()

    def train(self, mode: bool = True) -> SingleTaskGP:
        """Set training mode (and drop the prediction caches).

        Parameters
        ----------
        mode : bool, default=True

        Returns
        -------
        SingleTaskGP
            ``self``.
        """
        self.clear_cache()
        super().train(mode)
        return self

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> Any:
        """Load hyperparameters (``torch.nn.Module`` semantics) and drop caches.

        Parameters
        ----------
        state_dict : mapping of str to Tensor
        strict : bool, default=True
        assign : bool, default=False

        Returns
        -------
        NamedTuple with ``missing_keys`` and ``unexpected_keys``.
        """
        result = super().load_state_dict(state_dict, strict=strict, assign=assign)
        self.clear_cache()
        return result

    # ------------------------------------------------------------------ prediction
    def __getstate__(self) -> dict[str, Any]:
        # The prediction cache holds closures (not picklable) and is rebuilt
        # on demand: pickles and deep copies carry only the model itself.
        state = dict(self.__dict__)
        state["_predictor"] = None
        state["_fingerprint"] = None
        state["_pinned"] = None
        return state

    def clear_cache(self) -> None:
        """Drop the cached factorization (recomputed on the next prediction).

        Examples
        --------
        >>> import torch
        >>> X = torch.rand(4, 1, dtype=torch.float64)
        >>> model = SingleTaskGP(X, X[:, 0])
        >>> model.clear_cache()
        """
        self._predictor = None
        self._fingerprint = None
        self._pinned = None

    @contextmanager
    def pinned_predictor(self) -> Iterator[ExactPredictor]:
        """Serve one predictor without re-validating it, inside the block.

        :meth:`predictor` normally compares the training data and every
        hyperparameter with those the cached factorization was built from, on
        each call. Inside this block it returns the predictor current at entry
        at once: for callers that evaluate the model many times while nothing
        changes it (the acquisition optimizer; the check was ~7 % of a fused
        qLogNEI call at n = 50). Do not fit or modify the model inside the
        block (:meth:`clear_cache` ends the pinning).

        Yields
        ------
        ExactPredictor

        Examples
        --------
        >>> import torch
        >>> X = torch.rand(6, 2, dtype=torch.float64)
        >>> model = SingleTaskGP(X, X.sum(-1))
        >>> with model.pinned_predictor() as pred:
        ...     model.predictor() is pred
        True
        """
        pred = self.predictor()
        outer = self._pinned
        self._pinned = pred
        try:
            yield pred
        finally:
            if self._pinned is pred:
                self._pinned = outer

    def _state_fingerprint(self) -> tuple[list[tuple[Tensor, int]], Tensor]:
        """Training tensors (with their version counters) and hyperparameter values."""
        data = [self.train_X, self.train_targets]
        if isinstance(self.likelihood, FixedNoiseGaussianLikelihood):
            data.append(self.likelihood.noise_covar.noise)
        refs = [(t, t._version) for t in data]
        params = [p.detach().reshape(-1) for p in self.parameters()]
        values = torch.cat(params) if params else self.train_X.new_zeros(0)
        return refs, values

    def _noise(self) -> Tensor:
        noise: Tensor = self.likelihood.noise
        return noise.detach()

    def predictor(self) -> ExactPredictor:
        """The cached :class:`ExactPredictor` for the current hyperparameters.

        It is rebuilt whenever the hyperparameters or the training data differ
        from those it was built with.

        Returns
        -------
        ExactPredictor
        """
        if self._pinned is not None:
            return self._pinned
        refs, values = self._state_fingerprint()
        fp = self._fingerprint
        if (
            self._predictor is not None
            and fp is not None
            and len(fp[0]) == len(refs)
            and all(
                a is b and va == vb
                for (a, va), (b, vb) in zip(fp[0], refs, strict=True)
            )
            and fp[1].shape == values.shape
            and torch.equal(fp[1], values)
        ):
            return self._predictor
        tf = self.outcome_transform
        one = torch.ones((), dtype=self.train_X.dtype, device=self.train_X.device)
        self._predictor = ExactPredictor(
            self.mean_module,
            self.covar_module,
            self.train_X,
            self.train_targets,
            self._noise(),
            tf.mean if tf is not None else one * 0.0,
            tf.std if tf is not None else one,
            gpt_settings.min_variance.value(self.train_X.dtype),
        )
        self._fingerprint = (refs, values.clone())
        return self._predictor

    def training_bounds(self) -> tuple[Tensor, Tensor]:
        """Posterior means at ``train_X`` and upper bounds of their deviations.

        O(n) from the cached factorization: the means are exact, and the
        square root of each point's noise variance bounds its posterior
        standard deviation (the posterior covariance at the training inputs
        is below the noise covariance). Screening with them (see
        :func:`skbo.acquisition.utils.plausible_maxima`) drops points that
        cannot be the best without the O(n^3) joint posterior.

        Returns
        -------
        mean, std_bound : Tensors of shape (n,)
            In the units of ``train_Y``.

        Examples
        --------
        >>> import torch
        >>> X = torch.linspace(0, 1, 8, dtype=torch.float64).unsqueeze(-1)
        >>> model = SingleTaskGP(X, torch.sin(6 * X[:, 0]))
        >>> mean, std = model.training_bounds()
        >>> bool((std > 0).all()), mean.shape
        (True, torch.Size([8]))
        """
        with torch.no_grad():
            return self.predictor().training_bounds()

    def _check_X(self, X: object, name: str, ndim: int | None = None) -> Tensor:
        d = self.train_X.shape[-1]
        if not isinstance(X, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(X).__name__}.")
        bad_dim = X.dim() < 2 if ndim is None else X.dim() != ndim
        if bad_dim or X.shape[-1] != d:
            want = "(*batch, q, d)" if ndim is None else "(n_b, d)"
            raise InputDataError(
                f"{name} must have shape {want} with d={d}, got {tuple(X.shape)}."
            )
        if X.dtype != self.train_X.dtype or X.device != self.train_X.device:
            raise TypeError(
                f"{name} has dtype {X.dtype} on {X.device}, but the model uses "
                f"{self.train_X.dtype} on {self.train_X.device}: convert it with "
                f"{name}.to(model.train_X)."
            )
        return X

    def posterior(
        self, X: Tensor, observation_noise: bool = False
    ) -> GaussianPosterior:
        """Joint posterior over ``X`` in the units of ``train_Y``.

        Differentiable in ``X``; the hyperparameters are treated as constants
        (the training factorization is cached across calls).

        Parameters
        ----------
        X : Tensor of shape (*batch, q, d)
            Query points.
        observation_noise : bool, default=False
            Add the observation noise (the mean training noise for known noise)
            to get the predictive distribution of new observations.

        Returns
        -------
        GaussianPosterior
            Mean and variance of shape ``(*batch, q)``, covariance
            ``(*batch, q, q)``.

        Examples
        --------
        >>> import torch
        >>> X = torch.linspace(0, 1, 6, dtype=torch.float64).unsqueeze(-1)
        >>> model = SingleTaskGP(X, torch.sin(6 * X[:, 0]))
        >>> model.posterior(X[:2]).covariance.shape
        torch.Size([2, 2])
        """
        X = self._check_X(X, "X")
        noise = None
        if observation_noise:
            noise = self._noise()
            if isinstance(self.likelihood, FixedNoiseGaussianLikelihood):
                noise = noise.mean().reshape(1)
        mean, cov = self.predictor().moments(X, noise)
        return GaussianPosterior(mean, cov)

    def joint_posterior(self, X_baseline: Tensor, X: Tensor) -> GaussianPosterior:
        """Joint posterior over shared baseline points and ``X`` (baseline first).

        The baseline block is computed once per ``X_baseline`` tensor and reused
        while that tensor is unchanged; each call only adds the new points.
        Numerically equal to ``posterior(cat([X_baseline expanded, X], -2))``.

        Parameters
        ----------
        X_baseline : Tensor of shape (n_b, d)
        X : Tensor of shape (*batch, q, d)

        Returns
        -------
        GaussianPosterior
            A :class:`~skbo.models._prediction.JointGaussianPosterior` over
            ``n_b + q`` points per t-batch.

        Examples
        --------
        >>> import torch
        >>> X = torch.rand(6, 2, dtype=torch.float64)
        >>> model = SingleTaskGP(X, X.sum(-1))
        >>> post = model.joint_posterior(X[:3], torch.rand(4, 1, 2, dtype=X.dtype))
        >>> post.mean.shape
        torch.Size([4, 4])
        """
        X_baseline = self._check_X(X_baseline, "X_baseline", ndim=2)
        X = self._check_X(X, "X")
        if X_baseline.shape[0] == 0:
            return self.posterior(X)
        predictor = self.predictor()
        block = predictor.baseline_block(X_baseline)
        posterior: JointGaussianPosterior = predictor.joint(block, X)
        return posterior
