"""Tests of skbo.acquisition.monte_carlo: qEI, qNEI, qUCB, qPI, qSR, pruning."""

from __future__ import annotations

import math

import pytest
import torch
from scipy.stats import norm

from skbo.acquisition.analytic import (
    ExpectedImprovement,
    ProbabilityOfImprovement,
    UpperConfidenceBound,
)
from skbo.acquisition.monte_carlo import (
    prune_inferior_points,
    qExpectedImprovement,
    qNoisyExpectedImprovement,
    qProbabilityOfImprovement,
    qSimpleRegret,
    qUpperConfidenceBound,
)
from skbo.sampling import IIDNormalSampler, SobolQMCNormalSampler
from skbo.utils.testing import MockModel, MockPosterior, ToyGPModel

CPU = torch.device("cpu")


def _sobol(S=4096, seed=0):
    return SobolQMCNormalSampler(S, seed=seed)


def _toy_gp(device=CPU, dtype=torch.float64, n=8, d=2, seed=0, noise=1e-3):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, d, generator=g, dtype=torch.float64)
    Y = torch.sin(3 * X).sum(-1)
    return ToyGPModel(X.to(device, dtype), Y.to(device, dtype), noise=noise), X.to(
        device, dtype
    )


def _random_q1_mock(b, device, dtype, seed, best_f):
    """Means and variances with z = (mu - best_f) / sigma in [-2, 2]."""
    g = torch.Generator().manual_seed(seed)
    sigma = 0.2 + 2 * torch.rand(b, 1, generator=g, dtype=torch.float64)
    z = 4 * torch.rand(b, 1, generator=g, dtype=torch.float64) - 2
    mean = best_f + z * sigma
    return MockModel(
        MockPosterior(mean.to(device, dtype), variance=(sigma**2).to(device, dtype))
    )


def test_qei_matches_analytic_ei_on_random_models(device, dtype, global_random_seed):
    b, best_f = 30, 0.4
    model = _random_q1_mock(b, device, dtype, global_random_seed, best_f)
    X = torch.zeros(b, 1, 2, device=device, dtype=dtype)
    mc = qExpectedImprovement(model, best_f, sampler=_sobol())(X)
    exact = ExpectedImprovement(model, best_f)(X)
    torch.testing.assert_close(mc, exact, rtol=1e-2, atol=0)


def test_qei_matches_analytic_ei_on_a_toy_gp():
    model, _ = _toy_gp()
    X = torch.rand(
        50, 1, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64
    )
    best_f = 1.2
    exact = ExpectedImprovement(model, best_f)(X)
    keep = exact > 1e-3 * exact.max()  # where EI is not vanishing
    assert int(keep.sum()) > 10
    mc = qExpectedImprovement(model, best_f, sampler=_sobol())(X)
    torch.testing.assert_close(mc[keep], exact[keep], rtol=1e-2, atol=0)


def test_qucb_and_qpi_match_analytic_for_q1(device, dtype, global_random_seed):
    b, best_f = 30, -0.1
    model = _random_q1_mock(b, device, dtype, global_random_seed, best_f)
    X = torch.zeros(b, 1, 2, device=device, dtype=dtype)
    ucb = UpperConfidenceBound(model, beta=2.0)(X)
    torch.testing.assert_close(
        qUpperConfidenceBound(model, 2.0, sampler=_sobol())(X),
        ucb,
        rtol=1e-2,
        atol=1e-3,
    )
    pi = ProbabilityOfImprovement(model, best_f)(X)
    qpi = qProbabilityOfImprovement(model, best_f, sampler=_sobol(), tau=1e-4)(X)
    torch.testing.assert_close(qpi, pi, rtol=0, atol=2e-3)


def test_joint_q_batch_against_explicit_samples():
    samples = torch.tensor(
        [[[0.0, 2.0]], [[3.0, 1.0]], [[-1.0, -2.0]], [[0.5, 0.7]]], dtype=torch.float64
    )
    model = MockModel(
        MockPosterior(torch.zeros(1, 2, dtype=torch.float64), samples=samples)
    )
    sampler = IIDNormalSampler(4, seed=0)
    X = torch.zeros(1, 2, 3, dtype=torch.float64)
    best_f = 1.0
    per_sample_max = samples.amax(-1).squeeze(-1)  # [2, 3, -1, 0.7]
    qei = qExpectedImprovement(model, best_f, sampler=sampler)(X)
    assert qei.item() == pytest.approx(
        float((per_sample_max - best_f).clamp_min(0).mean())
    )
    qsr = qSimpleRegret(model, sampler=sampler)(X)
    assert qsr.item() == pytest.approx(float(per_sample_max.mean()))
    qpi = qProbabilityOfImprovement(model, best_f, sampler=sampler, tau=1e-6)(X)
    assert qpi.item() == pytest.approx(0.5)
    beta = 3.0
    mean = samples.mean(0)
    ucb_samples = mean + math.sqrt(beta * math.pi / 2) * (samples - mean).abs()
    qucb = qUpperConfidenceBound(model, beta, sampler=sampler)(X)
    assert qucb.item() == pytest.approx(float(ucb_samples.amax(-1).mean()))


