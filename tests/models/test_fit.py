"""Tests of skbo.models.fit (MAP fitting of GP hyperparameters)."""

from __future__ import annotations

import math

import gpytorch
import numpy as np
import pytest
import torch
from gpytorch.constraints import GreaterThan
from gpytorch.priors import LogNormalPrior

import skbo.models.fit as fit_module
from skbo.exceptions import NumericsWarning, OptimizationWarning
from skbo.models import Matern52Kernel, SingleTaskGP, fit_gp, get_fitted_model
from skbo.models.fit import FitResult, _MAPObjective, _NumericalFailure


def _data(n=20, d=2, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, d, generator=g, dtype=torch.float64)
    Y = torch.sin(5 * X).sum(-1) + 0.05 * torch.randn(
        n, generator=g, dtype=torch.float64
    )
    return X.to(dtype), Y.to(dtype)


def _gp_sample(n, lengthscale, noise_std, seed):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, len(lengthscale), dtype=torch.float64, generator=g)
    k = Matern52Kernel(len(lengthscale)).double()
    k.lengthscale = torch.tensor([lengthscale], dtype=torch.float64)
    with torch.no_grad():
        K = k.dense(X, X) + 1e-8 * torch.eye(n, dtype=torch.float64)
        f = torch.linalg.cholesky(K) @ torch.randn(n, dtype=torch.float64, generator=g)
    return X, f + noise_std * torch.randn(n, dtype=torch.float64, generator=g)


@pytest.mark.parametrize(
    "make",
    [
        lambda X, Y: SingleTaskGP(X, Y),
        lambda X, Y: SingleTaskGP(X, Y, kernel="rbf"),
        lambda X, Y: SingleTaskGP(X, Y, 0.01 + 0.01 * torch.rand_like(Y)),
        lambda X, Y: SingleTaskGP(X, Y, categorical_groups=[[2, 3]]),
    ],
    ids=["matern", "rbf", "fixed-noise", "mixed"],
)
def test_loss_and_gradient_match_gpytorch_mll(make):
    """The hand-written loss is -(log marginal likelihood + log prior) / n."""
    X, Y = _data(n=15, d=4)
    model = make(X, Y)
    objective = _MAPObjective(model)
    theta = objective.get() + 0.3 * np.random.RandomState(0).randn(objective.get().size)
    value, grad = objective(theta)
    model.train()
    mll = gpytorch.mlls.ExactMarginalLogLikelihood(model.likelihood, model)
    for p in model.parameters():
        p.grad = None
    loss = -mll(model(model.train_X), model.train_targets)
    loss.backward()
    ref = torch.cat([p.grad.reshape(-1) for p in objective.params]).numpy()
    assert value == pytest.approx(float(loss.detach()), rel=1e-10)
    np.testing.assert_allclose(grad, ref, rtol=1e-7, atol=1e-10)


def test_recovers_known_lengthscale_and_noise(global_random_seed):
    X, Y = _gp_sample(150, [0.2, 0.4], 0.1, global_random_seed)
    model = SingleTaskGP(X, Y)
    result = fit_gp(model)
    assert isinstance(result, FitResult) and not result.fallback
    ls = model.covar_module.lengthscale.detach().reshape(-1)
    ratio = ls / torch.tensor([0.2, 0.4], dtype=torch.float64)
    assert bool(((ratio > 1 / 1.5) & (ratio < 1.5)).all()), ls
    noise = float(model.likelihood.noise.detach() * model.outcome_transform.std**2)
    assert 0.01 / 3 < noise < 0.01 * 3


def test_map_prior_pulls_hyperparameters():
    X, Y = _data(n=8, d=2)
    free = SingleTaskGP(X, Y)
    fit_gp(free)
    prior = LogNormalPrior(math.log(1.5), 0.01)  # a tight prior wins over 8 points
    tight = SingleTaskGP(X, Y, covar_module=Matern52Kernel(2, lengthscale_prior=prior))
    fit_gp(tight)
    ls_free = free.covar_module.lengthscale.detach()
    ls_tight = tight.covar_module.lengthscale.detach()
    assert torch.allclose(ls_tight, torch.full_like(ls_tight, 1.5), rtol=0.05)
    assert not torch.allclose(ls_free, ls_tight, rtol=0.2)


def test_warm_start_converges_in_fewer_iterations(global_random_seed):
    X, Y = _gp_sample(61, [0.3, 0.5, 0.8], 0.05, global_random_seed)
    first = SingleTaskGP(X[:60], Y[:60])
    fit_gp(first)
    cold = fit_gp(SingleTaskGP(X, Y), ftol=1e-6)  # the warm fits' tolerance
    warm_model = SingleTaskGP(X, Y)
    warm = fit_gp(warm_model, warm_start=first)
    assert warm.start == "warm_start" and cold.start == "prior_mode"
    assert warm.n_evaluations < cold.n_evaluations
    assert warm.loss == pytest.approx(cold.loss, abs=1e-3)
    from_state = fit_gp(SingleTaskGP(X, Y), warm_start=first.state_dict())
    assert from_state.n_evaluations == warm.n_evaluations


