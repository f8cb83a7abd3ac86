"""Tests of skbo.acquisition.factory.get_acquisition_function."""

from __future__ import annotations

import pytest
import torch

from skbo.acquisition import (
    ACQUISITION_NAMES,
    DEFAULT_BETA,
    ExpectedImprovement,
    LogExpectedImprovement,
    LogProbabilityOfImprovement,
    ProbabilityOfImprovement,
    UpperConfidenceBound,
    get_acquisition_function,
    qExpectedImprovement,
    qLogExpectedImprovement,
    qLogNoisyExpectedImprovement,
    qNoisyExpectedImprovement,
    qProbabilityOfImprovement,
    qSimpleRegret,
    qUpperConfidenceBound,
)
from skbo.exceptions import UnsupportedError
from skbo.sampling import SobolQMCNormalSampler
from skbo.utils.testing import ToyGPModel

EXPECTED = {
    "EI": ExpectedImprovement,
    "LogEI": LogExpectedImprovement,
    "UCB": UpperConfidenceBound,
    "PI": ProbabilityOfImprovement,
    "LogPI": LogProbabilityOfImprovement,
    "qEI": qExpectedImprovement,
    "qLogEI": qLogExpectedImprovement,
    "qNEI": qNoisyExpectedImprovement,
    "qLogNEI": qLogNoisyExpectedImprovement,
    "qUCB": qUpperConfidenceBound,
    "qPI": qProbabilityOfImprovement,
    "qSR": qSimpleRegret,
}


@pytest.fixture
def problem():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(8, 2, generator=g, dtype=torch.float64)
    return ToyGPModel(X, torch.sin(3 * X).sum(-1), noise=1e-3), X


@pytest.mark.parametrize(("name", "cls"), EXPECTED.items())
def test_every_name_builds_its_class(problem, name, cls):
    model, X = problem
    for alias in (name, cls.__name__):
        acqf = get_acquisition_function(
            alias, model, X_baseline=X, seed=0, sample_shape=16
        )
        assert type(acqf) is cls
        out = acqf(torch.rand(3, 1, 2, dtype=torch.float64))
        assert out.shape == (3,) and bool(torch.isfinite(out).all())


def test_acquisition_names():
    assert ACQUISITION_NAMES[:12] == tuple(EXPECTED)
    assert set(ACQUISITION_NAMES[12:]) == {c.__name__ for c in EXPECTED.values()}


def test_unknown_name_lists_the_valid_ones(problem):
    model, X = problem
    with pytest.raises(
        ValueError, match=r"Unknown acquisition function 'qlognei'.*qLogNEI"
    ):
        get_acquisition_function("qlognei", model, X_baseline=X)
    with pytest.raises(ValueError, match="Unknown acquisition function"):
        get_acquisition_function(None, model)


@pytest.mark.parametrize("name", ["qNEI", "qLogNEI", "qLogNoisyExpectedImprovement"])
def test_noisy_variants_need_a_baseline(problem, name):
    model, _ = problem
    with pytest.raises(ValueError, match=r"needs X_baseline.*qLogEI"):
        get_acquisition_function(name, model)


@pytest.mark.parametrize("name", ["EI", "LogEI", "PI", "LogPI", "qEI", "qLogEI", "qPI"])
def test_best_f_default_and_missing(problem, name):
    model, X = problem
    with pytest.raises(ValueError, match="needs best_f"):
        get_acquisition_function(name, model)
    acqf = get_acquisition_function(name, model, X_baseline=X)
    expected = model.posterior(X).mean.max()
    torch.testing.assert_close(acqf.best_f, expected)
    assert not acqf.best_f.requires_grad
    given = get_acquisition_function(name, model, X_baseline=X, best_f=2.5)
    assert given.best_f.item() == 2.5


def test_beta_sampler_seed_and_pending(problem):
    model, X = problem
    ucb = get_acquisition_function("UCB", model)
    assert ucb.beta.item() == pytest.approx(DEFAULT_BETA)
    acqf = get_acquisition_function(
        "qUCB", model, beta=0.5, sample_shape=64, seed=3, X_pending=X[:2]
    )
    assert acqf.beta.item() == 0.5
    assert isinstance(acqf.sampler, SobolQMCNormalSampler)
    assert (acqf.sampler.sample_shape, acqf.sampler.seed) == (64, 3)
    assert torch.equal(acqf.X_pending, X[:2])
    Xc = torch.rand(4, 1, 2, dtype=torch.float64)
    again = get_acquisition_function("qUCB", model, beta=0.5, sample_shape=64, seed=3)
    again.set_X_pending(X[:2])
    torch.testing.assert_close(acqf(Xc), again(Xc), rtol=0, atol=0)


def test_options_are_passed_and_checked(problem):
    model, X = problem
    acqf = get_acquisition_function(
        "qLogNEI", model, X_baseline=X, prune_baseline=False, tau_max=0.05, fat=False
    )
    assert torch.equal(acqf.X_baseline, X)
    assert (acqf.tau_max, acqf.fat) == (0.05, False)
    assert get_acquisition_function("qPI", model, best_f=0.0, tau=0.2).tau == 0.2
    with pytest.raises(
        TypeError, match=r"unexpected option\(s\) \['tau'\].*prune_baseline"
    ):
        get_acquisition_function("qLogNEI", model, X_baseline=X, tau=0.1)
    with pytest.raises(TypeError, match="options are none"):
        get_acquisition_function("EI", model, best_f=0.0, fat=True)


def test_pending_points_with_an_analytic_function(problem):
    model, X = problem
    with pytest.raises(UnsupportedError, match="Monte-Carlo variant"):
        get_acquisition_function("LogEI", model, best_f=0.0, X_pending=X[:1])
