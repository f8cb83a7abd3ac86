r"""Closed-form MAP loss and gradient for skbo's default GP structures (no autograd).

Notation
--------
As in :mod:`skbo.models.fit`. In addition: ``u`` is the raw (unconstrained)
hyperparameter vector and ``v`` the values (``v = lb + exp(u)``,
``lb + softplus(u)`` or ``u``); ``K = k(X, X) + diag(noise)``; ``r = y - c``
(``c``: constant prior mean, or 0); ``alpha = K^{-1} r`` and
``W = K^{-1} - alpha alpha^T``, so that ``d loss / dK = W / (2 n)``. For the
stationary kernels ``s = |z_i - z_k|`` with ``z = (x - shift) c0 / l``
(``c0 = sqrt(5)`` for Matern-5/2, ``sqrt(1/2)`` for RBF).

Gradients, with ``W_f = W * (product of the other kernel factors)``:

* stationary factor: ``dk / d(s^2) = -kappa P`` with ``P = (1 + s) e^{-s}``
  and ``kappa = 1/6`` (Matern-5/2), or ``P = k`` and ``kappa = 1`` (RBF);
  with the symmetric ``M = W_f * P`` and ``T_j = sum_ik M_ik (z_ij -
  z_kj)^2 / 2 = sum_i z_ij (rowsum(M)_i z_ij - (M z)_ij)``,
  ``d loss / dl_j = 4 kappa T_j / l_j / (2 n)``: ``O(n^2 d)`` through one
  ``(n, n) @ (n, d)`` product, never an ``(n, n, d)`` tensor;
* categorical factor ``k = exp(-sum_g (1 - <x_g, x'_g>) / l_g)``, with
  ``M = W_f * k``: ``d loss / dl_g = sum_ik M_ik (1 - <x_ig, x_kg>) / l_g^2 /
  (2 n)``, as ``sum_{c in g} x_c^T M (1 - x_c)`` (plus a term for relaxed,
  non-one-hot rows);
* levelwise factor ``k = (1 / G) sum_c O_c * k_c`` (``O_c = o_c o_c^T``,
  constant): level ``c``'s lengthscales take the stationary gradient with
  ``W_f * O_c / G``, all levels as one ``(L, n, n)`` batch;
* a :class:`~skbo.models.kernels.MixedKernel` is a weighted sum of terms
  ``K = sum_t c_t prod_f K_f``: a factor of term ``t`` takes ``W_f = c_t W *
  (product of the other factors of t)``;
* an output scale ``s`` (``ScaleKernel``) is one more factor, a constant
  one: ``sum(W_f) / (2 n)``;
* noise: ``trace(W) / (2 n)``; constant mean: ``-sum(alpha) / n``;
* priors (LogNormal, Normal or Gamma) in closed form, then the chain rule
  ``d / du = dv/du * d / dv``.

Per-entry constants (``1 / (2 n)``, ``4 kappa``, the mean's ``-2``) are
folded into one vector ``gscale`` applied once at the end.

Internally the entries are reordered (the objective's order is restored on
the NumPy side): exp-transformed entries first, those with a LogNormal prior
leading, then softplus, then untransformed ones. Transforms and priors then
act on contiguous slices (fixed views of preallocated buffers) instead of
masks and gathers.

NOTE: at n = 50 the autograd path of :class:`skbo.models.fit._MAPObjective`
costs about 1.6 ms per loss-and-gradient evaluation, mostly Python-side
overhead (module calls, prior closures, graph recording and replay). At that
size each tensor operation costs 2-10 us, so this module counts operations
(about 45 per evaluation) and runs them in inference mode (about 0.6 us less
per operation than under no_grad). Measured with
``benchmarks/bench_map_loss.py`` (1 thread, 2-core machine under a load of 3):
0.37 / 0.39 ms against 1.69 / 1.62 ms at n = 50, d = 6 / 20; 2.0 vs. 4.2 ms
at n = 200; 74 / 77 ms against 95 / 88 ms at n = 1000, where the Cholesky
factorization and inverse dominate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import torch
from gpytorch.constraints import GreaterThan, Positive
from gpytorch.kernels import Kernel, ProductKernel, ScaleKernel
from gpytorch.likelihoods import FixedNoiseGaussianLikelihood, GaussianLikelihood
from gpytorch.likelihoods.noise_models import FixedGaussianNoise, HomoskedasticNoise
from gpytorch.means import ConstantMean, ZeroMean
from gpytorch.priors import GammaPrior, LogNormalPrior, NormalPrior
from torch import Tensor

from skbo.models.kernels import (
    CategoricalKernel,
    LevelwiseKernel,
    Matern52Kernel,
    MixedKernel,
    RBFKernel,
)

__all__ = ["FusedMAP", "build_fused"]

_LOG_2PI = math.log(2.0 * math.pi)

# Largest n for direct pairwise distances (see _StationaryFactor).
_DIRECT_MAX_N = 100

# Raw -> value transforms, in their internal order.
_EXP, _SOFTPLUS, _IDENTITY = 0, 1, 2


class _Unsupported(Exception):
    """The model is not one of the structures the fused path knows."""


@dataclass
class _Slot:
    """One raw parameter of a known module: transform, prior and place."""

    param: torch.nn.Parameter
    module: torch.nn.Module
    value: Callable[[], Tensor]  # the module's own value property
    kind: int
    lower: float
    scale: float = 1.0  # constant factor of its gradient (see gscale)
    prior: Any = None  # LogNormalPrior, NormalPrior, GammaPrior or None
    start: int = 0  # offset in the internal order
    v: Tensor | None = None  # view of its values (set by the layout)
    g: Tensor | None = None  # view of its gradient entries

    @property
    def size(self) -> int:
        return self.param.numel()

    @property
    def rank(self) -> tuple[int, int]:
        """Sort key of the internal order."""
        if self.prior is None:
            return self.kind, 2
        return self.kind, 0 if type(self.prior) is LogNormalPrior else 1


def _transform_of(constraint: Any) -> tuple[int, float]:
    """``(kind, lower bound)`` of a raw -> value constraint, or unsupported."""
    if constraint is None:
        return _IDENTITY, 0.0
    if type(constraint) not in (GreaterThan, Positive):
        raise _Unsupported(f"constraint {type(constraint).__name__}")
    if not bool(torch.isinf(constraint.upper_bound).all()):
        raise _Unsupported("finite upper bound")
    if constraint.lower_bound.numel() != 1:
        raise _Unsupported("non-scalar lower bound")
    lb = float(constraint.lower_bound) if type(constraint) is GreaterThan else 0.0
    transform = constraint._transform
    if transform is None:
        return _IDENTITY, lb
    if transform is torch.exp:
        return _EXP, lb
    if transform is torch.nn.functional.softplus or (
        type(transform) is torch.nn.Softplus
        and transform.beta == 1.0
        and transform.threshold == 20.0
    ):
        return _SOFTPLUS, lb
    raise _Unsupported(f"transform {transform!r}")


def _prior_params(prior: Any) -> tuple[Tensor, Tensor]:
    """``(loc, scale)`` of a (Log)Normal prior, ``(concentration, rate)`` of a Gamma."""
    if type(prior) is GammaPrior:
        return prior.concentration, prior.rate
    return prior.loc, prior.scale


def _fits(small: Sequence[int], shape: Sequence[int]) -> bool:
    """Whether ``small`` broadcasts to ``shape`` without enlarging it."""
    if len(small) > len(shape):
        return False
    tail = shape[len(shape) - len(small) :]
    return all(a in (1, b) for a, b in zip(small, tail, strict=True))


def _slot(module: torch.nn.Module, name: str, value: Callable[[], Tensor]) -> _Slot:
    param = getattr(module, name)
    if not isinstance(param, torch.nn.Parameter):
        raise _Unsupported(f"{name} is not a parameter")
    kind, lower = _transform_of(getattr(module, f"{name}_constraint", None))
    return _Slot(param, module, value, kind, lower)


def _stationary(z: Tensor, matern: bool, direct: bool) -> tuple[Tensor, Tensor]:
    """Kernel matrix of scaled points ``z (..., n, d)`` and ``P`` (see notes)."""
    if direct:
        s = torch.cdist(z, z, compute_mode="donot_use_mm_for_euclid_dist")
        if not matern:
            k = s.square_().neg_().exp_()
            return k, k
        e = s.neg().exp_()
        se = s * e
        p = e + se  # (1 + s) e^{-s} = -6 dk / d(s^2)
        return torch.addcmul(p, s, se, value=1.0 / 3.0), p
    sq = (z * z).sum(-1, keepdim=True)
    mm = torch.addmm if z.dim() == 2 else torch.baddbmm
    s2 = mm(sq, z, z.mT, alpha=-2.0).add_(sq.mT).clamp_min_(0.0)
    if not matern:
        k = s2.neg_().exp_()
        return k, k
    s = s2.sqrt()
    e = s.neg().exp_()
    p = torch.addcmul(e, s, e)
    return torch.addcmul(p, s2, e, value=1.0 / 3.0), p


def _stationary_t(M: Tensor, z: Tensor) -> Tensor:
    """``T_j = sum_ik M_ik (z_ij - z_kj)^2 / 2`` for symmetric ``M (..., n, n)``."""
    # NOTE: the diagonal of M cancels exactly in T (z_i - z_i = 0), so noise
    # added in place to a K shared with P does not matter.
    mm = torch.addmm if z.dim() == 2 else torch.baddbmm
    A = mm(M.sum(-1, keepdim=True) * z, M, z, alpha=-1.0)
    return (z * A).sum(-2)


class _StationaryFactor:
    """Matern-5/2 or RBF factor on (a subset of) the columns of ``X``."""

    def __init__(self, kernel: Matern52Kernel | RBFKernel, X: Tensor) -> None:
        x = X if kernel.active_dims is None else X.index_select(-1, kernel.active_dims)
        raw = kernel.raw_lengthscale
        if raw.dim() != 2 or raw.shape[0] != 1 or raw.shape[1] not in (1, x.shape[1]):
            raise _Unsupported("lengthscale shape")
        self.matern = isinstance(kernel, Matern52Kernel)
        c0 = math.sqrt(5.0) if self.matern else math.sqrt(0.5)
        # Centred (less cancellation in |z|^2 + |z'|^2 - 2 z z') and pre-scaled.
        self.xc = (x - x.mean(0)) * c0
        self.shared = raw.shape[1] == 1 and x.shape[1] != 1
        # NOTE: distances by direct differences (torch.cdist without the
        # matrix-product trick; exact zeros on the diagonal) take 1 operation
        # instead of 5: measured 21 vs 43 us at n = 50, d = 6 (35 vs 45 us at
        # d = 20), but 427 vs 220 us at n = 200, d = 20, so for small n only.
        self.direct = x.shape[0] <= _DIRECT_MAX_N
        self.slot = _slot(kernel, "raw_lengthscale", lambda: kernel.lengthscale)
        self.slot.scale = 4.0 / 6.0 if self.matern else 4.0  # 4 kappa

    def matrix(self, ls: Tensor) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """Kernel matrix and ``(z, P)`` for :meth:`gradient`."""
        z = self.xc / ls
        k, p = _stationary(z, self.matern, self.direct)
        return k, (z, p)

    def gradient(
        self, Wf: Tensor, ls: Tensor, saved: tuple[Tensor, ...], out: Tensor
    ) -> None:
        """Writes ``d loss / dl`` in units of ``4 kappa / (2 n)`` into ``out``."""
        z, p = saved
        T = _stationary_t(p * Wf, z)
        if self.shared:
            torch.sum(T.div_(ls), 0, keepdim=True, out=out)
        else:
            torch.div(T, ls, out=out)


class _CategoricalFactor:
    """:class:`CategoricalKernel` factor on its one-hot columns."""

    def __init__(self, kernel: CategoricalKernel, X: Tensor) -> None:
        if kernel.active_dims is None:
            raise _Unsupported("categorical kernel without active_dims")
        self.x = X.index_select(-1, kernel.active_dims)
        if kernel.raw_lengthscale.shape != (1, kernel.n_groups):
            raise _Unsupported("categorical lengthscale shape")
        self.group_index = kernel.group_index.to(device=X.device)
        # (columns, groups) indicator: per-column sums -> per-group sums.
        self.groups = torch.nn.functional.one_hot(self.group_index, kernel.n_groups)
        self.groups = self.groups.to(X)
        # 1 - <x_g, x'_g> = (1 - sum_{c in g} x_c) + sum_{c in g} x_c (1 - x'_c):
        # the second form leaves out the pairs of the same category exactly
        # (no cancellation between sum(M) and the overlap when M is large on
        # them); the first term is zero on exact one-hots.
        self.xbar = 1.0 - self.x
        self.slack = 1.0 - self.x @ self.groups  # (n, G)
        self.exact = bool((self.slack == 0).all())
        self.slot = _slot(kernel, "raw_lengthscale", lambda: kernel.lengthscale)

    def matrix(self, ls: Tensor) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """Kernel matrix and ``(k, k)`` for :meth:`gradient`."""
        inv = 1.0 / ls
        w = inv.index_select(0, self.group_index)
        k = torch.exp((self.x * w) @ self.x.mT - inv.sum())
        return k, (k, k)

    def gradient(
        self, Wf: Tensor, ls: Tensor, saved: tuple[Tensor, ...], out: Tensor
    ) -> None:
        """Writes ``d loss / dl`` in units of ``1 / (2 n)`` into ``out``."""
        M = Wf * saved[0]
        apart = (self.x * (M @ self.xbar)).sum(0) @ self.groups
        if not self.exact:
            apart = apart + M.sum(-1) @ self.slack
        torch.div(apart, ls * ls, out=out)


class _ScaleFactor:
    """A ``ScaleKernel``'s output scale: one constant factor of every entry."""

    def __init__(self, kernel: ScaleKernel) -> None:
        if kernel.raw_outputscale.dim() != 0:
            raise _Unsupported("batched output scale")
        self.slot = _slot(kernel, "raw_outputscale", lambda: kernel.outputscale)

    def matrix(self, s: Tensor) -> tuple[Tensor, tuple[Tensor, ...]]:
        """The scale as a 0-dim factor (it broadcasts in the product)."""
        return s.reshape(()), ()

    def gradient(
        self, Wf: Tensor, s: Tensor, saved: tuple[Tensor, ...], out: Tensor
    ) -> None:
        """``d loss / ds`` in units of ``1 / (2 n)``: ``sum(W * K_base)``."""
        torch.sum(Wf, dim=(-2, -1), keepdim=False, out=out.view(()))