def test_warm_start_with_other_shapes_falls_back_to_prior_mode():
    X, Y = _data(d=2)
    other = SingleTaskGP(*_data(d=3))
    result = fit_gp(SingleTaskGP(X, Y), warm_start=other)
    assert result.start == "warm_start"  # noise and mean constant still match
    empty = fit_gp(SingleTaskGP(X, Y), warm_start={})
    assert empty.start == "prior_mode"


def test_failed_warm_start_retries_from_prior_mode():
    X, Y = _data()
    model = SingleTaskGP(X, Y)
    bad = {
        name: torch.full_like(p, float("nan")) for name, p in model.named_parameters()
    }
    result = fit_gp(model, warm_start=bad)
    assert result.start == "prior_mode" and not result.fallback


def test_falls_back_with_warning_when_everything_fails(monkeypatch):
    X, Y = _data()
    model = SingleTaskGP(X, Y)

    def broken(K, max_tries=6):
        raise _NumericalFailure("broken on purpose")

    monkeypatch.setattr(fit_module, "_cholesky_with_jitter", broken)
    with pytest.warns(NumericsWarning, match="broken on purpose"):
        result = fit_gp(model)
    assert result.fallback and math.isnan(result.loss)
    for name, p in model.named_parameters():
        assert torch.equal(p.detach(), model.initial_hyperparameters[name])


def test_falls_back_to_best_point_when_runs_fail_midway(monkeypatch):
    X, Y = _data()
    model = SingleTaskGP(X, Y)
    real = fit_module._cholesky_with_jitter
    calls = {"n": 0}

    def flaky(K, max_tries=6):
        calls["n"] += 1
        if calls["n"] % 3 == 0:
            raise _NumericalFailure("flaky")
        return real(K, max_tries)

    monkeypatch.setattr(fit_module, "_cholesky_with_jitter", flaky)
    with pytest.warns(OptimizationWarning, match="best hyperparameters"):
        result = fit_gp(model)
    assert result.fallback and math.isfinite(result.loss)


def test_jitter_rescues_singular_training_covariance():
    X, Y = _data(n=6)
    X2, Y2 = torch.cat([X, X]), torch.cat([Y, Y])
    model = SingleTaskGP(X2, Y2, torch.zeros_like(Y2))
    model.likelihood.noise_covar.noise = torch.zeros_like(Y2)
    result = fit_gp(model)
    assert not result.fallback and math.isfinite(result.loss)


@pytest.mark.parametrize(
    "case", ["duplicates", "constant", "single", "two"], ids=lambda c: c
)
def test_degenerate_data_fit_without_warnings(case, dtype):
    X, Y = _data(n=8, dtype=dtype)
    if case == "duplicates":
        X, Y = torch.cat([X, X, X]), torch.cat([Y, Y, Y])
    elif case == "constant":
        Y = torch.full_like(Y, -2.0)
    elif case == "single":
        X, Y = X[:1], Y[:1]
    else:
        X, Y = X[:2], Y[:2]
    model = SingleTaskGP(X, Y)
    result = fit_gp(model)
    assert not result.fallback and math.isfinite(result.loss)
    assert torch.isfinite(model.posterior(X).mean).all()


def test_float32_fit(global_random_seed):
    X, Y = _gp_sample(60, [0.3, 0.6], 0.1, global_random_seed)
    m32 = SingleTaskGP(X.float(), Y.float())
    r32 = fit_gp(m32)
    m64 = SingleTaskGP(X, Y)
    r64 = fit_gp(m64)
    assert not r32.fallback and all(p.dtype == torch.float32 for p in m32.parameters())
    assert r32.loss == pytest.approx(r64.loss, abs=1e-2)
    assert torch.allclose(
        m32.covar_module.lengthscale.double(), m64.covar_module.lengthscale, rtol=0.1
    )


def test_fixed_noise_and_mixed_fits():
    X, Y = _data(n=20, d=4)
    fixed = SingleTaskGP(X, Y, torch.full_like(Y, 0.01))
    assert not fit_gp(fixed).fallback
    X[:, 2:] = torch.nn.functional.one_hot(torch.arange(20) % 2, 2).double()
    mixed = SingleTaskGP(X, Y, categorical_groups=[[2, 3]])
    res = fit_gp(mixed)
    assert not res.fallback and res.converged


