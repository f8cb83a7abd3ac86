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
