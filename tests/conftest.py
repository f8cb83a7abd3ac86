"""Shared fixtures: devices, dtypes and a global random seed."""

from __future__ import annotations

import os

import pytest
import torch

_DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Skip tests marked ``cuda`` when no CUDA device is present."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="no CUDA device available")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(params=_DEVICES)
def device(request: pytest.FixtureRequest) -> torch.device:
    """Every available device: CPU always, CUDA when present."""
    return torch.device(request.param)


@pytest.fixture(params=[torch.float64, torch.float32], ids=["float64", "float32"])
def dtype(request: pytest.FixtureRequest) -> torch.dtype:
    """Both supported floating-point types."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def global_random_seed() -> int:
    """A seed for tests, 42 unless ``SKBO_TESTS_GLOBAL_RANDOM_SEED`` says otherwise."""
    return int(os.environ.get("SKBO_TESTS_GLOBAL_RANDOM_SEED", "42"))
