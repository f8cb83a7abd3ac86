"""qLogNEI's autograd-free value and gradient agree with its autograd path."""

from __future__ import annotations

import pytest
import torch

from skbo.acquisition import qLogNoisyExpectedImprovement
from skbo.acquisition.utils import log_fatplus, log_fatplus_and_slope
from skbo.models import SingleTaskGP, fit_gp
from skbo.optim import optimize_acqf


def _data(
    n: int, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    X = torch.rand(n, 3, generator=g, dtype=dtype)
    oh = torch.nn.functional.one_hot(torch.randint(3, (n,), generator=g), 3).to(dtype)
    Y = 5 * torch.sin(3 * X.sum(-1)) + oh[:, 0] + 10
    Y = Y + 0.1 * torch.randn(n, generator=g, dtype=dtype)
    return X, oh, Y


def _model(kind: str, dtype: torch.dtype = torch.float64) -> SingleTaskGP:
    X, oh, Y = _data(25, dtype)
    if kind == "matern":
        model = SingleTaskGP(X, Y)
    elif kind == "rbf":
        model = SingleTaskGP(X, Y, kernel="rbf")
    elif kind == "fixed-noise":
        model = SingleTaskGP(X, Y, torch.full_like(Y, 0.01))
    elif kind == "mixed":
        model = SingleTaskGP(torch.cat([X, oh], -1), Y, categorical_groups=[[3, 4, 5]])
    elif kind == "categorical":
        model = SingleTaskGP(oh, Y, categorical_groups=[[0, 1, 2]])
    else:  # pragma: no cover
        raise AssertionError(kind)
    fit_gp(model)
    return model


def _candidates(model: SingleTaskGP, b: int = 9) -> torch.Tensor:
    d = model.train_X.shape[-1]
    g = torch.Generator().manual_seed(1)
    X = torch.rand(b, 1, d, generator=g, dtype=model.train_X.dtype)
    X[0, 0] = model.train_X[0]  # an observed point: conditional variance at its floor
    X[1, 0] = model.train_X[int(model.train_targets.argmax())]  # the incumbent
    return X


def _autograd(acqf: qLogNoisyExpectedImprovement, X: torch.Tensor):
    x = X.clone().requires_grad_(True)
    v = acqf(x)
    return v.detach(), torch.autograd.grad(v.sum(), x)[0]


# NOTE: the categorical-only model has 3 distinct configurations among 25
# points: without pruning its baseline covariance is singular (on both paths).
# "single": one baseline point, so the closed form applies.
@pytest.mark.parametrize(
    ("kind", "prune"),
    [
        (kind, prune)
        for kind in ("matern", "rbf", "fixed-noise", "mixed", "categorical")
        for prune in (True, False, "single")
        if (kind, prune) != ("categorical", False)
    ],
)
def test_matches_autograd_path(kind: str, prune: bool | str) -> None:
    model = _model(kind)
    if prune == "single":
        best = int(model.train_targets.argmax())
        acqf = qLogNoisyExpectedImprovement(
            model, X_baseline=model.train_X[best : best + 1]
        )
        assert acqf._closed_form_applies()
    else:
        acqf = qLogNoisyExpectedImprovement(
            model, X_baseline=model.train_X, prune_baseline=bool(prune)
        )
    X = _candidates(model)
    out = acqf.value_and_grad(X)
    assert out is not None
    values, grad = out
    ref_values, ref_grad = _autograd(acqf, X)
    torch.testing.assert_close(values, ref_values, rtol=1e-10, atol=1e-12)
    scale = float(ref_grad.abs().max())
    torch.testing.assert_close(grad, ref_grad, rtol=1e-7, atol=1e-9 * scale)
    # A second call (cached baseline samples and incumbent) gives the same.
    again = acqf.value_and_grad(X)
    assert again is not None
    torch.testing.assert_close(again[0], values, rtol=0, atol=0)


def test_far_tail_keeps_finite_informative_gradients() -> None:
    model = _model("matern")
    # Shift the candidates far outside the data, where the improvement is tiny.
    acqf = qLogNoisyExpectedImprovement(model, X_baseline=model.train_X)
    X = _candidates(model) * 0.2 + 0.4
    out = acqf.value_and_grad(X)
    assert out is not None
    ref = _autograd(acqf, X)
    assert bool(torch.isfinite(out[0]).all() and torch.isfinite(out[1]).all())
    torch.testing.assert_close(out[1], ref[1], rtol=1e-7, atol=1e-9)


def test_float32_agrees_loosely() -> None:
    from skbo.sampling import SobolQMCNormalSampler

    model = _model("mixed", torch.float32)
    # NOTE: a fixed sampler seed (the default draws one from the global RNG,
    # which made this test depend on the order of the suite). Over 40 seeds
    # the two paths' float32 values differ by up to 1.8e-4 relative (the
    # samples are summed in different orders), so 5e-4 is the tolerance.
    sampler = SobolQMCNormalSampler(256, seed=26)  # the worst of those seeds
    acqf = qLogNoisyExpectedImprovement(
        model, X_baseline=model.train_X, sampler=sampler
    )
    X = _candidates(model)
    out = acqf.value_and_grad(X)
    assert out is not None
    ref = _autograd(acqf, X)
    torch.testing.assert_close(out[0], ref[0], rtol=5e-4, atol=1e-4)
    # At the incumbent the conditional variance is at its floor and both
    # paths lose digits in float32.
    scale = float(ref[1].abs().max())
    torch.testing.assert_close(out[1], ref[1], rtol=1e-2, atol=1e-2 * scale)


def test_not_applicable_returns_none() -> None:
    model = _model("matern")
    X = _candidates(model)
    pending = qLogNoisyExpectedImprovement(
        model, X_baseline=model.train_X, X_pending=X[2]
    )
    assert pending.value_and_grad(X) is None
    plain = qLogNoisyExpectedImprovement(model, X_baseline=model.train_X, fat=False)
    assert plain.value_and_grad(X) is None
    batch = qLogNoisyExpectedImprovement(model, X_baseline=model.train_X)
    assert batch.value_and_grad(X.reshape(3, 3, -1)) is None
    x, oh, y = _data(25, torch.float64)
    levelwise = SingleTaskGP(
        torch.cat([x, oh], -1),
        y,
        categorical_groups=[[3, 4, 5]],
        mixed_kernel="levelwise",
    )
    fit_gp(levelwise)
    acqf = qLogNoisyExpectedImprovement(levelwise, X_baseline=levelwise.train_X)
    assert acqf.value_and_grad(_candidates(levelwise)) is None


def test_only_the_noisy_variant_offers_the_fast_path() -> None:
    from skbo.acquisition import qLogExpectedImprovement
    from skbo.acquisition._fused import fused_qlognei_value_and_grad

    model = _model("matern")
    acqf = qLogExpectedImprovement(model, best_f=model.train_targets.max())
    assert not hasattr(acqf, "value_and_grad")
    assert fused_qlognei_value_and_grad(acqf, _candidates(model)) is None


def test_log_fatplus_derivative_matches_autograd_everywhere() -> None:
    x = torch.tensor(
        [-1e30, -1e8, -3.0, -1e-6, 0.0, 1e-7, 2e-6, 5.0, 1e10],
        dtype=torch.float64,
        requires_grad=True,
    )
    tau = 1e-6
    u = log_fatplus(x, tau=tau)
    (ref,) = torch.autograd.grad(u.sum(), x)
    value, mine = log_fatplus_and_slope(x.detach(), tau)
    torch.testing.assert_close(value, u.detach(), rtol=0, atol=0)
    assert bool(torch.isfinite(mine).all())
    torch.testing.assert_close(mine, ref, rtol=1e-9, atol=0)


def test_optimizer_fast_path_finds_the_autograd_optimum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = _model("matern")
    bounds = torch.stack([torch.zeros(3), torch.ones(3)]).double()
    acqf = qLogNoisyExpectedImprovement(model, X_baseline=model.train_X)
    fast, v_fast = optimize_acqf(acqf, bounds, seed=0)
    monkeypatch.setattr(
        qLogNoisyExpectedImprovement, "value_and_grad", lambda s, X: None
    )
    slow, v_slow = optimize_acqf(acqf, bounds, seed=0)
    torch.testing.assert_close(v_fast, v_slow, rtol=1e-6, atol=1e-8)
    torch.testing.assert_close(fast, slow, rtol=0, atol=1e-4)


@pytest.mark.parametrize("n_samples", [1, 16, 64])
def test_subsample_matches_autograd_path(n_samples: int) -> None:
    model = _model("matern")
    acqf = qLogNoisyExpectedImprovement(
        model, X_baseline=model.train_X, closed_form=False
    )
    X = _candidates(model)
    full = acqf.value_and_grad(X)
    with acqf.subsample(n_samples):
        out = acqf.value_and_grad(X)
        ref_values, ref_grad = _autograd(acqf, X)
    assert out is not None and full is not None
    # one sample: log-values far in the tail, compared to rounding
    torch.testing.assert_close(out[0], ref_values, rtol=1e-8, atol=1e-10)
    scale = float(ref_grad.abs().max())
    torch.testing.assert_close(out[1], ref_grad, rtol=1e-7, atol=1e-9 * scale)
    assert not torch.allclose(out[0], full[0])  # fewer samples, other estimate
    # leaving the block restores the full estimate (the cache is intact)
    after = acqf.value_and_grad(X)
    assert after is not None
    torch.testing.assert_close(after[0], full[0], rtol=0.0, atol=0.0)


@pytest.mark.parametrize("kind", ["matern", "mixed", "categorical"])
@pytest.mark.parametrize("n_samples", [None, 16])
def test_forward_without_grad_takes_the_fused_route(
    kind: str, n_samples: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under no_grad (the optimizer's raw pool) forward is the fused value."""
    import skbo.acquisition._fused as fused

    model = _model(kind)
    acqf = qLogNoisyExpectedImprovement(model, X_baseline=model.train_X)
    X = _candidates(model, b=40)
    calls: list[int] = []
    original = fused.fused_qlognei_value

    def counting(a: qLogNoisyExpectedImprovement, Z: torch.Tensor):  # type: ignore[no-untyped-def]
        calls.append(Z.shape[0])
        return original(a, Z)

    monkeypatch.setattr(fused, "fused_qlognei_value", counting)
    with acqf.subsample(n_samples):
        with torch.no_grad():
            fast = acqf(X)
        ref, _ = _autograd(acqf, X)  # grad enabled: the composed route
    assert calls == [40]
    torch.testing.assert_close(fast, ref, rtol=1e-10, atol=1e-12)


def test_forward_without_grad_with_pending_points_uses_the_joint_route() -> None:
    model = _model("matern")
    acqf = qLogNoisyExpectedImprovement(
        model, X_baseline=model.train_X, X_pending=model.train_X[:1] + 0.01
    )
    X = _candidates(model)
    with torch.no_grad():
        fast = acqf(X)
    ref, _ = _autograd(acqf, X)
    torch.testing.assert_close(fast, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("scale", [1e-9, 1e-6, 1e-3, 1.0, 1e3])
def test_log_fatplus_and_slope_short_route_matches_the_general_one(
    scale: float,
) -> None:
    """Without inputs beyond the tail threshold, the CPU route's 11 operations
    give the numbers of the general route (taken here for an input that
    requires grad)."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 10, generator=g, dtype=torch.float64) * scale
    u, slope = log_fatplus_and_slope(x, tau=1e-6)
    u_ref, slope_ref = log_fatplus_and_slope(x.clone().requires_grad_(True), tau=1e-6)
    torch.testing.assert_close(u, u_ref.detach(), rtol=1e-14, atol=0.0)
    torch.testing.assert_close(slope, slope_ref.detach(), rtol=1e-14, atol=0.0)
    # the value-only function takes the same short route
    value = log_fatplus(x, tau=1e-6)
    torch.testing.assert_close(value, u_ref.detach(), rtol=1e-14, atol=0.0)


def test_log_fatplus_short_route_keeps_the_tail() -> None:
    """An input beyond the tail threshold sends the whole tensor down the
    general route, whose tail continues in log space."""
    x = torch.tensor([[-1e30, 0.5, -1e-3]], dtype=torch.float64)
    u = log_fatplus(x, tau=1e-6)
    u_ref = log_fatplus(x.clone().requires_grad_(True), tau=1e-6).detach()
    torch.testing.assert_close(u, u_ref, rtol=1e-14, atol=0.0)
    assert bool(torch.isfinite(u).all())


@pytest.mark.parametrize("kind", ["matern", "mixed"])
def test_fused_results_are_ordinary_and_caches_serve_autograd(kind: str) -> None:
    """The fused path computes in inference mode: its results must come back
    as ordinary tensors, and the caches it builds (baseline block, samples,
    incumbent) must still serve a later autograd evaluation."""
    model = _model(kind)
    acqf = qLogNoisyExpectedImprovement(model, X_baseline=model.train_X)
    X = _candidates(model)
    values, grad = acqf.value_and_grad(X)
    with torch.no_grad():
        pool = acqf(X)
    for t in (values, grad, pool):
        assert not t.is_inference()
        t.add_(1.0)  # in-place use outside inference mode works
    ref, ref_grad = _autograd(acqf, X)  # reuses the caches the fused calls built
    torch.testing.assert_close(values - 1.0, ref, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(grad - 1.0, ref_grad, rtol=1e-8, atol=1e-10)


def test_fused_log_ei_results_are_ordinary_tensors() -> None:
    from skbo.acquisition import LogExpectedImprovement

    model = _model("matern")
    acqf = LogExpectedImprovement(model, best_f=model.train_Y.max())
    values, grad = acqf.value_and_grad(_candidates(model))
    assert not values.is_inference() and not grad.is_inference()


def _single_baseline(model: SingleTaskGP, **kwargs):
    best = int(model.train_targets.argmax())
    return qLogNoisyExpectedImprovement(
        model, X_baseline=model.train_X[best : best + 1], **kwargs
    )


@pytest.mark.parametrize("kind", ["matern", "mixed"])
def test_closed_form_matches_the_monte_carlo_limit(kind: str) -> None:
    from skbo.sampling import SobolQMCNormalSampler

    model = _model(kind)
    exact = _single_baseline(model)
    mc = _single_baseline(
        model,
        closed_form=False,
        sampler=SobolQMCNormalSampler(2**15, seed=0),
        tau_relu=1e-9,
    )
    X = _candidates(model, b=40)[2:]  # away from data: EI well represented
    with torch.no_grad():
        a, b = exact(X), mc(X)
    keep = a > -7.5  # where 2^15 samples resolve the expectation
    assert int(keep.sum()) >= 6
    torch.testing.assert_close(a[keep].exp(), b[keep].exp(), rtol=2e-2, atol=0)
    # Both routes (fused without grad, autograd) of the closed form agree.
    ref, _ = _autograd(exact, X)
    torch.testing.assert_close(a, ref, rtol=1e-10, atol=1e-12)


def test_closed_form_gradcheck() -> None:
    model = _model("matern")
    acqf = _single_baseline(model)
    X = _candidates(model, b=4)[2:].clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: acqf(x), (X,), eps=1e-6, atol=1e-6)


def test_closed_form_only_where_it_is_exact() -> None:
    model = _model("matern")
    X = _candidates(model)
    single = _single_baseline(model)
    assert single._closed_form_applies()
    with torch.no_grad():
        v = single(X)
        # q = 2 samples (one of the pair would still have a closed form,
        # their maximum does not)
        assert single(X[:8].reshape(4, 2, -1)).shape == (4,)
    pending = _single_baseline(model, X_pending=X[2])
    assert not pending._closed_form_applies()
    off = _single_baseline(model, closed_form=False)
    assert not off._closed_form_applies()
    with torch.no_grad():
        assert not torch.equal(off(X), v)  # Monte-Carlo estimate instead
    many = qLogNoisyExpectedImprovement(
        model, X_baseline=model.train_X, prune_baseline=False
    )
    assert not many._closed_form_applies()


def test_closed_form_on_a_generic_gaussian_posterior() -> None:
    from skbo.sampling import SobolQMCNormalSampler
    from skbo.utils.testing import ToyGPModel

    X = torch.linspace(0, 1, 7, dtype=torch.float64).unsqueeze(-1)
    model = ToyGPModel(X, torch.sin(6 * X[:, 0]), noise=1e-3)
    Xb = X[5:6]  # a low point: candidates improve on it
    exact = qLogNoisyExpectedImprovement(model, X_baseline=Xb, prune_baseline=False)
    mc = qLogNoisyExpectedImprovement(
        model,
        X_baseline=Xb,
        prune_baseline=False,
        closed_form=False,
        sampler=SobolQMCNormalSampler(2**15, seed=0),
        tau_relu=1e-9,
    )
    Xc = torch.tensor([[[0.1]], [[0.26]], [[0.9]]], dtype=torch.float64)
    with torch.no_grad():
        a, b = exact(Xc), mc(Xc)
    torch.testing.assert_close(a.exp(), b.exp(), rtol=2e-2, atol=0)


def test_pool_of_a_closed_form_is_scored_in_one_exact_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from skbo.optim import initializers

    model = _model("matern")
    bounds = torch.stack([torch.zeros(3), torch.ones(3)]).double()
    calls: list[int | None] = []
    original = initializers.evaluate_batched

    def spy(acqf, X, batch_limit):
        calls.append(acqf._sample_limit)
        return original(acqf, X, batch_limit)

    monkeypatch.setattr(initializers, "evaluate_batched", spy)
    exact = _single_baseline(model)
    assert not exact.samples_single_points
    initializers.gen_initial_conditions(exact, bounds, 4, 64, seed=0)
    assert calls == [None]  # no screening with fewer samples, no re-scoring
    calls.clear()
    sampled = _single_baseline(model, closed_form=False)
    assert sampled.samples_single_points
    initializers.gen_initial_conditions(sampled, bounds, 4, 64, seed=0)
    assert calls == [64, None]  # screened, then the best re-scored


def test_difference_moments_needs_one_baseline_and_one_new_point() -> None:
    model = _model("matern")
    X = _candidates(model, b=4)
    one = model.joint_posterior(model.train_X[:1], X)
    mean, var = one.difference_moments()
    assert mean.shape == var.shape == (4,) and bool((var > 0).all())
    two = model.joint_posterior(model.train_X[:2], X)
    with pytest.raises(ValueError, match="one baseline and one new point"):
        two.difference_moments()
    pair = model.joint_posterior(model.train_X[:1], X.reshape(2, 2, -1))
    with pytest.raises(ValueError, match="one baseline and one new point"):
        pair.difference_moments()
