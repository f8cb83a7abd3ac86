"""Tests of the Thompson-sampling exploration step."""

from __future__ import annotations

import pytest
import torch

from skbo.models import SingleTaskGP, fit_gp
from skbo.optim import IntegerColumn, MixedSpec
from skbo.optim.thompson import thompson_candidate

BOUNDS = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)


def fitted(X: torch.Tensor, y: torch.Tensor) -> SingleTaskGP:
    model = SingleTaskGP(X, y)
    fit_gp(model)
    return model


def test_returns_point_in_box_not_avoided() -> None:
    X = torch.rand(
        10, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    model = fitted(X, -((X - 0.4) ** 2).sum(-1))
    x = thompson_candidate(model, BOUNDS, X_incumbent=X[:3], X_avoid=X, seed=1)
    assert x is not None and x.shape == (2,)
    assert bool(((x >= 0) & (x <= 1)).all())
    assert not bool(((X - x).abs().amax(-1) < 1e-9).any())


def test_deterministic_for_a_seed() -> None:
    X = torch.rand(
        8, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
    )
    model = fitted(X, X.sum(-1))
    a = thompson_candidate(model, BOUNDS, seed=3)
    b = thompson_candidate(model, BOUNDS, seed=3)
    assert a is not None and b is not None and torch.equal(a, b)


def test_follows_the_posterior_when_it_is_certain() -> None:
    # Dense data of a smooth bowl: the draw's maximizer is near the optimum.
    g = torch.linspace(0, 1, 7, dtype=torch.float64)
    X = torch.cartesian_prod(g, g)
    model = fitted(X, -((X - torch.tensor([0.7, 0.2])) ** 2).sum(-1))
    x = thompson_candidate(model, BOUNDS, X_incumbent=X[:1], seed=0)
    assert x is not None
    assert float((x - torch.tensor([0.7, 0.2], dtype=torch.float64)).norm()) < 0.2


def test_explores_where_the_model_knows_nothing() -> None:
    # Observations only in a strip on the left: most of the box is uncertain,
    # so most draws pick a point far from the strip.
    gen = torch.Generator().manual_seed(2)
    X = torch.rand(15, 2, dtype=torch.float64, generator=gen) * torch.tensor([0.2, 1.0])
    model = fitted(X, -((X[:, 1] - 0.5) ** 2))
    picks = [thompson_candidate(model, BOUNDS, X_avoid=X, seed=s) for s in range(10)]
    far = [float(p[0]) > 0.4 for p in picks if p is not None]
    assert sum(far) >= 6, far


def test_discrete_columns_are_valid_and_exhaustion_gives_none() -> None:
    spec = MixedSpec((IntegerColumn(0, 0, 2),), categorical_groups=((1, 2),))
    bounds = torch.tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], dtype=torch.float64)
    every = spec.project(torch.rand(200, 3, dtype=torch.float64))
    X = torch.unique(every, dim=0)
    assert X.shape[0] == 6  # 3 integer levels x 2 categories
    model = fitted(X[:4], X[:4].sum(-1))
    x = thompson_candidate(model, bounds, discrete=spec, X_avoid=X[:4], seed=0)
    assert x is not None
    assert torch.equal(spec.project(x.unsqueeze(0))[0], x)
    assert thompson_candidate(model, bounds, discrete=spec, X_avoid=X, seed=0) is None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_candidates": 0}, "n_candidates"),
        ({"n_around": -1}, "n_around"),
        ({"perturb_std": 0.0}, "perturb_std"),
    ],
)
def test_bad_arguments(kwargs, match) -> None:
    X = torch.rand(5, 2, dtype=torch.float64)
    model = fitted(X, X.sum(-1))
    with pytest.raises(ValueError, match=match):
        thompson_candidate(model, BOUNDS, **kwargs)


def test_n_joint_must_be_positive() -> None:
    X = torch.rand(5, 2, dtype=torch.float64)
    model = fitted(X, X.sum(-1))
    with pytest.raises(ValueError, match="n_joint"):
        thompson_candidate(model, BOUNDS, n_joint=0)


def test_screen_keeps_only_plausible_maximizers() -> None:
    from skbo.optim.thompson import _Z_SCREEN, _screen

    g = torch.Generator().manual_seed(4)
    X = torch.rand(12, 2, dtype=torch.float64, generator=g)
    model = fitted(X, -((X - 0.3) ** 2).sum(-1))
    C = torch.rand(500, 2, dtype=torch.float64, generator=g)
    post = model.posterior(C.unsqueeze(-2))
    mean = post.mean.reshape(-1).detach()
    std = post.variance.reshape(-1).sqrt().detach()
    upper, lower = mean + _Z_SCREEN * std, mean - _Z_SCREEN * std
    plausible = torch.nonzero(upper >= lower.max()).flatten()
    with torch.no_grad():
        everything = _screen(model, C, 10_000)
        few = _screen(model, C, 5)
    assert torch.equal(everything, plausible)
    assert few.numel() == min(5, plausible.numel())
    assert bool(upper[few].min() >= upper[plausible].topk(few.numel()).values.min())
    assert torch.equal(few, torch.sort(few).values)


def test_screened_draws_match_full_joint_draws() -> None:
    # Two separated bumps of equal height: the draw's argmax should land on
    # either with similar frequency whether or not the candidates are screened.
    X = torch.tensor([[0.1], [0.2], [0.5], [0.8], [0.9]], dtype=torch.float64)
    y = torch.tensor([0.5, 1.0, 0.0, 1.0, 0.5], dtype=torch.float64)
    model = fitted(X, y)
    bounds = BOUNDS[:, :1]
    picks = {}
    for n_joint in (None, 16):
        xs = [
            thompson_candidate(model, bounds, n_candidates=128, n_joint=n_joint, seed=s)
            for s in range(60)
        ]
        picks[n_joint] = torch.stack([x for x in xs if x is not None]).reshape(-1)
    for v in picks.values():
        left = float((v < 0.5).double().mean())
        assert 0.2 < left < 0.8
    assert abs(float(picks[None].mean() - picks[16].mean())) < 0.15
