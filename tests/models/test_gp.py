"""Tests of skbo.models.gp (SingleTaskGP) and its cached prediction."""

from __future__ import annotations

import copy
import math
import pickle

import gpytorch
import numpy as np
import pytest
import torch
from gpytorch.models import ExactGP
from scipy.spatial.distance import cdist

from skbo.exceptions import InputDataError, NumericsWarning
from skbo.models import CategoricalKernel, Model, SingleTaskGP
from skbo.models._prediction import JointGaussianPosterior
from skbo.models.defaults import MIN_INFERRED_NOISE, MIN_INFERRED_NOISE_FLOAT32
from skbo.posteriors import GaussianPosterior


def _data(n=12, d=2, seed=0, dtype=torch.float64, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, d, generator=g, dtype=torch.float64)
    Y = torch.sin(4 * X).sum(-1) + 0.1 * torch.randn(
        n, generator=g, dtype=torch.float64
    )
    return X.to(device=device, dtype=dtype), Y.to(device=device, dtype=dtype)


def _set_hypers(model, ls, noise, const):
    model.covar_module.lengthscale = torch.as_tensor(ls, dtype=model.train_X.dtype)
    model.likelihood.noise = torch.as_tensor(noise, dtype=model.train_X.dtype)
    model.mean_module.constant = torch.as_tensor(const, dtype=model.train_X.dtype)


def _np_posterior(X, Y, Xt, ls, noise, const):
    """Closed-form Matern-5/2 GP posterior with standardized outcomes."""
    mu, sd = Y.mean(), Y.std(ddof=1)
    ys = (Y - mu) / sd

    def k(A, B):
        r = cdist(A / ls, B / ls)
        return (1 + math.sqrt(5) * r + 5 / 3 * r**2) * np.exp(-math.sqrt(5) * r)

    K = k(X, X) + noise * np.eye(len(X))
    Ks = k(Xt, X)
    mean = const + Ks @ np.linalg.solve(K, ys - const)
    cov = k(Xt, Xt) - Ks @ np.linalg.solve(K, Ks.T)
    return mu + sd * mean, sd**2 * cov


def test_class_structure():
    assert SingleTaskGP.__mro__[1] is ExactGP
    X, Y = _data()
    model = SingleTaskGP(X, Y)
    assert isinstance(model, Model) and isinstance(model, ExactGP)
    assert model.num_outputs == 1


def test_defaults(dtype):
    X, Y = _data(d=6, dtype=dtype)
    model = SingleTaskGP(X, Y)
    assert isinstance(model.likelihood, gpytorch.likelihoods.GaussianLikelihood)
    assert float(model.likelihood.noise.detach()) == pytest.approx(
        math.exp(-5.0), rel=1e-5
    )
    assert float(
        model.likelihood.noise_covar.raw_noise_constraint.lower_bound
    ) == pytest.approx(
        MIN_INFERRED_NOISE if dtype == torch.float64 else MIN_INFERRED_NOISE_FLOAT32
    )
    mode = math.exp(-1.0)  # LogNormal(0, 1) at d = 6
    assert torch.allclose(
        model.covar_module.lengthscale, torch.full((1, 6), mode, dtype=dtype)
    )
    assert all(p.dtype == dtype for p in model.parameters())
    assert torch.allclose(
        model.train_targets.mean(), torch.zeros((), dtype=dtype), atol=1e-6
    )
    assert torch.allclose(model.train_Y, Y)
    assert not any("outputscale" in name for name, _ in model.named_parameters())


def test_posterior_matches_closed_form(dtype, device):
    X, Y = _data(n=10, d=2, dtype=dtype, device=device)
    model = SingleTaskGP(X, Y)
    ls, noise, const = [0.3, 0.6], 0.05, 0.2
    _set_hypers(model, ls, noise, const)
    Xt = torch.rand(4, 2, dtype=dtype, device=device)
    post = model.posterior(Xt)
    mean, cov = _np_posterior(
        X.cpu().double().numpy(),
        Y.cpu().double().numpy(),
        Xt.cpu().double().numpy(),
        np.array(ls),
        noise,
        const,
    )
    tol = 1e-9 if dtype == torch.float64 else 1e-3
    np.testing.assert_allclose(post.mean.detach().cpu().numpy(), mean, atol=tol)
    np.testing.assert_allclose(post.covariance.detach().cpu().numpy(), cov, atol=tol)
    noisy = model.posterior(Xt, observation_noise=True)
    sd2 = float(model.outcome_transform.std) ** 2
    np.testing.assert_allclose(
        (noisy.variance - post.variance).detach().cpu().numpy(), noise * sd2, rtol=1e-4
    )


