"""Tests of skbo.models._fit_fused (closed-form MAP loss and gradient).

The reference is the autograd path of ``_MAPObjective`` (``fused=False``),
itself checked against gpytorch's marginal log likelihood in test_fit.py.
"""

from __future__ import annotations

import math

import gpytorch
import numpy as np
import pytest
import torch
from gpytorch.constraints import Interval
from gpytorch.kernels import ProductKernel, ScaleKernel
from gpytorch.likelihoods import FixedNoiseGaussianLikelihood
from gpytorch.means import ConstantMean, LinearMean, ZeroMean
from gpytorch.priors import GammaPrior, NormalPrior

import skbo.models._fit_fused as fused_module
import skbo.models.fit as fit_module
from skbo.models import (
    CategoricalKernel,
    Matern52Kernel,
    RBFKernel,
    SingleTaskGP,
    fit_gp,
)
from skbo.models.defaults import (
    categorical_lengthscale_prior,
    dim_scaled_lengthscale_prior,
    lower_bound_constraint,
)
from skbo.models.fit import _MAPObjective, _NumericalFailure
from skbo.models.kernels import LevelwiseKernel, MixedKernel

GROUPS = [[2, 3], [4, 5, 6]]


def _data(n=30, seed=0, dtype=torch.float64):
    """Two continuous columns, then one-hot groups [2, 3] and [4, 5, 6]."""
    g = torch.Generator().manual_seed(seed)
    cont = torch.rand(n, 2, generator=g, dtype=torch.float64)
    a = torch.nn.functional.one_hot(torch.arange(n) % 2, 2)
    b = torch.nn.functional.one_hot(torch.randint(3, (n,), generator=g), 3)
    X = torch.cat([cont, a.double(), b.double()], dim=-1)
    Y = torch.sin(5 * cont).sum(-1) + X[:, 2] - 0.5 * X[:, 5]
    Y = Y + 0.05 * torch.randn(n, generator=g, dtype=torch.float64)
    Yvar = 0.01 + 0.01 * torch.rand(n, generator=g, dtype=torch.float64)
    return X.to(dtype), Y.to(dtype), Yvar.to(dtype)


def _product_kernel(kind="matern52"):
    """The mixed-space kernel (continuous x categorical), built explicitly."""
    cls = Matern52Kernel if kind == "matern52" else RBFKernel
    cont = cls(
        2,
        active_dims=[0, 1],
        lengthscale_prior=dim_scaled_lengthscale_prior(2),
        lengthscale_constraint=lower_bound_constraint(),
    )
    cat = CategoricalKernel(
        GROUPS,
        lengthscale_prior=categorical_lengthscale_prior(len(GROUPS)),
        lengthscale_constraint=lower_bound_constraint(),
    )
    return ProductKernel(cont, cat)


def _levelwise_kernel():
    return LevelwiseKernel(
        [0, 1],
        GROUPS,
        lengthscale_prior=dim_scaled_lengthscale_prior(2),
        lengthscale_constraint=lower_bound_constraint(),
    )


STRUCTURES = {
    "matern": lambda X, Y, V: SingleTaskGP(X[:, :2], Y),
    "rbf": lambda X, Y, V: SingleTaskGP(X[:, :2], Y, kernel="rbf"),
    "matern-fixed": lambda X, Y, V: SingleTaskGP(X[:, :2], Y, V),
    "rbf-fixed": lambda X, Y, V: SingleTaskGP(X[:, :2], Y, V, kernel="rbf"),
    "matern-x-cat": lambda X, Y, V: SingleTaskGP(X, Y, covar_module=_product_kernel()),
    "rbf-x-cat-fixed": lambda X, Y, V: SingleTaskGP(
        X, Y, V, covar_module=_product_kernel("rbf")
    ),
    "categorical": lambda X, Y, V: SingleTaskGP(
        X[:, 2:], Y, categorical_groups=[[0, 1], [2, 3, 4]]
    ),
    "categorical-fixed": lambda X, Y, V: SingleTaskGP(
        X[:, 2:], Y, V, categorical_groups=[[0, 1], [2, 3, 4]]
    ),
    "mixed-levelwise": lambda X, Y, V: SingleTaskGP(
        X, Y, categorical_groups=GROUPS, mixed_kernel="levelwise"
    ),
    "mixed-levelwise-rbf-fixed": lambda X, Y, V: SingleTaskGP(
        X, Y, V, categorical_groups=GROUPS, mixed_kernel="levelwise", kernel="rbf"
    ),
    "levelwise-alone": lambda X, Y, V: SingleTaskGP(
        X, Y, covar_module=_levelwise_kernel()
    ),
}