class _LevelwiseFactor:
    """:class:`LevelwiseKernel` factor: one stationary kernel per level.

    ``k = (1 / G) sum_c O_c * k_c`` with the constant ``O_c = o_c o_c^T``
    (``o_c``: the one-hot column of level ``c``), so the gradient of level
    ``c``'s lengthscales is the stationary one with ``W_f * O_c / G``; all
    levels are computed at once as a ``(L, n, n)`` batch.
    """

    def __init__(self, kernel: LevelwiseKernel, X: Tensor) -> None:
        x = X if kernel.active_dims is None else X.index_select(-1, kernel.active_dims)
        u = x.index_select(-1, kernel.continuous_index.to(X.device))
        o = x.index_select(-1, kernel.level_index.to(X.device)).mT  # (L, n)
        n_levels, dc = o.shape[0], u.shape[1]
        if kernel.raw_lengthscale.shape != (n_levels, 1, dc):
            raise _Unsupported("levelwise lengthscale shape")
        self.matern = bool(kernel.matern)
        self.shape = (n_levels, 1, dc)
        c0 = math.sqrt(5.0) if self.matern else math.sqrt(0.5)
        self.xc = (u - u.mean(0)) * c0  # (n, dc), shared by the levels
        # Constant level masks, with the 1 / G of the kernel folded in.
        self.mask = (o.unsqueeze(-1) * o.unsqueeze(-2)) / kernel.n_groups
        self.slot = _slot(kernel, "raw_lengthscale", lambda: kernel.lengthscale)
        self.slot.scale = 4.0 / 6.0 if self.matern else 4.0  # 4 kappa

    def matrix(self, ls: Tensor) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """Kernel matrix and ``(z, P * mask)`` for :meth:`gradient`."""
        z = self.xc / ls.view(self.shape)  # (L, n, dc)
        k, p = _stationary(z, self.matern, direct=z.shape[-2] <= _DIRECT_MAX_N)
        return (k * self.mask).sum(0), (z, p * self.mask)

    def gradient(
        self, Wf: Tensor, ls: Tensor, saved: tuple[Tensor, ...], out: Tensor
    ) -> None:
        """Writes ``d loss / dl`` in units of ``4 kappa / (2 n)`` into ``out``."""
        z, pm = saved
        T = _stationary_t(pm * Wf, z)  # (L, dc)
        torch.div(T.reshape(-1), ls, out=out)