def test_posterior_matches_gpytorch_prediction():
    X, Y = _data(n=15, d=3)
    model = SingleTaskGP(X, Y)
    _set_hypers(model, [0.2, 0.5, 1.1], 0.01, -0.3)
    Xt = torch.rand(6, 3, dtype=torch.float64)
    post = model.posterior(Xt)
    noisy = model.posterior(Xt, observation_noise=True)
    model.eval()
    with torch.no_grad():
        mvn = model(Xt)
        pred = model.likelihood(mvn)
    tf = model.outcome_transform
    assert torch.allclose(post.mean, tf.untransform(mvn.mean), atol=1e-10)
    assert torch.allclose(
        post.covariance, tf.untransform_covariance(mvn.covariance_matrix), atol=1e-10
    )
    assert torch.allclose(
        noisy.covariance, tf.untransform_covariance(pred.covariance_matrix), atol=1e-10
    )


@pytest.mark.parametrize("groups", [None, [[1, 2, 3]]])
def test_joint_posterior_equals_posterior_on_concatenation(groups, global_random_seed):
    X, Y = _data(n=14, d=5, seed=global_random_seed)
    model = SingleTaskGP(X, Y, categorical_groups=groups)
    Xb = X[:4]
    g = torch.Generator().manual_seed(global_random_seed + 1)
    Xq = torch.rand(7, 2, 5, dtype=torch.float64, generator=g)
    joint = model.joint_posterior(Xb, Xq)
    assert isinstance(joint, GaussianPosterior) and isinstance(
        joint, JointGaussianPosterior
    )
    full = model.posterior(torch.cat([Xb.expand(7, 4, 5), Xq], dim=-2))
    assert joint.mean.shape == (7, 6) and joint.covariance.shape == (7, 6, 6)
    assert torch.allclose(joint.mean, full.mean, atol=1e-10)
    assert torch.allclose(joint.covariance, full.covariance, atol=1e-10)
    assert torch.allclose(joint.variance, full.variance, atol=1e-10)
    L = joint.scale_tril
    assert torch.allclose(L @ L.mT, full.covariance, atol=1e-8)
    base = torch.randn(32, 6, dtype=torch.float64, generator=g)
    assert torch.allclose(
        joint.rsample_from_base_samples(base),
        full.rsample_from_base_samples(base),
        atol=1e-7,
    )
    with pytest.raises(ValueError, match="base_samples"):
        joint.rsample_from_base_samples(torch.randn(4, 5))


def test_joint_posterior_caches_baseline_and_detects_changes():
    X, Y = _data(n=10, d=2)
    model = SingleTaskGP(X, Y)
    Xb = X[:3].clone()
    model.joint_posterior(Xb, torch.rand(2, 1, 2, dtype=torch.float64))
    block = model.predictor().baseline
    model.joint_posterior(Xb, torch.rand(5, 1, 2, dtype=torch.float64))
    assert model.predictor().baseline is block
    Xb.add_(0.01)  # in-place change: recomputed
    post = model.joint_posterior(Xb, X[:1].unsqueeze(0))
    assert model.predictor().baseline is not block
    assert torch.allclose(post.mean[0, :3], model.posterior(Xb).mean, atol=1e-10)
    assert model.joint_posterior(X[:0], X[:2]).mean.shape == (2,)


def test_joint_posterior_gradient_flows():
    X, Y = _data(n=10, d=2)
    model = SingleTaskGP(X, Y)
    Xq = torch.rand(3, 2, 2, dtype=torch.float64, requires_grad=True)
    post = model.joint_posterior(X[:4], Xq)
    samples = post.rsample_from_base_samples(torch.randn(8, 6, dtype=torch.float64))
    samples.sum().backward()
    assert Xq.grad is not None and torch.isfinite(Xq.grad).all()