def test_qei_batch_improves_on_a_single_point():
    model, _ = _toy_gp()
    acqf = qExpectedImprovement(model, 1.0, sampler=_sobol(512))
    g = torch.Generator().manual_seed(2)
    X = torch.rand(6, 3, 2, generator=g, dtype=torch.float64)
    joint = acqf(X)
    singles = acqf(X.reshape(18, 1, 2)).reshape(6, 3)
    assert bool((joint >= singles.amax(-1) - 1e-12).all())
    assert bool((joint <= singles.sum(-1) + 1e-12).all())


def test_pending_equal_to_the_candidate_adds_no_improvement():
    model, _ = _toy_gp()
    x = torch.tensor([[0.3, 0.6]], dtype=torch.float64)
    far = torch.tensor([[0.95, 0.05]], dtype=torch.float64)
    plain = qExpectedImprovement(model, 1.0, sampler=_sobol(512))
    pending = qExpectedImprovement(model, 1.0, sampler=_sobol(512), X_pending=x)
    value_pending_alone = plain(x)
    # The joint value of {x, x} is that of x alone: x adds nothing.
    torch.testing.assert_close(pending(x), value_pending_alone, rtol=1e-3, atol=1e-8)
    assert pending(far) > value_pending_alone * 1.01


def test_qnei_equals_qei_when_the_incumbent_is_known(device, dtype):
    # Baseline samples are deterministic (zero variance): max(Y_b) = 1.5.
    mean = torch.tensor([[1.0, 1.5, 0.2, 1.3]], device=device, dtype=dtype)
    var = torch.tensor([[0.0, 0.0, 0.0, 0.6]], device=device, dtype=dtype)
    model = MockModel(MockPosterior(mean, variance=var))
    X_baseline = torch.rand(3, 2, device=device, dtype=dtype)
    nei = qNoisyExpectedImprovement(
        model, X_baseline, sampler=_sobol(), prune_baseline=False
    )
    X = torch.rand(1, 1, 2, device=device, dtype=dtype)
    value = nei(X)
    assert model.last_X.shape == (1, 4, 2)
    z = (1.3 - 1.5) / math.sqrt(0.6)
    exact = math.sqrt(0.6) * (norm.pdf(z) + z * norm.cdf(z))
    assert value.item() == pytest.approx(exact, rel=1e-2)


def test_qnei_baseline_is_pruned_and_exposed():
    model, X = _toy_gp(n=12, noise=1e-4)
    nei = qNoisyExpectedImprovement(model, X, sampler=_sobol(256))
    assert "X_baseline" in dict(nei.named_buffers())
    assert 1 <= nei.X_baseline.shape[0] < X.shape[0]
    full = qNoisyExpectedImprovement(
        model, X, sampler=_sobol(256), prune_baseline=False
    )
    assert torch.equal(full.X_baseline, X)
    Xc = torch.rand(
        20, 1, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64
    )
    # Pruning drops only points that are rarely the best: little changes.
    pruned_values, full_values = nei(Xc), full(Xc)
    assert float((pruned_values - full_values).abs().max()) < 0.05 * float(
        full_values.max()
    )


def test_qnei_pruning_draws_iid_samples_seeded_by_the_sampler(monkeypatch):
    # Pruning needs rough frequencies only: i.i.d. draws (cheap), seeded from
    # the acquisition's sampler so that the pruned baseline is reproducible.
    import skbo.acquisition.monte_carlo as mc

    seen = []
    original = mc.prune_inferior_points

    def spy(model, X, *, sampler=None, **kwargs):
        seen.append(sampler)
        return original(model, X, sampler=sampler, **kwargs)

    monkeypatch.setattr(mc, "prune_inferior_points", spy)
    model, X = _toy_gp(n=12, noise=1e-4)
    a = qNoisyExpectedImprovement(model, X, sampler=_sobol(256, seed=7))
    b = qNoisyExpectedImprovement(model, X, sampler=_sobol(256, seed=7))
    assert [type(s) for s in seen] == [IIDNormalSampler, IIDNormalSampler]
    assert [s.seed for s in seen] == [7, 7]
    assert torch.equal(a.X_baseline, b.X_baseline)