def test_untransformed_constraints_become_bounds():
    X, Y = _data(n=25, d=1)
    kernel = Matern52Kernel(1, lengthscale_constraint=GreaterThan(0.5, transform=None))
    kernel.lengthscale = 0.8
    model = SingleTaskGP(X, Y, covar_module=kernel)
    lower, upper = _MAPObjective(model).bounds()
    assert np.isfinite(lower).sum() == 1 and not np.isfinite(upper).any()
    fit_gp(model)
    assert float(model.covar_module.lengthscale.detach()) >= 0.5 - 1e-12
    lower, upper = _MAPObjective(SingleTaskGP(X, Y)).bounds()
    assert np.isneginf(lower).all() and np.isposinf(upper).all()


def test_threads_restored_and_model_in_eval_mode():
    before = torch.get_num_threads()
    model = SingleTaskGP(*_data())
    fit_gp(model, n_threads=1)
    assert torch.get_num_threads() == before
    assert not model.training


def test_get_fitted_model():
    X, Y = _data()
    model = get_fitted_model(X, Y, kernel="rbf", max_iter=50)
    assert isinstance(model, SingleTaskGP) and not model.training
    assert model.posterior(X[:3]).mean.shape == (3,)


def test_argument_validation():
    model = SingleTaskGP(*_data())
    with pytest.raises(TypeError, match="SingleTaskGP"):
        fit_gp(torch.nn.Linear(2, 1))
    with pytest.raises(ValueError, match="max_iter"):
        fit_gp(model, max_iter=0)
    with pytest.raises(ValueError, match="ftol"):
        fit_gp(model, ftol=0.0)
    with pytest.raises(TypeError, match="warm_start"):
        fit_gp(model, warm_start=[1, 2])
    with pytest.raises(ValueError, match="n_threads"):
        fit_gp(model, n_threads=0)


@pytest.mark.cuda
def test_fit_on_cuda_matches_cpu():
    X, Y = _data(n=30, d=3)
    cpu, gpu = SingleTaskGP(X, Y), SingleTaskGP(X.cuda(), Y.cuda())
    r_cpu, r_gpu = fit_gp(cpu), fit_gp(gpu)
    assert not r_gpu.fallback
    assert r_gpu.loss == pytest.approx(r_cpu.loss, abs=1e-6)
    assert torch.allclose(
        gpu.covar_module.lengthscale.cpu(), cpu.covar_module.lengthscale, rtol=1e-3
    )


def test_large_cold_fits_start_from_a_subset_fit(monkeypatch):
    g = torch.Generator().manual_seed(0)
    X = torch.rand(450, 3, generator=g, dtype=torch.float64)
    Y = torch.sin(5 * X).sum(-1) + 0.05 * torch.randn(450, generator=g).double()
    model = SingleTaskGP(X, Y)
    result = fit_gp(model)
    assert result.start == "subset" and result.converged
    # The same optimum as a plain cold fit from the prior mode.
    monkeypatch.setattr(fit_module, "_SUBSET_ABOVE", 10_000)
    cold = SingleTaskGP(X, Y)
    reference = fit_gp(cold)
    assert reference.start == "prior_mode"
    assert result.loss <= reference.loss + 1e-4
    # A warm start, fixed noise or a small data set skip the subset.
    assert fit_gp(SingleTaskGP(X, Y), warm_start=model).start == "warm_start"
    monkeypatch.undo()
    fixed = SingleTaskGP(X, Y, train_Yvar=torch.full_like(Y, 1e-2))
    assert fit_gp(fixed).start == "prior_mode"
    assert fit_gp(SingleTaskGP(X[:100], Y[:100])).start == "prior_mode"


def test_default_tolerance_is_loose_cold_and_tight_warm(global_random_seed):
    X, Y = _gp_sample(80, [0.3, 0.5, 0.8], 0.05, global_random_seed)
    tight = fit_gp(SingleTaskGP(X, Y), ftol=1e-6)
    cold = fit_gp(SingleTaskGP(X, Y))
    assert cold.start == "prior_mode"
    assert cold.n_evaluations <= tight.n_evaluations
    # the loose tolerance trims the last steps only (loss per observation)
    assert cold.loss == pytest.approx(tight.loss, abs=2e-3)
    first = SingleTaskGP(X[:70], Y[:70])
    fit_gp(first)
    warm = fit_gp(SingleTaskGP(X, Y), warm_start=first)
    explicit = fit_gp(SingleTaskGP(X, Y), warm_start=first, ftol=1e-6)
    assert warm.start == "warm_start"
    assert warm.n_evaluations == explicit.n_evaluations
    assert warm.loss == explicit.loss
    with pytest.raises(ValueError, match="ftol must be None or a positive float"):
        fit_gp(SingleTaskGP(X, Y), ftol=0.0)