_Factor = _StationaryFactor | _CategoricalFactor | _LevelwiseFactor | _ScaleFactor


def _factors(kernel: Kernel, X: Tensor) -> list[_Factor]:
    if type(kernel) in (Matern52Kernel, RBFKernel):
        return [_StationaryFactor(cast(Matern52Kernel | RBFKernel, kernel), X)]
    if type(kernel) is CategoricalKernel:
        return [_CategoricalFactor(kernel, X)]
    if type(kernel) is LevelwiseKernel:
        return [_LevelwiseFactor(kernel, X)]
    if type(kernel) is ProductKernel and kernel.active_dims is None:
        return [f for part in kernel.kernels for f in _factors(part, X)]
    raise _Unsupported(f"kernel {type(kernel).__name__}")


def _terms(kernel: Kernel, X: Tensor) -> list[tuple[float, list[_Factor]]]:
    """``K = sum_t c_t prod_f K_f`` as ``[(c_t, factors of t), ...]``."""
    if type(kernel) is ScaleKernel:
        if kernel.active_dims is not None:
            raise _Unsupported("scale kernel with active_dims")
        inner = _terms(kernel.base_kernel, X)
        if len(inner) != 1:
            # the scale would be one parameter shared by several terms
            raise _Unsupported("scaled sum of kernels")
        return [(inner[0][0], [_ScaleFactor(kernel), *inner[0][1]])]
    if type(kernel) is MixedKernel:
        if kernel.active_dims is not None:
            raise _Unsupported("mixed kernel with active_dims")
        w = kernel.weight
        shared = _factors(kernel.continuous, X) + _factors(kernel.categorical, X)
        return [(1.0 - w, shared), (w, _factors(kernel.levelwise, X))]
    return [(1.0, _factors(kernel, X))]