def test_qnei_pending_points_join_the_incumbents():
    model, X = _toy_gp()
    x = torch.tensor([[0.95, 0.9]], dtype=torch.float64)
    plain = qNoisyExpectedImprovement(model, X, sampler=_sobol(512))
    with_pending = qNoisyExpectedImprovement(model, X, sampler=_sobol(512), X_pending=x)
    assert plain(x) > 1e-3
    # Only the model's 1e-6 jitter separates x from its pending copy.
    assert with_pending(x) < 1e-2 * plain(x)


@pytest.mark.parametrize(
    "make",
    [
        lambda m, X: qExpectedImprovement(m, 1.1, sampler=_sobol(64)),
        lambda m, X: qNoisyExpectedImprovement(m, X, sampler=_sobol(64)),
        lambda m, X: qUpperConfidenceBound(m, 2.0, sampler=_sobol(64)),
        lambda m, X: qProbabilityOfImprovement(m, 1.1, sampler=_sobol(64), tau=0.1),
        lambda m, X: qSimpleRegret(m, sampler=_sobol(64)),
    ],
    ids=["qEI", "qNEI", "qUCB", "qPI", "qSR"],
)
def test_gradcheck(make):
    model, X_train = _toy_gp()
    acqf = make(model, X_train)
    acqf.set_X_pending(torch.tensor([[0.5, 0.5]], dtype=torch.float64))
    X = torch.rand(
        2, 2, 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64
    )
    assert torch.autograd.gradcheck(acqf, (X.requires_grad_(),))


@pytest.mark.parametrize(
    "cls",
    [
        qExpectedImprovement,
        qNoisyExpectedImprovement,
        qUpperConfidenceBound,
        qProbabilityOfImprovement,
        qSimpleRegret,
    ],
)
def test_shapes_dtypes_devices(cls, device, dtype):
    model, X_train = _toy_gp(device, dtype)
    arg = {
        qExpectedImprovement: (1.0,),
        qNoisyExpectedImprovement: (X_train,),
        qUpperConfidenceBound: (2.0,),
        qProbabilityOfImprovement: (1.0,),
        qSimpleRegret: (),
    }[cls]
    acqf = cls(model, *arg, sampler=_sobol(32))
    X = torch.rand(4, 3, 2, device=device, dtype=dtype)
    out = acqf(X)
    assert out.shape == (4,) and out.dtype == dtype and out.device.type == device.type
    assert bool(torch.isfinite(out).all())
    assert acqf(X[0]).shape == ()
    torch.testing.assert_close(acqf(X[0]), out[0])


def test_bad_arguments():
    model, X = _toy_gp()
    with pytest.raises(ValueError, match="tau must be positive"):
        qProbabilityOfImprovement(model, 0.0, tau=0.0)
    with pytest.raises(ValueError, match="beta must be non-negative"):
        qUpperConfidenceBound(model, -1.0)
    with pytest.raises(ValueError, match="best_f must be finite"):
        qExpectedImprovement(model, float("inf"))
    with pytest.raises(ValueError, match=r"X_baseline must be a non-empty .* \(n, d\)"):
        qNoisyExpectedImprovement(model, X[0])
    with pytest.raises(ValueError, match="X_baseline"):
        qNoisyExpectedImprovement(model, X[:0])


def test_prune_keeps_plausible_maximizers_in_order():
    X = torch.linspace(0, 1, 11, dtype=torch.float64).unsqueeze(-1)
    Y = -10 * (X.squeeze(-1) - 0.5) ** 2
    model = ToyGPModel(X, Y, noise=1e-2)
    pruned = prune_inferior_points(model, X)
    torch.testing.assert_close(pruned.squeeze(-1), X[4:7].squeeze(-1))
    # Cap: the most frequent maximizer first.
    assert torch.equal(prune_inferior_points(model, X, max_points=1), X[5:6])
    # Without a threshold every point that is ever the maximum is kept.
    loose = prune_inferior_points(model, X, min_frac=0.0)
    assert loose.shape[0] >= pruned.shape[0]
    # Nearly noise-free: a single point.
    exact = ToyGPModel(X, Y, noise=1e-6)
    assert torch.equal(prune_inferior_points(exact, X), X[5:6])