def _pair(model):
    fast = _MAPObjective(model, fused=True)
    slow = _MAPObjective(model, fused=False)
    assert fast.fused is not None and slow.fused is None
    return fast, slow


def _theta(objective, lengthscale, noise, constant):
    """Raw vector with every raw lengthscale, the raw noise and the constant set."""
    parts = []
    for name, p in zip(objective.names, objective.params, strict=True):
        if name.endswith("raw_lengthscale"):
            k = p.numel()
            parts.append(np.resize(np.asarray(lengthscale, dtype=float), k))
        elif name.endswith("raw_noise"):
            parts.append(np.full(p.numel(), noise))
        elif name.endswith("raw_constant"):
            parts.append(np.full(p.numel(), constant))
        else:  # pragma: no cover - no other parameter in these models
            raise AssertionError(name)
    return np.concatenate(parts)


# Raw lengthscales -8 and 6: l = 0.025 + e^-8 = 0.0253 (at the lower bound)
# and l = 403; raw noise -6 / 0: noise ~ 2.6e-3 / 1.
EXTREMES = [
    ([-8.0], -2.0, 0.3),  # very short lengthscales: K close to the identity
    ([6.0], -2.0, -0.5),  # very long lengthscales: K close to all ones
    ([-8.0, 6.0], -6.0, 1.0),  # mixed, small noise
    ([6.0, -8.0, 0.0], 0.0, 0.0),
    ([0.5, -1.0, 2.0], -4.0, -2.0),
]


def _assert_close(fast_out, slow_out):
    (lf, gf), (ls, gs) = fast_out, slow_out
    assert lf == pytest.approx(ls, rel=1e-9)
    # entries far below the gradient's scale only agree to its scale
    np.testing.assert_allclose(gf, gs, rtol=1e-9, atol=1e-11 * np.abs(gs).max())


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "matmul"])
@pytest.mark.parametrize("structure", list(STRUCTURES))
def test_matches_autograd_path(structure, direct, monkeypatch):
    if not direct:  # the distance computation used above n = _DIRECT_MAX_N
        monkeypatch.setattr(fused_module, "_DIRECT_MAX_N", 0)
    model = STRUCTURES[structure](*_data())
    fast, slow = _pair(model)
    rng = np.random.RandomState(0)
    thetas = [fast.get()]
    thetas += [fast.get() + 1.5 * rng.randn(fast.get().size) for _ in range(3)]
    thetas += [_theta(fast, *extreme) for extreme in EXTREMES]
    for theta in thetas:
        _assert_close(fast(theta), slow(theta))


def test_writes_parameters_and_tracks_best():
    model = STRUCTURES["matern-x-cat"](*_data())
    objective = _MAPObjective(model)
    assert objective.fused is not None
    theta = objective.get() + 0.2
    value, _ = objective(theta)
    np.testing.assert_array_equal(objective.get(), theta)
    # the model itself is at theta: gpytorch's marginal likelihood agrees
    model.train()
    mll = gpytorch.mlls.ExactMarginalLogLikelihood(model.likelihood, model)
    loss = -mll(model(model.train_X), model.train_targets)
    assert value == pytest.approx(float(loss.detach()), rel=1e-10)
    other, _ = objective(theta - 0.5)
    assert objective.best is not None
    assert objective.best[0] == min(value, other)
    assert objective.n_evaluations == 2