def test_posterior_gradcheck():
    X, Y = _data(n=8, d=2)
    model = SingleTaskGP(X, Y)
    Xq = torch.rand(3, 2, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: model.posterior(x).mean, (Xq,))
    assert torch.autograd.gradcheck(lambda x: model.posterior(x).variance, (Xq,))
    assert torch.autograd.gradcheck(lambda x: model.posterior(x).covariance, (Xq,))
    # at a training point the gradient is finite
    x0 = X[:1].clone().unsqueeze(0).requires_grad_(True)
    model.posterior(x0).variance.sum().backward()
    assert torch.isfinite(x0.grad).all()


def test_posterior_does_not_track_hyperparameters():
    X, Y = _data()
    model = SingleTaskGP(X, Y)
    Xq = torch.rand(4, 1, 2, dtype=torch.float64, requires_grad=True)
    post = model.posterior(Xq)
    (post.mean + post.variance).sum().backward()
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("shape", [(3, 2), (512, 1, 2), (2, 3, 4, 2)])
def test_posterior_shapes(shape, dtype):
    X, Y = _data(dtype=dtype)
    model = SingleTaskGP(X, Y)
    post = model.posterior(torch.rand(*shape, dtype=dtype))
    assert post.mean.shape == shape[:-1] and post.variance.shape == shape[:-1]
    assert post.covariance.shape == (*shape[:-1], shape[-2])
    assert post.dtype == dtype
    assert bool((post.variance > 0).all())


def test_fixed_noise(dtype):
    X, Y = _data(dtype=dtype)
    Yvar = torch.full_like(Y, 0.04)
    model = SingleTaskGP(X, Y, Yvar)
    lik = model.likelihood
    assert isinstance(lik, gpytorch.likelihoods.FixedNoiseGaussianLikelihood)
    sd2 = model.outcome_transform.std.square()
    assert torch.allclose(lik.noise, Yvar / sd2)
    assert not any("noise" in name for name, _ in model.named_parameters())
    Xt = torch.rand(3, 2, dtype=dtype)
    gap = (
        model.posterior(Xt, observation_noise=True).variance
        - model.posterior(Xt).variance
    )
    assert torch.allclose(gap, torch.full_like(gap, 0.04), rtol=1e-4)
    zero = SingleTaskGP(
        X, Y, torch.zeros_like(Y)
    )  # clamped quietly to gpytorch's floor
    assert bool((zero.likelihood.noise > 0).all())


def test_degenerate_data_do_not_crash():
    X, Y = _data(n=6)
    dup = SingleTaskGP(torch.cat([X, X]), torch.cat([Y, Y]))
    assert torch.isfinite(dup.posterior(X).mean).all()
    const = SingleTaskGP(X, torch.full_like(Y, 3.0))
    assert torch.allclose(const.posterior(X).mean, torch.full_like(Y, 3.0), atol=1e-6)
    one = SingleTaskGP(X[:1], Y[:1])
    assert torch.allclose(one.posterior(X[:1]).mean, Y[:1], atol=0.05)


def test_duplicates_with_zero_noise_use_jitter():
    X, Y = _data(n=5)
    model = SingleTaskGP(
        torch.cat([X, X]), torch.cat([Y, Y]), torch.zeros(10, dtype=X.dtype)
    )
    model.covar_module.lengthscale = 5.0
    model.likelihood.noise_covar.noise = torch.zeros(10, dtype=X.dtype)
    with pytest.warns(NumericsWarning, match="jitter"):
        post = model.posterior(X)
    assert torch.isfinite(post.mean).all()


def test_cache_is_reused_and_invalidated():
    X, Y = _data()
    model = SingleTaskGP(X, Y)
    Xt = torch.rand(3, 2, dtype=torch.float64)
    m0 = model.posterior(Xt).mean
    pred = model.predictor()
    assert model.predictor() is pred
    model.covar_module.lengthscale = 0.05  # changed in place: detected
    m1 = model.posterior(Xt).mean
    assert model.predictor() is not pred and not torch.allclose(m0, m1)
    state = copy.deepcopy(model.state_dict())
    model.covar_module.lengthscale = 0.9
    model.load_state_dict(state)
    assert torch.allclose(model.posterior(Xt).mean, m1)
    pred = model.predictor()
    model.train()
    assert model._predictor is None
    model.eval()
    model.set_train_data(X[:5], model.train_targets[:5], strict=False)
    assert model.predictor() is not pred and model.predictor().L.shape == (5, 5)