def test_prune_removes_duplicates_and_handles_one_point():
    X = torch.tensor([[0.1], [0.5], [0.1], [0.5]], dtype=torch.float64)
    model = ToyGPModel(X[:2], torch.tensor([0.0, 0.01], dtype=torch.float64), noise=0.5)
    pruned = prune_inferior_points(model, X, min_frac=0.0)
    assert pruned.shape[0] == 2  # both are plausible maximizers; no duplicates
    assert torch.equal(pruned, X[:2])
    assert torch.equal(prune_inferior_points(model, X[:1]), X[:1])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_points": 0}, "max_points"),
        ({"min_frac": 1.5}, "min_frac"),
    ],
)
def test_prune_bad_arguments(kwargs, match):
    model, X = _toy_gp()
    with pytest.raises(ValueError, match=match):
        prune_inferior_points(model, X, **kwargs)
    with pytest.raises(ValueError, match=r"shape \(n, d\)"):
        prune_inferior_points(model, X[0])


def _skbo_gp(n=40, d=2, seed=0, noise_free=True):
    from skbo.models import SingleTaskGP, fit_gp

    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, d, generator=g, dtype=torch.float64)
    Y = torch.sin(3 * X).sum(-1)
    if not noise_free:
        Y = Y + 0.3 * torch.randn(n, generator=g, dtype=torch.float64)
    model = SingleTaskGP(X, Y)
    fit_gp(model)
    return model, X


@pytest.mark.parametrize("noise_free", [True, False])
def test_prune_screen_of_training_points_drops_only_never_best_points(
    noise_free, monkeypatch
):
    from skbo.acquisition.utils import plausible_maxima
    from skbo.models import SingleTaskGP

    model, X = _skbo_gp(noise_free=noise_free)
    screened = plausible_maxima(*model.training_bounds())
    assert 1 <= int(screened.sum()) < X.shape[0]
    # Every point that is the maximum of some joint draw survives the screen.
    monkeypatch.delattr(SingleTaskGP, "training_bounds")
    ever = prune_inferior_points(model, X, sampler=_sobol(1024), min_frac=0.0)
    kept = X[screened]
    assert all(bool((kept == row).all(-1).any()) for row in ever)
    monkeypatch.undo()
    fast = prune_inferior_points(model, X, sampler=_sobol(256))
    assert all(bool((kept == row).all(-1).any()) for row in fast)


def test_training_bounds_are_exact_means_and_bound_the_deviations():
    model, X = _skbo_gp(noise_free=False)
    mean, std = model.training_bounds()
    post = model.posterior(X)
    torch.testing.assert_close(mean, post.mean.reshape(-1), rtol=1e-8, atol=1e-10)
    assert bool((post.variance.reshape(-1).sqrt() <= std * (1 + 1e-9)).all())


def test_subsample_uses_the_leading_base_samples():
    model, X = _toy_gp(n=10)
    Xc = torch.rand(7, 1, 2, generator=torch.Generator().manual_seed(1)).double()
    for cls, kwargs in [
        (qNoisyExpectedImprovement, {"X_baseline": X}),
        (qExpectedImprovement, {"best_f": 0.5}),
    ]:
        acqf = cls(model, sampler=_sobol(256), **kwargs)
        full = acqf(Xc)
        with acqf.subsample(64):
            cheap = acqf(Xc)
        assert torch.equal(acqf(Xc), full)  # restored on exit
        # Same as averaging the utility over the first 64 samples only.
        post = acqf._posterior(Xc) if cls is qNoisyExpectedImprovement else None
        if post is None:
            base = acqf.sampler.base_samples(1, Xc.device, Xc.dtype)[:64]
            samples = model.posterior(Xc).rsample_from_base_samples(base)
            expected = (samples - 0.5).clamp_min(0).squeeze(-1).mean(0)
            torch.testing.assert_close(cheap, expected)
        assert not torch.equal(cheap, full)
        with acqf.subsample(None):
            assert torch.equal(acqf(Xc), full)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "8"])
def test_subsample_rejects_bad_counts(bad):
    model, _ = _toy_gp()
    acqf = qExpectedImprovement(model, best_f=0.0)
    with (
        pytest.raises(ValueError, match="n_samples must be None or an int >= 1"),
        acqf.subsample(bad),
    ):
        pass
    assert acqf._sample_limit is None