@pytest.mark.parametrize(
    "make",
    [
        lambda X, Y, V: SingleTaskGP(X[:, :2], Y),
        lambda X, Y, V: SingleTaskGP(X[:, :2], Y, kernel="rbf"),
        lambda X, Y, V: SingleTaskGP(X[:, :2], Y, V),
        lambda X, Y, V: SingleTaskGP(X, Y, categorical_groups=GROUPS),
        lambda X, Y, V: SingleTaskGP(X[:, 2:], Y, categorical_groups=[[0, 1]]),
        lambda X, Y, V: SingleTaskGP(X, Y, V, categorical_groups=GROUPS, kernel="rbf"),
        lambda X, Y, V: SingleTaskGP(
            X, Y, categorical_groups=GROUPS, mixed_kernel="levelwise"
        ),
    ],
    ids=[
        "matern",
        "rbf",
        "fixed-noise",
        "mixed",
        "categorical",
        "mixed-fixed-rbf",
        "mixed-levelwise",
    ],
)
def test_selected_for_default_models(make):
    assert _MAPObjective(make(*_data())).fused is not None


def _softplus_kernel(X, Y, V):
    return SingleTaskGP(X[:, :2], Y, covar_module=Matern52Kernel(2))


def _normal_prior_mean(X, Y, V):
    model = SingleTaskGP(X[:, :2], Y)
    model.mean_module = ConstantMean(constant_prior=NormalPrior(0.3, 2.0)).to(X)
    return model


def _zero_mean(X, Y, V):
    model = SingleTaskGP(X[:, :2], Y)
    model.mean_module = ZeroMean()
    return model


def _frozen_noise(X, Y, V):
    model = SingleTaskGP(X, Y, categorical_groups=GROUPS)
    model.likelihood.noise_covar.raw_noise.requires_grad_(False)
    return model


def _frozen_lengthscale(X, Y, V):
    model = SingleTaskGP(X[:, :2], Y)
    model.covar_module.raw_lengthscale.requires_grad_(False)
    return model


def _shared_lengthscale(X, Y, V):
    return SingleTaskGP(X[:, :2], Y, covar_module=Matern52Kernel(1))


def _additional_noise(X, Y, V):
    model = SingleTaskGP(X[:, :2], Y, V)
    likelihood = FixedNoiseGaussianLikelihood(noise=V, learn_additional_noise=True)
    model.likelihood = likelihood.to(X)
    return model


def _relaxed_levelwise(X, Y, V):
    """The levelwise kernels are exact on relaxed one-hots too."""
    model = _relaxed_categorical(X, Y, V)
    return SingleTaskGP(
        model.train_X, Y, categorical_groups=GROUPS, mixed_kernel="levelwise"
    )


def _weighted_mixed(X, Y, V):
    """A MixedKernel with its weight at an end and in between."""
    cont = Matern52Kernel(2, active_dims=[0, 1])
    kernel = MixedKernel(
        cont, CategoricalKernel(GROUPS), _levelwise_kernel(), weight=0.2
    )
    return SingleTaskGP(X, Y, covar_module=kernel)


def _relaxed_categorical(X, Y, V):
    """Rows of the one-hot groups on the simplex but not at its corners."""
    g = torch.Generator().manual_seed(5)
    X = X.clone()
    for cols in GROUPS:
        w = torch.rand(X.shape[0], len(cols), generator=g, dtype=X.dtype)
        X[:, cols] = w / w.sum(-1, keepdim=True)
    return SingleTaskGP(X, Y, covar_module=_product_kernel())


def _scaled_matern(X, Y, V):
    return SingleTaskGP(X[:, :2], Y, outputscale=True)


