"""The one-node LogEI agrees with the composed one (values and gradients)."""

from __future__ import annotations

import pytest
import torch

import skbo.acquisition.analytic as analytic
from skbo.acquisition import LogExpectedImprovement
from skbo.acquisition._fused import fused_log_ei
from skbo.models import SingleTaskGP, fit_gp


def _model(categorical: bool, dtype: torch.dtype) -> SingleTaskGP:
    g = torch.Generator().manual_seed(0)
    X = torch.rand(30, 3, generator=g, dtype=dtype)
    oh = torch.nn.functional.one_hot(torch.randint(3, (30,), generator=g), 3)
    Y = 5 * torch.sin(3 * X.sum(-1)) + oh[:, 0].to(dtype) + 10
    if categorical:
        model = SingleTaskGP(
            torch.cat([X, oh.to(dtype)], -1), Y, categorical_groups=[[3, 4, 5]]
        )
    else:
        model = SingleTaskGP(X, Y)
    fit_gp(model)
    return model


@pytest.mark.parametrize("categorical", [False, True])
@pytest.mark.parametrize("offset", [0.0, 30.0, 3000.0])
def test_fused_log_ei_matches_composed(
    categorical: bool,
    offset: float,
    dtype: torch.dtype,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = _model(categorical, dtype)
    d = model.train_X.shape[-1]
    best_f = model.train_targets.new_tensor(0.0) + float(
        model.predictor().y_mean + 3 * model.predictor().y_std + offset
    )
    acqf = LogExpectedImprovement(model, best_f=best_f)
    X = torch.rand(9, 1, d, generator=torch.Generator().manual_seed(1), dtype=dtype)
    X[0, 0] = model.train_X[0]  # an observed point: variance at its floor
    assert fused_log_ei(model, X, acqf.best_f) is not None

    def value_and_grad() -> tuple[torch.Tensor, torch.Tensor]:
        x = X.clone().requires_grad_(True)
        v = acqf(x)
        return v.detach(), torch.autograd.grad(v.sum(), x)[0]

    fused = value_and_grad()
    direct = acqf.value_and_grad(X)  # no autograd: the optimizer's fast path
    assert direct is not None
    torch.testing.assert_close(direct[0], fused[0], rtol=0, atol=0)
    torch.testing.assert_close(direct[1], fused[1], rtol=0, atol=0)
    monkeypatch.setattr(analytic, "fused_log_ei", lambda *args: None)
    composed = value_and_grad()
    tol = {"rtol": 1e-9, "atol": 1e-9} if dtype == torch.float64 else {}
    if dtype == torch.float32:
        tol = {"rtol": 5e-3, "atol": 1e-3}  # far tail: |grad| ~ 1e3
    torch.testing.assert_close(fused[0], composed[0], **tol)
    torch.testing.assert_close(fused[1], composed[1], **tol)


def test_fused_log_ei_gradcheck() -> None:
    model = _model(True, torch.float64)
    best = model.train_targets.max()
    X = torch.rand(4, 1, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: fused_log_ei(model, x, best), (X,))


def test_fused_log_ei_not_applicable() -> None:
    model = _model(False, torch.float64)
    best = model.train_targets.max()
    assert fused_log_ei(model, torch.rand(4, 2, 3, dtype=torch.float64), best) is None
    assert (
        fused_log_ei(object(), torch.rand(4, 1, 3, dtype=torch.float64), best) is None
    )
    per_batch = best.expand(4, 1)
    assert (
        fused_log_ei(model, torch.rand(4, 1, 3, dtype=torch.float64), per_batch) is None
    )


def test_value_and_grad_is_none_without_the_fused_path() -> None:
    from skbo.utils.testing import MockModel, MockPosterior

    post = MockPosterior(torch.zeros(2, 1), variance=torch.ones(2, 1))
    acqf = LogExpectedImprovement(MockModel(post), best_f=0.0)
    assert acqf.value_and_grad(torch.rand(2, 1, 2)) is None


def test_optimizer_uses_value_and_grad_with_the_same_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from skbo.optim import optimize_acqf

    model = _model(False, torch.float64)
    acqf = LogExpectedImprovement(model, best_f=model.train_targets.max())
    bounds = torch.tensor([[0.0] * 3, [1.0] * 3], dtype=torch.float64)
    calls: list[int] = []
    method = acqf.value_and_grad

    def counted(X: torch.Tensor):  # type: ignore[no-untyped-def]
        calls.append(1)
        return method(X)

    monkeypatch.setattr(acqf, "value_and_grad", counted)
    fast = optimize_acqf(acqf, bounds, num_restarts=4, raw_samples=64, seed=0)
    assert calls
    monkeypatch.setattr(acqf, "value_and_grad", lambda X: None)
    slow = optimize_acqf(acqf, bounds, num_restarts=4, raw_samples=64, seed=0)
    torch.testing.assert_close(fast[0], slow[0])
    torch.testing.assert_close(fast[1], slow[1])