def test_pinned_predictor_skips_the_check_until_the_block_ends(monkeypatch):
    X, Y = _data()
    model = SingleTaskGP(X, Y)

    def no_check():
        raise AssertionError("hyperparameters checked while pinned")

    with model.pinned_predictor() as pred:
        monkeypatch.setattr(model, "_state_fingerprint", no_check)
        assert model.predictor() is pred
        with model.pinned_predictor() as inner:  # nested: same predictor
            assert inner is pred
        assert model.predictor() is pred
        monkeypatch.undo()
    model.covar_module.lengthscale = 0.05  # outside the block: detected again
    assert model.predictor() is not pred


def test_pinned_predictor_ends_when_the_model_changes():
    X, Y = _data()
    model = SingleTaskGP(X, Y)
    with model.pinned_predictor() as pred:
        model.set_train_data(X[:5], model.train_targets[:5], strict=False)
        assert model.predictor() is not pred
        assert model.predictor().L.shape == (5, 5)
    with model.pinned_predictor():
        clone = pickle.loads(pickle.dumps(model))
        assert clone._pinned is None
    assert model._pinned is None


def test_optimize_acqf_pins_the_model(monkeypatch):
    from skbo.acquisition import qLogNoisyExpectedImprovement
    from skbo.optim import optimize_acqf

    X, Y = _data()
    model = SingleTaskGP(X, Y)
    acqf = qLogNoisyExpectedImprovement(model, X_baseline=X)
    calls = []
    original = SingleTaskGP._state_fingerprint

    def counting(self):
        calls.append(1)
        return original(self)

    monkeypatch.setattr(SingleTaskGP, "_state_fingerprint", counting)
    bounds = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    optimize_acqf(acqf, bounds, q=1, num_restarts=4, raw_samples=64, seed=0)
    assert len(calls) == 1  # once at entry, not once per acquisition call
    assert model._pinned is None


def test_mixed_and_categorical_models():
    X, Y = _data(n=10, d=5)
    X[:, 2:5] = torch.nn.functional.one_hot(torch.arange(10) % 3, 3).double()
    model = SingleTaskGP(X, Y, categorical_groups=[[2, 3, 4]])
    assert isinstance(model.covar_module, gpytorch.kernels.ProductKernel)
    assert model.posterior(torch.rand(4, 1, 5, dtype=torch.float64)).mean.shape == (
        4,
        1,
    )
    cat_only = SingleTaskGP(X[:, 2:], Y, categorical_groups=[[0, 1, 2]])
    assert isinstance(cat_only.covar_module, CategoricalKernel)


def test_custom_covar_module_and_rbf():
    X, Y = _data()
    k = gpytorch.kernels.ScaleKernel(gpytorch.kernels.MaternKernel(nu=1.5))
    model = SingleTaskGP(X, Y, covar_module=k, standardize=False)
    assert model.outcome_transform is None
    Xt = torch.rand(4, 2, dtype=torch.float64)
    post = model.posterior(Xt)
    model.eval()
    with torch.no_grad():
        mvn = model(Xt)
    assert torch.allclose(post.mean, mvn.mean, atol=1e-8)
    assert torch.allclose(post.covariance, mvn.covariance_matrix, atol=1e-8)
    rbf = SingleTaskGP(X, Y, kernel="rbf")
    assert type(rbf.covar_module).__name__ == "RBFKernel"


def test_copy_and_pickle():
    X, Y = _data()
    model = SingleTaskGP(X, Y)
    model.posterior(X)
    Xt = torch.rand(3, 2, dtype=torch.float64)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert torch.allclose(clone.posterior(Xt).mean, model.posterior(Xt).mean)