def _scaled_product(X, Y, V):
    return SingleTaskGP(X, Y, categorical_groups=GROUPS, outputscale=True)


def _scaled_softplus(X, Y, V):
    # gpytorch's own ScaleKernel: Positive (softplus) constraint, Gamma prior.
    kernel = ScaleKernel(
        Matern52Kernel(2, lengthscale_constraint=lower_bound_constraint()),
        outputscale_prior=GammaPrior(2.0, 1.0),
    )
    return SingleTaskGP(X[:, :2], Y, covar_module=kernel)


def _gamma_prior_fused(X, Y, V):
    kernel = Matern52Kernel(
        2,
        lengthscale_prior=GammaPrior(3.0, 6.0),
        lengthscale_constraint=lower_bound_constraint(),
    )
    return SingleTaskGP(X[:, :2], Y, covar_module=kernel)


@pytest.mark.parametrize(
    "make",
    [
        _scaled_matern,
        _scaled_product,
        _scaled_softplus,
        _gamma_prior_fused,
        _relaxed_categorical,
        _relaxed_levelwise,
        _weighted_mixed,
        _softplus_kernel,
        _normal_prior_mean,
        _zero_mean,
        _frozen_noise,
        _frozen_lengthscale,
        _shared_lengthscale,
        _additional_noise,
    ],
)
def test_other_supported_structures_match(make):
    model = make(*_data())
    fast, slow = _pair(model)
    rng = np.random.RandomState(1)
    for _ in range(4):
        theta = fast.get() + rng.randn(fast.get().size)
        _assert_close(fast(theta), slow(theta))


def _gpytorch_matern(X, Y, V):
    return SingleTaskGP(X[:, :2], Y, covar_module=gpytorch.kernels.MaternKernel(2.5))


def _interval_constraint(X, Y, V):
    kernel = Matern52Kernel(2, lengthscale_constraint=Interval(0.01, 10.0))
    return SingleTaskGP(X[:, :2], Y, covar_module=kernel)


def _gamma_prior_untransformed(X, Y, V):
    kernel = Matern52Kernel(2, lengthscale_prior=GammaPrior(3.0, 6.0))
    kernel.raw_lengthscale_constraint._transform = None  # raw value used as is
    with torch.no_grad():
        kernel.raw_lengthscale.fill_(0.5)
    return SingleTaskGP(X[:, :2], Y, covar_module=kernel)


def _scaled_levelwise(X, Y, V):
    return SingleTaskGP(
        X, Y, categorical_groups=GROUPS, mixed_kernel="levelwise", outputscale=True
    )


def _linear_mean(X, Y, V):
    model = SingleTaskGP(X[:, :2], Y)
    model.mean_module = LinearMean(2).to(X)
    return model


def _scale_kernel(X, Y, V):
    kernel = ScaleKernel(gpytorch.kernels.RBFKernel(ard_num_dims=2))
    return SingleTaskGP(X[:, :2], Y, covar_module=kernel)


@pytest.mark.parametrize(
    "make",
    [
        _gpytorch_matern,
        _interval_constraint,
        _gamma_prior_untransformed,
        _linear_mean,
        _scaled_levelwise,
    ],
)
def test_unknown_structures_use_autograd(make):
    model = make(*_data())
    objective = _MAPObjective(model)
    assert objective.fused is None
    value, grad = objective(objective.get())
    assert math.isfinite(value) and np.all(np.isfinite(grad))


def test_custom_kernel_falls_back_and_still_fits():
    X, Y, _ = _data(n=40)
    model = _scale_kernel(X, Y, None)
    assert _MAPObjective(model).fused is None
    result = fit_gp(model)
    assert not result.fallback and result.converged and math.isfinite(result.loss)
    reference = SingleTaskGP(X[:, :2], Y, kernel="rbf")
    # an output scale can only help: the fit is at least as good as the default's
    assert result.loss <= fit_gp(reference).loss + 1e-3
    mean = model.posterior(X[:5, :2]).mean
    assert torch.isfinite(mean).all()