class FusedMAP:
    """MAP loss and gradient of a known model structure, in closed form.

    Build it with :func:`build_fused`, which returns ``None`` for any other
    structure (the caller then uses autograd). Everything structural is
    resolved here once; :meth:`evaluate` only does tensor arithmetic.

    Parameters
    ----------
    model : SingleTaskGP
        The model; :meth:`evaluate` writes the raw values it is given into
        the model's trainable parameters (as the autograd path does).
    params : sequence of torch.nn.Parameter
        The trainable parameters, in the order of the flat raw vector.
    """

    def __init__(self, model: Any, params: Sequence[torch.nn.Parameter]) -> None:
        X: Tensor = model.train_X.detach()
        y: Tensor = model.train_targets.detach()
        self.n = n = int(y.shape[0])
        self.y = y
        slots: list[_Slot] = []
        # --- kernel
        self.terms = _terms(model.covar_module, X)
        self.factors = [f for _, factors in self.terms for f in factors]
        slots.extend(f.slot for f in self.factors)
        # --- likelihood
        lik = model.likelihood
        self.fixed_noise: Tensor | None = None
        noise_module: HomoskedasticNoise | None
        if type(lik) is GaussianLikelihood:
            noise_module = lik.noise_covar
        elif type(lik) is FixedNoiseGaussianLikelihood:
            if type(lik.noise_covar) is not FixedGaussianNoise:
                raise _Unsupported("fixed-noise model")
            fixed = lik.noise_covar.noise.detach().to(X)
            if fixed.dim() != 1 or fixed.shape[0] not in (1, n):
                raise _Unsupported("fixed-noise shape")
            self.fixed_noise = fixed
            noise_module = lik.second_noise_covar
        else:
            raise _Unsupported(f"likelihood {type(lik).__name__}")
        self.noise_slot: _Slot | None = None
        if noise_module is not None:
            if type(noise_module) is not HomoskedasticNoise:
                raise _Unsupported(f"noise model {type(noise_module).__name__}")
            if noise_module.raw_noise.shape != (1,):
                raise _Unsupported("batched noise")
            nm = noise_module
            self.noise_slot = _slot(nm, "raw_noise", lambda: nm.noise)
            slots.append(self.noise_slot)
        # --- mean
        mean = model.mean_module
        self.mean_slot: _Slot | None = None
        if type(mean) is ConstantMean:
            if mean.raw_constant.dim() != 0:
                raise _Unsupported("batched constant mean")
            self.mean_slot = _slot(mean, "raw_constant", lambda: mean.constant)
            self.mean_slot.scale = -2.0  # -sum(alpha) / n = -2 sum(alpha) / (2 n)
            slots.append(self.mean_slot)
        elif type(mean) is not ZeroMean:
            raise _Unsupported(f"mean {type(mean).__name__}")
        if len({id(s.param) for s in slots}) != len(slots):
            raise _Unsupported("shared parameters")
        # NOTE: set-up is a few dozen small operations (about 0.3 ms), paid
        # once per fit of 10-40 evaluations.
        values = [s.value().detach() for s in slots]  # the modules' own
        self._match_priors(model, slots, values)
        self._layout(X, slots, params)
        self._prior_vectors(X)
        self._check_values(X, slots, values)

    # ------------------------------------------------------------------ setup
    @staticmethod
    def _match_priors(model: Any, slots: list[_Slot], values: list[Tensor]) -> None:
        """Attach each registered prior to its slot (or reject the model)."""
        for _, module, prior, closure, _ in model.named_priors():
            if type(prior) not in (LogNormalPrior, NormalPrior, GammaPrior):
                raise _Unsupported(f"prior {type(prior).__name__}")
            value = closure(module)
            match = [
                s
                for s, ref in zip(slots, values, strict=True)
                if s.module is module
                and isinstance(value, Tensor)
                and value.shape == ref.shape
                and torch.equal(value.detach(), ref)
            ]
            if len(match) != 1 or match[0].prior is not None:
                raise _Unsupported("prior on an unknown quantity")
            shape = match[0].param.shape
            a, b = _prior_params(prior)
            if not (_fits(a.shape, shape) and _fits(b.shape, shape)):
                raise _Unsupported("prior broadcasts beyond its parameter")
            if type(prior) is GammaPrior and match[0].kind == _IDENTITY:
                raise _Unsupported("Gamma prior on an untransformed parameter")
            match[0].prior = prior

    def _layout(
        self, X: Tensor, slots: list[_Slot], params: Sequence[torch.nn.Parameter]
    ) -> None:
        """Internal order, buffers and their per-slot views."""
        trainable = {id(p): i for i, p in enumerate(params)}
        if not set(trainable) <= {id(s.param) for s in slots}:
            raise _Unsupported("unknown trainable parameters")
        self.order = order = sorted(slots, key=lambda s: s.rank)
        size = 0
        for s in order:
            s.start, size = size, size + s.size
        # Objective order -> internal positions of the trainable entries.
        by_param = {id(s.param): s for s in slots}
        self.train_pos = np.array(
            [
                i
                for p in params
                for i in range(by_param[id(p)].start, by_param[id(p)].start + p.numel())
            ],
            dtype=np.int64,
        )
        # Raw buffer (NumPy, internal order): frozen entries stay at their
        # values; on CPU float64 the tensor shares its memory.
        raw = torch.cat([s.param.detach().reshape(-1) for s in order])
        self.raw_np = raw.to(device="cpu", dtype=torch.float64).numpy().copy()
        self.shared_raw = X.device.type == "cpu" and X.dtype == torch.float64
        self.raw = (
            torch.from_numpy(self.raw_np) if self.shared_raw else raw.to(X).clone()
        )
        self.writes = [
            (p, self.raw[s.start : s.start + s.size].view(p.shape))
            for p in params
            for s in (by_param[id(p)],)
        ]
        # Ranges of the transforms, per-entry constants.
        n_exp = sum(s.size for s in slots if s.kind == _EXP)
        n_soft = sum(s.size for s in slots if s.kind == _SOFTPLUS)
        self.exp_range = (0, n_exp)
        self.soft_range = (n_exp, n_exp + n_soft)
        half_n = 0.5 / self.n
        consts = torch.tensor(
            [
                [s.lower for s in order for _ in range(s.size)],
                [s.scale * half_n for s in order for _ in range(s.size)],
            ],
            dtype=X.dtype,
            device=X.device,
        )
        self.lower, self.gscale = consts[0], consts[1]
        self.v = torch.zeros(size, dtype=X.dtype, device=X.device)
        self.dvs = self.gscale.clone()  # untransformed entries keep gscale
        self.g = torch.zeros(size, dtype=X.dtype, device=X.device)
        for s in slots:
            # untransformed values are read from the raw buffer directly
            values = self.raw if s.kind == _IDENTITY else self.v
            s.v = values[s.start : s.start + s.size]
            s.g = self.g[s.start : s.start + s.size]
        a, b = self.exp_range
        self.u_exp, self.v_exp = self.raw[a:b], self.v[a:b]
        self.lower_exp, self.gscale_exp = self.lower[a:b], self.gscale[a:b]
        self.dvs_exp = self.dvs[a:b]
        a, b = self.soft_range
        self.u_soft, self.v_soft = self.raw[a:b], self.v[a:b]
        self.lower_soft, self.gscale_soft = self.lower[a:b], self.gscale[a:b]
        self.dvs_soft = self.dvs[a:b]
        self.clone_k = len(self.factors) == 1 and isinstance(
            self.factors[0], _CategoricalFactor
        )
        self.summed = len(self.terms) > 1
        # (coefficient, first factor, end) of each term, in self.factors
        self.spans: list[tuple[float, int, int]] = []
        for c, term in self.terms:
            a = self.spans[-1][2] if self.spans else 0
            self.spans.append((float(c), a, a + len(term)))

    def _prior_vectors(self, X: Tensor) -> None:
        """Per-entry prior constants; a contiguous slice in the common case."""
        with_prior = [
            s
            for s in self.order
            if s.prior is not None and type(s.prior) is not GammaPrior
        ]
        # n loss = s + const (see evaluate): n log(2 pi) / 2 plus the prior
        # normalizers sum(log(scale) + log(2 pi) / 2).
        self.const = 0.5 * self.n * _LOG_2PI
        self.prior_slice: tuple[Tensor, Tensor] | None = None
        self.prior_index: Tensor | None = None
        self._gamma_vectors(X)
        if not with_prior:
            return
        index = [i for s in with_prior for i in range(s.start, s.start + s.size)]
        loc = torch.cat(
            [s.prior.loc.to(X).expand(s.param.shape).reshape(-1) for s in with_prior]
        )
        inv_s = torch.cat(
            [s.prior.scale.to(X).expand(s.param.shape).reshape(-1) for s in with_prior]
        ).reciprocal_()
        self.const += float((0.5 * _LOG_2PI - inv_s.log()).sum())
        gscale = self.gscale.tolist()
        # gradient entries in gscale units
        pm = torch.tensor(
            [1.0 / (self.n * gscale[i]) for i in index], dtype=X.dtype, device=X.device
        )
        self.prior_z0 = -loc * inv_s  # z = (w - loc) / scale = w / scale + z0
        self.prior_inv_s = inv_s
        self.prior_pm = pm
        self.prior_pm_inv_s = pm * inv_s
        if all(s.kind == _EXP and type(s.prior) is LogNormalPrior for s in with_prior):
            # LogNormal priors on exp-transformed entries: by the internal
            # order, the leading slice.
            self.prior_slice = (self.v[: len(index)], self.g[: len(index)])
            return
        log = [
            type(s.prior) is LogNormalPrior for s in with_prior for _ in range(s.size)
        ]
        self.prior_index = torch.tensor(index, dtype=torch.long, device=X.device)
        self.prior_log = torch.tensor(log, device=X.device)
        self.prior_logf = self.prior_log.to(X)
        self.prior_pm_log = pm * self.prior_logf
        self.one = torch.ones((), dtype=X.dtype, device=X.device)
        # untransformed entries with a prior must be in v too
        self.copy_identity = any(s.kind == _IDENTITY for s in with_prior)

    def _gamma_vectors(self, X: Tensor) -> None:
        """Constants of the Gamma priors (``-log p = b v - (a - 1) log v``)."""
        gamma = [s for s in self.order if type(s.prior) is GammaPrior]
        self.gamma_index: Tensor | None = None
        if not gamma:
            return
        index = [i for s in gamma for i in range(s.start, s.start + s.size)]
        a, b = (
            torch.cat(
                [
                    p.to(X).expand(s.param.shape).reshape(-1)
                    for s in gamma
                    for p in (_prior_params(s.prior)[k],)
                ]
            )
            for k in (0, 1)
        )
        # normalizer of -log p: lgamma(a) - a log(b)
        self.const += float((torch.lgamma(a) - a * b.log()).sum())
        gscale = self.gscale.tolist()
        pm = torch.tensor(
            [1.0 / (self.n * gscale[i]) for i in index], dtype=X.dtype, device=X.device
        )
        self.gamma_index = torch.tensor(index, dtype=torch.long, device=X.device)
        self.gamma_am1, self.gamma_b, self.gamma_pm = a - 1.0, b, pm

    def _check_values(
        self, X: Tensor, slots: list[_Slot], values: list[Tensor]
    ) -> None:
        """The transforms must reproduce the modules' own values."""
        if any(v.numel() != s.size for s, v in zip(slots, values, strict=True)):
            raise _Unsupported("value shape")
        with torch.no_grad():
            self._values()
            mine = torch.cat([cast(Tensor, s.v).reshape(-1) for s in slots])
            theirs = torch.cat([v.reshape(-1) for v in values]).to(X)
            if not torch.allclose(mine, theirs, rtol=1e-12, atol=0.0):
                raise _Unsupported("raw -> value transform mismatch")

    # ------------------------------------------------------------------ per call
    def _values(self) -> None:
        """Values into ``self.v``, ``gscale * dv/du`` into ``self.dvs``."""
        if self.exp_range[1] > self.exp_range[0]:
            e = self.u_exp.exp()
            torch.add(e, self.lower_exp, out=self.v_exp)
            torch.mul(e, self.gscale_exp, out=self.dvs_exp)
        if self.soft_range[1] > self.soft_range[0]:
            u = self.u_soft
            sp = torch.nn.functional.softplus(u)
            torch.add(sp, self.lower_soft, out=self.v_soft)
            slope = torch.where(u > 20.0, 1.0, torch.sigmoid(u))
            torch.mul(slope, self.gscale_soft, out=self.dvs_soft)

    def _neg_log_prior(self) -> Tensor:
        """``-log prior`` without its constant; adds its gradient to ``self.g``."""
        total = self._neg_log_gamma()
        if self.prior_slice is None and self.prior_index is None:
            return total
        return total + self._neg_log_normal_family()

    def _neg_log_gamma(self) -> Tensor:
        """The Gamma priors' part of :meth:`_neg_log_prior`."""
        if self.gamma_index is None:
            return self.v.new_zeros(())
        pv = self.v.index_select(0, self.gamma_index)
        # -d log p / dv = b - (a - 1) / v
        dn = (self.gamma_b - self.gamma_am1 / pv) * self.gamma_pm
        self.g.index_add_(0, self.gamma_index, dn)
        return (self.gamma_b * pv - self.gamma_am1 * pv.log()).sum()

    def _neg_log_normal_family(self) -> Tensor:
        """The LogNormal and Normal priors' part of :meth:`_neg_log_prior`."""
        if self.prior_slice is not None:
            pv, pg = self.prior_slice
            w = pv.log()
            z = torch.addcmul(self.prior_z0, w, self.prior_inv_s)
            # -d log p / dv = (1 + z / scale) / v
            pg.add_(torch.addcmul(self.prior_pm, z, self.prior_pm_inv_s).div_(pv))
            return torch.addcmul(w, z, z, value=0.5).sum()
        assert self.prior_index is not None
        if self.copy_identity:
            a = self.soft_range[1]
            self.v[a:].copy_(self.raw[a:])
        pv = self.v.index_select(0, self.prior_index)
        w = torch.where(self.prior_log, pv.log(), pv)
        z = torch.addcmul(self.prior_z0, w, self.prior_inv_s)
        dn = torch.addcmul(self.prior_pm_log, z, self.prior_pm_inv_s)
        dn.div_(torch.where(self.prior_log, pv, self.one))
        self.g.index_add_(0, self.prior_index, dn)
        return torch.addcmul(w * self.prior_logf, z, z, value=0.5).sum()

    def evaluate(
        self, theta: np.ndarray, cholesky: Callable[[Tensor], Tensor]
    ) -> tuple[float, np.ndarray]:
        """Loss and its gradient wrt the trainable raw vector.

        Also writes ``theta`` into the model's trainable parameters.

        Parameters
        ----------
        theta : ndarray of shape (p,)
            Trainable raw parameters, flat, in the objective's order.
        cholesky : callable
            ``K -> L`` with jitter retries (raises on failure).

        Returns
        -------
        loss : float
        grad : ndarray of shape (p,)
            float64, in the objective's order (a new array).
        """
        self.raw_np[self.train_pos] = theta
        # NOTE: inference mode (no autograd bookkeeping) saved about 0.6 us per
        # operation against no_grad at n = 50; nothing created here outlives
        # the call, and in-place writes into the buffers and parameters are
        # allowed.
        with torch.inference_mode():
            if not self.shared_raw:
                self.raw.copy_(torch.from_numpy(self.raw_np))
            for p, view in self.writes:
                p.copy_(view)
            s = self._evaluate(cholesky)
            loss = (float(s) + self.const) / self.n
            g = self.g
            if not self.shared_raw:
                g = g.to(device="cpu", dtype=torch.float64)
            return loss, g.numpy()[self.train_pos]

    def _evaluate(self, cholesky: Callable[[Tensor], Tensor]) -> Tensor:
        """``n loss - const``; the gradient (raw, internal order) into ``self.g``."""
        self._values()
        factors = self.factors
        mats: list[Tensor] = []
        saved: list[tuple[Tensor, ...]] = []
        for f in factors:
            k, extra = f.matrix(cast(Tensor, f.slot.v))
            mats.append(k)
            saved.append(extra)
        if self.summed:
            K = torch.zeros_like(mats[0])
            for c, a, b in self.spans:
                K.add_(_product(mats[a:b]), alpha=c)
        else:
            K = _product(mats)
            if len(mats) == 1 and self.clone_k:
                K = K.clone()  # a categorical gradient needs its own diagonal
        noise_slot, mean_slot = self.noise_slot, self.mean_slot
        noise = None if noise_slot is None else noise_slot.v
        if self.fixed_noise is not None:
            noise = self.fixed_noise if noise is None else self.fixed_noise + noise
        if noise is not None:
            K.diagonal().add_(noise)
        r = self.y if mean_slot is None else self.y - cast(Tensor, mean_slot.v)
        L = cholesky(K)
        W = torch.cholesky_inverse(L)
        alpha = torch.mv(W, r)
        W.addr_(alpha, alpha, alpha=-1.0)  # d loss / dK = W / (2 n)
        # Gradient wrt v in units of gscale, written into the slots' views.
        for c, a, b in self.spans:
            Wt = W * c if self.summed else W
            for j in range(a, b):
                Wf = Wt
                for i in range(a, b):
                    if i != j:
                        Wf = Wf * mats[i]
                f = factors[j]
                f.gradient(Wf, cast(Tensor, f.slot.v), saved[j], cast(Tensor, f.slot.g))
        if noise_slot is not None:
            torch.sum(W.diagonal(), 0, keepdim=True, out=noise_slot.g)
        if mean_slot is not None:
            torch.sum(alpha, 0, keepdim=True, out=mean_slot.g)
        s = L.diagonal().log().sum().add_(torch.dot(r, alpha), alpha=0.5)
        if (
            self.prior_slice is not None
            or self.prior_index is not None
            or self.gamma_index is not None
        ):
            s.add_(self._neg_log_prior())
        self.g.mul_(self.dvs)
        return s


