"""Tests of skbo.sampling: fixed, cached, seeded standard-normal base samples."""

from __future__ import annotations

import math

import pytest
import torch
from torch.quasirandom import SobolEngine

from skbo.sampling import IIDNormalSampler, MCSampler, SobolQMCNormalSampler

SAMPLERS = [SobolQMCNormalSampler, IIDNormalSampler]


@pytest.mark.parametrize("sampler_cls", SAMPLERS)
def test_shape_dtype_device_and_cache(sampler_cls, device, dtype):
    sampler = sampler_cls(sample_shape=16, seed=3)
    z = sampler.base_samples(5, device, dtype)
    assert z.shape == (16, 5)
    assert z.dtype == dtype
    assert z.device.type == device.type
    assert bool(torch.isfinite(z).all())
    assert sampler.base_samples(5, device, dtype) is z
    # Other dtypes are casts of the same draws.
    z64 = sampler.base_samples(5, device, torch.float64)
    torch.testing.assert_close(z, z64.to(dtype))


@pytest.mark.parametrize("sampler_cls", SAMPLERS)
def test_same_seed_same_samples_other_seed_other_samples(sampler_cls):
    cpu = torch.device("cpu")
    a = sampler_cls(8, seed=1).base_samples(3, cpu, torch.float64)
    b = sampler_cls(8, seed=1).base_samples(3, cpu, torch.float64)
    c = sampler_cls(8, seed=2).base_samples(3, cpu, torch.float64)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("sampler_cls", SAMPLERS)
def test_seed_none_is_drawn_once(sampler_cls):
    sampler = sampler_cls(8)
    assert isinstance(sampler.seed, int)
    cpu = torch.device("cpu")
    first = sampler.base_samples(2, cpu, torch.float64).clone()
    sampler._cache.clear()
    sampler._master.clear()
    assert torch.equal(sampler.base_samples(2, cpu, torch.float64), first)


def test_iid_does_not_depend_on_request_order():
    cpu = torch.device("cpu")
    a = IIDNormalSampler(4, seed=0)
    a.base_samples(7, cpu, torch.float64)
    b = IIDNormalSampler(4, seed=0)
    assert torch.equal(
        a.base_samples(2, cpu, torch.float64), b.base_samples(2, cpu, torch.float64)
    )


def test_sobol_marginals_are_standard_normal():
    z = SobolQMCNormalSampler(4096, seed=0).base_samples(
        3, torch.device("cpu"), torch.float64
    )
    torch.testing.assert_close(
        z.mean(0), torch.zeros(3, dtype=z.dtype), atol=2e-3, rtol=0
    )
    torch.testing.assert_close(
        z.std(0), torch.ones(3, dtype=z.dtype), atol=1e-2, rtol=0
    )
    # Weakly correlated columns.
    corr = torch.corrcoef(z.T) - torch.eye(3, dtype=z.dtype)
    assert float(corr.abs().max()) < 0.02


def test_sobol_beats_iid_on_a_smooth_expectation():
    # E[max(Z, 0)] = 1 / sqrt(2 pi) for a standard normal Z.
    exact = 1.0 / math.sqrt(2.0 * math.pi)
    cpu = torch.device("cpu")
    errors = {}
    for cls in SAMPLERS:
        errs = [
            abs(
                cls(256, seed=s).base_samples(1, cpu, torch.float64).clamp_min(0).mean()
                - exact
            )
            for s in range(10)
        ]
        errors[cls] = float(sum(errs)) / len(errs)
    assert errors[SobolQMCNormalSampler] < 0.2 * errors[IIDNormalSampler]


def test_sobol_points_never_infinite_even_when_uniform_hits_zero(monkeypatch):
    def zeros_and_ones(self, n, dtype):
        return torch.tensor([[0.0], [1.0]], dtype=dtype)[:n]

    monkeypatch.setattr(SobolEngine, "draw", zeros_and_ones)
    z = SobolQMCNormalSampler(2, seed=0).base_samples(
        1, torch.device("cpu"), torch.float64
    )
    assert bool(torch.isfinite(z).all())
    assert z[0, 0] < -6 and z[1, 0] > 6


@pytest.mark.parametrize("bad", [0, -3])
def test_sample_shape_must_be_positive(bad):
    with pytest.raises(ValueError, match="sample_shape"):
        SobolQMCNormalSampler(bad)


@pytest.mark.parametrize("bad", [1.5, "256", True, (256,)])
def test_sample_shape_must_be_int(bad):
    with pytest.raises(TypeError, match="sample_shape"):
        IIDNormalSampler(bad)


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_bad_seed(bad):
    with pytest.raises(ValueError, match="seed"):
        SobolQMCNormalSampler(4, seed=bad)


@pytest.mark.parametrize("bad", [0, -1, 2.0])
def test_bad_q(bad):
    with pytest.raises(ValueError, match="q must be a positive int"):
        SobolQMCNormalSampler(4, seed=0).base_samples(
            bad, torch.device("cpu"), torch.float64
        )


def test_sobol_dimension_limit_points_to_iid():
    sampler = SobolQMCNormalSampler(2, seed=0)
    with pytest.raises(ValueError, match="IIDNormalSampler"):
        sampler.base_samples(SobolEngine.MAXDIM + 1, torch.device("cpu"), torch.float64)


def test_abstract_and_repr():
    with pytest.raises(TypeError):
        MCSampler(4)  # type: ignore[abstract]
    assert repr(SobolQMCNormalSampler(8, seed=5)) == (
        "SobolQMCNormalSampler(sample_shape=8, seed=5)"
    )


def test_unseeded_samplers_draw_distinct_valid_seeds():
    from skbo.utils.random import fresh_seed

    seeds = {SobolQMCNormalSampler(4).seed for _ in range(20)} | {fresh_seed()}
    assert len(seeds) > 15
    assert all(isinstance(s, int) and 0 <= s < 2**31 - 1 for s in seeds)