@pytest.mark.parametrize(
    "structure",
    ["matern", "rbf", "matern-fixed", "matern-x-cat", "categorical", "mixed-levelwise"],
)
def test_fit_gp_agrees_between_paths(structure, monkeypatch):
    data = _data(n=40, seed=3)
    fits = {}
    for use_fused in (True, False):
        monkeypatch.setattr(fit_module, "_USE_FUSED", use_fused)
        model = STRUCTURES[structure](*data)
        result = fit_gp(model)
        assert not result.fallback
        fits[use_fused] = (result, model)
    (r_fast, m_fast), (r_slow, m_slow) = fits[True], fits[False]
    assert r_fast.loss == pytest.approx(r_slow.loss, rel=1e-8, abs=1e-10)
    for (name, a), (_, b) in zip(
        m_fast.named_parameters(), m_slow.named_parameters(), strict=True
    ):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6, msg=name)


@pytest.mark.parametrize("structure", ["matern", "matern-x-cat", "categorical-fixed"])
def test_float32(structure, monkeypatch):
    # The float64 references get float32's noise floor: the same model in
    # two precisions.
    import skbo.models.defaults as defaults

    monkeypatch.setattr(
        defaults, "MIN_INFERRED_NOISE", defaults.MIN_INFERRED_NOISE_FLOAT32
    )
    model = STRUCTURES[structure](*_data(n=40, dtype=torch.float32))
    fast, slow = _pair(model)
    exact, _ = _pair(STRUCTURES[structure](*_data(n=40)))
    theta = exact.get() + 0.3
    (lf, gf), (ls, gs), (le, ge) = fast(theta), slow(theta), exact(theta)
    assert gf.dtype == np.float64
    # float32 rounding (both paths) against the float64 values
    scale = np.abs(ge).max()
    assert lf == pytest.approx(le, rel=1e-4)
    np.testing.assert_allclose(gf, ge, rtol=0, atol=5e-3 * scale)
    assert np.abs(gf - ge).max() <= 2 * np.abs(gs - ge).max() + 1e-5 * scale
    assert abs(lf - le) <= 2 * abs(ls - le) + 1e-6 * abs(le)
    result = fit_gp(model)
    assert not result.fallback and math.isfinite(result.loss)
    assert all(p.dtype == torch.float32 for p in model.parameters())
    reference = STRUCTURES[structure](*_data(n=40))
    assert result.loss == pytest.approx(fit_gp(reference).loss, abs=1e-2)


def test_cholesky_failure_raises_numerical_failure(monkeypatch):
    model = STRUCTURES["matern"](*_data())
    objective = _MAPObjective(model)
    assert objective.fused is not None

    def broken(K, max_tries=6):
        raise _NumericalFailure("broken on purpose")

    monkeypatch.setattr(fit_module, "_cholesky_with_jitter", broken)
    with pytest.raises(_NumericalFailure, match="broken on purpose"):
        objective(objective.get())
    with pytest.raises(_NumericalFailure, match="non-finite"):
        objective(np.full(objective.get().size, np.nan))


def test_jitter_path_matches():
    """Duplicated points without noise need jitter; both paths use the same."""
    X, Y, _ = _data(n=10)
    X, Y = torch.cat([X[:, :2], X[:, :2]]), torch.cat([Y, Y])
    model = SingleTaskGP(X, Y, torch.zeros_like(Y))
    model.likelihood.noise_covar.noise = torch.zeros_like(Y)
    fast, slow = _pair(model)
    (lf, gf), (ls, gs) = fast(fast.get()), slow(fast.get())
    # K + jitter has a condition number ~1e9: rounding differences in K grow
    assert lf == pytest.approx(ls, rel=1e-7)
    np.testing.assert_allclose(gf, gs, rtol=1e-6, atol=1e-9 * np.abs(gs).max())