def _product(mats: Sequence[Tensor]) -> Tensor:
    """Elementwise product (the first matrix itself if there is one)."""
    out = mats[0]
    for m in mats[1:]:
        out = out * m
    return out


def build_fused(model: Any, params: Sequence[torch.nn.Parameter]) -> FusedMAP | None:
    """A :class:`FusedMAP` for ``model``, or ``None`` if its structure is unknown.

    Known: skbo's Matern-5/2 or RBF kernel, a :class:`CategoricalKernel`, a
    :class:`LevelwiseKernel`, a ``gpytorch`` ``ProductKernel`` of these, or a
    :class:`MixedKernel`, optionally (except the mixed one) inside a
    ``ScaleKernel``; ``ConstantMean`` or ``ZeroMean``;
    homoskedastic Gaussian noise, or fixed known noise (optionally plus a
    learnable homoskedastic part); LogNormal or Normal priors on these
    quantities; ``GreaterThan`` / ``Positive`` constraints with an ``exp``,
    ``softplus`` or no transform.

    Parameters
    ----------
    model : SingleTaskGP
    params : sequence of torch.nn.Parameter
        The trainable parameters, in the order of the flat raw vector.

    Returns
    -------
    FusedMAP or None
    """
    try:
        return FusedMAP(model, params)
    except _Unsupported:
        return None