def test_input_validation():
    X, Y = _data()
    with pytest.raises(TypeError, match=r"train_X must be a torch\.Tensor"):
        SingleTaskGP(X.numpy(), Y)
    with pytest.raises(TypeError, match="float32 or float64"):
        SingleTaskGP(X.long(), Y)
    with pytest.raises(InputDataError, match=r"shape \(n, d\)"):
        SingleTaskGP(X[0], Y)
    with pytest.raises(InputDataError, match="at least one row"):
        SingleTaskGP(X[:0], Y[:0])
    with pytest.raises(InputDataError, match="squeeze"):
        SingleTaskGP(X, Y.unsqueeze(-1))
    with pytest.raises(InputDataError, match="rows but train_X has"):
        SingleTaskGP(X, Y[:-1])
    bad = Y.clone()
    bad[0] = float("nan")
    with pytest.raises(InputDataError, match="NaN or infinite"):
        SingleTaskGP(X, bad)
    Xinf = X.clone()
    Xinf[1, 1] = float("inf")
    with pytest.raises(InputDataError, match="train_X contains NaN"):
        SingleTaskGP(Xinf, Y)
    with pytest.raises(InputDataError, match="non-negative"):
        SingleTaskGP(X, Y, -torch.ones_like(Y))
    with pytest.raises(ValueError, match="kernel must be"):
        SingleTaskGP(X, Y, kernel="linear")
    for groups in ([[0, 5]], [[0], [0]], [[]], "ab", [[True]]):
        with pytest.raises(ValueError, match="categorical_groups"):
            SingleTaskGP(X, Y, categorical_groups=groups)
    with pytest.raises(TypeError, match="covar_module"):
        SingleTaskGP(X, Y, covar_module=torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="not both"):
        SingleTaskGP(
            X, Y, covar_module=gpytorch.kernels.RBFKernel(), categorical_groups=[[0]]
        )


def test_posterior_input_validation():
    X, Y = _data()
    model = SingleTaskGP(X, Y)
    with pytest.raises(InputDataError, match="d=2"):
        model.posterior(torch.rand(3, 3, dtype=torch.float64))
    with pytest.raises(InputDataError, match=r"\(\*batch, q, d\)"):
        model.posterior(torch.rand(2, dtype=torch.float64))
    with pytest.raises(TypeError, match="float32"):
        model.posterior(torch.rand(3, 2))
    with pytest.raises(TypeError, match=r"torch\.Tensor"):
        model.posterior([[0.1, 0.2]])
    with pytest.raises(InputDataError, match=r"\(n_b, d\)"):
        model.joint_posterior(torch.rand(1, 2, 2, dtype=torch.float64), X[:1])


def test_float32_model():
    X, Y = _data(dtype=torch.float32)
    model = SingleTaskGP(X, Y)
    post = model.posterior(torch.rand(5, 1, 2))
    assert post.mean.dtype == torch.float32 and torch.isfinite(post.variance).all()


@pytest.mark.cuda
def test_posterior_on_cuda_matches_cpu():
    X, Y = _data(n=20, d=3)
    Xt = torch.rand(8, 2, 3, dtype=torch.float64)
    cpu = SingleTaskGP(X, Y)
    gpu = SingleTaskGP(X.cuda(), Y.cuda())
    a, b = cpu.posterior(Xt), gpu.posterior(Xt.cuda())
    assert b.mean.device.type == "cuda"
    assert torch.allclose(a.mean, b.mean.cpu(), atol=1e-8)
    assert torch.allclose(a.covariance, b.covariance.cpu(), atol=1e-8)
    j = gpu.joint_posterior(X[:4].cuda(), Xt.cuda())
    assert torch.allclose(j.mean.cpu(), cpu.joint_posterior(X[:4], Xt).mean, atol=1e-8)


def test_priors_and_constraints_follow_to():
    X, Y = _data()
    model = SingleTaskGP(X.float(), Y.float())
    for _, _, prior, _, _ in model.named_priors():
        assert prior.loc.dtype == torch.float32 and prior.scale.dtype == torch.float32
    model = model.to(torch.float64)
    for _, _, prior, _, _ in model.named_priors():
        assert prior.loc.dtype == torch.float64
    for _, constraint in model.named_constraints():
        assert constraint.lower_bound.dtype == torch.float64


