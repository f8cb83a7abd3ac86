"""Tests of skbo.acquisition.base: the interface and the Monte-Carlo template."""

from __future__ import annotations

import pytest
import torch

from skbo.acquisition.base import (
    DEFAULT_SAMPLE_SHAPE,
    AcquisitionFunction,
    MCAcquisitionFunction,
)
from skbo.sampling import IIDNormalSampler, SobolQMCNormalSampler
from skbo.utils.testing import MockModel, MockPosterior, ToyGPModel


class qMean(MCAcquisitionFunction):
    """E[max_j Y_j] written with the single hook."""

    def _sample_forward(self, samples):
        return samples


class Recorder(MCAcquisitionFunction):
    """Records what the template hands to the hook and the reductions."""

    def _sample_forward(self, samples):
        self.samples = samples
        return samples * 2.0

    def _reduce_q(self, values):
        self.q_input = values
        return values.sum(-1)

    def _reduce_samples(self, values):
        self.sample_input = values
        return values.mean(0)


def _toy_gp(device, dtype, n=6, d=2):
    g = torch.Generator().manual_seed(0)
    X = torch.rand(n, d, generator=g, dtype=torch.float64).to(device, dtype)
    return ToyGPModel(X, torch.cos(4 * X).sum(-1))


def test_abstract_classes_cannot_be_instantiated():
    model = MockModel(MockPosterior(torch.zeros(1, 1)))
    with pytest.raises(TypeError):
        AcquisitionFunction(model)  # type: ignore[abstract]
    with pytest.raises(TypeError):
        MCAcquisitionFunction(model)  # type: ignore[abstract]


def test_template_pipeline_and_shapes():
    S, b, q = 8, 3, 2
    samples = torch.arange(S * b * q, dtype=torch.float64).reshape(S, b, q)
    model = MockModel(MockPosterior(torch.zeros(b, q), samples=samples))
    acqf = Recorder(model, sampler=SobolQMCNormalSampler(S, seed=0))
    out = acqf(torch.rand(b, q, 4, dtype=torch.float64))
    assert acqf.samples is samples
    assert acqf.q_input.shape == (S, b, q)
    assert acqf.sample_input.shape == (S, b)
    torch.testing.assert_close(out, (2 * samples).sum(-1).mean(0))


def test_single_point_skips_the_q_reduction():
    model = MockModel(MockPosterior(torch.zeros(3, 1), variance=torch.ones(3, 1)))
    acqf = Recorder(model, sampler=IIDNormalSampler(4, seed=0))
    acqf(torch.rand(3, 1, 2))
    assert not hasattr(acqf, "q_input")


def test_default_sampler_and_type_check():
    model = MockModel(MockPosterior(torch.zeros(1, 1)))
    acqf = qMean(model)
    assert isinstance(acqf.sampler, SobolQMCNormalSampler)
    assert acqf.sampler.sample_shape == DEFAULT_SAMPLE_SHAPE == 256
    with pytest.raises(TypeError, match="sampler must be None or an MCSampler"):
        qMean(model, sampler=256)


def test_model_without_posterior_is_rejected():
    with pytest.raises(TypeError, match="posterior"):
        qMean(torch.nn.Linear(2, 1))


def test_shapes_dtype_device(device, dtype):
    acqf = qMean(_toy_gp(device, dtype), sampler=SobolQMCNormalSampler(32, seed=0))
    X = torch.rand(5, 3, 2, device=device, dtype=dtype)
    out = acqf(X)
    assert out.shape == (5,) and out.dtype == dtype and out.device.type == device.type
    single = acqf(X[2])
    assert single.shape == ()
    torch.testing.assert_close(single, out[2])
    assert acqf(X.reshape(5, 1, 3, 2)).shape == (5, 1)


def test_deterministic_for_a_seed_and_different_across_seeds():
    model = _toy_gp(torch.device("cpu"), torch.float64)
    X = torch.rand(4, 2, 2, dtype=torch.float64)
    a = qMean(model, sampler=SobolQMCNormalSampler(16, seed=7))
    b = qMean(model, sampler=SobolQMCNormalSampler(16, seed=7))
    c = qMean(model, sampler=SobolQMCNormalSampler(16, seed=8))
    torch.testing.assert_close(a(X), b(X), rtol=0, atol=0)
    torch.testing.assert_close(a(X), a(X), rtol=0, atol=0)  # same object, same surface
    assert not torch.equal(a(X), c(X))


def test_pending_points_reach_the_model(device, dtype):
    model = MockModel(MockPosterior(torch.zeros(4, 3, device=device, dtype=dtype)))
    pending = torch.rand(2, 5, device=device, dtype=dtype)
    acqf = qMean(model, X_pending=pending, sampler=IIDNormalSampler(4, seed=0))
    X = torch.rand(4, 1, 5, device=device, dtype=dtype)
    acqf(X)
    assert model.last_X.shape == (4, 3, 5)
    torch.testing.assert_close(model.last_X[:, 1:], pending.expand(4, 2, 5))


def test_set_X_pending_validation_and_detach():
    model = MockModel(MockPosterior(torch.zeros(1, 1)))
    acqf = qMean(model)
    assert acqf.X_pending is None
    source = torch.rand(2, 3, requires_grad=True)
    acqf.set_X_pending(source)
    assert not acqf.X_pending.requires_grad
    assert acqf.X_pending.data_ptr() != source.data_ptr()
    assert "X_pending" in dict(acqf.named_buffers())
    acqf.set_X_pending(torch.zeros(0, 3))
    assert acqf.X_pending is None
    with pytest.raises(ValueError, match=r"X_pending must have shape \(m, d\)"):
        acqf.set_X_pending(torch.zeros(3))
    with pytest.raises(TypeError, match="floating-point"):
        acqf.set_X_pending([[0.0, 1.0]])
    with pytest.raises(TypeError, match="floating-point"):
        acqf.set_X_pending(torch.zeros(1, 2, dtype=torch.int64))


def test_X_pending_buffer_moves_with_the_module():
    model = MockModel(MockPosterior(torch.zeros(1, 1)))
    acqf = qMean(model, X_pending=torch.rand(1, 2, dtype=torch.float64))
    acqf.to(torch.float32)
    assert acqf.X_pending.dtype == torch.float32


def test_gradients_flow_to_X():
    acqf = qMean(
        _toy_gp(torch.device("cpu"), torch.float64),
        sampler=SobolQMCNormalSampler(16, seed=0),
    )
    X = torch.rand(3, 2, 2, dtype=torch.float64, requires_grad=True)
    acqf(X).sum().backward()
    assert X.grad is not None and bool(torch.isfinite(X.grad).all())
    assert bool((X.grad != 0).any())