@pytest.mark.parametrize("q", [1, 3])
def test_joint_posterior_new_samples_and_cached_baseline_samples(q, dtype):
    X, Y = _data(n=12, d=3)
    model = SingleTaskGP(X.to(dtype), Y.to(dtype))
    Xb = model.train_X[:5]
    g = torch.Generator().manual_seed(2)
    Xq = torch.rand(4, q, 3, generator=g).to(dtype)
    joint = model.joint_posterior(Xb, Xq)
    assert joint.q == 5 + q and joint.dtype == dtype
    full = model.posterior(torch.cat([Xb.expand(4, 5, 3), Xq], dim=-2))
    tol = {"rtol": 1e-4, "atol": 1e-4} if dtype == torch.float32 else {}
    torch.testing.assert_close(joint.variance, full.variance, **tol)
    base = torch.randn(16, 5 + q, generator=g).to(dtype)
    samples = joint.rsample_from_base_samples(base)
    new = joint.rsample_new_from_base_samples(base)
    assert new.shape == (16, 4, q)
    torch.testing.assert_close(new, samples[..., 5:])
    fb = joint.baseline.samples(base)
    torch.testing.assert_close(fb.unsqueeze(1).expand(16, 4, 5), samples[..., :5])
    # Computed once per base-samples tensor, recomputed after an in-place change.
    assert model.joint_posterior(Xb, Xq).baseline.samples(base) is fb
    base.mul_(2.0)
    assert joint.baseline.samples(base) is not fb
    with pytest.raises(ValueError, match="base_samples"):
        joint.rsample_new_from_base_samples(base[:, :2])


def test_pickle_and_deepcopy_after_prediction() -> None:
    import copy
    import pickle

    X = torch.rand(8, 2, dtype=torch.float64)
    model = SingleTaskGP(X, X.sum(-1))
    Xt = torch.rand(3, 1, 2, dtype=torch.float64)
    mean = model.posterior(Xt).mean
    model.joint_posterior(X[:2], Xt).mean  # fills the baseline cache too
    for clone in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        assert torch.allclose(clone.posterior(Xt).mean, mean)
    assert model._predictor is not None  # the original keeps its cache


def test_levelwise_mixed_kernel_fits_predicts_and_pickles():
    from skbo.models import fit_gp
    from skbo.models.kernels import MixedKernel

    g = torch.Generator().manual_seed(0)
    hot = torch.nn.functional.one_hot(torch.randint(3, (20,), generator=g), 3)
    X = torch.cat([torch.rand(20, 2, generator=g), hot], -1).double()
    # Each level has its own optimum in the continuous columns.
    centre = torch.tensor([[0.2, 0.2], [0.8, 0.5], [0.5, 0.9]]).double()
    Y = -((X[:, :2] - hot.double() @ centre) ** 2).sum(-1)
    model = SingleTaskGP(X, Y, categorical_groups=[[2, 3, 4]], mixed_kernel="levelwise")
    assert isinstance(model.covar_module, MixedKernel)
    assert not fit_gp(model).fallback
    post = model.posterior(X[:5].unsqueeze(-2))
    assert torch.isfinite(post.mean).all() and (post.variance > 0).all()
    clone = pickle.loads(pickle.dumps(model))
    torch.testing.assert_close(clone.posterior(X[:5].unsqueeze(-2)).mean, post.mean)
    with pytest.raises(ValueError, match="mixed"):
        SingleTaskGP(X, Y, categorical_groups=[[2, 3, 4]], mixed_kernel="sum")


def test_coinciding_points_sample_quietly() -> None:
    # A candidate equal to a pending point makes the joint covariance
    # singular; the acquisition optimizer meets this routinely.
    import warnings

    cov = torch.ones(1, 2, 2, dtype=torch.float64)  # two identical points
    post = GaussianPosterior(torch.zeros(1, 2, dtype=torch.float64), cov)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        samples = post.rsample_from_base_samples(torch.randn(8, 2, dtype=torch.float64))
    assert samples.shape == (8, 1, 2)
    torch.testing.assert_close(samples[..., 0], samples[..., 1], atol=1e-3, rtol=0)
